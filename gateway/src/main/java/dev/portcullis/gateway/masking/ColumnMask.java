package dev.portcullis.gateway.masking;

import java.util.Locale;

/**
 * One column's masking method from a plan (contract v2 {@code plan[]}), applied to a text value. Every method
 * keeps the value's shape where the method says so and never reveals more than it names: a value too short
 * to keep {@code keep_last} characters of is masked entirely.
 *
 * @param rule the policy rule that chose this method, for the recording
 */
public record ColumnMask(Method method, int keepFirst, int keepLast, char maskChar, String rule) {
    /** What {@code redact} writes. */
    public static final String REDACTED = "***";

    public enum Method {
        REDACT, NULL, HASH, PARTIAL, EMAIL, CARD;

        /** @throws IllegalArgumentException for a method the contract does not define */
        public static Method of(String name) {
            return switch (name) {
                case "redact" -> REDACT;
                case "null" -> NULL;
                case "hash" -> HASH;
                case "partial" -> PARTIAL;
                case "email" -> EMAIL;
                case "card" -> CARD;
                default -> throw new IllegalArgumentException("unknown masking method '" + name + "'");
            };
        }

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** @return the masked value, or {@code null} for SQL NULL */
    public String apply(String value, KeyedHash hash) {
        return switch (method) {
            case REDACT -> REDACTED;
            case NULL -> null;
            case HASH -> hash.hex(value);
            case PARTIAL -> partial(value, keepFirst, keepLast, maskChar);
            case EMAIL -> email(value, maskChar);
            case CARD -> card(value, keepLast, maskChar);
        };
    }

    /**
     * Writes the masked value, as a DataRow column (length, then bytes), straight from the value's bytes, without
     * decoding it: for ASCII values, which are nearly all of them. Returns false, having written nothing, when the
     * value needs {@link #apply} (non-ASCII text or mask character, or the hash method).
     */
    boolean writeAscii(io.netty.buffer.ByteBuf in, int pos, int len, io.netty.buffer.ByteBuf out) {
        if (method == Method.HASH || maskChar > 0x7f) {
            return false;
        }
        // One bounds-checked copy in, the masking on the array, one write out: per-byte getByte/writeByte calls
        // (each checking the buffer) were most of the cost of masking a row.
        byte[] v = new byte[len];
        in.getBytes(pos, v);
        for (byte b : v) {
            if (b < 0) {
                return false;
            }
        }
        byte m = (byte) maskChar;
        switch (method) {
            case REDACT -> out.writeInt(REDACTED_BYTES.length).writeBytes(REDACTED_BYTES);
            case NULL -> out.writeInt(-1);
            case EMAIL -> {
                int at = -1;
                for (int i = len - 1; i >= 0; i--) {
                    if (v[i] == '@') {
                        at = i;
                        break;
                    }
                }
                if (at <= 0 || at == len - 1) {
                    out.writeInt(3).writeBytes(new byte[] {m, m, m});
                } else {
                    byte[] masked = new byte[4 + len - at];
                    masked[0] = v[0];
                    masked[1] = masked[2] = masked[3] = m;
                    System.arraycopy(v, at, masked, 4, len - at);
                    out.writeInt(masked.length).writeBytes(masked);
                }
            }
            case PARTIAL -> {
                int alnum = 0;
                for (byte b : v) {
                    if (asciiAlnum(b)) {
                        alnum++;
                    }
                }
                boolean keepNone = alnum <= keepFirst + keepLast;
                int seen = 0;
                for (int i = 0; i < len; i++) {
                    if (asciiAlnum(v[i])) {
                        seen++;
                        if (keepNone || seen > keepFirst && seen <= alnum - keepLast) {
                            v[i] = m;
                        }
                    }
                }
                out.writeInt(len).writeBytes(v);
            }
            case CARD -> {
                int digits = 0;
                for (byte b : v) {
                    if (b >= '0' && b <= '9') {
                        digits++;
                    }
                }
                if (digits < 8 || keepLast >= digits) {
                    out.writeInt(3).writeBytes(new byte[] {m, m, m});
                } else {
                    int keep = Math.min(keepLast, 4);
                    byte[] card = new byte[15 + keep];
                    for (int g = 0; g < 3; g++) {
                        java.util.Arrays.fill(card, g * 5, g * 5 + 4, m);
                        card[g * 5 + 4] = ' ';
                    }
                    int skip = digits - keep;
                    int o = 15;
                    for (byte b : v) {
                        if (b >= '0' && b <= '9' && skip-- <= 0) {
                            card[o++] = b;
                        }
                    }
                    out.writeInt(card.length).writeBytes(card);
                }
            }
            default -> throw new IllegalStateException("unreachable: " + method);
        }
        return true;
    }

    private static final byte[] REDACTED_BYTES = REDACTED.getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static boolean asciiAlnum(byte b) {
        return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z';
    }

    /**
     * Keeps the first and last letters or digits and replaces the others; punctuation and spaces stay, so
     * {@code +1-202-555-0142} becomes {@code +*-***-***-**42}.
     */
    static String partial(String value, int keepFirst, int keepLast, char mask) {
        int alnum = 0;
        for (int i = 0; i < value.length(); i = value.offsetByCodePoints(i, 1)) {
            if (Character.isLetterOrDigit(value.codePointAt(i))) {
                alnum++;
            }
        }
        boolean keepNone = alnum <= keepFirst + keepLast;
        StringBuilder out = new StringBuilder(value.length());
        int seen = 0;
        for (int i = 0; i < value.length(); i = value.offsetByCodePoints(i, 1)) {
            int cp = value.codePointAt(i);
            if (!Character.isLetterOrDigit(cp)) {
                out.appendCodePoint(cp);
                continue;
            }
            seen++;
            boolean keep = !keepNone && (seen <= keepFirst || seen > alnum - keepLast);
            if (keep) {
                out.appendCodePoint(cp);
            } else {
                out.append(mask);
            }
        }
        return out.toString();
    }

    /** {@code jane.doe@example.com} becomes {@code j***@example.com}; a value that is no address is redacted. */
    static String email(String value, char mask) {
        int at = value.lastIndexOf('@');
        if (at <= 0 || at == value.length() - 1) {
            return String.valueOf(mask).repeat(3);
        }
        int first = value.offsetByCodePoints(0, 1);
        return value.substring(0, first) + String.valueOf(mask).repeat(3) + value.substring(at);
    }

    /** {@code 4242-4242-4242-4242} becomes {@code **** **** **** 4242}; fewer than 8 digits are redacted entirely. */
    static String card(String value, int keepLast, char mask) {
        StringBuilder digits = new StringBuilder(19);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c >= '0' && c <= '9') {
                digits.append(c);
            }
        }
        String m = String.valueOf(mask);
        if (digits.length() < 8 || keepLast >= digits.length()) {
            return m.repeat(3);
        }
        return m.repeat(4) + " " + m.repeat(4) + " " + m.repeat(4) + " " + digits.substring(digits.length() - Math.min(keepLast, 4));
    }
}
