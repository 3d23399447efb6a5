package dev.portcullis.gateway.protocol.postgres.sql;

import dev.portcullis.gateway.protocol.postgres.sql.LexicalFacts.QualifiedName;
import java.util.List;

/**
 * Utility statements, read from their tokens because their shape is fixed and small (and JSqlParser does not
 * know PostgreSQL's form of them): COPY, SET/RESET, LOCK, VACUUM, ANALYZE, GRANT/REVOKE, DECLARE, REFRESH. The
 * query of a COPY (query) is parsed, and its tables and calls count as the COPY's; the query of a DECLARE ... FOR
 * query is a statement of its own (via declare), as the one inside PREPARE is.
 */
final class UtilityStatements {

    private UtilityStatements() {
    }

    /**
     * {@code COPY [BINARY] {table [(cols)] | (query)} {FROM | TO} {'file' | PROGRAM 'cmd' | STDIN | STDOUT} ...}:
     * the table is written by FROM and read by TO; a query's tables keep their own access (a COPY of
     * {@code DELETE ... RETURNING} writes).
     */
    static void copy(AnalysisRun run, Draft d, int from, int to) {
        Tokens t = run.t;
        int i = t.isWord(from + 1, "BINARY") ? from + 2 : from + 1;
        QualifiedName table = null;
        int afterSource;
        String source;
        if (t.isPunct(i, '(')) {
            int close = t.matching(i, to);
            run.mergeQuery(d, i + 1, close);
            afterSource = close + 1;
            source = close > i + 1 ? t.text.substring(t.start(i + 1), t.end(close - 1)) : null;
        } else {
            table = LexicalFacts.qualifiedName(t, i, to);
            if (table == null) {
                run.problem("COPY needs a table or a parenthesised query");
                d.copy = unreadableCopy(t, from, to);
                run.out.add(d.build());
                return;
            }
            afterSource = table.end();
            String columns = "*";
            if (t.isPunct(afterSource, '(')) {
                int close = t.matching(afterSource, to);
                columns = close > afterSource + 1 ? t.text.substring(t.start(afterSource + 1), t.end(close - 1)) : "*";
                afterSource = close + 1;
            }
            source = "SELECT " + columns + " FROM " + t.text.substring(t.start(i), t.end(table.end() - 1));
        }
        String direction = t.isWord(afterSource, "FROM") ? CopyInfo.FROM : t.isWord(afterSource, "TO") ? CopyInfo.TO : null;
        if (direction == null) {
            run.problem("COPY needs TO or FROM after the table or query");
            d.copy = unreadableCopy(t, from, to);
            run.out.add(d.build());
            return;
        }
        if (table != null) {
            d.tables.add(direction.equals(CopyInfo.FROM) ? table.write() : table.read());
        }
        boolean toClient = direction.equals(CopyInfo.TO) && t.isWord(afterSource + 1, "STDOUT");
        d.copy = toClient
                ? new CopyInfo(direction, false, true, source, copyFormat(t, afterSource + 2, to, t.isWord(from + 1, "BINARY")))
                : new CopyInfo(direction, t.isWord(afterSource + 1, "PROGRAM"));
        int where = LexicalFacts.findTopLevelWord(t, afterSource + 1, to, "WHERE");
        if (where > 0) {
            d.functions.addAll(LexicalFacts.calledFunctions(t, where + 1, to, d.tableNames()));
        }
        run.out.add(d.build());
    }

    /**
     * The options of {@code COPY ... TO STDOUT}, in the current form ({@code WITH (FORMAT csv, HEADER, ...)}) or
     * the old one ({@code [WITH] [BINARY] [DELIMITER 'x'] [NULL 'x'] [CSV [HEADER] [QUOTE 'x'] [ESCAPE 'x'] ...]});
     * {@link CopyFormat#UNREADABLE} for anything else, and for an ENCODING other than UTF8.
     */
    static CopyFormat copyFormat(Tokens t, int i, int to, boolean binaryKeyword) {
        CopyFormat f = binaryKeyword ? CopyFormat.BINARY : CopyFormat.TEXT;
        if (t.isPunct(to - 1, ';')) {
            to--;
        }
        if (t.isWord(i, "WITH")) {
            i++;
        }
        boolean list = t.isPunct(i, '(');
        if (list) {
            int close = t.matching(i, to);
            if (close != to - 1) {
                return CopyFormat.UNREADABLE;
            }
            to = close;
            i++;
        }
        while (i < to) {
            if (list && t.isPunct(i, ',')) {
                i++;
                continue;
            }
            String option = t.upperWord(i);
            if (option == null) {
                return CopyFormat.UNREADABLE;
            }
            i++;
            if (!list && t.isWord(i, "AS")) {
                i++;
            }
            switch (option) {
                case "FORMAT" -> {
                    String kind = t.upperWord(i++);
                    f = "CSV".equals(kind) ? withKind(f, CopyFormat.CSV) : "TEXT".equals(kind) ? withKind(f, CopyFormat.TEXT)
                            : "BINARY".equals(kind) ? CopyFormat.BINARY : CopyFormat.UNREADABLE;
                }
                case "BINARY" -> f = CopyFormat.BINARY;
                case "CSV" -> f = withKind(f, CopyFormat.CSV);
                case "HEADER" -> {
                    boolean on = true;
                    if (list && i < to && !t.isPunct(i, ',')) {
                        String v = t.kind(i) == Tokens.Kind.STRING ? stringValue(t.text(i)) : t.text(i);
                        on = v != null && !List.of("false", "off", "0").contains(v.toLowerCase(java.util.Locale.ROOT));
                        i++;
                    }
                    f = f.withHeader(on);
                }
                case "DELIMITER", "NULL", "QUOTE", "ESCAPE", "ENCODING" -> {
                    String v = t.kind(i) == Tokens.Kind.STRING ? stringValue(t.text(i)) : null;
                    i++;
                    if (v == null) {
                        return CopyFormat.UNREADABLE;
                    }
                    if (option.equals("NULL")) {
                        f = f.withNull(v);
                    } else if (option.equals("ENCODING")) {
                        if (!v.equalsIgnoreCase("UTF8") && !v.equalsIgnoreCase("UTF-8")) {
                            return CopyFormat.UNREADABLE;
                        }
                    } else if (v.length() != 1 || v.charAt(0) > 127) {
                        return CopyFormat.UNREADABLE;
                    } else if (option.equals("DELIMITER")) {
                        f = f.withDelimiter(v.charAt(0));
                    } else if (option.equals("QUOTE")) {
                        f = f.withQuote(v.charAt(0));
                    } else {
                        f = f.withEscape(v.charAt(0));
                    }
                }
                case "FORCE", "FORCE_QUOTE", "FORCE_NOT_NULL", "FORCE_NULL", "FREEZE" -> {
                    // output quoting only, or options of COPY FROM: skip their arguments
                    while (i < to && !(list && t.isPunct(i, ',')) && t.upperWord(i) != null
                            && !List.of("DELIMITER", "NULL", "QUOTE", "ESCAPE", "HEADER", "CSV", "ENCODING").contains(t.upperWord(i))) {
                        i++;
                    }
                    if (t.isPunct(i, '(')) {
                        i = t.matching(i, to) + 1;
                    } else if (t.isOperator(i, "*")) {
                        i++;
                    }
                }
                default -> {
                    return CopyFormat.UNREADABLE;
                }
            }
        }
        return f;
    }

    /** Switches text to CSV keeping the options already given; CSV's own defaults where none was. */
    private static CopyFormat withKind(CopyFormat f, CopyFormat kind) {
        if (f.kind() == kind.kind()) {
            return f;
        }
        if (f.kind() == CopyFormat.Kind.TEXT && kind.kind() == CopyFormat.Kind.CSV) {
            return new CopyFormat(CopyFormat.Kind.CSV, f.delimiter() == '\t' ? ',' : f.delimiter(),
                    f.nullString().equals("\\N") ? "" : f.nullString(), '"', '"', f.header());
        }
        return kind;
    }

    /** The value of a plain or E'' string constant; null when it holds an escape this does not read. */
    private static String stringValue(String token) {
        boolean e = token.startsWith("E'") || token.startsWith("e'");
        String body = e ? token.substring(1) : token;
        if (body.length() < 2 || body.charAt(0) != '\'' || body.charAt(body.length() - 1) != '\'') {
            return null;
        }
        String v = body.substring(1, body.length() - 1).replace("''", "'");
        if (!e) {
            return v;
        }
        return switch (v) {
            case "\\t" -> "\t";
            case "\\n" -> "\n";
            case "\\\\" -> "\\";
            default -> v.indexOf('\\') >= 0 ? null : v;
        };
    }

    /**
     * The contract requires {@code copy} for every COPY; for one that cannot be read, the worst reading: FROM if
     * the word appears, and PROGRAM if that word appears anywhere.
     */
    private static CopyInfo unreadableCopy(Tokens t, int from, int to) {
        boolean fromWord = false;
        boolean program = false;
        for (int i = from; i < to; i++) {
            fromWord |= t.isWord(i, "FROM");
            program |= t.isWord(i, "PROGRAM");
        }
        return new CopyInfo(fromWord ? CopyInfo.FROM : CopyInfo.TO, program);
    }

    /**
     * SET: the parameter, lower-cased (GUC names are case-insensitive), with the special forms mapped to the
     * parameter they set: ROLE, SESSION AUTHORIZATION, TIME ZONE (timezone), NAMES (client_encoding),
     * SCHEMA (search_path), XML OPTION (xmloption), TRANSACTION, SESSION CHARACTERISTICS, CONSTRAINTS.
     */
    static void set(AnalysisRun run, Draft d, int from, int to) {
        Tokens t = run.t;
        int i = from + 1;
        if (t.isAnyWord(i, "SESSION", "LOCAL") && !t.isAnyWord(i + 1, "AUTHORIZATION", "CHARACTERISTICS")) {
            i++;
        }
        String parameter;
        if (t.isWord(i, "ROLE")) {
            parameter = "role";
        } else if (t.isWord(i, "SESSION") && t.isWord(i + 1, "AUTHORIZATION")) {
            parameter = "session_authorization";
        } else if (t.isWord(i, "SESSION") && t.isWord(i + 1, "CHARACTERISTICS")) {
            parameter = "session_characteristics";
        } else if (t.isWord(i, "TIME") && t.isWord(i + 1, "ZONE")) {
            parameter = "timezone";
        } else if (t.isWord(i, "NAMES")) {
            parameter = "client_encoding";
        } else if (t.isWord(i, "SCHEMA")) {
            parameter = "search_path";
        } else if (t.isWord(i, "XML") && t.isWord(i + 1, "OPTION")) {
            parameter = "xmloption";
        } else if (t.isAnyWord(i, "TRANSACTION", "CONSTRAINTS")) {
            parameter = Identifiers.asciiLower(t.text(i));
        } else {
            parameter = parameterName(t, i, to);
        }
        if (parameter == null) {
            run.problem("SET needs a parameter name");
        }
        d.setParameter = parameter;
        run.out.add(d.build());
    }

    /** RESET name | ALL | ROLE | SESSION AUTHORIZATION | TIME ZONE | TRANSACTION ISOLATION LEVEL. */
    static void reset(AnalysisRun run, Draft d, int from, int to) {
        Tokens t = run.t;
        int i = from + 1;
        String parameter;
        if (t.isWord(i, "ALL")) {
            parameter = "all";
        } else if (t.isWord(i, "ROLE")) {
            parameter = "role";
        } else if (t.isWord(i, "SESSION") && t.isWord(i + 1, "AUTHORIZATION")) {
            parameter = "session_authorization";
        } else if (t.isWord(i, "TIME") && t.isWord(i + 1, "ZONE")) {
            parameter = "timezone";
        } else if (t.isWord(i, "TRANSACTION") && t.isWord(i + 1, "ISOLATION")) {
            parameter = "transaction_isolation";
        } else {
            parameter = parameterName(t, i, to);
        }
        if (parameter == null) {
            run.problem("RESET needs a parameter name or ALL");
        }
        d.setParameter = parameter;
        run.out.add(d.build());
    }

    /** {@code LOCK [TABLE] [ONLY] name [*] [, ...] [IN mode MODE] [NOWAIT]}: the tables, written. */
    static void lock(AnalysisRun run, Draft d, int from, int to) {
        int i = run.t.isWord(from + 1, "TABLE") ? from + 2 : from + 1;
        d.addTables(LexicalFacts.relationList(run.t, i, to), TableRef.WRITE);
        run.out.add(d.build());
    }

    /** {@code VACUUM [(options)] [FULL] [FREEZE] [VERBOSE] [ANALYZE] [table [(cols)] [, ...]]}. */
    static void vacuum(AnalysisRun run, Draft d, int from, int to) {
        Tokens t = run.t;
        int i = skipOptionList(t, from + 1, to);
        while (t.isAnyWord(i, "FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE")) {
            i++;
        }
        d.addTables(LexicalFacts.relationList(t, i, to), TableRef.WRITE);
        run.out.add(d.build());
    }

    /** {@code ANALYZE [(options)] [VERBOSE] [table [(cols)] [, ...]]}. */
    static void analyze(AnalysisRun run, Draft d, int from, int to) {
        Tokens t = run.t;
        int i = skipOptionList(t, from + 1, to);
        if (t.isWord(i, "VERBOSE")) {
            i++;
        }
        d.addTables(LexicalFacts.relationList(t, i, to), TableRef.WRITE);
        run.out.add(d.build());
    }

    /** GRANT/REVOKE ... ON [TABLE] t [, ...]: the tables whose privileges change, as writes; other objects name none. */
    static void grantOrRevoke(AnalysisRun run, Draft d, int from, int to) {
        Tokens t = run.t;
        int on = LexicalFacts.findTopLevelWord(t, from + 1, to, "ON");
        if (on > 0) {
            int i = on + 1;
            if (t.isWord(i, "TABLE")) {
                d.addTables(LexicalFacts.relationList(t, i + 1, to), TableRef.WRITE);
            } else if (!t.isAnyWord(i, "SEQUENCE", "DATABASE", "DOMAIN", "FOREIGN", "FUNCTION", "PROCEDURE", "ROUTINE",
                    "LANGUAGE", "LARGE", "SCHEMA", "TABLESPACE", "TYPE", "ALL", "PARAMETER")) {
                d.addTables(LexicalFacts.relationList(t, i, to), TableRef.WRITE);
            }
        }
        run.out.add(d.build());
    }

    /**
     * {@code DECLARE name ... CURSOR [WITH HOLD] ... FOR query}: the wrapper (command DECLARE), then the query with via
     * declare, judged like the same query sent alone (a cursor over a data-modifying WITH writes); the query is
     * remembered for a later {@code FETCH} from the cursor.
     */
    static void declareCursor(AnalysisRun run, Draft d, int from, int to, int wrapping) {
        Tokens t = run.t;
        int cursor = LexicalFacts.findTopLevelWord(t, from + 1, to, "CURSOR");
        int forWord = cursor < 0 ? -1 : LexicalFacts.findTopLevelWord(t, cursor + 1, to, "FOR");
        run.out.add(d.build());
        if (forWord < 0 || forWord + 1 >= to) {
            run.problem("DECLARE needs CURSOR ... FOR and a query");
            return;
        }
        int firstStatement = run.out.size();
        int firstProblem = run.problems.size();
        run.statement(forWord + 1, to, StatementInfo.VIA_DECLARE, wrapping + 1);
        if (t.isIdentifier(from + 1)) {
            boolean hold = false;
            for (int i = cursor + 1; i + 1 < forWord; i++) {
                hold |= t.isWord(i, "WITH") && t.isWord(i + 1, "HOLD");
            }
            List<StatementInfo> query = List.copyOf(run.out.subList(firstStatement, run.out.size()));
            String problem = run.problems.size() > firstProblem ? run.problems.get(firstProblem).message() : null;
            run.prepared.declare(Identifiers.of(t, from + 1), new PreparedStatements.Definition(query, problem,
                    ResultStatements.statement(t, forWord + 1, to)), hold);
        }
    }

    /** {@code REFRESH MATERIALIZED VIEW [CONCURRENTLY] name [WITH [NO] DATA]}: command OTHER, the view written. */
    static void refresh(AnalysisRun run, Draft d, int from, int to) {
        Tokens t = run.t;
        int i = from + 1;
        if (t.isWord(i, "MATERIALIZED") && t.isWord(i + 1, "VIEW")) {
            i += 2;
            if (t.isWord(i, "CONCURRENTLY")) {
                i++;
            }
            QualifiedName view = LexicalFacts.qualifiedName(t, i, to);
            if (view != null) {
                d.tables.add(view.write());
            }
        }
        run.out.add(d.build());
    }

    /** A parameter name, {@code name} or {@code a.b}, lower-cased; {@code null} when there is none. */
    private static String parameterName(Tokens t, int i, int to) {
        if (!t.isIdentifier(i)) {
            return null;
        }
        StringBuilder name = new StringBuilder(Identifiers.of(t, i));
        int j = i + 1;
        while (j + 1 < to && t.isPunct(j, '.') && t.isIdentifier(j + 1)) {
            name.append('.').append(Identifiers.of(t, j + 1));
            j += 2;
        }
        return Identifiers.asciiLower(name.toString());
    }

    private static int skipOptionList(Tokens t, int i, int to) {
        return t.isPunct(i, '(') ? t.matching(i, to) + 1 : i;
    }
}
