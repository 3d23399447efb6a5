package dev.portcullis.gateway.protocol.postgres.sql;

import dev.portcullis.gateway.protocol.postgres.sql.Tokens.Kind;

/**
 * Splits PostgreSQL text into tokens the way the server's scanner ({@code scan.l}) does, for everything that
 * decides where a statement, a string or a comment starts and ends: {@code '...'} with {@code ''},
 * {@code E'...'} with backslash escapes, {@code B/X/N/U&} prefixes, {@code "..."} identifiers, dollar quotes
 * ({@code $$...$$}, {@code $tag$...$tag$}), {@code --} and nested {@code /* *}{@code /} comments, and
 * operators, which end before a comment starts and lose a trailing {@code +}/{@code -} as the server's do.
 *
 * <p>It assumes {@code standard_conforming_strings = on} (the default since PostgreSQL 9.1): a backslash
 * is an ordinary character in {@code '...'}. A session that turns it off reads {@code \'} as an escaped quote
 * and ends such a string elsewhere, so the first string whose boundaries depend on that setting is recorded
 * ({@link Tokens#backslashQuote}) and reported as unreadable; policies should also keep clients from changing
 * the setting.
 */
final class PgLexer {

    private PgLexer() {
    }

    static Tokens tokenize(String s) {
        Tokens out = new Tokens(s);
        int n = s.length();
        int i = 0;
        boolean space = false;
        while (i < n) {
            char c = s.charAt(i);
            if (isSpace(c)) {
                i++;
                space = true;
                continue;
            }
            if (c == '-' && at(s, i + 1) == '-') {
                i = lineEnd(s, i);
                space = true;
                continue;
            }
            if (c == '/' && at(s, i + 1) == '*') {
                int end = blockCommentEnd(s, i);
                if (end < 0) {
                    out.fail("unterminated /* comment at or near \"" + out.excerpt(i) + "\"", i);
                    return out;
                }
                i = end;
                space = true;
                continue;
            }
            int start = i;
            Kind kind;
            int end;
            char next = at(s, i + 1);
            if (isIdentStart(c)) {
                char lower = (char) (c | 0x20);
                if (lower == 'e' && next == '\'') {
                    kind = Kind.STRING;
                    end = quotedStringEnd(s, i + 1, true);
                } else if ((lower == 'b' || lower == 'x' || lower == 'n') && next == '\'') {
                    kind = Kind.STRING;
                    end = quotedStringEnd(s, i + 1, false);
                } else if (lower == 'u' && next == '&' && at(s, i + 2) == '\'') {
                    kind = Kind.STRING;
                    end = quotedStringEnd(s, i + 2, false);
                } else if (lower == 'u' && next == '&' && at(s, i + 2) == '"') {
                    kind = Kind.QUOTED_IDENT;
                    end = quotedIdentifierEnd(s, i + 2);
                } else {
                    kind = Kind.WORD;
                    end = i + 1;
                    while (end < n && isIdentPart(s.charAt(end))) {
                        end++;
                    }
                }
            } else if (c == '\'') {
                kind = Kind.STRING;
                end = quotedStringEnd(s, i, false);
            } else if (c == '"') {
                kind = Kind.QUOTED_IDENT;
                end = quotedIdentifierEnd(s, i);
            } else if (c == '$') {
                if (isDigit(next)) {
                    kind = Kind.PARAM;
                    end = i + 1;
                    while (end < n && isDigit(s.charAt(end))) {
                        end++;
                    }
                } else {
                    int tagEnd = dollarTagEnd(s, i);
                    if (tagEnd < 0) {
                        kind = Kind.OTHER;
                        end = i + 1;
                    } else {
                        kind = Kind.STRING;
                        int close = s.indexOf(s.substring(i, tagEnd), tagEnd);
                        end = close < 0 ? -1 : close + (tagEnd - i);
                        if (end < 0) {
                            out.fail("unterminated dollar-quoted string at or near \"" + out.excerpt(i) + "\"", i);
                            return out;
                        }
                    }
                }
            } else if (isDigit(c) || (c == '.' && isDigit(next))) {
                kind = Kind.NUMBER;
                end = numberEnd(s, i);
            } else if (c == ':') {
                kind = Kind.PUNCT;
                end = (next == ':' || next == '=') ? i + 2 : i + 1;
            } else if ("()[],;.".indexOf(c) >= 0) {
                kind = Kind.PUNCT;
                end = i + 1;
            } else if (isOperatorChar(c)) {
                kind = Kind.OPERATOR;
                end = operatorEnd(s, i);
            } else {
                kind = Kind.OTHER;
                end = i + Character.charCount(s.codePointAt(i));
            }
            if (end < 0) {
                String what = kind == Kind.QUOTED_IDENT ? "quoted identifier" : "quoted string";
                out.fail("unterminated " + what + " at or near \"" + out.excerpt(start) + "\"", start);
                return out;
            }
            if (kind == Kind.STRING && out.backslashQuote < 0 && (c == '\'' || ((c | 0x20) == 'n' && next == '\''))
                    && hasBackslashBeforeQuote(s, c == '\'' ? start + 1 : start + 2, end)) {
                out.backslashQuote = out.size();
            }
            out.add(kind, start, end, space);
            space = false;
            i = end;
        }
        return out;
    }

    /**
     * The end of a {@code '...'} constant whose opening quote is at {@code quote}, or -1 when it is not
     * closed. Constants separated only by whitespace that contains a newline are one constant to the server,
     * so they are one token here too.
     */
    private static int quotedStringEnd(String s, int quote, boolean backslashEscapes) {
        int n = s.length();
        int i = quote + 1;
        while (true) {
            if (i >= n) {
                return -1;
            }
            char c = s.charAt(i);
            if (c == '\\' && backslashEscapes) {
                i += 2;
            } else if (c == '\'') {
                if (at(s, i + 1) == '\'') {
                    i += 2;
                } else {
                    int continuation = continuationQuote(s, i + 1);
                    if (continuation < 0) {
                        return i + 1;
                    }
                    i = continuation + 1;
                }
            } else {
                i++;
            }
        }
    }

    /**
     * Whether a quote inside or closing this standard string follows an odd run of backslashes: a session with
     * {@code standard_conforming_strings = off} would take that quote as escaped, and end the string elsewhere.
     */
    private static boolean hasBackslashBeforeQuote(String s, int from, int end) {
        int backslashes = 0;
        for (int i = from; i < end; i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                backslashes++;
            } else {
                if (c == '\'' && backslashes % 2 == 1) {
                    return true;
                }
                backslashes = 0;
            }
        }
        return false;
    }

    /** Where a continuation {@code '} starts after a closed constant, or -1 (scan.l: xqcat, whitespace_with_newline). */
    private static int continuationQuote(String s, int from) {
        int n = s.length();
        int i = from;
        boolean newline = false;
        while (i < n) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\r') {
                newline = true;
                i++;
            } else if (c == ' ' || c == '\t' || c == '\f' || c == 0x0B) {
                i++;
            } else if (c == '-' && at(s, i + 1) == '-' && newline) {
                i = lineEnd(s, i);
            } else {
                break;
            }
        }
        return newline && i < n && s.charAt(i) == '\'' ? i : -1;
    }

    private static int quotedIdentifierEnd(String s, int quote) {
        int n = s.length();
        int i = quote + 1;
        while (i < n) {
            if (s.charAt(i) == '"') {
                if (at(s, i + 1) == '"') {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        return -1;
    }

    /** The end of an opening {@code $tag$} at {@code dollar}, or -1 when there is none. */
    private static int dollarTagEnd(String s, int dollar) {
        int n = s.length();
        int i = dollar + 1;
        if (i < n && s.charAt(i) == '$') {
            return i + 1;
        }
        if (i >= n || !isIdentStart(s.charAt(i))) {
            return -1;
        }
        i++;
        while (i < n && isDollarTagPart(s.charAt(i))) {
            i++;
        }
        return i < n && s.charAt(i) == '$' ? i + 1 : -1;
    }

    /** The end of a nested block comment starting at {@code start}, or -1 when it is not closed. */
    private static int blockCommentEnd(String s, int start) {
        int n = s.length();
        int depth = 0;
        int i = start;
        while (i < n) {
            char c = s.charAt(i);
            if (c == '/' && at(s, i + 1) == '*') {
                depth++;
                i += 2;
            } else if (c == '*' && at(s, i + 1) == '/') {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return -1;
    }

    private static int lineEnd(String s, int from) {
        int n = s.length();
        int i = from;
        while (i < n && s.charAt(i) != '\n' && s.charAt(i) != '\r') {
            i++;
        }
        return i;
    }

    /** Integers, decimals and exponents, with PostgreSQL 16's {@code _} separators and 0x/0o/0b prefixes. */
    private static int numberEnd(String s, int start) {
        int n = s.length();
        int i = start;
        char c1 = at(s, i + 1);
        if (s.charAt(i) == '0' && "xXoObB".indexOf(c1) >= 0 && c1 != 0 && isHexDigit(at(s, i + 2))) {
            i += 2;
            while (i < n && (isHexDigit(s.charAt(i)) || s.charAt(i) == '_')) {
                i++;
            }
            return i;
        }
        i = digitsEnd(s, i);
        if (i < n && s.charAt(i) == '.' && at(s, i + 1) != '.') {
            i = digitsEnd(s, i + 1);
        }
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            int j = i + 1;
            if (at(s, j) == '+' || at(s, j) == '-') {
                j++;
            }
            if (isDigit(at(s, j))) {
                i = digitsEnd(s, j);
            }
        }
        return i;
    }

    private static int digitsEnd(String s, int from) {
        int n = s.length();
        int i = from;
        while (i < n && (isDigit(s.charAt(i)) || (s.charAt(i) == '_' && isDigit(at(s, i + 1))))) {
            i++;
        }
        return i;
    }

    /** scan.l {operator}: the longest run of operator characters, cut before a comment and trimmed as the server does. */
    private static int operatorEnd(String s, int start) {
        int n = s.length();
        int i = start;
        while (i < n && isOperatorChar(s.charAt(i))) {
            if (i > start && ((s.charAt(i) == '-' && at(s, i + 1) == '-') || (s.charAt(i) == '/' && at(s, i + 1) == '*'))) {
                break;
            }
            i++;
        }
        int len = i - start;
        if (len > 1 && (s.charAt(i - 1) == '+' || s.charAt(i - 1) == '-')) {
            boolean special = false;
            for (int k = start; k < i; k++) {
                if ("~!@#^&|`?%".indexOf(s.charAt(k)) >= 0) {
                    special = true;
                    break;
                }
            }
            if (!special) {
                while (len > 1 && (s.charAt(start + len - 1) == '+' || s.charAt(start + len - 1) == '-')) {
                    len--;
                }
            }
        }
        return start + len;
    }

    private static char at(String s, int i) {
        return i < s.length() ? s.charAt(i) : 0;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
    }

    static boolean isIdentStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    }

    static boolean isIdentPart(char c) {
        return isIdentStart(c) || isDigit(c) || c == '$';
    }

    private static boolean isDollarTagPart(char c) {
        return isIdentStart(c) || isDigit(c);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isHexDigit(char c) {
        return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static boolean isOperatorChar(char c) {
        return "+-*/<>=~!@#%^&|`?".indexOf(c) >= 0;
    }
}
