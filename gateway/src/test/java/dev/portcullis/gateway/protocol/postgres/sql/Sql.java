package dev.portcullis.gateway.protocol.postgres.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;

/** Shorthands for the analysis tests. */
final class Sql {

    static final SqlAnalyzer ANALYZER = new SqlAnalyzer();

    private Sql() {
    }

    static Analysis analyze(String sql) {
        return ANALYZER.analyze(sql, null);
    }

    /** The one statement {@code sql} holds, which must analyse without error. */
    static StatementInfo only(String sql) {
        Analysis a = analyze(sql);
        assertNull(a.parseError(), () -> "unexpected parse_error for " + sql);
        assertEquals(1, a.statements().size(), () -> "statements of " + sql + ": " + a.statements());
        return a.statements().get(0);
    }

    static List<String> commands(Analysis a) {
        return a.statements().stream().map(StatementInfo::command).toList();
    }

    static TableRef read(String name) {
        return TableRef.read(null, name);
    }

    static TableRef write(String name) {
        return TableRef.write(null, name);
    }
}
