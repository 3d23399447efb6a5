package dev.portcullis.gateway.masking;

import io.netty.buffer.ByteBuf;
import java.math.BigInteger;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Content detectors: find sensitive values inside text that escaped the column rules ({@code lower(email)},
 * {@code concat(...)}, {@code row_to_json(u)}) and mask them in place, until no detector finds anything in the
 * result. What replaces a finding is made of mask characters, separators and kept digits only, so JSON and COPY text
 * stay well-formed. Thread-safe.
 *
 * <p>Most values hold nothing to find, so a single pass over the raw bytes ({@link #worthScanning}) decides
 * whether the value needs to be decoded and matched at all.
 */
public final class Detectors {

    public enum Kind {
        SECRET, EMAIL, IBAN, CARD, NATIONAL_ID, PHONE;

        /** @throws IllegalArgumentException for a detector the contract does not define */
        public static Kind of(String name) {
            return switch (name) {
                case "email" -> EMAIL;
                case "card" -> CARD;
                case "iban" -> IBAN;
                case "phone" -> PHONE;
                case "national_id" -> NATIONAL_ID;
                case "secret" -> SECRET;
                default -> throw new IllegalArgumentException("unknown detector '" + name + "'");
            };
        }

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Replaces what a detector found; returns null to leave the match alone (a failed checksum). {@code mayMatch} is
     * a cheap linear test of what any match needs, so the pattern only runs over texts that could hold one: a regex
     * scan costs tens of nanoseconds per character and rule (about 1 ms for a 4 KB value and all rules).
     */
    private record Rule(Kind kind, Pattern pattern, Function<String, String> replace, Predicate<String> mayMatch) {
    }

    public static final String SECRET_REDACTED = "[secret redacted]";
    /**
     * Text with fewer digits than this holds no card, national id or phone number: a UK NINO has 6 digits, an
     * international phone number 8. (An IBAN needs only 2; one with fewer than 6 is not caught by this pre-check.)
     */
    private static final int MIN_DIGITS = 6;

    private static final List<Rule> RULES = List.of(
            new Rule(Kind.SECRET, Pattern.compile(
                    "eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}"          // JWT
                            + "|AKIA[0-9A-Z]{16}"                                            // AWS access key id
                            + "|gh[pousr]_[A-Za-z0-9]{36,}"                                  // GitHub token
                            + "|xox[abprs]-[A-Za-z0-9-]{10,}"                                 // Slack token
                            + "|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"                        // Stripe key
                            + "|-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|\\z)"),
                    m -> SECRET_REDACTED,
                    t -> t.contains("eyJ") || t.contains("AKIA") || t.contains("gh") || t.contains("xox") || t.contains("k_")
                            || t.contains("-----BEGIN ")),
            // A match starts only where a run of local-part characters starts, and the run is taken whole (possessive,
            // '@' is not in it): linear in the text. Without both, each position of a long run without an address
            // was tried again to its end (2 ms for a 512-character hex string).
            new Rule(Kind.EMAIL, Pattern.compile("(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}"),
                    m -> ColumnMask.email(m, '*'), t -> t.indexOf('@') >= 0),
            new Rule(Kind.IBAN, Pattern.compile("\\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\\b"), Detectors::iban, Detectors::hasUpperCase),
            new Rule(Kind.CARD, Pattern.compile("(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])"), Detectors::card, t -> digitRun(t) >= 13),
            new Rule(Kind.NATIONAL_ID, Pattern.compile("(?<![0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9])"       // US SSN
                    + "|\\b[A-CEGHJ-PR-TW-Z]{2}[0-9]{6}[A-D]\\b"),                                     // UK NINO
                    m -> ColumnMask.partial(m, 0, 4, '*'), t -> t.indexOf('-') >= 0 || hasUpperCase(t)),
            new Rule(Kind.PHONE, Pattern.compile("\\+[0-9](?:[ ().-]{0,2}[0-9]){7,14}(?![0-9])"              // international
                    + "|(?<![0-9])\\(?[0-9]{3}\\)?[ .-][0-9]{3}[ .-][0-9]{4}(?![0-9])"),                    // North American
                    m -> ColumnMask.partial(m, 0, 2, '*'),
                    t -> t.indexOf('+') >= 0 || t.indexOf(' ') >= 0 || t.indexOf('.') >= 0 || t.indexOf('-') >= 0));

    private static boolean hasUpperCase(String t) {
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return true;
            }
        }
        return false;
    }

    /** The most digits in one run of digits where single spaces or hyphens may separate them (a card's shape). */
    private static int digitRun(String t) {
        int best = 0;
        int run = 0;
        boolean afterSeparator = false;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c >= '0' && c <= '9') {
                run++;
                afterSeparator = false;
                best = Math.max(best, run);
            } else if ((c == ' ' || c == '-') && run > 0 && !afterSeparator) {
                afterSeparator = true;
            } else {
                run = 0;
                afterSeparator = false;
            }
        }
        return best;
    }

    private final List<Rule> rules;
    private final Set<Kind> kinds;
    private final boolean numeric;
    private final boolean email;
    private final boolean secret;

    public Detectors(Set<Kind> kinds) {
        this.kinds = kinds.isEmpty() ? Set.of() : EnumSet.copyOf(kinds);
        this.rules = RULES.stream().filter(r -> kinds.contains(r.kind())).toList();
        this.numeric = kinds.contains(Kind.CARD) || kinds.contains(Kind.IBAN) || kinds.contains(Kind.PHONE)
                || kinds.contains(Kind.NATIONAL_ID);
        this.email = kinds.contains(Kind.EMAIL);
        this.secret = kinds.contains(Kind.SECRET);
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    public Set<Kind> kinds() {
        return kinds;
    }

    /**
     * Whether any detector could match in these bytes (UTF-8 or any ASCII-compatible encoding): an '@' for an
     * address, enough digits for a number, or the start of a known secret. False means nothing to find.
     */
    public boolean worthScanning(ByteBuf buf, int from, int length) {
        int digits = 0;
        int end = from + length;
        for (int i = from; i < end; i++) {
            byte b = buf.getByte(i);
            if (b >= '0' && b <= '9') {
                if (numeric && ++digits >= MIN_DIGITS) {
                    return true;
                }
            } else if (b == '@') {
                if (email) {
                    return true;
                }
            } else if (secret && i + 3 < end && secretStart(buf, i, b)) {
                return true;
            }
        }
        return false;
    }

    /** The first bytes of a JWT, AWS, GitHub, Slack, Stripe key or PEM private key; needs i + 3 in range. */
    private static boolean secretStart(ByteBuf buf, int i, byte b) {
        byte b1 = buf.getByte(i + 1);
        byte b2 = buf.getByte(i + 2);
        return switch (b) {
            case 'e' -> b1 == 'y' && b2 == 'J';
            case 'A' -> b1 == 'K' && b2 == 'I';
            case 'g' -> b1 == 'h' && buf.getByte(i + 3) == '_';
            case 'x' -> b1 == 'o' && b2 == 'x';
            case 'k' -> b1 == '_' && (b2 == 'l' || b2 == 't');
            case '-' -> b1 == '-' && b2 == '-';
            default -> false;
        };
    }

    /**
     * Passes over a text before it is given up on. Masking keeps some characters (a card's last four digits, a phone
     * number's last two), and those can join the characters next to the finding into a new one ({@code 4242...4242
     * 00107755831}: {@code 4242 00107755831} is a card too), so the text is scanned again until nothing is found. A
     * text that still holds findings after this many passes was built to chain them, and none of it is passed on.
     */
    static final int MAX_PASSES = 4;

    /**
     * Masks every finding in the text, until it holds none: scanning what this returns finds nothing. Adds the kinds
     * that fired to {@code fired}.
     *
     * @return the masked text; the same instance when nothing was found; null when findings are still left after
     *     {@link #MAX_PASSES} passes (the value is then withheld: NULL)
     */
    public String scan(String text, Set<Kind> fired) {
        String out = text;
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            String masked = maskOnce(out, fired);
            if (masked == out) {
                return out;
            }
            out = masked;
        }
        return null;
    }

    /** One pass of every rule; the same instance when no rule found anything. */
    private String maskOnce(String text, Set<Kind> fired) {
        String out = text;
        for (Rule rule : rules) {
            if (!rule.mayMatch().test(out)) {
                continue;
            }
            Matcher m = rule.pattern().matcher(out);
            StringBuilder sb = null;
            int last = 0;
            while (m.find()) {
                String replacement = rule.replace().apply(m.group());
                if (replacement == null) {
                    continue;
                }
                if (sb == null) {
                    sb = new StringBuilder(out.length());
                }
                sb.append(out, last, m.start()).append(replacement);
                last = m.end();
            }
            if (sb != null) {
                fired.add(rule.kind());
                out = sb.append(out, last, out.length()).toString();
            }
        }
        return out;
    }

    /** A payment card number passes the Luhn check; masked to its last four digits. */
    private static String card(String match) {
        String digits = match.replaceAll("[^0-9]", "");
        if (digits.length() < 13 || digits.length() > 19 || !luhn(digits)) {
            return null;
        }
        return ColumnMask.card(digits, 4, '*');
    }

    static boolean luhn(String digits) {
        int sum = 0;
        boolean twice = false;
        for (int i = digits.length() - 1; i >= 0; i--) {
            int d = digits.charAt(i) - '0';
            if (twice) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            twice = !twice;
        }
        return sum % 10 == 0;
    }

    /** An IBAN passes its ISO 7064 mod-97 check; masked to its country code and last four characters. */
    private static String iban(String match) {
        String compact = match.replace(" ", "");
        String rearranged = compact.substring(4) + compact.substring(0, 4);
        StringBuilder numeric = new StringBuilder(rearranged.length() * 2);
        for (int i = 0; i < rearranged.length(); i++) {
            char c = rearranged.charAt(i);
            numeric.append(Character.isDigit(c) ? String.valueOf(c) : String.valueOf(c - 'A' + 10));
        }
        if (!new BigInteger(numeric.toString()).mod(BigInteger.valueOf(97)).equals(BigInteger.ONE)) {
            return null;
        }
        return compact.substring(0, 2) + ColumnMask.partial(compact.substring(2), 0, 4, '*');
    }
}
