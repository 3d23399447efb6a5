package dev.portcullis.contract.events;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;

/**
 * The one byte form of a JSON value that the hash chain covers: object keys sorted, no whitespace, UTF-8.
 *
 * <p>It is RFC 8785 (JCS) for the values events may hold. Keys sort by UTF-16 code units ({@link String#compareTo});
 * strings escape only {@code "}, {@code \}, and control characters ({@code \b \f \n \r \t}, else <code>&#92;u00xx</code>,
 * lower-case hex); every other character is written as itself. Numbers must be integers within ±(2^53-1), written
 * in plain decimal, so that any JCS implementation produces the same bytes. Anything else is refused, since two
 * verifiers that disagree on the bytes would disagree on the chain.
 */
public final class CanonicalJson {
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final BigInteger MAX = BigInteger.valueOf(SessionEvents.MAX_SAFE_INTEGER);
    private static final BigInteger MIN = MAX.negate();

    private CanonicalJson() {
    }

    /** @throws InvalidEventException for a fractional or too large number, or a string that is not valid Unicode */
    public static byte[] write(JsonNode value) {
        StringBuilder out = new StringBuilder(1024);
        try {
            append(out, value);
        } catch (Refused e) {
            throw new InvalidEventException((e.path.isEmpty() ? "the value " : "field " + e.path.substring(1) + " ") + e.getMessage());
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A value that cannot be written. The path to it is added on the way up, so that writing a good event (nearly
     * all of them) builds no paths at all.
     */
    private static final class Refused extends RuntimeException {
        private String path = "";

        Refused(String message) {
            super(message, null, false, false);
        }

        Refused under(String segment) {
            path = segment + path;
            return this;
        }
    }

    private static void append(StringBuilder out, JsonNode value) {
        switch (value.getNodeType()) {
            case OBJECT -> {
                String[] keys = new String[value.size()];
                int n = 0;
                for (Iterator<String> names = value.fieldNames(); names.hasNext(); ) {
                    keys[n++] = names.next();
                }
                Arrays.sort(keys);
                out.append('{');
                for (int i = 0; i < keys.length; i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    String key = keys[i];
                    try {
                        appendString(out, key);
                        out.append(':');
                        append(out, value.get(key));
                    } catch (Refused e) {
                        throw e.under("." + key);
                    }
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                for (int i = 0; i < value.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    try {
                        append(out, value.get(i));
                    } catch (Refused e) {
                        throw e.under("[" + i + "]");
                    }
                }
                out.append(']');
            }
            case STRING -> appendString(out, value.textValue());
            case NUMBER -> integer(out, value);
            case BOOLEAN -> out.append(value.booleanValue());
            case NULL -> out.append("null");
            default -> throw new Refused("holds a value JSON cannot carry");
        }
    }

    private static void integer(StringBuilder out, JsonNode number) {
        if (number.isInt() || number.isLong()) { // the usual case, without BigInteger
            long v = number.longValue();
            if (v > SessionEvents.MAX_SAFE_INTEGER || v < -SessionEvents.MAX_SAFE_INTEGER) {
                throw new Refused("is outside ±(2^53-1)");
            }
            out.append(v);
            return;
        }
        BigInteger integer;
        if (number.isIntegralNumber()) {
            integer = number.bigIntegerValue();
        } else {
            double d = number.doubleValue();
            if (!Double.isFinite(d) || d != Math.rint(d)) {
                throw new Refused("is not an integer; event numbers are integers");
            }
            integer = number.decimalValue().toBigIntegerExact();
        }
        if (integer.compareTo(MAX) > 0 || integer.compareTo(MIN) < 0) {
            throw new Refused("is outside ±(2^53-1)");
        }
        out.append(integer);
    }

    private static void appendString(StringBuilder out, String s) {
        out.append('"');
        int plain = 0; // s[plain..i) needs no escape and is appended in one go
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\' && !Character.isSurrogate(c)) {
                continue;
            }
            out.append(s, plain, i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
                    } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                        out.append(c).append(s.charAt(++i));
                    } else {
                        throw new Refused("holds an unpaired UTF-16 surrogate, which is not Unicode text");
                    }
                }
            }
            plain = i + 1;
        }
        out.append(s, plain, s.length()).append('"');
    }

}
