package dev.portcullis.gateway.masking;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.masking.Detectors.Kind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The single-pass detectors against the regular expressions they replaced ({@link RegexDetectors}): over generated
 * texts built to sit at the patterns' edges (findings next to each other and to digits, letters, separators and
 * non-ASCII word characters, checks that pass and fail, runs longer than a pattern allows) and over long values, both
 * must give the same text, or both withhold it, and fire the same kinds, for every set of kinds.
 */
class DetectorsDifferentialTest {
    private static final Set<Kind> ALL = EnumSet.allOf(Kind.class);

    @Test
    void generated_texts_are_masked_exactly_as_the_regular_expressions_masked_them() {
        long seed = Long.getLong("detectors.seed", 20261207L);
        Random random = new Random(seed);
        Detectors all = new Detectors(ALL);
        RegexDetectors allOracle = new RegexDetectors(ALL);
        int changed = 0;
        for (int i = 0; i < 12_000; i++) {
            String text = text(random);
            if (i % 4 == 0) {
                Set<Kind> kinds = randomKinds(random);
                compare(new Detectors(kinds), new RegexDetectors(kinds), text, kinds + ", seed " + seed + ", text " + i);
            } else if (compare(all, allOracle, text, "all kinds, seed " + seed + ", text " + i)) {
                changed++;
            }
        }
        assertTrue(changed > 2_000, "the generated texts hold findings: " + changed);
    }

    @Test
    void edge_cases_are_masked_exactly_as_the_regular_expressions_masked_them() {
        List<String> cases = new ArrayList<>(List.of(
                "", "@", "a@", "@b.cc", "a@b", "a@b.c", "a@b.cc", "a@b.c1", "a@b.cc1", "a@b.c1.de", "a@b..cc", "a@b.cc.", "a@-.cc",
                "a@b.cc@d.ee", "x@y@b.com", "a.b%c+d-e_f@sub-1.example.co.uk9", "é@b.cc", "aé@b.cc", "a@é.cc", "a@b.cé",
                "jane.doe@example.com.", "(jane@example.com)", "mailto:jane@example.com?x", "j@e.xx.yy.1z",
                "4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242", "4242  4242 4242 4242", "4242 4242 4242 4241",
                "42424242424242424242", "4242 4242 4242 4242 4242", "1 4242 4242 4242 4242", "4242424242424242 00107755831",
                "378282246310005", "6011111111111117", "4000056655665556 ", "x4242424242424242x", "٣4242424242424242",
                "4242424242424242٣", "1-2-3-4-5-6-7-8-9-0-1-2-3", "12345678901234567890123",
                "GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432X", "xGB82WEST12345698765432",
                "éGB82WEST12345698765432", "GB82WEST12345698765432é", "GB82WEST12345698765432\u0301", "e\u0301GB82WEST12345698765432",
                "\u0301GB82WEST12345698765432", "😀\u0301GB82WEST12345698765432", "a\u0301\u0300GB82WEST12345698765432",
                "_GB82WEST12345698765432", "GB82WEST12345698765432_", "GB00WEST12345698765432", "DE89370400440532013000",
                "DE89 3704 0044 0532 0130 00 ", "FR1420041010050500013M02606", "GB82WEST1234569876543212345678901234567890",
                "123-45-6789", "1123-45-6789", "123-45-67890", "ssn:123-45-6789.", "AB123456C", "AB123456Cx", "xAB123456C",
                "DA123456C", "AB123456E", "QQ123456C", "éAB123456C", "AB123456C\u0301", "AB123456Cé", "AB123456C٣",
                "+1 202-555-0142", "+1 (202) 555-0142", "+12025550142", "+1  202 555 0142", "+1   202 555 0142", "+123456789012345678",
                "+1234567", "+12345678", "(202) 555-0142", "202.555.0142", "202-555-0142", "1202-555-0142", "(202)555-0142",
                "202) 555-0142", "(202 555-0142", "202-555-01423", "202 555 0142 x", "+44 (0) 20 7946 0958",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijk", "eyJab.cdefg.hijkl", "eyJabcde.fghij.klmno", "eyJabcde.fghij.klmn",
                "eyJeyJeyJeyJ.abcde.fghij", "xeyJabcde.fghij.klmnop.q", "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPLEX",
                "ghp_" + "a".repeat(36), "ghp_" + "a".repeat(35), "ghx_" + "a".repeat(40), "xoxb-1234567890", "xoxb-123456789",
                "sk_live_" + "a".repeat(16), "rk_test_" + "a".repeat(20), "sk_prod_" + "a".repeat(20), "pk_live_" + "a".repeat(16),
                "-----BEGIN PRIVATE KEY-----abc-----END PRIVATE KEY-----tail", "-----BEGIN RSA PRIVATE KEY-----\nMII\n-----END RSA PRIVATE KEY-----\n",
                "-----BEGIN PRIVATE KEY-----never ends", "-----BEGIN PUBLIC KEY-----x-----END PUBLIC KEY-----",
                "-----BEGIN  PRIVATE KEY-----x-----END PRIVATE KEY----- -----END PRIVATE KEY-----", "-----BEGIN PRIVATE KEY----",
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\n4242424242424242\n-----END ENCRYPTED PRIVATE KEY-----",
                "{\"contact\": \"jane.doe@example.com\", \"card\": \"4242 4242 4242 4242\", \"iban\": \"GB82 WEST 1234 5698 7654 32\"}",
                "id\tjane@example.com\t4242424242424242\t+1 202 555 0142\n",
                "eyJabcde.fghij.klmno@example.com", "AKIAIOSFODNN7EXAMPLE@example.com", "4242424242424242@example.com",
                "GB82WEST12345698765432@example.com", "call 4242424242424242-555-0142", "+4242424242424242", "123-45-6789 4242424242424242"));
        String chain = "4242424242424242 00107755831 1234567890";
        for (int check = 0; check < 10; check++) {
            cases.add(chain + check);
        }
        Detectors all = new Detectors(ALL);
        RegexDetectors oracle = new RegexDetectors(ALL);
        for (String c : cases) {
            compare(all, oracle, c, "edge case");
            for (Kind kind : Kind.values()) {
                compare(new Detectors(EnumSet.of(kind)), new RegexDetectors(EnumSet.of(kind)), c, kind + " only");
            }
        }
    }

    @Test
    void long_values_are_masked_exactly_as_the_regular_expressions_masked_them() throws Exception {
        Detectors all = new Detectors(ALL);
        RegexDetectors oracle = new RegexDetectors(ALL);
        // the row-4kb benchmark's values: 128 md5 hex strings of "id:j"; about a third hold a card that passes Luhn
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        int withCards = 0;
        for (int id = 1; id <= 300; id++) {
            StringBuilder sb = new StringBuilder(4096);
            for (int j = 1; j <= 128; j++) {
                sb.append(HexFormat.of().formatHex(md5.digest((id + ":" + j).getBytes(StandardCharsets.US_ASCII))));
            }
            if (compare(all, oracle, sb.toString(), "bench_wide id " + id)) {
                withCards++;
            }
        }
        assertTrue(withCards > 30 && withCards < 270, "some md5 values hold a Luhn-valid card, some none: " + withCards);

        Random random = new Random(7);
        for (int size : new int[] {4096, 65_536, 1 << 18}) {
            StringBuilder sb = new StringBuilder(size + 256);
            while (sb.length() < size) {
                sb.append(text(random)).append(' ');
            }
            compare(all, oracle, sb.toString(), "generated text of " + size + " characters");
        }
        compare(all, oracle, "4".repeat(1 << 18), "256 KB of one digit");
        compare(all, oracle, "4242 ".repeat(1 << 16), "256 KB of separated digits");
        compare(all, oracle, "a.b-c".repeat(1 << 16) + "@example.com", "256 KB of local part before an address");
        compare(all, oracle, "GB82 ".repeat(1 << 16), "256 KB of IBAN-shaped groups");
        compare(all, oracle, "+1 (".repeat(1 << 16) + "+1 202 555 0142", "256 KB of phone prefixes");
    }

    /**
     * The candidate pass takes eight lower-case letters and digits as one word: texts mostly of those (hex with digit
     * runs of every length), with now and then a byte that is not (a separator, a capital, a secret's or an address's
     * mark, a non-ASCII letter), so that runs of digits cross the words' edges at every offset, start and end inside
     * them, and continue into bytes that are read one by one.
     */
    @Test
    void words_of_letters_and_digits_are_masked_exactly_as_the_regular_expressions_masked_them() {
        Detectors all = new Detectors(ALL);
        RegexDetectors oracle = new RegexDetectors(ALL);
        Random random = new Random(Long.getLong("detectors.seed", 20261207L));
        String plain = "0123456789012345678901234567890123456789abcdefxyz";
        String other = " -.)(+@_AJKGBZ\u00e9";
        int changed = 0;
        for (int i = 0; i < 6_000; i++) {
            StringBuilder sb = new StringBuilder();
            int length = 1 + random.nextInt(120);
            int otherEvery = 2 + random.nextInt(40);
            while (sb.length() < length) {
                sb.append(random.nextInt(otherEvery) == 0 ? other.charAt(random.nextInt(other.length())) : plain.charAt(random.nextInt(plain.length())));
            }
            if (compare(all, oracle, sb.toString(), "word text " + i)) {
                changed++;
            }
        }
        assertTrue(changed > 200, "the texts hold findings: " + changed);
    }

    @Test
    void a_long_value_is_scanned_in_linear_time() {
        // 16 MiB (a quarter of the largest message the gateway accepts, portcullis.postgres.max-message-bytes) built
        // from the shapes that make a matcher retry: JWT prefixes in one run, digit groups, local parts, IBAN starts
        byte[] value = new byte[16 << 20];
        byte[] unit = "eyJeyJ4242 4242 4242 a.b@c AB12 +1 (202) ".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < value.length; i++) {
            value[i] = unit[i % unit.length];
        }
        byte[] card = "; 4242 4242 4242 4242".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(card, 0, value, value.length - card.length, card.length);
        Set<Kind> fired = EnumSet.noneOf(Kind.class);
        byte[] masked = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> new Detectors(ALL).scan(value, fired));
        assertNotNull(masked);
        assertEquals(EnumSet.of(Kind.CARD), fired);
        assertEquals("**** **** **** 4242", new String(masked, masked.length - 19, 19, StandardCharsets.US_ASCII));
        assertArrayEquals(Arrays.copyOf(value, 1 << 20), Arrays.copyOf(masked, 1 << 20), "the text before the finding is kept");
    }

    @Test
    void bytes_that_are_not_utf8_are_kept_around_a_finding() {
        Detectors all = new Detectors(ALL);
        Random random = new Random(11);
        for (int i = 0; i < 12_000; i++) {
            byte[] junk = new byte[random.nextInt(40)];
            random.nextBytes(junk);
            for (int j = 0; j < junk.length; j++) {
                if (junk[j] >= '0' && junk[j] <= '9' || junk[j] == ' ' || junk[j] == '-') {
                    junk[j] = 'x'; // no digit or separator next to the card: it stays the card
                }
            }
            byte[] text = concat(junk, "4242424242424242 ".getBytes(StandardCharsets.US_ASCII), junk);
            Set<Kind> fired = EnumSet.noneOf(Kind.class);
            byte[] masked = all.scan(text, fired);
            if (masked == null) {
                continue; // the junk chained findings; withheld
            }
            byte[] again = all.scan(masked, EnumSet.noneOf(Kind.class));
            assertSame(masked, again, "nothing is found in what masking gives");
            if (fired.equals(EnumSet.of(Kind.CARD))) {
                assertArrayEquals(concat(junk, "**** **** **** 4242 ".getBytes(StandardCharsets.US_ASCII), junk), masked,
                        "the bytes around the card are kept");
            }
        }
        byte[] latin1 = "Señor 4242 4242 4242 4242".getBytes(StandardCharsets.ISO_8859_1);
        assertArrayEquals("Señor **** **** **** 4242".getBytes(StandardCharsets.ISO_8859_1), all.scan(latin1, EnumSet.noneOf(Kind.class)),
                "a LATIN1 client's text keeps its bytes");
    }

    @Test
    void json_stays_json() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Detectors all = new Detectors(ALL);
        Random random = new Random(3);
        for (int i = 0; i < 1_000; i++) {
            var node = json.createObjectNode();
            for (int f = 0; f < 4; f++) {
                node.put("f" + f, text(random));
            }
            String doc = json.writeValueAsString(node);
            String masked = all.scan(doc, EnumSet.noneOf(Kind.class));
            // a private key's BEGIN line without its END line is masked to the end of the text, the JSON after it too
            if (masked != null && !doc.contains("-----BEGIN ")) {
                JsonNode read = json.readTree(masked);
                assertEquals(4, read.size(), masked);
            }
        }
    }

    // ---- comparison --------------------------------------------------------------------------------------

    /** Compares both over the text, as a String and as its UTF-8 bytes; true when something was found. */
    private static boolean compare(Detectors detectors, RegexDetectors oracle, String text, String what) {
        Set<Kind> expectedFired = EnumSet.noneOf(Kind.class);
        String expected = oracle.scan(text, expectedFired);
        Set<Kind> fired = EnumSet.noneOf(Kind.class);
        String actual = detectors.scan(text, fired);
        if (!java.util.Objects.equals(expected, actual) || !expectedFired.equals(fired)) {
            fail(what + ": for " + show(text) + "\n expected " + show(expected) + " " + expectedFired + "\n but got  " + show(actual) + " " + fired);
        }
        if (expected == text) {
            assertSame(text, actual, what + ": nothing found, the same instance");
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Set<Kind> firedBytes = EnumSet.noneOf(Kind.class);
        byte[] scanned = detectors.scan(bytes, firedBytes);
        assertEquals(expectedFired, firedBytes, what);
        if (expected == text) {
            assertSame(bytes, scanned, what);
        } else if (expected == null) {
            assertEquals(null, scanned, what);
        } else {
            assertArrayEquals(expected.getBytes(StandardCharsets.UTF_8), scanned, what);
        }
        return !expectedFired.isEmpty();
    }

    private static String show(String s) {
        if (s == null) {
            return "null (withheld)";
        }
        String shown = s.length() > 400 ? s.substring(0, 400) + "...(" + s.length() + " chars)" : s;
        StringBuilder sb = new StringBuilder("\"");
        shown.codePoints().forEach(c -> {
            if (c >= 0x20 && c < 0x7f) {
                sb.appendCodePoint(c);
            } else {
                sb.append(String.format("\\u{%x}", c));
            }
        });
        return sb.append('"').toString();
    }

    private static Set<Kind> randomKinds(Random random) {
        Set<Kind> kinds = EnumSet.noneOf(Kind.class);
        for (Kind k : Kind.values()) {
            if (random.nextBoolean()) {
                kinds.add(k);
            }
        }
        return kinds;
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    // ---- generated texts ---------------------------------------------------------------------------------

    private static final String JOINERS = " -.()+@_%/,:;[]\"'\n\taZ0é中\u0301😀٣";
    private static final String[] UNICODE = {"é", "中", "😀", "\u0301", "\u0300", "\uD834\uDD67", "ǅ", "٣", "１", "_", "ß", "\u200B", "\u00A0"};
    private static final String UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /** One to twelve pieces, each near some pattern's edge, joined by nothing or by one character. */
    static String text(Random r) {
        StringBuilder sb = new StringBuilder();
        int pieces = 1 + r.nextInt(12);
        for (int i = 0; i < pieces; i++) {
            if (i > 0 && r.nextInt(3) > 0) {
                sb.appendCodePoint(JOINERS.codePointAt(JOINERS.offsetByCodePoints(0, r.nextInt(JOINERS.codePointCount(0, JOINERS.length())))));
            }
            sb.append(piece(r));
        }
        return sb.toString();
    }

    private static final List<Function<Random, String>> PIECES = List.of(
            DetectorsDifferentialTest::card, DetectorsDifferentialTest::digits, DetectorsDifferentialTest::iban,
            DetectorsDifferentialTest::email, DetectorsDifferentialTest::phone, DetectorsDifferentialTest::nationalId,
            DetectorsDifferentialTest::secret, DetectorsDifferentialTest::words, r -> UNICODE[r.nextInt(UNICODE.length)],
            r -> HexFormat.of().formatHex(bytes(r, 1 + r.nextInt(16))), r -> random(r, UPPER, 1 + r.nextInt(4)));

    private static String piece(Random r) {
        return PIECES.get(r.nextInt(PIECES.size())).apply(r);
    }

    private static String card(Random r) {
        String body = random(r, "0123456789", 11 + r.nextInt(9));
        int check = 0;
        while (!Detectors.luhn(body + check)) {
            check++;
        }
        if (r.nextInt(5) == 0) {
            check = r.nextInt(10); // mostly valid, sometimes not
        }
        return separate(r, body + check, r.nextBoolean() ? " " : "-", 4);
    }

    private static String digits(Random r) {
        return separate(r, random(r, "0123456789", 1 + r.nextInt(24)), r.nextBoolean() ? " " : "-", 1 + r.nextInt(5));
    }

    /** Groups of {@code every} separated by {@code sep}, sometimes; sometimes doubled or mixed. */
    private static String separate(Random r, String s, String sep, int every) {
        int style = r.nextInt(4);
        if (style == 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            if (i > 0 && i % every == 0) {
                sb.append(style == 1 ? sep : style == 2 ? sep + sep : r.nextBoolean() ? " " : "-");
            }
            sb.append(s.charAt(i));
        }
        return sb.toString();
    }

    private static String iban(Random r) {
        String country = random(r, UPPER, 2);
        String bban = random(r, r.nextBoolean() ? "0123456789" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 9 + r.nextInt(24));
        int check = 98 - mod97(bban + country + "00");
        String digits = r.nextInt(4) == 0 ? random(r, "0123456789", 2) : String.format("%02d", check);
        String compact = country + digits + bban;
        return r.nextBoolean() ? compact : separate(r, compact, " ", 4);
    }

    private static int mod97(String s) {
        int rem = 0;
        for (char c : s.toCharArray()) {
            rem = c <= '9' ? (rem * 10 + c - '0') % 97 : (rem * 100 + c - 'A' + 10) % 97;
        }
        return rem;
    }

    private static String email(Random r) {
        String local = random(r, "abcxyzAZ019._%+-", r.nextInt(8));
        StringBuilder domain = new StringBuilder(random(r, "abcXY09-", r.nextInt(6)));
        int labels = r.nextInt(4);
        for (int i = 0; i < labels; i++) {
            domain.append(r.nextInt(8) == 0 ? ".." : ".").append(random(r, r.nextBoolean() ? "abcdefXYZ" : "ab9-", r.nextInt(5)));
        }
        return local + "@" + domain;
    }

    private static String phone(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> "+" + separate(r, random(r, "0123456789", 6 + r.nextInt(12)), random(r, " ().-", 1 + r.nextInt(3)), 1 + r.nextInt(4));
            case 1 -> (r.nextBoolean() ? "(" : "") + random(r, "0123456789", 3) + (r.nextBoolean() ? ")" : "")
                    + random(r, " .-", 1) + random(r, "0123456789", 3) + random(r, " .-x", 1) + random(r, "0123456789", 3 + r.nextInt(3));
            case 2 -> "+1 (202) 555-01" + random(r, "0123456789", r.nextInt(4));
            default -> random(r, "0123456789", 3) + "." + random(r, "0123456789", 3) + "." + random(r, "0123456789", 4);
        };
    }

    private static String nationalId(Random r) {
        return switch (r.nextInt(3)) {
            case 0 -> random(r, "0123456789", 2 + r.nextInt(3)) + "-" + random(r, "0123456789", 2) + "-" + random(r, "0123456789", 3 + r.nextInt(3));
            case 1 -> random(r, "ABCDEGHJKLMNOPQRSTWXYZ", 2) + random(r, "0123456789", 6) + random(r, "ABCDE", 1);
            default -> random(r, UPPER, 2) + random(r, "0123456789", 5 + r.nextInt(3)) + random(r, UPPER, 1);
        };
    }

    private static String secret(Random r) {
        return switch (r.nextInt(7)) {
            case 0 -> "eyJ" + random(r, ALNUM + "_-", 3 + r.nextInt(6)) + "." + random(r, ALNUM + "_-", 3 + r.nextInt(6))
                    + (r.nextBoolean() ? "." : "") + random(r, ALNUM + "_-", 3 + r.nextInt(6));
            case 1 -> "AKIA" + random(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 14 + r.nextInt(4));
            case 2 -> "gh" + random(r, "pousrx", 1) + "_" + random(r, ALNUM, 34 + r.nextInt(5));
            case 3 -> "xox" + random(r, "abprsx", 1) + "-" + random(r, ALNUM + "-", 8 + r.nextInt(4));
            case 4 -> random(r, "srp", 1) + "k_" + (r.nextBoolean() ? "live" : "test") + "_" + random(r, ALNUM, 14 + r.nextInt(4));
            case 5 -> "-----BEGIN " + random(r, "RSA EC", r.nextInt(4)) + (r.nextInt(4) == 0 ? "PUBLIC" : "PRIVATE") + " KEY-----"
                    + random(r, ALNUM + "\n", r.nextInt(20));
            default -> "-----END " + random(r, "RSA ", r.nextInt(4)) + "PRIVATE KEY-----";
        };
    }

    private static String words(Random r) {
        String[] words = {"order", "Renewal", "due", "in", "March", "x", "ID", "No.", "tel", "IBAN", "ssn", "eyJ", "gh", "xox", "sk_", "key"};
        return words[r.nextInt(words.length)];
    }

    private static String random(Random r, String alphabet, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    private static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }
}
