package dev.portcullis.gateway.protocol.postgres.sql;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns the SQL text of a Query (simple protocol, possibly several statements) or a Parse message into the
 * statements of decision contract v2 ({@code policies-rego/schema/README.md}).
 *
 * <p>How: a PostgreSQL-exact lexer ({@link PgLexer}) splits the text at top-level semicolons and recognises
 * utility statements by their leading words; SELECT/INSERT/UPDATE/DELETE/MERGE and the queries inside other
 * statements are parsed with JSqlParser and walked for tables and functions. {@code normalized} writes key
 * words in upper case and other unquoted words in lower case (see {@link StatementText#normalized}).
 *
 * <p>Never throws for any input: what cannot be read is reported in {@link Analysis#parseError()}, naming the
 * statement ({@code "statement 2: syntax error at or near ..."}), and the statements read before it are kept.
 * Thread-safe; one instance serves the whole gateway (it holds a cache of parses keyed by the statement's
 * text with its literals replaced, so {@code id = 42} and {@code id = 7} are parsed once).
 *
 * <p>Cost (warm JVM): a statement JSqlParser has to parse takes about 10-100 microseconds (several times that
 * on a loaded machine or a cold JVM), one whose parse is cached 2-10 microseconds, and an exact repeat through
 * {@link AnalysisCache} well under one. A megabyte of SQL takes tens to hundreds of milliseconds, so call this
 * off the event loop, or at least through {@link AnalysisCache}.
 */
public final class SqlAnalyzer {

    /**
     * Bounds on the work one query can cause.
     *
     * @param maxStatements     statements analysed per query text; the rest are reported, not analysed
     * @param maxParsedTokens   tokens handed to JSqlParser per statement (after literal lists are shortened)
     * @param maxNesting        parenthesis depth handed to JSqlParser (deeper input would overflow its stack)
     * @param parseCacheEntries parses remembered across queries
     */
    public record Limits(int maxStatements, int maxParsedTokens, int maxNesting, int parseCacheEntries) {
        public static final Limits DEFAULT = new Limits(1_000, 10_000, 100, 10_000);

        public Limits {
            if (maxStatements < 1 || maxParsedTokens < 1 || maxNesting < 1 || parseCacheEntries < 1) {
                throw new IllegalArgumentException("every SQL analysis limit must be at least 1, got " + maxStatements
                        + " statements, " + maxParsedTokens + " tokens, " + maxNesting + " levels, "
                        + parseCacheEntries + " cache entries");
            }
        }
    }

    private static final int MAX_ERROR_LENGTH = 200;
    private static final String SELF_CHECK_SQL = "WITH x AS (DELETE FROM a RETURNING *) SELECT f(1) FROM x ORDER BY g(2)";
    private static final int SELF_CHECK_RETRIES = 5;

    private final Limits limits;
    private final QueryParser parser;

    public SqlAnalyzer() {
        this(Limits.DEFAULT);
    }

    public SqlAnalyzer(Limits limits) {
        this.limits = limits;
        this.parser = new QueryParser(limits.parseCacheEntries());
        selfCheck();
    }

    /**
     * Analyses one query text. {@code session} (may be {@code null}: no prepared statements) is only read;
     * pass the result to {@link PreparedStatements#apply} once the query has been let through.
     */
    public Analysis analyze(String sqlText, PreparedStatements session) {
        Tokens tokens;
        try {
            tokens = PgLexer.tokenize(sqlText == null ? "" : sqlText);
        } catch (RuntimeException | StackOverflowError e) {
            return new Analysis(List.of(), "statement 1: " + unreadable(e));
        }
        return analyze(tokens, session);
    }

    /** The same as {@link #analyze(String, PreparedStatements)}, for a text already lexed. */
    Analysis analyze(Tokens tokens, PreparedStatements session) {
        AnalysisRun run = null;
        try {
            run = new AnalysisRun(tokens, PreparedStatements.view(session), parser, limits);
            analyze(run);
        } catch (RuntimeException | StackOverflowError e) {
            if (run == null) {
                return new Analysis(List.of(), "statement 1: " + unreadable(e));
            }
            run.problem(unreadable(e));
        }
        return new Analysis(run.out, parseError(run.problems), run.prepared.changes(), run.namedResults);
    }

    private static String unreadable(Throwable e) {
        return "could not be analysed (" + e.getClass().getSimpleName() + ")";
    }

    private void analyze(AnalysisRun run) {
        Tokens t = run.t;
        List<int[]> statements = split(t);
        int complete = statements.size();
        if (t.error != null && complete > 0 && statements.get(complete - 1)[2] == 0) {
            complete--; // the statement the lexer stopped in
        }
        for (int s = 0; s < complete; s++) {
            run.statementNumber = s + 1;
            if (s == limits.maxStatements()) {
                run.problem("too many statements in one query (the limit is " + limits.maxStatements()
                        + "); send them in smaller batches");
                return;
            }
            int[] range = statements.get(s);
            run.statement(range[0], range[1], null, 0);
            if (t.backslashQuote >= range[0] && t.backslashQuote < range[1]) {
                run.problem("a string constant has a backslash before a quote, which reads differently when "
                        + "standard_conforming_strings is off; write it as E'...' with \\\\ for each backslash");
            }
        }
        if (t.error != null) {
            run.statementNumber = complete + 1;
            run.problem(t.error);
        }
    }

    /**
     * The statements of the text as {from, to, terminated} token ranges, split at semicolons outside
     * parentheses and outside the {@code BEGIN ATOMIC ... END} body of a CREATE FUNCTION/PROCEDURE (the
     * server's grammar keeps both together, so a semicolon there never ends a statement). Empty statements
     * are dropped.
     */
    static List<int[]> split(Tokens t) {
        List<int[]> out = new ArrayList<>();
        int start = 0;
        int depth = 0;
        int atomicDepth = 0;
        boolean routine = false;
        for (int i = 0; i < t.size(); i++) {
            if (i == start) {
                routine = isCreateRoutine(t, i);
            }
            if (t.isPunct(i, ';') && depth == 0 && atomicDepth == 0) {
                if (i > start) {
                    out.add(new int[] {start, i, 1});
                }
                start = i + 1;
                continue;
            }
            if (t.isPunct(i, '(') || t.isPunct(i, '[')) {
                depth++;
            } else if (t.isPunct(i, ')') || t.isPunct(i, ']')) {
                depth = Math.max(0, depth - 1);
            } else if (routine && t.kind(i) == Tokens.Kind.WORD) {
                if (depth == 0 && t.isWord(i, "BEGIN") && t.isWord(i + 1, "ATOMIC")) {
                    atomicDepth++;
                } else if (atomicDepth > 0 && t.isWord(i, "CASE")) {
                    atomicDepth++;
                } else if (atomicDepth > 0 && t.isWord(i, "END")) {
                    atomicDepth--;
                }
            }
        }
        if (start < t.size()) {
            out.add(new int[] {start, t.size(), 0});
        }
        return out;
    }

    private static boolean isCreateRoutine(Tokens t, int i) {
        if (!t.isWord(i, "CREATE")) {
            return false;
        }
        int k = t.isWord(i + 1, "OR") && t.isWord(i + 2, "REPLACE") ? i + 3 : i + 1;
        return t.isAnyWord(k, "FUNCTION", "PROCEDURE");
    }

    private static String parseError(List<AnalysisRun.Problem> problems) {
        if (problems.isEmpty()) {
            return null;
        }
        AnalysisRun.Problem first = problems.get(0);
        String message = "statement " + first.statement() + ": " + first.message();
        String more = problems.size() > 1 ? " (and " + (problems.size() - 1) + " more)" : "";
        if (message.length() + more.length() > MAX_ERROR_LENGTH) {
            message = message.substring(0, MAX_ERROR_LENGTH - more.length() - 3) + "...";
        }
        return message + more;
    }

    /**
     * Fails construction when the parse-tree walk cannot see inside JSqlParser's objects (it reads their fields
     * reflectively; a native image without reflection metadata would see nothing and report no tables at all). The
     * first parse in a JVM loads JSqlParser's classes, which on a busy machine takes longer than the parse budget: a
     * parse cut short by the budget is tried again, a few times, before the check counts it as a failure.
     */
    private void selfCheck() {
        Analysis a = analyze(SELF_CHECK_SQL, null);
        for (int retry = 0; retry < SELF_CHECK_RETRIES && a.parseError() != null
                && a.parseError().contains(QueryParser.tooComplex()); retry++) {
            a = analyze(SELF_CHECK_SQL, null);
        }
        List<StatementInfo> s = a.statements();
        if (a.parseError() != null || s.size() != 1 || !s.get(0).tables().equals(List.of(TableRef.write(null, "a")))
                || !s.get(0).functions().equals(List.of("f", "g"))) {
            throw new IllegalStateException("SQL analysis self-check failed: " + a
                    + "; the JSqlParser parse tree cannot be read (reflection unavailable?)");
        }
    }
}
