package dev.portcullis.gateway.protocol.postgres.sql;

import java.util.Arrays;

/**
 * The tokens of one query text, in parallel arrays so a megabyte of SQL costs a few arrays rather than
 * hundreds of thousands of objects. Comments and whitespace are not tokens; {@link #spaceBefore} remembers
 * where they were so the text can be rebuilt with the same token boundaries.
 */
final class Tokens {

    enum Kind {
        /** An unquoted identifier or key word, as written. */
        WORD,
        /** {@code "..."} or {@code U&"..."}. */
        QUOTED_IDENT,
        /** Any string constant: {@code '...'}, {@code E'...'}, {@code B'...'}, {@code X'...'}, {@code N'...'}, {@code U&'...'}, dollar-quoted. */
        STRING,
        NUMBER,
        /** A positional parameter, {@code $1}. */
        PARAM,
        OPERATOR,
        /** One of {@code ( ) [ ] , ; . :} or {@code ::} / {@code :=}. */
        PUNCT,
        /** A character PostgreSQL would reject outside a string, such as a backslash. */
        OTHER
    }

    final String text;
    private Kind[] kinds = new Kind[16];
    private int[] starts = new int[16];
    private int[] ends = new int[16];
    private boolean[] spaceBefore = new boolean[16];
    private int size;

    /**
     * The first string token with a quote after an odd run of backslashes ({@code 'C:\'}), whose end depends on
     * {@code standard_conforming_strings}; -1 when there is none.
     */
    int backslashQuote = -1;

    /** Set when the text stops being readable; tokens before {@link #errorOffset} are still valid. */
    String error;
    int errorOffset = -1;

    Tokens(String text) {
        this.text = text;
    }

    void add(Kind kind, int start, int end, boolean space) {
        if (size == kinds.length) {
            int grown = size * 2;
            kinds = Arrays.copyOf(kinds, grown);
            starts = Arrays.copyOf(starts, grown);
            ends = Arrays.copyOf(ends, grown);
            spaceBefore = Arrays.copyOf(spaceBefore, grown);
        }
        kinds[size] = kind;
        starts[size] = start;
        ends[size] = end;
        spaceBefore[size] = space;
        size++;
    }

    /** A copy with arrays of exactly {@link #size} entries, to be kept after the analysis (see {@link Shape}). */
    Tokens trimmed() {
        Tokens copy = new Tokens(text);
        copy.kinds = Arrays.copyOf(kinds, size);
        copy.starts = Arrays.copyOf(starts, size);
        copy.ends = Arrays.copyOf(ends, size);
        copy.spaceBefore = Arrays.copyOf(spaceBefore, size);
        copy.size = size;
        copy.backslashQuote = backslashQuote;
        copy.error = error;
        copy.errorOffset = errorOffset;
        return copy;
    }

    void fail(String message, int offset) {
        error = message;
        errorOffset = offset;
    }

    int size() {
        return size;
    }

    Kind kind(int i) {
        return kinds[i];
    }

    int start(int i) {
        return starts[i];
    }

    int end(int i) {
        return ends[i];
    }

    boolean spaceBefore(int i) {
        return spaceBefore[i];
    }

    String text(int i) {
        return text.substring(starts[i], ends[i]);
    }

    int length(int i) {
        return ends[i] - starts[i];
    }

    /** Whether token {@code i} is the unquoted word {@code upper} (given in upper case), in any case. */
    boolean isWord(int i, String upper) {
        return i >= 0 && i < size && kinds[i] == Kind.WORD && ends[i] - starts[i] == upper.length()
                && text.regionMatches(true, starts[i], upper, 0, upper.length());
    }

    boolean isAnyWord(int i, String... uppers) {
        for (String upper : uppers) {
            if (isWord(i, upper)) {
                return true;
            }
        }
        return false;
    }

    /** Whether token {@code i} is the punctuation {@code c} (a single character). */
    boolean isPunct(int i, char c) {
        return i >= 0 && i < size && kinds[i] == Kind.PUNCT && ends[i] - starts[i] == 1 && text.charAt(starts[i]) == c;
    }

    boolean isPunct(int i, String s) {
        return i >= 0 && i < size && kinds[i] == Kind.PUNCT && ends[i] - starts[i] == s.length()
                && text.startsWith(s, starts[i]);
    }

    boolean isOperator(int i, String op) {
        return i >= 0 && i < size && kinds[i] == Kind.OPERATOR && ends[i] - starts[i] == op.length()
                && text.startsWith(op, starts[i]);
    }

    /** An identifier token: an unquoted word or a quoted identifier. */
    boolean isIdentifier(int i) {
        return i >= 0 && i < size && (kinds[i] == Kind.WORD || kinds[i] == Kind.QUOTED_IDENT);
    }

    boolean isLiteral(int i) {
        return i >= 0 && i < size && (kinds[i] == Kind.STRING || kinds[i] == Kind.NUMBER);
    }

    /** The word in upper case, or {@code null} when token {@code i} is not an unquoted word. */
    String upperWord(int i) {
        if (i < 0 || i >= size || kinds[i] != Kind.WORD) {
            return null;
        }
        return Identifiers.asciiUpper(text.substring(starts[i], ends[i]));
    }

    /** The index of the bracket closing the one opened at {@code open}, or {@code limit} when it is not closed before it. */
    int matching(int open, int limit) {
        int depth = 0;
        for (int i = open; i < limit; i++) {
            if (isPunct(i, '(') || isPunct(i, '[')) {
                depth++;
            } else if (isPunct(i, ')') || isPunct(i, ']')) {
                depth--;
                if (depth == 0) {
                    return i;
                }
            }
        }
        return limit;
    }

    /** A short excerpt of the text from {@code offset}, for error messages. */
    String excerpt(int offset) {
        int end = Math.min(text.length(), offset + 24);
        String s = text.substring(offset, end).replaceAll("\\s+", " ");
        return end < text.length() ? s + "..." : s;
    }
}
