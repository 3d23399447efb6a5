package dev.portcullis.gateway.protocol.postgres.sql;

import java.util.Set;

/**
 * A query text up to the values of its literals: two texts have one shape when their tokens are the same, in the same
 * order and with the same spacing, except that each string and each number may differ. A number that may be an
 * {@code ORDER BY} / {@code GROUP BY} position is part of the shape ({@code ORDER BY 1} names a column).
 *
 * <p>For the statements {@link #holds} accepts, the analysis reads no literal's value: {@link StatementText} writes
 * every literal as {@code ?} (normalized) or {@code ''} / {@code 0} (the parser's text, which the parse, the tables,
 * functions, predicate columns and lineage come from), keeping only sort positions. So the analysis of one text of a
 * shape is the analysis of every text of that shape, and {@link AnalysisCache} reuses it: {@code -M simple} clients
 * send the same statements with new literals all the time. What does read literal values is never reused: COPY
 * (its options and source query), {@code PREPARE TRANSACTION 'gid'}, {@code UESCAPE 'c'}, strings whose end depends on
 * {@code standard_conforming_strings}, and statements that change or read the session's prepared statements.
 *
 * <p>Equality compares the tokens themselves, never only a hash, so a crafted collision cannot make one text pass
 * for another. Immutable.
 */
final class Shape {

    /** Commands whose analysis is a function of the shape (the parsed queries). */
    private static final Set<String> REUSABLE_COMMANDS = Set.of("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE");

    private final Tokens tokens;
    private final int hash;

    private Shape(Tokens tokens, int hash) {
        this.tokens = tokens;
        this.hash = hash;
    }

    /** The shape of a lexed text, or null when its analysis may read a literal's value (see the class comment). */
    static Shape of(Tokens t) {
        if (t.error != null || t.backslashQuote >= 0 || t.size() == 0) {
            return null;
        }
        int h = t.size();
        for (int i = 0; i < t.size(); i++) {
            Tokens.Kind kind = t.kind(i);
            if (kind == Tokens.Kind.WORD && t.isWord(i, "UESCAPE")) {
                return null;
            }
            h = 31 * h + kind.ordinal() * 2 + (t.spaceBefore(i) ? 1 : 0);
            if (valueMatters(t, i)) {
                for (int c = t.start(i); c < t.end(i); c++) {
                    h = 31 * h + t.text.charAt(c);
                }
            }
        }
        return new Shape(t, h);
    }

    /** Whether {@code analysis} of this shape's text holds for every text of the shape. */
    static boolean holds(Analysis analysis) {
        if (analysis.parseError() != null || !analysis.sessionChanges().isEmpty() || !analysis.namedResults().isEmpty()) {
            return false;
        }
        for (StatementInfo s : analysis.statements()) {
            if (!REUSABLE_COMMANDS.contains(s.command()) || s.via() != null || s.copy() != null) {
                return false;
            }
        }
        return !analysis.statements().isEmpty();
    }

    /** This shape, holding a copy of only what it compares, to be kept in a cache. */
    Shape kept() {
        return new Shape(tokens.trimmed(), hash);
    }

    private static boolean valueMatters(Tokens t, int i) {
        return switch (t.kind(i)) {
            case STRING -> false;
            case NUMBER -> (t.isWord(i - 1, "BY") || t.isPunct(i - 1, ',')) && StatementText.isSortPosition(t, i);
            default -> true;
        };
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Shape other) || other.hash != hash) {
            return false;
        }
        Tokens a = tokens;
        Tokens b = other.tokens;
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.kind(i) != b.kind(i) || a.spaceBefore(i) != b.spaceBefore(i)) {
                return false;
            }
            boolean matters = valueMatters(a, i);
            if (matters != valueMatters(b, i)) {
                return false;
            }
            if (matters && (a.length(i) != b.length(i) || !a.text.regionMatches(a.start(i), b.text, b.start(i), a.length(i)))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
