package dev.portcullis.gateway.protocol.postgres.sql;

import dev.portcullis.gateway.protocol.postgres.sql.LexicalFacts.QualifiedName;
import dev.portcullis.gateway.protocol.postgres.sql.QueryParser.Facts;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The analysis of one query text in progress: the statements found so far, the problems met, and this query's
 * not-yet-applied {@code PREPARE}/{@code DEALLOCATE}s. Dispatches each statement by its leading words: queries
 * and the statements that wrap another ({@code EXPLAIN}, {@code PREPARE}, {@code EXECUTE}) are handled here,
 * DDL in {@link DdlStatements}, the other utility statements in {@link UtilityStatements}.
 */
final class AnalysisRun {

    /** {@code EXPLAIN EXPLAIN ...} is not SQL; this only bounds the recursion on hostile input. */
    private static final int MAX_WRAPPING = 8;

    record Problem(int statement, String message) {
    }

    final Tokens t;
    final PreparedStatements.View prepared;
    private final QueryParser parser;
    /** When this run's parses must be done by (System.nanoTime()): one request's statements share one parse budget. */
    private final long parseDeadline = System.nanoTime() + QueryParser.PARSE_BUDGET.toNanos();
    private final SqlAnalyzer.Limits limits;
    final List<StatementInfo> out = new ArrayList<>();
    final List<Problem> problems = new ArrayList<>();
    /** For each top-level EXECUTE and FETCH (by statement index from 0): the queries whose rows it returns. */
    final Map<Integer, ResultStatements.ResultStatement> namedResults = new HashMap<>();
    int statementNumber;

    AnalysisRun(Tokens t, PreparedStatements.View prepared, QueryParser parser, SqlAnalyzer.Limits limits) {
        this.t = t;
        this.prepared = prepared;
        this.parser = parser;
        this.limits = limits;
    }

    void problem(String message) {
        problems.add(new Problem(statementNumber, message));
    }

    /** The text {@link #parse} last handed to the parser. */
    private String lastParserText;

    /** Analyses the statement in tokens [from, to), reached by {@code via}, appending it (and what it wraps) to {@link #out}. */
    void statement(int from, int to, String via, int wrapping) {
        if (wrapping > MAX_WRAPPING) {
            problem("statements wrapped in one another too deeply to analyse");
            return;
        }
        Draft d = new Draft(StatementText.normalized(t, from, to), via);
        String first = t.isPunct(from, '(') ? "(" : t.upperWord(from);
        if (first == null) {
            problem("syntax error at or near \"" + tokenExcerpt(from) + "\"");
            out.add(d.build());
            return;
        }
        switch (first) {
            case "SELECT", "VALUES", "TABLE", "WITH", "(", "INSERT", "UPDATE", "DELETE", "MERGE" -> query(d, from, to);
            case "CREATE", "ALTER" -> DdlStatements.createOrAlter(this, d.command(first), from, to);
            case "DROP" -> DdlStatements.drop(this, d.command("DROP"), from, to);
            case "TRUNCATE" -> DdlStatements.truncate(this, d.command("TRUNCATE"), from, to);
            case "EXPLAIN" -> explain(d, from, to, wrapping);
            case "PREPARE" -> prepare(d, from, to, wrapping);
            case "EXECUTE" -> execute(d, from, to);
            case "DEALLOCATE" -> deallocate(d, from, to);
            case "CALL" -> call(d, from, to);
            case "COPY" -> UtilityStatements.copy(this, d.command("COPY"), from, to);
            case "SET" -> UtilityStatements.set(this, d.command("SET"), from, to);
            case "RESET" -> UtilityStatements.reset(this, d.command("RESET"), from, to);
            case "LOCK" -> UtilityStatements.lock(this, d.command("LOCK"), from, to);
            case "VACUUM" -> UtilityStatements.vacuum(this, d.command("VACUUM"), from, to);
            case "ANALYZE", "ANALYSE" -> UtilityStatements.analyze(this, d.command("ANALYZE"), from, to);
            case "GRANT", "REVOKE" -> UtilityStatements.grantOrRevoke(this, d.command(first), from, to);
            case "DECLARE" -> UtilityStatements.declareCursor(this, d.command("DECLARE"), from, to, wrapping);
            case "REFRESH" -> UtilityStatements.refresh(this, d.command("OTHER"), from, to);
            case "DISCARD" -> {
                if (t.isWord(from + 1, "ALL")) {
                    prepared.deallocateAll();
                    prepared.closeAll();
                }
                out.add(d.command("DISCARD").build());
            }
            case "DO", "SHOW", "LISTEN", "NOTIFY", "UNLISTEN", "SAVEPOINT", "RELEASE" -> out.add(d.command(first).build());
            case "BEGIN", "START" -> out.add(d.command("BEGIN").build());
            case "COMMIT", "END" -> {
                transactionEnd(from, to, false);
                out.add(d.command("COMMIT").build());
            }
            case "ROLLBACK", "ABORT" -> {
                transactionEnd(from, to, true);
                out.add(d.command("ROLLBACK").build());
            }
            case "FETCH" -> fetch(d.command("FETCH"), from, to);
            case "MOVE" -> out.add(d.command("MOVE").build());
            case "CLOSE" -> close(d.command("CLOSE"), from, to);
            case "CHECKPOINT", "CLUSTER", "REINDEX", "COMMENT", "SECURITY", "LOAD", "IMPORT",
                    "REASSIGN" -> out.add(d.build());
            default -> {
                problem("syntax error at or near \"" + tokenExcerpt(from) + "\"");
                out.add(d.build());
            }
        }
    }

    /** SELECT, VALUES, TABLE, WITH, INSERT, UPDATE, DELETE, MERGE: everything from the parse tree. */
    private void query(Draft d, int from, int to) {
        Facts f = parse(from, to, "");
        if (f.error() == null) {
            d.parserText = lastParserText;
            d.command = f.command();
            d.addTables(f.tables());
            d.functions.addAll(f.functions());
            d.hasWhere = f.hasWhere();
        } else {
            problem(f.error());
            d.command = LexicalFacts.queryCommand(t, from, to);
            addLexicalFacts(d, from, to);
        }
        out.add(d.build());
    }

    /**
     * The tables and calls of the query in tokens [from, to), merged into {@code d} with their own access.
     *
     * @return the text the parser read, or null when it could not read it
     */
    String mergeQuery(Draft d, int from, int to) {
        return merge(d, from, to, "") ? lastParserText : null;
    }

    /** The calls and tables in a list of expressions, such as EXECUTE's arguments. */
    void mergeExpressions(Draft d, int from, int to) {
        merge(d, from, to, "SELECT ");
    }

    private boolean merge(Draft d, int from, int to, String prefix) {
        Facts f = parse(from, to, prefix);
        if (f.error() == null) {
            d.addTables(f.tables());
            d.functions.addAll(f.functions());
            return true;
        }
        problem(f.error());
        addLexicalFacts(d, from, to);
        return false;
    }

    /** What the tokens alone say, for text the parser could not read: tables after the usual key words, and calls. */
    void addLexicalFacts(Draft d, int from, int to) {
        d.addTables(LexicalFacts.queryTables(t, from, to));
        d.functions.addAll(LexicalFacts.calledFunctions(t, from, to, d.tableNames()));
    }

    /** The parse of tokens [from, to) with {@code prefix} before them, within the limits. */
    Facts parse(int from, int to, String prefix) {
        int depth = 0;
        int maxDepth = 0;
        for (int i = from; i < to; i++) {
            if (t.isPunct(i, '(') || t.isPunct(i, '[')) {
                maxDepth = Math.max(maxDepth, ++depth);
            } else if (t.isPunct(i, ')') || t.isPunct(i, ']')) {
                depth--;
            }
        }
        if (maxDepth > limits.maxNesting()) {
            return Facts.failed("nested too deeply to analyse (more than " + limits.maxNesting()
                    + " levels of parentheses)");
        }
        StatementText.ParserInput input = StatementText.forParser(t, from, to, limits.maxParsedTokens());
        if (input.tokenCount() > limits.maxParsedTokens()) {
            return Facts.failed("too long to analyse (more than " + limits.maxParsedTokens()
                    + " tokens once literal lists are shortened); split it into smaller statements");
        }
        lastParserText = prefix + input.text();
        return parser.facts(lastParserText, parseDeadline);
    }

    /** {@code EXPLAIN [ANALYZE] [VERBOSE] [(options)] statement}: the wrapper, then the statement with via explain. */
    private void explain(Draft d, int from, int to, int wrapping) {
        int i = from + 1;
        while (t.isAnyWord(i, "ANALYZE", "ANALYSE", "VERBOSE")) {
            i++;
        }
        if (t.isPunct(i, '(')) {
            i = t.matching(i, to) + 1;
        }
        out.add(d.command("EXPLAIN").build());
        if (i >= to) {
            problem("EXPLAIN without a statement to explain");
            return;
        }
        statement(i, to, StatementInfo.VIA_EXPLAIN, wrapping + 1);
    }

    /** {@code PREPARE name [(types)] AS statement}: the wrapper, then the statement with via prepare, remembered for EXECUTE. */
    private void prepare(Draft d, int from, int to, int wrapping) {
        int i = from + 1;
        if (t.isWord(i, "TRANSACTION") && t.kind(i + 1) == Tokens.Kind.STRING) {
            out.add(d.command("OTHER").build()); // PREPARE TRANSACTION 'gid': two-phase commit, not a statement
            return;
        }
        d.command("PREPARE");
        if (!t.isIdentifier(i)) {
            problem("PREPARE needs a name, then AS and a statement");
            out.add(d.build());
            return;
        }
        String name = Identifiers.of(t, i);
        d.preparedName = name;
        i++;
        if (t.isPunct(i, '(')) {
            i = t.matching(i, to) + 1;
        }
        if (!t.isWord(i, "AS") || i + 1 >= to) {
            problem("PREPARE " + name + " needs AS and a statement");
            out.add(d.build());
            return;
        }
        out.add(d.build());
        int firstStatement = out.size();
        int firstProblem = problems.size();
        statement(i + 1, to, StatementInfo.VIA_PREPARE, wrapping + 1);
        List<StatementInfo> inner = List.copyOf(out.subList(firstStatement, out.size()));
        String innerProblem = problems.size() > firstProblem ? problems.get(firstProblem).message() : null;
        prepared.prepare(name, new PreparedStatements.Definition(inner, innerProblem, ResultStatements.statement(t, i + 1, to)));
    }

    /** {@code EXECUTE name [(args)]}: the wrapper (with the calls in its arguments), then the remembered statement with via execute. */
    private void execute(Draft d, int from, int to) {
        d.command("EXECUTE");
        int i = from + 1;
        if (!t.isIdentifier(i)) {
            problem("EXECUTE needs the name of a prepared statement");
            out.add(d.build());
            return;
        }
        String name = Identifiers.of(t, i);
        d.preparedName = name;
        if (t.isPunct(i + 1, '(')) {
            int close = t.matching(i + 1, to);
            if (close > i + 2) {
                mergeExpressions(d, i + 2, close);
            }
        }
        out.add(d.build());
        List<PreparedStatements.Definition> definitions = prepared.lookup(name);
        if (d.via == null) {
            namedResults.put(statementNumber - 1, ResultStatements.running(definitions));
        }
        if (definitions == null) {
            problem("EXECUTE " + name + ": this session has no prepared statement of that name "
                    + "(never prepared, deallocated, or forgotten)");
            return;
        }
        for (PreparedStatements.Definition definition : definitions) {
            for (StatementInfo s : definition.statements()) {
                out.add(s.withVia(StatementInfo.VIA_EXECUTE));
            }
            if (definition.problem() != null) {
                problem("EXECUTE " + name + ": the prepared statement could not be fully analysed: " + definition.problem());
            }
        }
    }

    /** {@code DEALLOCATE [PREPARE] name | ALL}. */
    private void deallocate(Draft d, int from, int to) {
        d.command("DEALLOCATE");
        int i = t.isWord(from + 1, "PREPARE") ? from + 2 : from + 1;
        if (t.isWord(i, "ALL")) {
            prepared.deallocateAll();
        } else if (t.isIdentifier(i)) {
            d.preparedName = Identifiers.of(t, i);
            prepared.deallocate(d.preparedName);
        } else {
            problem("DEALLOCATE needs the name of a prepared statement, or ALL");
        }
        out.add(d.build());
    }

    /**
     * {@code FETCH [direction] [FROM | IN] cursor}: its rows are the cursor's query's. {@code MOVE} returns none. The
     * cursor's name is the statement's last word.
     */
    private void fetch(Draft d, int from, int to) {
        out.add(d.build());
        if (d.via == null) {
            List<PreparedStatements.Definition> definitions = to - 1 > from && t.isIdentifier(to - 1)
                    ? prepared.cursor(Identifiers.of(t, to - 1)) : null;
            namedResults.put(statementNumber - 1, ResultStatements.running(definitions));
        }
    }

    /** {@code CLOSE cursor | ALL}. */
    private void close(Draft d, int from, int to) {
        if (t.isWord(from + 1, "ALL")) {
            prepared.closeAll();
        } else if (t.isIdentifier(from + 1)) {
            prepared.close(Identifiers.of(t, from + 1));
        }
        out.add(d.build());
    }

    /**
     * {@code COMMIT} or {@code ROLLBACK} (not {@code ROLLBACK TO SAVEPOINT}, not of a prepared transaction): cursors
     * without {@code WITH HOLD} close, and at a rollback those the transaction declared with it too.
     */
    private void transactionEnd(int from, int to, boolean rollback) {
        int next = t.isAnyWord(from + 1, "WORK", "TRANSACTION") ? from + 2 : from + 1;
        if (!t.isWord(next, "TO") && !t.isWord(from + 1, "PREPARED")) {
            prepared.transactionEnded(rollback);
        }
    }

    /** {@code CALL proc(args)}: the procedure and every call and table in its arguments. */
    private void call(Draft d, int from, int to) {
        d.command("CALL");
        QualifiedName procedure = LexicalFacts.qualifiedName(t, from + 1, to);
        if (procedure != null) {
            d.functions.add(Identifiers.asciiLower(procedure.name()));
        }
        mergeExpressions(d, from + 1, to); // "SELECT proc(args)" reads like the call
        out.add(d.build());
    }

    /** Token {@code i} as PostgreSQL quotes it in a syntax error, shortened. */
    private String tokenExcerpt(int i) {
        String text = t.text(i);
        return text.length() > 40 ? text.substring(0, 40) + "..." : text;
    }
}
