package dev.portcullis.gateway.masking;

import java.util.Locale;

/**
 * One column's masking method from a plan (contract v1 {@code plan[]}), applied to a text value. Every method
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
