package dev.portcullis.gateway.protocol.postgres.sql;

import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.statement.Statement;

/**
 * The top-level statements of a query text as the server runs them, one after another, each with what its rows
 * (if any) are made of: the parse tree the column lineage reads. Split exactly as {@link SqlAnalyzer} splits, so the
 * n-th result of a simple Query belongs to the n-th statement here.
 */
public final class ResultStatements {

    /** What a statement's result columns carry. */
    public enum Kind {
        /** a query: its {@link ResultStatement#tree()} says */
        QUERY,
        /** rows that hold no table data: {@code SHOW}, {@code EXPLAIN} */
        NO_TABLE_DATA,
        /** any other statement: what rows it may return cannot be told from its text ({@code EXECUTE}, {@code FETCH}, {@code CALL}) */
        OPAQUE
    }

    /**
     * @param parserText for a {@link Kind#QUERY}, its text as the parser reads it, literals replaced (literals carry
     *                   no column, so every statement of one shape shares it); null otherwise, or when too long to parse
     */
    public record ResultStatement(Kind kind, String parserText) {

        /** Its parse tree, parsed now (within {@link QueryParser#PARSE_BUDGET}); null when there is none. */
        public Statement tree() {
            return parserText == null ? null : QueryParser.tree(parserText, System.nanoTime() + QueryParser.PARSE_BUDGET.toNanos());
        }
    }

    /**
     * Texts longer than this, even with their literal runs cut short, are not parsed again for lineage: their results'
     * lineage is unknown.
     */
    static final int MAX_TOKENS = SqlAnalyzer.Limits.DEFAULT.maxParsedTokens();

    private ResultStatements() {
    }

    /** The statements of the text, in order, unparsed. Never throws. */
    public static List<ResultStatement> of(String text) {
        List<ResultStatement> out = new ArrayList<>();
        Tokens t;
        try {
            t = PgLexer.tokenize(text == null ? "" : text);
        } catch (RuntimeException | StackOverflowError e) {
            return out;
        }
        for (int[] range : SqlAnalyzer.split(t)) {
            out.add(statement(t, range[0], range[1]));
        }
        return out;
    }

    private static ResultStatement statement(Tokens t, int from, int to) {
        String first = t.isPunct(from, '(') ? "(" : t.upperWord(from);
        if (first == null) {
            return new ResultStatement(Kind.OPAQUE, null);
        }
        switch (first) {
            case "SELECT", "VALUES", "TABLE", "WITH", "(", "INSERT", "UPDATE", "DELETE", "MERGE" -> {
                StatementText.ParserInput exact = StatementText.forParser(t, from, to, MAX_TOKENS, false);
                if (exact.tokenCount() <= MAX_TOKENS) {
                    return new ResultStatement(Kind.QUERY, exact.text());
                }
                // Too long to parse whole (a long IN list, a bulk VALUES): the text with its literal runs cut short.
                // Literals carry no column, and cutting a run of them out of the output list changes the column count,
                // so this lineage counts only where it has as many columns as the result (ResultLineage checks).
                StatementText.ParserInput shortened = StatementText.forParser(t, from, to, MAX_TOKENS, true);
                return new ResultStatement(Kind.QUERY, shortened.tokenCount() > MAX_TOKENS ? null : shortened.text());
            }
            case "SHOW", "EXPLAIN" -> {
                return new ResultStatement(Kind.NO_TABLE_DATA, null);
            }
            default -> {
                return new ResultStatement(Kind.OPAQUE, null);
            }
        }
    }
}
