package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Predicates that probe masked values, through the real gateway, OPA (the default policies) and PostgreSQL: a
 * {@code WHERE}, join condition, {@code HAVING}, {@code GROUP BY} or {@code ORDER BY} over a masked column finds its
 * values without returning them ({@code WHERE email LIKE 'a%'}, letter by letter). {@code agent-ci} (ci-readonly) is
 * denied such a statement, with a reason naming the column, through psql (simple protocol) and pgjdbc (extended
 * protocol), and its session goes on; filters on unmasked columns return their exact values; a dba may probe.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class PredicateProbeTest {

    @BeforeEach
    void seeded() throws Exception {
        MaskingTargets.ensure();
        try (var c = TestStack.superuser(TargetDatabases.DATABASE); var st = c.createStatement()) {
            st.execute("SET ROLE " + TargetDatabases.SCRAM_ROLE);
            st.execute("CREATE OR REPLACE VIEW user_emails AS SELECT id, email FROM users");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', quoteCharacter = '`', textBlock = """
            SELECT id FROM users WHERE email LIKE 'a%'                                                ; masked column public.users.email
            SELECT id FROM users ORDER BY email                                                       ; masked column public.users.email
            SELECT id, email FROM users ORDER BY 2                                                    ; masked column public.users.email
            SELECT count(*) FROM users GROUP BY email                                                 ; masked column public.users.email
            SELECT left(email, 1) AS f, count(*) FROM users GROUP BY f                                ; masked column public.users.email
            SELECT name FROM users GROUP BY name HAVING max(email) > 'm'                              ; masked column public.users.email
            SELECT DISTINCT ON (email) id FROM users                                                  ; masked column public.users.email
            SELECT u.id FROM users u JOIN payments p ON p.user_id = u.id AND p.card_number LIKE '4%'  ; masked column public.payments.card_number
            SELECT id FROM users WHERE id IN (SELECT user_id FROM payments WHERE card_number LIKE '42%') ; masked column public.payments.card_number
            SELECT EXISTS (SELECT 1 FROM users WHERE email LIKE 'jane%')                              ; masked column public.users.email
            SELECT x FROM (SELECT id AS x FROM users WHERE lower(email) > 'j') s                     ; masked column public.users.email
            WITH m AS (SELECT id FROM users WHERE email LIKE 'j%') SELECT count(*) FROM m             ; masked column public.users.email
            SELECT id, name, email FROM users ORDER BY 1, 2, 3                                        ; masked column public.users.email
            EXPLAIN ANALYZE SELECT id FROM users WHERE email LIKE 'j%'                                ; masked column public.users.email
            SELECT id FROM user_emails WHERE email LIKE 'j%'                                          ; masked column public.users.email
            """)
    void ci_is_denied_a_statement_whose_predicates_probe_a_masked_column(String sql, String named) throws Exception {
        try (Connection c = jdbc("agent-ci")) {
            SQLException e = assertThrows(SQLException.class, () -> Jdbc.rows(c, sql), sql);
            assertDenial(sql, e.getSQLState(), e.getMessage(), named);
            assertEquals(List.of(List.of("1", "Jane Doe")), Jdbc.rows(c, "SELECT id, name FROM users WHERE id = 1"),
                    "the session goes on after the denial");
        }
        Cli.Result r = psql("agent-ci", sql + ";\nSELECT name FROM users WHERE id = 2;");
        assertDenial(sql, "42501", r.stderr(), named);
        assertEquals("John Roe\n", r.stdout(), "the session goes on after the denial: " + r.all());
    }

    @Test
    void ci_filters_sorts_groups_and_joins_on_unmasked_columns_with_exact_values() throws Exception {
        try (Connection c = jdbc("agent-ci")) {
            assertEquals(List.of(List.of("1", "Jane Doe")), Jdbc.rows(c, "SELECT id, name FROM users WHERE id = 1"));
            try (PreparedStatement ps = c.prepareStatement("SELECT name FROM users WHERE id = ?")) {
                ps.setInt(1, 3);
                try (var rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals("Ann Lee", rs.getString(1));
                }
            }
            assertEquals(List.of(List.of("Ann Lee"), List.of("John Roe"), List.of("Jane Doe")),
                    Jdbc.rows(c, "SELECT name FROM users ORDER BY id DESC"));
            assertEquals(List.of(List.of("3", "Ann Lee"), List.of("2", "John Roe")),
                    Jdbc.rows(c, "SELECT id, name FROM users WHERE id > 1 ORDER BY 2"));
            assertEquals(List.of(List.of("Jane Doe", "12.50")),
                    Jdbc.rows(c, "SELECT u.name, p.amount::text FROM users u JOIN payments p ON p.user_id = u.id WHERE u.id = 1"));
            assertEquals(List.of(List.of("Ann Lee", "1"), List.of("Jane Doe", "1"), List.of("John Roe", "1")),
                    Jdbc.rows(c, "SELECT name, count(*) FROM users GROUP BY name ORDER BY name"));
            // returning a masked column is no probe: it comes back masked
            assertEquals(List.of(List.of("j***@example.com")), Jdbc.rows(c, "SELECT email FROM users WHERE id = 1"));
        }
        assertEquals("1|Jane Doe\n", psql("agent-ci", "SELECT id, name FROM users WHERE id = 1;").stdout());
    }

    @Test
    void ci_still_describes_tables_with_psql_meta_commands() throws Exception {
        // psql's \\d queries filter pg_catalog on names, which no rule masks
        Cli.Result r = psql("agent-ci", "\\d users\n\\dt\n\\dv");
        assertEquals("", r.stderr(), r.all());
        assertTrue(r.stdout().contains("email"), r.all());
        assertTrue(r.stdout().contains("payments"), r.all());
        assertTrue(r.stdout().contains("user_emails"), r.all());
    }

    @Test
    void a_dba_may_run_the_same_probes() throws Exception {
        assertEquals("1\n2\n", psql("alice", "SELECT id FROM users WHERE email LIKE 'j%' ORDER BY id;").stdout());
        assertEquals("3\n1\n2\n", psql("alice", "SELECT id FROM users ORDER BY email;").stdout());
        assertEquals("3\n", psql("alice", "SELECT count(*) FROM (SELECT email FROM users GROUP BY email) g;").stdout());
        assertEquals("t\n", psql("alice", "SELECT EXISTS (SELECT 1 FROM users WHERE email LIKE 'jane%');").stdout());
        try (Connection c = jdbc("alice")) {
            assertEquals(List.of(List.of("1")),
                    Jdbc.rows(c, "SELECT u.id FROM users u JOIN payments p ON p.user_id = u.id AND p.card_number LIKE '4242%'"));
            assertEquals(List.of(List.of("1")), Jdbc.rows(c, "SELECT id FROM user_emails WHERE email LIKE 'jane%'"));
        }
    }

    private static void assertDenial(String sql, String sqlState, String message, String named) {
        assertEquals("42501", sqlState, sql + ": " + message);
        assertTrue(message.contains("Portcullis denied this statement"), sql + ": " + message);
        assertTrue(message.contains(named), sql + ": the reason names " + named + ": " + message);
        assertTrue(message.contains("role ci-readonly may only read"), sql + ": " + message);
        assertTrue(message.contains("[policy pg/masked-predicate]"), sql + ": " + message);
        assertTrue(message.contains("non-production connection " + PolicyTargets.DEV), sql + ": " + message);
    }

    private static Connection jdbc(String client) throws SQLException {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        return Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token(client), p);
    }

    private static Cli.Result psql(String client, String sql) throws Exception {
        return Cli.psql(TestStack.token(client), PolicyTargets.DEV,
                "\\set QUIET on\n\\pset format unaligned\n\\pset tuples_only on\n" + sql + "\n");
    }
}
