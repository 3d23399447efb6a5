package dev.portcullis.gateway.protocol.postgres.sql;

import dev.portcullis.gateway.protocol.postgres.sql.LexicalFacts.QualifiedName;
import java.util.ArrayList;
import java.util.List;

/**
 * CREATE, ALTER, DROP and TRUNCATE, read from their tokens: the grammar of PostgreSQL DDL is far larger than
 * JSqlParser's, while what a policy needs is small and sits in fixed places (the object written, the tables
 * referenced, the calls in defaults, checks and index expressions). The one part parsed is the query of
 * {@code CREATE TABLE/VIEW/MATERIALIZED VIEW ... AS query} and of a rule's actions; its tables and calls count
 * as this statement's.
 */
final class DdlStatements {

    private DdlStatements() {
    }

    /**
     * CREATE/ALTER: the object written (table, view, sequence, or the table under an index, trigger, rule or
     * policy), the tables it references, the embedded query if any, and the functions its expressions call.
     */
    static void createOrAlter(AnalysisRun run, Draft d, int from, int to) {
        Tokens t = run.t;
        d.addTables(ddlTargets(t, from, to));
        addReferencedTables(t, d, from, to);
        int ddlEnd = to;
        int query = t.isWord(from, "CREATE") ? embeddedQueryStart(t, from, to) : -1;
        if (query >= 0) {
            ddlEnd = query;
            int end = withoutTrailingOptions(t, query, to);
            if (t.isWord(query, "EXECUTE")) {
                run.problem("CREATE ... AS EXECUTE is not analysed; run the statement itself instead");
            } else {
                run.mergeQuery(d, query, end);
            }
        }
        if (t.isWord(from, "CREATE") && ruleKeyword(t, from) > 0) {
            ruleActions(run, d, from, to);
        }
        d.functions.addAll(LexicalFacts.calledFunctions(t, from, ddlEnd, d.tableNames()));
        run.out.add(d.build());
    }

    static void drop(AnalysisRun run, Draft d, int from, int to) {
        d.addTables(dropTargets(run.t, from, to));
        run.out.add(d.build());
    }

    /** {@code TRUNCATE [TABLE] [ONLY] name [*] [, ...]}. */
    static void truncate(AnalysisRun run, Draft d, int from, int to) {
        int i = run.t.isWord(from + 1, "TABLE") ? from + 2 : from + 1;
        d.addTables(LexicalFacts.relationList(run.t, i, to), TableRef.WRITE);
        run.out.add(d.build());
    }

    /**
     * The tables a {@code CREATE} or {@code ALTER} writes, from its object type and name: tables, views,
     * materialized views, foreign tables, sequences, and the table under an index, trigger, rule or policy.
     */
    private static List<TableRef> ddlTargets(Tokens t, int from, int to) {
        List<TableRef> out = new ArrayList<>();
        int i = from + 1;
        if (t.isWord(i, "OR") && t.isWord(i + 1, "REPLACE")) {
            i += 2;
        }
        while (t.isAnyWord(i, "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "RECURSIVE", "UNIQUE")) {
            i++;
        }
        if (t.isWord(i, "MATERIALIZED") || t.isWord(i, "FOREIGN")) {
            i++;
        }
        if (t.isAnyWord(i, "TABLE", "VIEW", "SEQUENCE")) {
            i = LexicalFacts.skipIfExists(t, i + 1);
            if (t.isWord(i, "ONLY")) {
                i++;
            }
            QualifiedName name = LexicalFacts.qualifiedName(t, i, to);
            if (name != null) {
                out.add(name.write());
            }
        } else if (t.isAnyWord(i, "INDEX", "TRIGGER", "RULE", "POLICY")) {
            // CREATE RULE r AS ON SELECT TO t; every other form (and ALTER RULE r ON t) names the table after ON
            boolean createRule = t.isWord(i, "RULE") && t.isWord(from, "CREATE");
            int on = LexicalFacts.findTopLevelWord(t, i + 1, to, createRule ? "TO" : "ON");
            if (on > 0) {
                int j = t.isWord(on + 1, "ONLY") ? on + 2 : on + 1;
                QualifiedName name = LexicalFacts.qualifiedName(t, j, to);
                if (name != null) {
                    out.add(name.write());
                }
            }
        }
        return out;
    }

    /** The tables a {@code DROP} removes (tables, views, sequences, indexes), or whose trigger, rule or policy it drops. */
    private static List<TableRef> dropTargets(Tokens t, int from, int to) {
        List<TableRef> out = new ArrayList<>();
        int i = from + 1;
        if (t.isWord(i, "MATERIALIZED") || t.isWord(i, "FOREIGN")) {
            i++;
        }
        if (t.isAnyWord(i, "TABLE", "VIEW", "SEQUENCE", "INDEX")) {
            i++;
            if (t.isWord(i, "CONCURRENTLY")) {
                i++;
            }
            i = LexicalFacts.skipIfExists(t, i);
            for (QualifiedName name : LexicalFacts.relationList(t, i, to)) {
                out.add(name.write());
            }
        } else if (t.isAnyWord(i, "TRIGGER", "RULE", "POLICY")) {
            int on = LexicalFacts.findTopLevelWord(t, i + 1, to, "ON");
            QualifiedName name = on > 0 ? LexicalFacts.qualifiedName(t, on + 1, to) : null;
            if (name != null) {
                out.add(name.write());
            }
        }
        return out;
    }

    /** Tables a CREATE/ALTER refers to without writing them: REFERENCES t, LIKE t and INHERITS (t, ...) read; PARTITION OF t writes. */
    private static void addReferencedTables(Tokens t, Draft d, int from, int to) {
        for (int i = from; i < to; i++) {
            QualifiedName name = null;
            boolean write = false;
            if (t.isWord(i, "REFERENCES")) {
                name = LexicalFacts.qualifiedName(t, i + 1, to);
            } else if (t.isWord(i, "LIKE") && (t.isPunct(i - 1, '(') || t.isPunct(i - 1, ','))) {
                name = LexicalFacts.qualifiedName(t, i + 1, to);
            } else if (t.isWord(i, "PARTITION") && t.isWord(i + 1, "OF")) {
                name = LexicalFacts.qualifiedName(t, i + 2, to);
                write = true;
            } else if (t.isWord(i, "INHERITS") && t.isPunct(i + 1, '(')) {
                d.addTables(LexicalFacts.relationList(t, i + 2, to), TableRef.READ);
            }
            if (name != null) {
                d.tables.add(write ? name.write() : name.read());
            }
        }
    }

    /**
     * Where the query of {@code CREATE [...] TABLE/VIEW/MATERIALIZED VIEW ... AS query} starts, or -1. Only
     * those objects take a query; other CREATEs use AS for bodies and types.
     */
    private static int embeddedQueryStart(Tokens t, int from, int to) {
        int i = from + 1;
        if (t.isWord(i, "OR") && t.isWord(i + 1, "REPLACE")) {
            i += 2;
        }
        while (t.isAnyWord(i, "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "RECURSIVE", "MATERIALIZED")) {
            i++;
        }
        if (!t.isAnyWord(i, "TABLE", "VIEW")) {
            return -1;
        }
        int as = LexicalFacts.findTopLevelWord(t, i + 1, to, "AS");
        if (as < 0 || as + 1 >= to) {
            return -1;
        }
        int q = as + 1;
        return t.isAnyWord(q, "SELECT", "WITH", "VALUES", "TABLE", "EXECUTE") || t.isPunct(q, '(') ? q : -1;
    }

    /** The end of a CREATE ... AS query without its trailing {@code WITH [NO] DATA} or {@code WITH ... CHECK OPTION}. */
    private static int withoutTrailingOptions(Tokens t, int from, int to) {
        if (to - 2 >= from && t.isWord(to - 1, "DATA") && t.isWord(to - 2, "WITH")) {
            return to - 2;
        }
        if (to - 3 >= from && t.isWord(to - 1, "DATA") && t.isWord(to - 2, "NO") && t.isWord(to - 3, "WITH")) {
            return to - 3;
        }
        if (to - 2 >= from && t.isWord(to - 1, "OPTION") && t.isWord(to - 2, "CHECK")) {
            int with = to - 3;
            if (t.isAnyWord(with, "CASCADED", "LOCAL")) {
                with--;
            }
            return t.isWord(with, "WITH") && with >= from ? with : to;
        }
        return to;
    }

    /** The index of RULE in {@code CREATE [OR REPLACE] RULE}, or -1. */
    private static int ruleKeyword(Tokens t, int from) {
        int i = from + 1;
        if (t.isWord(i, "OR") && t.isWord(i + 1, "REPLACE")) {
            i += 2;
        }
        return t.isWord(i, "RULE") ? i : -1;
    }

    /** {@code ... DO [ALSO | INSTEAD] {NOTHING | command | (command; ...)}}: each action's tables and calls. */
    private static void ruleActions(AnalysisRun run, Draft d, int from, int to) {
        Tokens t = run.t;
        int i = LexicalFacts.findTopLevelWord(t, from + 1, to, "DO");
        if (i < 0) {
            return;
        }
        i++;
        if (t.isAnyWord(i, "ALSO", "INSTEAD")) {
            i++;
        }
        if (t.isWord(i, "NOTHING") || i >= to) {
            return;
        }
        List<int[]> actions = new ArrayList<>();
        if (t.isPunct(i, '(')) {
            int close = t.matching(i, to);
            int start = i + 1;
            for (int k = start; k <= close; k++) {
                if (k == close || t.isPunct(k, ';')) {
                    if (k > start) {
                        actions.add(new int[] {start, k});
                    }
                    start = k + 1;
                }
            }
        } else {
            actions.add(new int[] {i, to});
        }
        for (int[] action : actions) {
            if (t.isWord(action[0], "NOTIFY")) {
                continue;
            }
            run.mergeQuery(d, action[0], action[1]);
        }
    }
}
