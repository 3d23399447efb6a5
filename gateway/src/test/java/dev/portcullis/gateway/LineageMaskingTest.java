package dev.portcullis.gateway;

import static dev.portcullis.gateway.testing.MaskedValues.assertNothingRaw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.MaskingTargets;
import dev.portcullis.gateway.testing.PolicyTargets;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Masking by column lineage, through the real gateway, OPA (the default policies) and PostgreSQL: no expression over
 * a masked column reveals it, for {@code agent-ci} (ci-readonly) on a dev connection, whatever shape the query gives
 * the value, through psql (simple protocol) and pgjdbc (extended protocol, text and binary results). Queries over
 * columns nobody masks still return their exact values.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class LineageMaskingTest {

    @BeforeEach
    void seeded() throws Exception {
        MaskingTargets.ensure();
        try (var c = TestStack.superuser(TargetDatabases.DATABASE); var st = c.createStatement()) {
            st.execute("SET ROLE " + TargetDatabases.SCRAM_ROLE);
            st.execute("CREATE OR REPLACE VIEW user_emails AS SELECT id, email FROM users");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            // the five
            "SELECT split_part(email, '@', 1), split_part(email, '@', 2) FROM users",
            "SELECT regexp_replace(email, '@', ' at ') FROM users",
            "SELECT email::bytea FROM users",
            "SELECT encode(convert_to(email, 'UTF8'), 'base64') FROM users",
            "SELECT left(card_number, 8), substr(card_number, 9) FROM payments",
            // string functions, casts and operators
            "SELECT reverse(email) FROM users",
            "SELECT replace(card_number, '-', '') FROM payments",
            "SELECT upper(email) FROM users",
            "SELECT substr(email, 1, 4), substr(email, 5) FROM users",
            "SELECT translate(email, '@.', '  ') FROM users",
            "SELECT format('%s', email) FROM users",
            "SELECT encode(email::bytea, 'hex') FROM users",
            "SELECT convert_to(email, 'UTF8') FROM users",
            "SELECT email::text::bytea FROM users",
            "SELECT left(card_number, 4) || '-' || right(card_number, 12) FROM payments",
            "SELECT CASE WHEN id > 0 THEN email END FROM users",
            "SELECT coalesce(NULL, card_number) FROM payments",
            // aggregates, windows, arrays, set-returning functions
            "SELECT string_agg(email, ';') FROM users",
            "SELECT array_agg(card_number) FROM payments",
            "SELECT lag(email) OVER (ORDER BY id) FROM users",
            "SELECT ARRAY[email] FROM users",
            "SELECT (string_to_array(email, '@'))[1] FROM users",
            "SELECT unnest(string_to_array(card_number, NULL)) FROM payments",
            "SELECT regexp_split_to_table(email, '@') FROM users",
            // json and xml builders, whole-row references
            "SELECT to_jsonb(u) FROM users u",
            "SELECT row_to_json(p.*) FROM payments p",
            "SELECT json_build_object('e', email) FROM users",
            "SELECT xmlforest(email) FROM users",
            "SELECT jsonb_each_text(to_jsonb(u)) FROM users u",
            // subqueries, CTEs, lateral joins, set operations, views
            "WITH e AS (SELECT email FROM users) SELECT split_part(email, '@', 1) FROM e",
            "SELECT x FROM (SELECT lower(email) AS x FROM users) s",
            "SELECT t.p FROM users u, LATERAL (SELECT split_part(u.email, '@', 1) AS p) t",
            "SELECT x FROM users u CROSS JOIN LATERAL unnest(string_to_array(u.email, '@')) AS t(x)",
            "SELECT (SELECT card_number FROM payments WHERE id = 1)",
            "SELECT email FROM users UNION ALL SELECT 'x'",
            "SELECT * FROM user_emails",
            "SELECT split_part(email, '@', 1) FROM user_emails",
            "WITH RECURSIVE r(n, s) AS (SELECT 1, email FROM users UNION ALL SELECT n + 1, reverse(s) FROM r WHERE n < 2) SELECT s FROM r"})
    void no_expression_over_a_masked_column_reveals_it(String sql) throws Exception {
        for (boolean binary : new boolean[] {false, true}) {
            try (Connection c = jdbc(binary)) {
                assertNothingRaw(sql, "pgjdbc" + (binary ? " binary" : ""), rows(c, sql));
            }
        }
        String out = psql("agent-ci", sql + ";");
        assertNothingRaw(sql, "psql", out.isBlank() ? List.of() : List.of(List.of(out)));
    }

    @Test
    void queries_over_unmasked_columns_return_their_exact_values() throws Exception {
        try (Connection c = jdbc(true)) {
            assertEquals(List.of(List.of("1", "Jane Doe"), List.of("2", "John Roe"), List.of("3", "Ann Lee")),
                    rows(c, "SELECT id, name FROM users ORDER BY id"));
            assertEquals(List.of(List.of("JANE DOE", "8", "jane")), rows(c, "SELECT upper(name), length(name), split_part(lower(name), ' ', 1) FROM users WHERE id = 1"));
            assertEquals(List.of(List.of("3")), rows(c, "SELECT count(*) FROM users"));
            assertEquals(List.of(List.of("25.00")), rows(c, "SELECT amount * 2 FROM payments WHERE id = 1"));
            assertEquals(List.of(List.of("1"), List.of("2")), rows(c, "SELECT n FROM (VALUES (1), (2)) v(n) ORDER BY n"));
            assertEquals(List.of(List.of("Jane Doe", "12.50")),
                    rows(c, "WITH p AS (SELECT user_id, amount FROM payments) SELECT u.name, p.amount::text FROM users u JOIN p ON p.user_id = u.id WHERE u.id = 1"));
            // a plain reference keeps its rule's method (the domain stays readable)
            assertEquals(List.of(List.of("j***@example.com")), rows(c, "SELECT email FROM users WHERE id = 1"));
            assertEquals(List.of(List.of("1", "j***@example.com")), rows(c, "SELECT u.id, s.e FROM users u, LATERAL (SELECT email AS e) s WHERE u.id = 1"));
        }
        assertEquals("Jane Doe|8\n", psql("agent-ci", "SELECT name, length(name) FROM users WHERE id = 1;"));
        // one Query message of several statements (psql's \; sends them together): each result gets its own statement's lineage
        assertEquals("1\n***\n***\n***\nJANE DOE\n", psql("agent-ci",
                "BEGIN \\; SELECT 1 \\; SELECT split_part(email, '@', 1) FROM users ORDER BY id \\; SELECT upper(name) FROM users WHERE id = 1 \\; COMMIT;"));
    }

    @Test
    void an_execute_of_a_prepared_statement_reveals_nothing() throws Exception {
        // the gateway follows an EXECUTE to its PREPARE's text (SessionLineageMaskingTest has more)
        String sql = "PREPARE parts AS SELECT split_part(email, '@', 1), left(card_number, 8) FROM users JOIN payments ON payments.user_id = users.id; EXECUTE parts;";
        String out = psql("agent-ci", sql);
        assertTrue(!out.isBlank(), "EXECUTE returns its rows");
        assertNothingRaw(sql, "psql", List.of(List.of(out)));
    }

    @Test
    void a_dba_without_detectors_still_gets_derived_columns_masked_also_through_copy() throws Exception {
        assertEquals("***\n***\n***\n", psql("alice", "SELECT split_part(email, '@', 1) FROM users ORDER BY id;"));
        assertEquals("***\n***\n***\n", psql("alice", "COPY (SELECT lower(email) FROM users ORDER BY id) TO STDOUT;"));
        assertEquals("Jane Doe\n", psql("alice", "COPY (SELECT initcap(lower(name)) FROM users WHERE id = 1) TO STDOUT;"));
    }

    private static Connection jdbc(boolean binary) throws SQLException {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        if (binary) {
            p.setProperty("binaryTransferEnable", "TEXT,VARCHAR,BYTEA,25,1043,17");
        }
        return Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("agent-ci"), p);
    }

    private static List<List<String>> rows(Connection c, String sql) throws SQLException {
        return Jdbc.rows(c, sql);
    }

    private static String psql(String client, String sql) throws Exception {
        Cli.Result r = Cli.psql(TestStack.token(client), PolicyTargets.DEV,
                "\\set QUIET on\n\\set ON_ERROR_STOP on\n\\pset null (null)\n\\pset format unaligned\n\\pset tuples_only on\n" + sql + "\n");
        assertEquals(0, r.exitCode(), r.all());
        return r.stdout();
    }
}
