package dev.portcullis.gateway.protocol.postgres.sql;

import java.nio.charset.StandardCharsets;

/**
 * Identifier rules of the PostgreSQL scanner: unquoted names fold to lower case (ASCII letters only, as on a
 * UTF-8 server), quoted names keep their case and lose their quotes, {@code U&"..."} names have their escapes
 * decoded, and every name is cut to 63 bytes (NAMEDATALEN - 1): a name written two ways is still one name.
 */
final class Identifiers {

    static final int MAX_BYTES = 63;

    private Identifiers() {
    }

    /** The name token {@code i} stands for. */
    static String of(Tokens tokens, int i) {
        String raw = tokens.text(i);
        if (tokens.kind(i) != Tokens.Kind.QUOTED_IDENT) {
            return truncate(asciiLower(raw));
        }
        if (raw.charAt(0) == '"') {
            return truncate(unquote(raw));
        }
        return truncate(decodeUnicodeEscapes(unquote(raw), unicodeEscapeChar(tokens, i)));
    }

    /** The escape character of the {@code U&} constant or identifier at {@code i}: {@code \}, or the one a following {@code UESCAPE 'c'} sets. */
    static char unicodeEscapeChar(Tokens tokens, int i) {
        if (tokens.isWord(i + 1, "UESCAPE") && i + 2 < tokens.size() && tokens.kind(i + 2) == Tokens.Kind.STRING
                && tokens.length(i + 2) == 3) {
            return tokens.text.charAt(tokens.start(i + 2) + 1);
        }
        return '\\';
    }

    /**
     * {@code U&"d\0061t\+000061"} is {@code data} to the server: {@code \XXXX} and {@code \+XXXXXX} are code
     * points and a doubled escape is the escape itself. A malformed escape (which the server rejects) is kept.
     */
    static String decodeUnicodeEscapes(String body, char escape) {
        if (body.indexOf(escape) < 0) {
            return body;
        }
        StringBuilder out = new StringBuilder(body.length());
        int i = 0;
        while (i < body.length()) {
            char c = body.charAt(i);
            if (c != escape) {
                out.append(c);
                i++;
                continue;
            }
            if (i + 1 < body.length() && body.charAt(i + 1) == escape) {
                out.append(escape);
                i += 2;
                continue;
            }
            boolean six = i + 1 < body.length() && body.charAt(i + 1) == '+';
            int start = six ? i + 2 : i + 1;
            int end = start + (six ? 6 : 4);
            int codePoint = end <= body.length() ? hex(body, start, end) : -1;
            if (codePoint < 0 || codePoint > Character.MAX_CODE_POINT) {
                out.append(c);
                i++;
                continue;
            }
            out.appendCodePoint(codePoint);
            i = end;
        }
        return out.toString();
    }

    private static int hex(String s, int from, int to) {
        int value = 0;
        for (int i = from; i < to; i++) {
            int digit = Character.digit(s.charAt(i), 16);
            if (digit < 0) {
                return -1;
            }
            value = value * 16 + digit;
        }
        return value;
    }

    /** The name a JSqlParser name part stands for: {@code "Users"} is {@code Users}, {@code USERS} is {@code users}. */
    static String ofRaw(String raw) {
        if (raw == null) {
            return null;
        }
        if (raw.length() >= 2 && raw.charAt(0) == '"' && raw.charAt(raw.length() - 1) == '"') {
            return truncate(unquote(raw));
        }
        return truncate(asciiLower(raw));
    }

    private static String unquote(String quoted) {
        int open = quoted.indexOf('"');
        return quoted.substring(open + 1, quoted.length() - 1).replace("\"\"", "\"");
    }

    static String asciiLower(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                char[] chars = s.toCharArray();
                for (int k = i; k < chars.length; k++) {
                    if (chars[k] >= 'A' && chars[k] <= 'Z') {
                        chars[k] = (char) (chars[k] + ('a' - 'A'));
                    }
                }
                return new String(chars);
            }
        }
        return s;
    }

    static String asciiUpper(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'a' && c <= 'z') {
                char[] chars = s.toCharArray();
                for (int k = i; k < chars.length; k++) {
                    if (chars[k] >= 'a' && chars[k] <= 'z') {
                        chars[k] = (char) (chars[k] - ('a' - 'A'));
                    }
                }
                return new String(chars);
            }
        }
        return s;
    }

    static String truncate(String name) {
        if (name.length() <= MAX_BYTES / 3) {
            return name;
        }
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= MAX_BYTES) {
            return name;
        }
        int cut = MAX_BYTES;
        while (cut > 0 && (utf8[cut] & 0xC0) == 0x80) {
            cut--;
        }
        return new String(utf8, 0, cut, StandardCharsets.UTF_8);
    }
}
