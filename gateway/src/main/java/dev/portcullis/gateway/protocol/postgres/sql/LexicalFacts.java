package dev.portcullis.gateway.protocol.postgres.sql;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the tokens alone say about a statement: qualified names, the objects of DDL and utility statements,
 * and, where no parse tree is available, a best-effort list of tables and called functions.
 */
final class LexicalFacts {

    /** Words that are followed by a parenthesis in DDL without being calls: clause words and type names. */
    private static final Set<String> NOT_CALLS = Set.of("KEY", "RANGE", "LIST", "HASH", "OPTIONS", "GIST", "GIN",
            "BTREE", "BRIN", "SPGIST", "TIMESTAMPTZ", "TIMETZ", "VARBIT", "BPCHAR", "FLOAT4", "FLOAT8", "INT2", "INT4",
            "INT8", "STORAGE");

    private LexicalFacts() {
    }

    /** A possibly schema-qualified name and the index after it. */
    record QualifiedName(String schema, String name, int end) {
        TableRef read() {
            return TableRef.read(schema, name);
        }

        TableRef write() {
            return TableRef.write(schema, name);
        }
    }

    /** The name {@code a}, {@code a.b} or {@code a.b.c} starting at {@code i}, or {@code null}. */
    static QualifiedName qualifiedName(Tokens t, int i, int to) {
        if (i >= to || !t.isIdentifier(i)) {
            return null;
        }
        List<String> parts = new ArrayList<>(3);
        parts.add(Identifiers.of(t, i));
        int j = i + 1;
        while (j + 1 < to && t.isPunct(j, '.') && t.isIdentifier(j + 1)) {
            parts.add(Identifiers.of(t, j + 1));
            j += 2;
        }
        String schema = parts.size() >= 2 ? parts.get(parts.size() - 2) : null;
        return new QualifiedName(schema, parts.get(parts.size() - 1), j);
    }

    /** Skips {@code IF EXISTS} / {@code IF NOT EXISTS} at {@code i}. */
    static int skipIfExists(Tokens t, int i) {
        if (t.isWord(i, "IF") && t.isWord(i + 1, "EXISTS")) {
            return i + 2;
        }
        if (t.isWord(i, "IF") && t.isWord(i + 1, "NOT") && t.isWord(i + 2, "EXISTS")) {
            return i + 3;
        }
        return i;
    }

    /**
     * A comma-separated list of relation names as {@code LOCK}, {@code TRUNCATE}, {@code VACUUM},
     * {@code ANALYZE} and {@code DROP} take them: each may have {@code ONLY} before it, and {@code *} or a
     * column list after it. Stops at the first thing that is not such a list.
     */
    static List<QualifiedName> relationList(Tokens t, int i, int to) {
        List<QualifiedName> names = new ArrayList<>();
        while (i < to) {
            if (t.isWord(i, "ONLY")) {
                i++;
            }
            QualifiedName name = qualifiedName(t, i, to);
            if (name == null) {
                break;
            }
            names.add(name);
            i = name.end();
            if (t.isOperator(i, "*")) {
                i++;
            }
            if (t.isPunct(i, '(')) {
                i = t.matching(i, to) + 1;
            }
            if (!t.isPunct(i, ',')) {
                break;
            }
            i++;
        }
        return names;
    }

    /** The first word among {@code uppers} at parenthesis depth 0 in [from, to), or -1. */
    static int findTopLevelWord(Tokens t, int from, int to, String... uppers) {
        int depth = 0;
        for (int i = from; i < to; i++) {
            if (t.isPunct(i, '(') || t.isPunct(i, '[')) {
                depth++;
            } else if (t.isPunct(i, ')') || t.isPunct(i, ']')) {
                depth = Math.max(0, depth - 1);
            } else if (depth == 0 && t.isAnyWord(i, uppers)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Best effort, for text no parse tree covers (DDL bodies, statements JSqlParser could not read): every
     * name directly followed by {@code (} that is not a key word, not a table of this statement and not in a
     * position that declares rather than calls ({@code CREATE FUNCTION f(...)}, {@code INSERT INTO t (...)},
     * {@code AS t(...)}).
     */
    static Set<String> calledFunctions(Tokens t, int from, int to, Set<String> notFunctions) {
        Set<String> out = new LinkedHashSet<>();
        for (int i = from; i + 1 < to; i++) {
            if (!t.isIdentifier(i) || !t.isPunct(i + 1, '(')) {
                continue;
            }
            String upper = t.upperWord(i);
            if (upper != null && (Keywords.isKeyword(upper) || NOT_CALLS.contains(upper))) {
                continue;
            }
            int first = i;
            while (first >= from + 2 && t.isPunct(first - 1, '.') && t.isIdentifier(first - 2)) {
                first -= 2;
            }
            if (first > from && declares(t, first - 1)) {
                continue;
            }
            String name = Identifiers.asciiLower(Identifiers.of(t, i));
            if (!notFunctions.contains(name)) {
                out.add(name);
            }
        }
        return out;
    }

    private static boolean declares(Tokens t, int before) {
        if (t.isAnyWord(before, "FUNCTION", "PROCEDURE", "ROUTINE", "AGGREGATE")) {
            return !t.isWord(before - 1, "EXECUTE");
        }
        return t.isAnyWord(before, "TABLE", "REFERENCES", "VIEW", "INDEX", "EXISTS", "TYPE", "AS", "CONSTRAINT");
    }

    /**
     * The tables a data statement names, for when it could not be parsed: the target of INSERT INTO, UPDATE,
     * DELETE FROM and MERGE INTO (write) and every name after FROM, JOIN or USING (read).
     */
    static List<TableRef> queryTables(Tokens t, int from, int to) {
        List<TableRef> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            boolean write = (t.isWord(i, "INTO") && t.isAnyWord(i - 1, "INSERT", "MERGE"))
                    || (t.isWord(i, "UPDATE") && !t.isWord(i - 1, "DO") && !t.isWord(i - 1, "FOR")
                            && !t.isWord(i + 1, "SET") && !t.isWord(i - 1, "THEN"))
                    || (t.isWord(i, "FROM") && t.isWord(i - 1, "DELETE"));
            boolean read = !write && t.isAnyWord(i, "FROM", "JOIN", "USING");
            if (!write && !read) {
                continue;
            }
            int j = t.isWord(i + 1, "ONLY") ? i + 2 : i + 1;
            QualifiedName name = qualifiedName(t, j, to);
            if (name != null && !t.isPunct(name.end(), '(')) {
                out.add(write ? name.write() : name.read());
            }
        }
        return out;
    }

    /** The command of a data statement that could not be parsed: its verb, or for WITH the verb after the CTEs. */
    static String queryCommand(Tokens t, int from, int to) {
        int i = from;
        while (t.isPunct(i, '(')) {
            i++;
        }
        if (t.isWord(i, "WITH")) {
            int verb = findTopLevelWord(t, i, to, "SELECT", "VALUES", "TABLE", "INSERT", "UPDATE", "DELETE", "MERGE");
            if (verb < 0) {
                return "OTHER";
            }
            i = verb;
        }
        String upper = t.upperWord(i);
        if (upper == null) {
            return "SELECT";
        }
        return switch (upper) {
            case "INSERT", "UPDATE", "DELETE", "MERGE" -> upper;
            default -> "SELECT";
        };
    }
}
