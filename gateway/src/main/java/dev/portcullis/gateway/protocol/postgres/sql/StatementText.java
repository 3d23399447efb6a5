package dev.portcullis.gateway.protocol.postgres.sql;

import dev.portcullis.gateway.protocol.postgres.sql.Tokens.Kind;

/**
 * The two texts derived from a statement's tokens: the {@code normalized} form the contract carries, and
 * the text handed to JSqlParser.
 */
final class StatementText {

    private StatementText() {
    }

    /**
     * The contract's {@code normalized}: comments dropped; every string, number and boolean written {@code ?}
     * (NULL stays: in {@code IS NULL} it is syntax); key words in upper case and other unquoted words in lower
     * case (the server folds them, so {@code DeLeTe FrOm Users} and {@code DELETE FROM users} are one
     * statement); quoted identifiers and {@code $n} parameters as written; one canonical spacing. The same
     * statement therefore normalizes to the same text whatever its literals and layout.
     */
    static String normalized(Tokens t, int from, int to) {
        StringBuilder sb = new StringBuilder(Math.max(16, t.end(Math.max(from, to - 1)) - t.start(from)));
        boolean prevCallable = false; // a name or a call-like key word: its ( follows without a space
        for (int i = from; i < to; i++) {
            String piece;
            boolean callable = false;
            switch (t.kind(i)) {
                case WORD -> {
                    String word = t.text(i);
                    String upper = Identifiers.asciiUpper(word);
                    if (upper.equals("TRUE") || upper.equals("FALSE")) {
                        piece = "?";
                    } else if (Keywords.isKeyword(upper)) {
                        piece = upper;
                        callable = Keywords.isCallLike(upper);
                    } else {
                        piece = Identifiers.asciiLower(word);
                        callable = true;
                    }
                }
                case QUOTED_IDENT -> {
                    piece = t.text(i);
                    callable = true;
                }
                case STRING, NUMBER -> piece = "?";
                default -> piece = t.text(i);
            }
            if (i > from && spaceBetween(t, i - 1, prevCallable, i)) {
                sb.append(' ');
            }
            sb.append(piece);
            prevCallable = callable;
        }
        return sb.toString();
    }

    private static boolean spaceBetween(Tokens t, int prev, boolean prevCallable, int i) {
        if (t.isPunct(prev, '(') || t.isPunct(prev, '[') || t.isPunct(prev, '.') || t.isPunct(prev, "::")) {
            return false;
        }
        if (t.isPunct(i, ')') || t.isPunct(i, ']') || t.isPunct(i, ',') || t.isPunct(i, '.') || t.isPunct(i, "::")
                || t.isPunct(i, ';')) {
            return false;
        }
        if (t.isPunct(i, '[')) {
            return t.isPunct(prev, ',') || t.kind(prev) == Kind.OPERATOR;
        }
        if (t.isPunct(i, '(')) {
            return !prevCallable;
        }
        return true;
    }

    /** The text JSqlParser reads, and how many tokens it has (its parse time grows with them). */
    record ParserInput(String text, int tokenCount) {
    }

    /**
     * The statement as JSqlParser should read it. JSqlParser does not lex PostgreSQL exactly (dollar quotes,
     * {@code E''} escapes, nested comments), so the tokens found here are written back in a form both agree
     * on: comments become a space, every string {@code ''} and every number {@code 0}. Literals decide no
     * table, function or command, so nothing is lost, and the text is a faithful cache key for the parse.
     *
     * <p>Runs of literal list elements are cut to their first element ({@code IN (1, 2, 3)} reads as
     * {@code IN (0)}, {@code VALUES (1, 'a'), (2, 'b')} as {@code VALUES (0)}): JSqlParser spends tens of
     * microseconds on every list element, which would make a bulk {@code INSERT} cost seconds.
     */
    static ParserInput forParser(Tokens t, int from, int to) {
        return forParser(t, from, to, Integer.MAX_VALUE);
    }

    /** As {@link #forParser(Tokens, int, int)}, but stops once more than {@code maxTokens} tokens are written. */
    static ParserInput forParser(Tokens t, int from, int to, int maxTokens) {
        return forParser(t, from, to, maxTokens, true);
    }

    /**
     * As {@link #forParser(Tokens, int, int, int)}; with {@code shortenLists} false every list element is kept, so the
     * text has the statement's exact output columns (for the column lineage, which parses a result's statement once).
     */
    static ParserInput forParser(Tokens t, int from, int to, int maxTokens, boolean shortenLists) {
        Emitter out = new Emitter(t);
        boolean lastElementIsAtom = false;
        boolean lastElementIsLiteralGroup = false;
        int i = from;
        while (i < to && out.count <= maxTokens) {
            if (shortenLists && t.isPunct(i, ',')) {
                if (lastElementIsAtom && !isSortPosition(t, i + 1)) { // ORDER BY 1, 2, 3 names three columns
                    int end = atomEnd(t, i + 1, to);
                    if (end > 0 && endsElement(t, end, to)) {
                        i = end;
                        continue;
                    }
                }
                if (lastElementIsLiteralGroup && t.isPunct(i + 1, '(')) {
                    int end = literalGroupEnd(t, i + 1, to);
                    if (end > 0 && endsGroup(t, end, to)) {
                        i = end;
                        continue;
                    }
                }
            }
            boolean startsElement = shortenLists && i > from && (t.isPunct(i - 1, '(') || t.isPunct(i - 1, '[') || t.isPunct(i - 1, ','));
            if (startsElement) {
                int end = atomEnd(t, i, to);
                if (end > 0 && endsElement(t, end, to)) {
                    out.emitRange(i, end);
                    lastElementIsAtom = true;
                    lastElementIsLiteralGroup = false;
                    i = end;
                    continue;
                }
            }
            if (shortenLists && t.isPunct(i, '(') && i > from && (t.isPunct(i - 1, ',') || t.isWord(i - 1, "VALUES") || t.isPunct(i - 1, '('))) {
                int end = literalGroupEnd(t, i, to);
                if (end > 0 && endsGroup(t, end, to)) {
                    out.emit(i);
                    int first = atomEnd(t, i + 1, to);
                    if (first > 0) {
                        out.emitRange(i + 1, first);
                    }
                    out.emit(end - 1);
                    lastElementIsLiteralGroup = true;
                    lastElementIsAtom = false;
                    i = end;
                    continue;
                }
            }
            int operator = operatorCall(t, i, to);
            int collation = collationEnd(t, i, to);
            if (operator > 0) {
                out.emit(operator);
                i = operator + 2;
            } else if (collation > 0) {
                i = collation;
            } else {
                out.emit(i);
                i++;
            }
            lastElementIsAtom = false;
            lastElementIsLiteralGroup = false;
        }
        return new ParserInput(out.sb.toString(), out.count);
    }

    /**
     * For {@code OPERATOR(op)} or {@code OPERATOR(schema.op)} at {@code i} (PostgreSQL's way to name an operator by
     * schema, which psql's meta-commands use), the index of {@code op}: it reads as the bare operator, which decides
     * no table or function. Otherwise -1.
     */
    /**
     * For {@code COLLATE name} or {@code COLLATE schema.name} at {@code i}, the index after it, else -1: the clause is
     * left out of the parser's text ({@code COLLATE pg_catalog.default} defeats JSqlParser), since a collation
     * decides no table or function.
     */
    private static int collationEnd(Tokens t, int i, int to) {
        if (!t.isWord(i, "COLLATE") || !t.isIdentifier(i + 1)) {
            return -1;
        }
        int end = t.isPunct(i + 2, '.') && t.isIdentifier(i + 3) ? i + 4 : i + 2;
        return end <= to ? end : -1;
    }

    private static int operatorCall(Tokens t, int i, int to) {
        if (!t.isWord(i, "OPERATOR") || !t.isPunct(i + 1, '(')) {
            return -1;
        }
        int op = t.kind(i + 2) == Kind.WORD && t.isPunct(i + 3, '.') ? i + 4 : i + 2;
        return op + 1 < to && t.kind(op) == Kind.OPERATOR && t.isPunct(op + 1, ')') ? op : -1;
    }

    /** The end of a literal at {@code i} (a string, number, parameter, NULL/TRUE/FALSE/DEFAULT, or a signed number), or -1. */
    private static int atomEnd(Tokens t, int i, int to) {
        if (i >= to) {
            return -1;
        }
        Kind kind = t.kind(i);
        if (kind == Kind.STRING || kind == Kind.NUMBER || kind == Kind.PARAM) {
            return i + 1;
        }
        if (t.isAnyWord(i, "NULL", "TRUE", "FALSE", "DEFAULT")) {
            return i + 1;
        }
        if ((t.isOperator(i, "-") || t.isOperator(i, "+")) && i + 1 < to && t.kind(i + 1) == Kind.NUMBER) {
            return i + 2;
        }
        return -1;
    }

    private static boolean endsElement(Tokens t, int i, int to) {
        return i >= to || t.isPunct(i, ',') || t.isPunct(i, ')') || t.isPunct(i, ']');
    }

    private static boolean endsGroup(Tokens t, int i, int to) {
        return i >= to || t.isPunct(i, ',') || t.isPunct(i, ')') || t.kind(i) == Kind.WORD;
    }

    /** The end (after the closing parenthesis) of {@code (literal, ...)} opened at {@code open}, or -1. */
    private static int literalGroupEnd(Tokens t, int open, int to) {
        int i = open + 1;
        if (t.isPunct(i, ')')) {
            return i + 1;
        }
        while (i < to) {
            int end = atomEnd(t, i, to);
            if (end < 0) {
                return -1;
            }
            if (t.isPunct(end, ')')) {
                return end + 1;
            }
            if (!t.isPunct(end, ',')) {
                return -1;
            }
            i = end + 1;
        }
        return -1;
    }

    /** Writes tokens back with the original token boundaries, literals replaced. */
    /** How far back a number looks for the {@code ORDER BY}/{@code GROUP BY} of its list. */
    private static final int SORT_LIST_LOOKBACK = 64;

    /**
     * Whether the number at {@code i} is an element of an {@code ORDER BY} or {@code GROUP BY} list ({@code ORDER BY 2}
     * names the second output column): it is kept as written, since which column it names decides what the sort reads.
     * Such lists are part of a statement's shape, so the parser text still serves every execution of it.
     */
    static boolean isSortPosition(Tokens t, int i) {
        int depth = 0;
        for (int j = i - 1; j >= 0 && j >= i - SORT_LIST_LOOKBACK; j--) {
            if (t.isPunct(j, ')')) {
                depth++;
            } else if (t.isPunct(j, '(')) {
                if (depth == 0) {
                    return false;
                }
                depth--;
            } else if (depth == 0 && t.isWord(j, "BY")) {
                return t.isAnyWord(j - 1, "ORDER", "GROUP") && (j == i - 1 || t.isPunct(i - 1, ','));
            } else if (depth == 0 && t.kind(j) == Kind.WORD && t.isAnyWord(j, "SELECT", "FROM", "WHERE", "HAVING", "LIMIT",
                    "OFFSET", "VALUES", "ON", "USING", "SET", "RETURNING", "WINDOW")) {
                return false;
            }
        }
        return false;
    }

    private static final class Emitter {
        final Tokens t;
        final StringBuilder sb = new StringBuilder();
        int count;
        int last = -2;
        boolean lastWasLiteral;
        int skipUntil = -10;

        Emitter(Tokens t) {
            this.t = t;
        }

        void emitRange(int from, int to) {
            for (int i = from; i < to; i++) {
                emit(i);
            }
        }

        void emit(int i) {
            if (i == skipUntil - 1 || i == skipUntil - 2) {
                return; // the UESCAPE 'c' of the U& token before, decoded already
            }
            boolean literal = t.isLiteral(i);
            if (count > 0 && (t.spaceBefore(i) || last != i - 1 || literal || lastWasLiteral)) {
                sb.append(' ');
            }
            if (t.kind(i) == Kind.STRING) {
                sb.append("''");
            } else if (t.kind(i) == Kind.NUMBER && isSortPosition(t, i)) {
                sb.append(t.text, t.start(i), t.end(i));
            } else if (t.kind(i) == Kind.NUMBER) {
                sb.append('0');
            } else if (t.kind(i) == Kind.QUOTED_IDENT && isUnicodeEscaped(i)) {
                // U&"..." (JSqlParser does not know it): the name it stands for, as a plain quoted identifier
                String name = Identifiers.decodeUnicodeEscapes(t.text.substring(t.start(i) + 3, t.end(i) - 1)
                        .replace("\"\"", "\""), Identifiers.unicodeEscapeChar(t, i));
                sb.append('"').append(name.replace("\"", "\"\"")).append('"');
            } else {
                sb.append(t.text, t.start(i), t.end(i));
            }
            if (isUnicodeEscaped(i) && t.isWord(i + 1, "UESCAPE")) {
                skipUntil = i + 3;
            }
            last = i;
            lastWasLiteral = literal;
            count++;
        }

        /** A {@code U&'...'} constant or {@code U&"..."} identifier. */
        private boolean isUnicodeEscaped(int i) {
            char first = t.text.charAt(t.start(i));
            return (first == 'U' || first == 'u') && t.length(i) > 2 && t.text.charAt(t.start(i) + 1) == '&';
        }
    }
}
