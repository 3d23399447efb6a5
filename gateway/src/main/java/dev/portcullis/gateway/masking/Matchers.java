package dev.portcullis.gateway.masking;

import dev.portcullis.gateway.masking.Detectors.Kind;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The detectors' matchers, hand-written over UTF-8 bytes. Each finds exactly what its regular expression (in the
 * comments, and kept in the tests as the oracle) finds with {@code Matcher.find}: the leftmost match, the greedy
 * quantifiers' longest choice, the lookarounds, and {@code \b} as JDK 17 reads it. Every pattern is ASCII, so a match
 * is ASCII bytes and its replacement too: the text around it keeps its bytes and stays UTF-8. Each matcher is linear
 * in the text, with no backtracking: the patterns' runs are single-choice, so the longest acceptable end is found by
 * walking the run once (at most 30 steps for the bounded ones).
 */
final class Matchers {
    private Matchers() {
    }

    // ---- the candidate pass ------------------------------------------------------------------------------

    /**
     * What one pass over a text found could match: a bit per kind (its ordinal) from what every match of the kind
     * needs, and where the card matcher has to look. A kind without its bit has no match; one with it is then matched
     * exactly. A card is made of digits and single ' ' or '-', so each is inside a stretch of digits, ' ' and '-' that
     * holds 13 digits or more; {@link #cardStretches} are those stretches' starts, and the card matcher reads only them.
     */
    static final class Candidates {
        /** Beyond this many card stretches the card matcher reads on from the first to the end of the text. */
        static final int MAX_CARD_STRETCHES = 32;

        int kinds;
        final int[] cardStretches = new int[MAX_CARD_STRETCHES];
        /** Card stretches found; more than {@link #MAX_CARD_STRETCHES} when some were not kept. */
        int cardStretchCount;
    }

    /**
     * The candidate pass over {@code t}, into {@code into}. Written for the branch predictor: on text it has not seen
     * (random hex, prose) a branch per byte that goes either way costs more than the pass itself. Eight bytes that are
     * all lower-case letters and digits (hex, identifiers, most of a hash or a UUID) are taken as one word: only their
     * digits matter, and where the runs of digits start and end is counted from the word's bits. Any other byte is
     * looked up once ({@link #FLAGS}) and the runs it extends or ends are counted with arithmetic; the only branches
     * are for bytes that are rare in text ({@link #F_RARE}) and for a card stretch reaching its 13th digit.
     *
     * @return {@code into.kinds}
     */
    static int candidates(byte[] t, Candidates into) {
        int n = t.length;
        int digits = 0;        // digits in a row before i
        int upper = 0;         // capitals in a row before i
        int cardDigits = 0;    // digits in the stretch of digits, ' ' and '-' before i
        int stretchStart = 0;  // where that stretch starts
        int phone = 0;         // 1 once a group of three or more digits ended with ' ', '.', ')' or '-'
        int dash = 0;          // 1 once such a group ended with '-': an SSN's first group
        int capitals = 0;      // 1 once two capitals came before a digit: an IBAN's or a NINO's start
        int found = 0;
        int stretches = 0;
        int i = 0;
        while (i < n) {
            if (i + 8 <= n) {
                long word = (long) LITTLE_ENDIAN_LONGS.get(t, i);
                long notDigits = plainWordNotDigits(word);
                if (notDigits != NOT_PLAIN) {
                    // the run of digits the word starts with continues the stretch before it; no other can reach 13
                    int leading = Long.numberOfTrailingZeros(notDigits) >>> 3; // 8 when all are digits
                    if (cardDigits < 13 && cardDigits + leading >= 13) {
                        if (stretches < Candidates.MAX_CARD_STRETCHES) {
                            into.cardStretches[stretches] = stretchStart;
                        }
                        stretches++;
                    }
                    capitals |= (upper >>> 1 != 0) & leading > 0 ? 1 : 0;
                    if (notDigits == 0) {
                        digits += 8;
                        cardDigits += 8;
                    } else {
                        int trailing = Long.numberOfLeadingZeros(notDigits) >>> 3;
                        digits = trailing;
                        cardDigits = trailing;
                        stretchStart = i + 8 - trailing;
                    }
                    upper = 0;
                    i += 8;
                    continue;
                }
            }
            for (int end = Math.min(n, i + 8); i < end; i++) {
                int c = FLAGS[t[i] & 0xFF];
                int digit = c & F_DIGIT;
                int afterGroup = (2 - digits) >>> 31;                 // 1 when three or more digits came before
                phone |= afterGroup & (c >>> F_GROUP_END_SHIFT);
                dash |= afterGroup & (c >>> F_DASH_SHIFT);
                capitals |= digit & ((1 - upper) >>> 31);             // a digit after two or more capitals
                digits = (digits + 1) & -digit;
                upper = (upper + 1) & -((c >>> F_UPPER_SHIFT) & 1);
                int keep = -((c | c >>> F_CARD_SEPARATOR_SHIFT) & 1); // -1 for a digit, ' ' or '-'; else 0
                stretchStart = stretchStart & keep | (i + 1) & ~keep;
                cardDigits = (cardDigits + digit) & keep;
                if (cardDigits == 13 && digit != 0) { // once per stretch: its 13th digit
                    if (stretches < Candidates.MAX_CARD_STRETCHES) {
                        into.cardStretches[stretches] = stretchStart;
                    }
                    stretches++;
                }
                if ((c & F_RARE) != 0) {
                    found |= rare(t, i);
                }
            }
        }
        found |= (phone & 1) * bit(Kind.PHONE) | (dash & 1) * (bit(Kind.NATIONAL_ID) | bit(Kind.PHONE))
                | capitals * (bit(Kind.IBAN) | bit(Kind.NATIONAL_ID)) | (stretches > 0 ? bit(Kind.CARD) : 0);
        into.kinds = found;
        into.cardStretchCount = stretches;
        return found;
    }

    private static final VarHandle LITTLE_ENDIAN_LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;
    private static final long NOT_PLAIN = -1L;

    /**
     * For eight bytes (the first in the lowest byte of {@code word}) that are all ASCII lower-case letters or digits:
     * the high bit of each byte that is not a digit, and no other bit; {@link #NOT_PLAIN} for any other eight bytes.
     * Each range test adds to every byte at once; a byte below 0x80 plus less than 0x80 carries into no other byte.
     */
    private static long plainWordNotDigits(long word) {
        if ((word & HIGH_BITS) != 0) {
            return NOT_PLAIN;
        }
        long atLeast0 = word + 0x5050505050505050L;      // high bit: byte >= '0' (0x30)
        long above9 = word + 0x4646464646464646L;        // byte >= ':' (0x3a)
        long atLeastA = word + 0x1f1f1f1f1f1f1f1fL;      // byte >= 'a' (0x61)
        long aboveZ = word + 0x0505050505050505L;        // byte >= '{' (0x7b)
        long digit = atLeast0 & ~above9;
        long lower = atLeastA & ~aboveZ;
        return ((digit | lower) & HIGH_BITS) == HIGH_BITS ? ~digit & HIGH_BITS : NOT_PLAIN;
    }

    /** The kinds that a rare byte ({@link #F_RARE}) at {@code i} could start or belong to. */
    private static int rare(byte[] t, int i) {
        int n = t.length;
        return switch (t[i]) {
            case '@' -> i > 0 && local(t[i - 1]) ? bit(Kind.EMAIL) : 0;
            case '+' -> i + 1 < n && digit(t[i + 1]) ? bit(Kind.PHONE) : 0;
            // eyJ (JWT), AKIA (AWS), gh?_ (GitHub), [sr]k_ (Stripe), xox?- (Slack), -----BEGIN (PEM)
            case 'J' -> i >= 2 && t[i - 2] == 'e' && t[i - 1] == 'y' ? bit(Kind.SECRET) : 0;
            case 'A' -> startsWith(t, i, AKIA) ? bit(Kind.SECRET) : 0;
            case '_' -> i >= 3 && t[i - 3] == 'g' && t[i - 2] == 'h' && github(t[i - 1])
                    || i >= 2 && (t[i - 2] == 's' || t[i - 2] == 'r') && t[i - 1] == 'k' ? bit(Kind.SECRET) : 0;
            case '-' -> i >= 4 && t[i - 4] == 'x' && t[i - 3] == 'o' && t[i - 2] == 'x' && slack(t[i - 1])
                    || startsWith(t, i, PEM_BEGIN) ? bit(Kind.SECRET) : 0;
            default -> 0;
        };
    }

    private static final int F_DIGIT = 1;
    /** ' ' or '-': a card's separator */
    private static final int F_CARD_SEPARATOR_SHIFT = 1;
    /** ' ', '.', ')' or '-': ends a phone number's group */
    private static final int F_GROUP_END_SHIFT = 2;
    /** '-' */
    private static final int F_DASH_SHIFT = 3;
    private static final int F_UPPER_SHIFT = 4;
    /** a byte that starts or marks a secret, an address or an international number */
    private static final int F_RARE = 1 << 5;
    private static final int[] FLAGS = new int[256];

    static {
        for (int c = 0; c < 128; c++) {
            int f = 0;
            f |= c >= '0' && c <= '9' ? F_DIGIT : 0;
            f |= c == ' ' || c == '-' ? 1 << F_CARD_SEPARATOR_SHIFT : 0;
            f |= " .)-".indexOf(c) >= 0 ? 1 << F_GROUP_END_SHIFT : 0;
            f |= c == '-' ? 1 << F_DASH_SHIFT : 0;
            f |= c >= 'A' && c <= 'Z' ? 1 << F_UPPER_SHIFT : 0;
            f |= "@+JA_-".indexOf(c) >= 0 ? F_RARE : 0;
            FLAGS[c] = f;
        }
    }

    static int bit(Kind kind) {
        return 1 << kind.ordinal();
    }

    // ---- one kind over a text ----------------------------------------------------------------------------

    /**
     * Replaces every match of {@code kind} in {@code t}, left to right, as {@code Matcher.find} and
     * {@code appendReplacement} did: a match whose check fails (Luhn, mod-97) is left alone, and the search goes on
     * after it. Returns {@code t} itself when nothing was replaced.
     */
    static byte[] maskAll(Kind kind, byte[] t, Candidates candidates) {
        byte[] out = null;
        int written = 0;
        int last = 0;
        int from = 0;
        int[] jwtSkip = {0};
        int[] stretch = {0};
        while (true) {
            long m = find(kind, t, from, candidates, jwtSkip, stretch);
            if (m < 0) {
                break;
            }
            int start = (int) (m >>> 32);
            int end = (int) m;
            from = end;
            byte[] replacement = replacement(kind, t, start, end);
            if (replacement == null) {
                continue;
            }
            int need = written + (start - last) + replacement.length + (t.length - end);
            if (out == null || out.length < need) {
                out = out == null ? new byte[Math.max(need, t.length)] : Arrays.copyOf(out, Math.max(need, out.length * 2));
            }
            System.arraycopy(t, last, out, written, start - last);
            written += start - last;
            System.arraycopy(replacement, 0, out, written, replacement.length);
            written += replacement.length;
            last = end;
        }
        if (out == null) {
            return t;
        }
        System.arraycopy(t, last, out, written, t.length - last);
        written += t.length - last;
        return written == out.length ? out : Arrays.copyOf(out, written);
    }

    /**
     * The next match at or after {@code from}: start and end packed as {@code start << 32 | end}, or -1. {@code jwtSkip}
     * and {@code stretch} carry a secret's and a card's search from one call to the next (see {@link #secret}, {@link #card}).
     */
    private static long find(Kind kind, byte[] t, int from, Candidates candidates, int[] jwtSkip, int[] stretch) {
        return switch (kind) {
            case SECRET -> secret(t, from, jwtSkip);
            case EMAIL -> email(t, from);
            case IBAN -> iban(t, from);
            case CARD -> card(t, from, candidates, stretch);
            case NATIONAL_ID -> nationalId(t, from);
            case PHONE -> phone(t, from);
        };
    }

    private static byte[] replacement(Kind kind, byte[] t, int start, int end) {
        return switch (kind) {
            case SECRET -> SECRET_REDACTED;
            case EMAIL -> maskedEmail(t, start, end);
            case IBAN -> maskedIban(t, start, end);
            case CARD -> maskedCard(t, start, end);
            case NATIONAL_ID -> partial(t, start, end, 4);
            case PHONE -> partial(t, start, end, 2);
        };
    }

    private static long match(int start, int end) {
        return (long) start << 32 | end;
    }

    // ---- secrets -----------------------------------------------------------------------------------------

    private static final byte[] SECRET_REDACTED = Detectors.SECRET_REDACTED.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EYJ = ascii("eyJ");
    private static final byte[] AKIA = ascii("AKIA");
    private static final byte[] PEM_BEGIN = ascii("-----BEGIN ");
    private static final byte[] PEM_END = ascii("-----END ");
    private static final byte[] PRIVATE_KEY = ascii("PRIVATE KEY-----");

    /**
     * {@code eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}} (JWT) | {@code AKIA[0-9A-Z]{16}} (AWS) |
     * {@code gh[pousr]_[A-Za-z0-9]{36,}} (GitHub) | {@code xox[abprs]-[A-Za-z0-9-]{10,}} (Slack) |
     * {@code [sr]k_(?:live|test)_[A-Za-z0-9]{16,}} (Stripe) |
     * {@code -----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|\z)} (PEM). The alternatives
     * start with different characters, so at most one applies at a position.
     *
     * @param jwtSkip a JWT that failed at s failed for every "eyJ" inside the same run too (the run ends at the same
     *                place): no "eyJ" before {@code jwtSkip[0]} is tried again, which keeps "eyJeyJeyJ..." linear
     */
    private static long secret(byte[] t, int from, int[] jwtSkip) {
        int n = t.length;
        for (int s = from; s < n; s++) {
            int end = switch (t[s]) {
                case 'e' -> {
                    if (s < jwtSkip[0] || !startsWith(t, s, EYJ)) {
                        yield -1;
                    }
                    int r1 = run(t, s + 3, JWT);
                    jwtSkip[0] = r1;
                    yield r1 - (s + 3) >= 5 ? jwtTail(t, r1) : -1;
                }
                case 'A' -> startsWith(t, s, AKIA) && s + 20 <= n && all(t, s + 4, s + 20, UPPER_DIGIT) ? s + 20 : -1;
                case 'g' -> s + 3 < n && t[s + 1] == 'h' && github(t[s + 2]) && t[s + 3] == '_' ? atLeast(t, s + 4, ALNUM, 36) : -1;
                case 'x' -> s + 4 < n && t[s + 1] == 'o' && t[s + 2] == 'x' && slack(t[s + 3]) && t[s + 4] == '-'
                        ? atLeast(t, s + 5, ALNUM_DASH, 10) : -1;
                case 's', 'r' -> s + 7 < n && t[s + 1] == 'k' && t[s + 2] == '_' && (startsWith(t, s + 3, LIVE) || startsWith(t, s + 3, TEST))
                        && t[s + 7] == '_' ? atLeast(t, s + 8, ALNUM, 16) : -1;
                case '-' -> startsWith(t, s, PEM_BEGIN) ? pem(t, s + PEM_BEGIN.length) : -1;
                default -> -1;
            };
            if (end >= 0) {
                return match(s, end);
            }
        }
        return -1;
    }

    private static final byte[] LIVE = ascii("live");
    private static final byte[] TEST = ascii("test");

    /** After a JWT's first segment, which ends at {@code r1}: {@code \.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}}. */
    private static int jwtTail(byte[] t, int r1) {
        int n = t.length;
        if (r1 >= n || t[r1] != '.') {
            return -1;
        }
        int r2 = run(t, r1 + 1, JWT);
        if (r2 - (r1 + 1) < 5 || r2 >= n || t[r2] != '.') {
            return -1;
        }
        int r3 = run(t, r2 + 1, JWT);
        return r3 - (r2 + 1) >= 5 ? r3 : -1;
    }

    /**
     * After {@code -----BEGIN }: {@code [A-Z ]*PRIVATE KEY-----} (the run of [A-Z ] must end with "PRIVATE KEY", since
     * '-' ends the run), then the shortest text up to {@code -----END [A-Z ]*PRIVATE KEY-----}, or to the end.
     */
    private static int pem(byte[] t, int from) {
        int header = privateKeyAfterRun(t, from);
        if (header < 0) {
            return -1;
        }
        for (int q = header; q < t.length; q++) {
            if (t[q] == '-' && startsWith(t, q, PEM_END)) {
                int end = privateKeyAfterRun(t, q + PEM_END.length);
                if (end >= 0) {
                    return end;
                }
            }
        }
        return t.length;
    }

    /** {@code [A-Z ]*PRIVATE KEY-----} at {@code from}: where it ends, or -1. */
    private static int privateKeyAfterRun(byte[] t, int from) {
        int r = run(t, from, UPPER_SPACE);
        int p = r - (PRIVATE_KEY.length - 5); // "PRIVATE KEY" ends the run, "-----" follows it
        return p >= from && startsWith(t, p, PRIVATE_KEY) ? p + PRIVATE_KEY.length : -1;
    }

    private static boolean github(byte b) {
        return b == 'p' || b == 'o' || b == 'u' || b == 's' || b == 'r';
    }

    private static boolean slack(byte b) {
        return b == 'a' || b == 'b' || b == 'p' || b == 'r' || b == 's';
    }

    // ---- e-mail ------------------------------------------------------------------------------------------

    /**
     * {@code (?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}}: a match starts
     * where a run of local-part characters starts and takes the run whole, so each '@' has at most one: the run before
     * it. A run that starts before {@code from} has no start at or after it (each of its positions follows one of its
     * characters).
     */
    private static long email(byte[] t, int from) {
        int n = t.length;
        for (int at = from + 1; at < n; at++) {
            if (t[at] != '@') {
                continue;
            }
            int s = at;
            while (s > 0 && local(t[s - 1])) {
                s--;
            }
            if (s == at || s < from) {
                continue;
            }
            int end = domainEnd(t, at + 1);
            if (end >= 0) {
                return match(s, end);
            }
        }
        return -1;
    }

    /**
     * {@code [A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}} at {@code d}: labels separated by single dots; the
     * greedy star keeps as many whole labels as it can, so the match ends in the last label that starts with two
     * letters, after its letters.
     */
    private static int domainEnd(byte[] t, int d) {
        int n = t.length;
        int p = run(t, d, LABEL);
        if (p == d) {
            return -1;
        }
        int end = -1;
        while (p + 1 < n && t[p] == '.' && is(t[p + 1], LABEL)) {
            int letters = run(t, p + 1, ALPHA);
            if (letters - (p + 1) >= 2) {
                end = letters;
            }
            p = run(t, letters, LABEL);
        }
        return end;
    }

    /** {@code j***@example.com}, as {@link ColumnMask#email} gives for the match. */
    private static byte[] maskedEmail(byte[] t, int start, int end) {
        int at = start;
        while (t[at] != '@') {
            at++;
        }
        byte[] out = new byte[4 + end - at];
        out[0] = t[start];
        out[1] = out[2] = out[3] = '*';
        System.arraycopy(t, at, out, 4, end - at);
        return out;
    }

    // ---- IBAN --------------------------------------------------------------------------------------------

    /** {@code \b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b}, the longest that ends at a word boundary. */
    private static long iban(byte[] t, int from) {
        int n = t.length;
        for (int s = from; s + 3 < n; s++) {
            if (!upper(t[s]) || !upper(t[s + 1]) || !digit(t[s + 2]) || !digit(t[s + 3]) || Words.wordBefore(t, s)) {
                continue;
            }
            int end = -1;
            int p = s + 4;
            for (int k = 1; k <= 30; k++) {
                if (p < n && is(t[p], UPPER_DIGIT)) {
                    p++;
                } else if (p + 1 < n && t[p] == ' ' && is(t[p + 1], UPPER_DIGIT)) {
                    p += 2;
                } else {
                    break;
                }
                if (k >= 11 && !Words.wordAt(t, p)) {
                    end = p;
                }
            }
            if (end >= 0) {
                return match(s, end);
            }
        }
        return -1;
    }

    /** An IBAN passes its ISO 7064 mod-97 check; masked to its country code and last four characters. */
    private static byte[] maskedIban(byte[] t, int start, int end) {
        byte[] compact = new byte[end - start];
        int length = 0;
        for (int i = start; i < end; i++) {
            if (t[i] != ' ') {
                compact[length++] = t[i];
            }
        }
        int remainder = 0;
        for (int k = 0; k < length; k++) {
            byte c = compact[(k + 4) % length]; // the country code and check digits moved to the end
            remainder = c <= '9' ? (remainder * 10 + c - '0') % 97 : (remainder * 100 + c - 'A' + 10) % 97;
        }
        if (remainder != 1) {
            return null;
        }
        byte[] out = new byte[length];
        out[0] = compact[0];
        out[1] = compact[1];
        Arrays.fill(out, 2, length - 4, (byte) '*');
        System.arraycopy(compact, length - 4, out, length - 4, 4);
        return out;
    }

    // ---- cards -------------------------------------------------------------------------------------------

    /**
     * {@code (?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])}: from a digit that follows none, the run of digits with
     * single separators; the longest prefix of 13 to 19 digits that no digit follows. With {@code oneStretch}, only
     * starts up to the end of the stretch of digits, ' ' and '-' at {@code from}.
     */
    private static long card(byte[] t, int from, boolean oneStretch) {
        int n = t.length;
        for (int s = from; s < n; s++) {
            if (!digit(t[s]) || s > 0 && digit(t[s - 1])) {
                if (oneStretch && t[s] != ' ' && t[s] != '-' && !digit(t[s])) {
                    return -1; // the stretch ended
                }
                continue;
            }
            int end = -1;
            int p = s; // the k-th digit
            for (int k = 1; ; k++) {
                int after = p + 1;
                if (k >= 13 && (after == n || !digit(t[after]))) {
                    end = after;
                }
                if (k == 19) {
                    break;
                }
                if (after < n && digit(t[after])) {
                    p = after;
                } else if (after + 1 < n && (t[after] == ' ' || t[after] == '-') && digit(t[after + 1])) {
                    p = after + 1;
                } else {
                    break;
                }
            }
            if (end >= 0) {
                return match(s, end);
            }
        }
        return -1;
    }

    /**
     * The next card at or after {@code from}, read only in the candidate pass's stretches, from the one at
     * {@code stretch[0]} on (a stretch may hold more than one card, so it stays current after a match); past
     * {@link Candidates#MAX_CARD_STRETCHES} of them, anywhere after the first.
     */
    private static long card(byte[] t, int from, Candidates candidates, int[] stretch) {
        if (candidates.cardStretchCount > Candidates.MAX_CARD_STRETCHES) {
            return card(t, Math.max(from, candidates.cardStretches[0]), false);
        }
        for (; stretch[0] < candidates.cardStretchCount; stretch[0]++) {
            long m = card(t, Math.max(from, candidates.cardStretches[stretch[0]]), true);
            if (m >= 0) {
                return m;
            }
        }
        return -1;
    }

    /** A payment card number passes the Luhn check; masked to its last four digits. */
    private static byte[] maskedCard(byte[] t, int start, int end) {
        byte[] digits = new byte[end - start];
        int count = 0;
        for (int i = start; i < end; i++) {
            if (digit(t[i])) {
                digits[count++] = t[i];
            }
        }
        if (count < 13 || count > 19 || !luhn(digits, count)) {
            return null;
        }
        byte[] out = CARD_MASK.clone();
        System.arraycopy(digits, count - 4, out, CARD_MASK.length - 4, 4);
        return out;
    }

    private static final byte[] CARD_MASK = ascii("**** **** **** 0000");

    static boolean luhn(byte[] digits, int count) {
        int sum = 0;
        boolean twice = false;
        for (int i = count - 1; i >= 0; i--) {
            int d = digits[i] - '0';
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

    // ---- national ids and phone numbers ------------------------------------------------------------------

    /**
     * {@code (?<![0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9])} (US SSN) | {@code \b[A-CEGHJ-PR-TW-Z]{2}[0-9]{6}[A-D]\b}
     * (UK NINO).
     */
    private static long nationalId(byte[] t, int from) {
        int n = t.length;
        for (int s = from; s < n; s++) {
            byte b = t[s];
            if (digit(b)) {
                if (s + 11 <= n && (s == 0 || !digit(t[s - 1])) && all(t, s, s + 3, DIGIT) && t[s + 3] == '-'
                        && all(t, s + 4, s + 6, DIGIT) && t[s + 6] == '-' && all(t, s + 7, s + 11, DIGIT)
                        && (s + 11 == n || !digit(t[s + 11]))) {
                    return match(s, s + 11);
                }
            } else if (is(b, NINO_LETTER)) {
                if (s + 9 <= n && is(t[s + 1], NINO_LETTER) && all(t, s + 2, s + 8, DIGIT) && t[s + 8] >= 'A' && t[s + 8] <= 'D'
                        && !Words.wordBefore(t, s) && !Words.wordAt(t, s + 9)) {
                    return match(s, s + 9);
                }
            }
        }
        return -1;
    }

    /**
     * {@code \+[0-9](?:[ ().-]{0,2}[0-9]){7,14}(?![0-9])} (international) |
     * {@code (?<![0-9])\(?[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4}(?![0-9])} (North American).
     */
    private static long phone(byte[] t, int from) {
        int n = t.length;
        for (int s = from; s < n; s++) {
            byte b = t[s];
            int end = -1;
            if (b == '+') {
                if (s + 1 < n && digit(t[s + 1])) {
                    int p = s + 2; // after the last digit taken
                    for (int k = 1; k <= 14; k++) {
                        int q = p;
                        while (q - p < 2 && q < n && is(t[q], PHONE_SEPARATOR)) {
                            q++;
                        }
                        if (q >= n || !digit(t[q])) {
                            break;
                        }
                        p = q + 1;
                        if (k >= 7 && (p == n || !digit(t[p]))) {
                            end = p;
                        }
                    }
                }
            } else if ((b == '(' || digit(b)) && (s == 0 || !digit(t[s - 1]))) {
                int p = b == '(' ? s + 1 : s;
                if (p + 3 <= n && all(t, p, p + 3, DIGIT)) {
                    p += 3;
                    if (p < n && t[p] == ')') {
                        p++;
                    }
                    if (p + 9 <= n && nanpSeparator(t[p]) && all(t, p + 1, p + 4, DIGIT) && nanpSeparator(t[p + 4])
                            && all(t, p + 5, p + 9, DIGIT) && (p + 9 == n || !digit(t[p + 9]))) {
                        end = p + 9;
                    }
                }
            }
            if (end >= 0) {
                return match(s, end);
            }
        }
        return -1;
    }

    private static boolean nanpSeparator(byte b) {
        return b == ' ' || b == '.' || b == '-';
    }

    /**
     * Keeps the last {@code keepLast} letters and digits and masks the others with '*'; punctuation and spaces stay.
     * {@link ColumnMask#partial} on an ASCII match.
     */
    private static byte[] partial(byte[] t, int start, int end, int keepLast) {
        byte[] out = Arrays.copyOfRange(t, start, end);
        int alnum = 0;
        for (byte b : out) {
            if (is(b, ALNUM)) {
                alnum++;
            }
        }
        int seen = 0;
        for (int i = 0; i < out.length; i++) {
            if (is(out[i], ALNUM) && (alnum <= keepLast || ++seen <= alnum - keepLast)) {
                out[i] = '*';
            }
        }
        return out;
    }

    // ---- character classes -------------------------------------------------------------------------------

    private static final int DIGIT = 1;
    private static final int UPPER = 1 << 1;
    private static final int LOWER = 1 << 2;
    private static final int ALPHA = UPPER | LOWER;
    private static final int ALNUM = 1 << 3;
    private static final int UPPER_DIGIT = 1 << 4;
    private static final int ALNUM_DASH = 1 << 5;
    /** [A-Za-z0-9_-] */
    private static final int JWT = 1 << 6;
    /** [A-Za-z0-9._%+-] */
    private static final int LOCAL = 1 << 7;
    /** [A-Za-z0-9-] */
    private static final int LABEL = ALNUM_DASH;
    /** [A-Z ] */
    private static final int UPPER_SPACE = 1 << 8;
    /** [A-CEGHJ-PR-TW-Z] */
    private static final int NINO_LETTER = 1 << 9;
    /** [ ().-] */
    private static final int PHONE_SEPARATOR = 1 << 10;

    private static final int[] CLASSES = new int[128];

    static {
        for (int c = 0; c < 128; c++) {
            boolean digit = c >= '0' && c <= '9';
            boolean upper = c >= 'A' && c <= 'Z';
            boolean lower = c >= 'a' && c <= 'z';
            int k = 0;
            k |= digit ? DIGIT : 0;
            k |= upper ? UPPER : 0;
            k |= lower ? LOWER : 0;
            k |= digit || upper || lower ? ALNUM | ALNUM_DASH | JWT | LOCAL : 0;
            k |= digit || upper ? UPPER_DIGIT : 0;
            k |= c == '-' ? ALNUM_DASH | JWT | LOCAL : 0;
            k |= c == '_' ? JWT : 0;
            k |= c == '.' || c == '_' || c == '%' || c == '+' ? LOCAL : 0;
            k |= upper || c == ' ' ? UPPER_SPACE : 0;
            k |= upper && "DFIQUV".indexOf(c) < 0 ? NINO_LETTER : 0;
            k |= " ().-".indexOf(c) >= 0 ? PHONE_SEPARATOR : 0;
            CLASSES[c] = k;
        }
    }

    private static boolean is(byte b, int cls) {
        return b >= 0 && (CLASSES[b] & cls) != 0;
    }

    private static boolean digit(byte b) {
        return b >= '0' && b <= '9';
    }

    private static boolean upper(byte b) {
        return b >= 'A' && b <= 'Z';
    }

    private static boolean local(byte b) {
        return is(b, LOCAL);
    }

    /** Where the run of {@code cls} characters that starts at {@code from} ends. */
    private static int run(byte[] t, int from, int cls) {
        int p = from;
        while (p < t.length && is(t[p], cls)) {
            p++;
        }
        return p;
    }

    /** The end of the run of {@code cls} at {@code from} when it is at least {@code min} long, else -1. */
    private static int atLeast(byte[] t, int from, int cls, int min) {
        int end = run(t, from, cls);
        return end - from >= min ? end : -1;
    }

    private static boolean all(byte[] t, int from, int to, int cls) {
        for (int i = from; i < to; i++) {
            if (!is(t[i], cls)) {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWith(byte[] t, int at, byte[] prefix) {
        if (at + prefix.length > t.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (t[at + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
