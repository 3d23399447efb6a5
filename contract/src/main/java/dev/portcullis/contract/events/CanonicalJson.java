package dev.portcullis.contract.events;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

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
        StringBuilder out = new StringBuilder(256);
        append(out, value, "");
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void append(StringBuilder out, JsonNode value, String path) {
        switch (value.getNodeType()) {
            case OBJECT -> {
                List<String> keys = new ArrayList<>(value.size());
                for (Iterator<String> names = value.fieldNames(); names.hasNext(); ) {
                    keys.add(names.next());
                }
                keys.sort(null);
                out.append('{');
                for (int i = 0; i < keys.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    String key = keys.get(i);
                    appendString(out, key, path);
                    out.append(':');
                    append(out, value.get(key), path + "." + key);
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                for (int i = 0; i < value.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    append(out, value.get(i), path + "[" + i + "]");
                }
                out.append(']');
            }
            case STRING -> appendString(out, value.textValue(), path);
            case NUMBER -> out.append(integer(value, path));
            case BOOLEAN -> out.append(value.booleanValue());
            case NULL -> out.append("null");
            default -> throw new InvalidEventException(where(path) + "holds a value JSON cannot carry");
        }
    }

    private static String integer(JsonNode number, String path) {
        BigInteger integer;
        if (number.isIntegralNumber()) {
            integer = number.bigIntegerValue();
        } else {
            double d = number.doubleValue();
            if (!Double.isFinite(d) || d != Math.rint(d)) {
                throw new InvalidEventException(where(path) + "is not an integer; event numbers are integers");
            }
            integer = number.decimalValue().toBigIntegerExact();
        }
        if (integer.compareTo(MAX) > 0 || integer.compareTo(MIN) < 0) {
            throw new InvalidEventException(where(path) + "is outside ±(2^53-1)");
        }
        return integer.toString();
    }

    private static void appendString(StringBuilder out, String s, String path) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
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
                    } else if (Character.isSurrogate(c)) {
                        throw new InvalidEventException(where(path) + "holds an unpaired UTF-16 surrogate, which is not Unicode text");
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static String where(String path) {
        return path.isEmpty() ? "the value " : "field " + path.substring(1) + " ";
    }
}
