package dev.portcullis.gateway.protocol.postgres.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
        /**
         * {@code EXECUTE} of a prepared statement or {@code FETCH} from a cursor: the rows of one of
         * {@link ResultStatement#runs()}, as the session's memory holds them; none when it holds no such name (never
         * seen, or forgotten), and then its computed columns are masked whole for every role
         */
        NAMED,
        /** any other statement: what rows it may return cannot be told from its text ({@code CALL}) */
        OPAQUE
    }

    /**
     * @param parserText for a {@link Kind#QUERY}, its text as the parser reads it, literals replaced (literals carry
     *                   no column, so every statement of one shape shares it); null otherwise, or when too long to parse
     */
    public record ResultStatement(Kind kind, String parserText, List<ResultStatement> runs) {

        public ResultStatement {
            runs = List.copyOf(runs);
        }

        public ResultStatement(Kind kind, String parserText) {
            this(kind, parserText, List.of());
        }

        /** What makes two results' lineage alike: the kind and the texts. */
        public String key() {
            StringBuilder k = new StringBuilder().append(kind).append(':').append(parserText == null ? "" : parserText);
            for (ResultStatement r : runs) {
                k.append('\0').append(r.key());
            }
            return k.toString();
        }

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

    /**
     * The statement an {@code EXECUTE} or {@code FETCH} runs, from the definitions the session's memory holds for its
     * name (null: none). A definition whose rows are not known is a query without text: its lineage is unknown.
     */
    static ResultStatement running(List<PreparedStatements.Definition> definitions) {
        List<ResultStatement> runs = new ArrayList<>();
        for (PreparedStatements.Definition d : definitions == null ? List.<PreparedStatements.Definition>of() : definitions) {
            runs.add(d.rows() != null ? d.rows() : new ResultStatement(Kind.QUERY, null));
        }
        return new ResultStatement(Kind.NAMED, null, runs);
    }

    /** The statements of the text, in order, unparsed. Never throws. */
    public static List<ResultStatement> of(String text) {
        return of(text, Map.of());
    }

    /**
     * The statements of the text, in order, unparsed, with the {@code EXECUTE}s and {@code FETCH}es the analysis
     * resolved ({@link Analysis#namedResults()}) in their places; any other is {@link Kind#NAMED} with nothing to run.
     * Never throws.
     */
    public static List<ResultStatement> of(String text, Map<Integer, ResultStatement> named) {
        List<ResultStatement> out = new ArrayList<>();
        Tokens t;
        try {
            t = PgLexer.tokenize(text == null ? "" : text);
        } catch (RuntimeException | StackOverflowError e) {
            return out;
        }
        for (int[] range : SqlAnalyzer.split(t)) {
            ResultStatement own = statement(t, range[0], range[1]);
            ResultStatement resolved = own.kind() == Kind.NAMED ? named.get(out.size()) : null;
            out.add(resolved != null ? resolved : own);
        }
        return out;
    }

    /** What the rows of the statement in tokens [from, to) are made of. */
    static ResultStatement statement(Tokens t, int from, int to) {
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
            case "EXECUTE", "FETCH" -> {
                return new ResultStatement(Kind.NAMED, null);
            }
            default -> {
                return new ResultStatement(Kind.OPAQUE, null);
            }
        }
    }
}
