package dev.portcullis.gateway;

import static dev.portcullis.gateway.testing.MaskedValues.assertNothingRaw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SQL cursors through the real gateway, OPA (the default policies) and PostgreSQL, as {@code bob} (developers: read
 * roles declare cursors like any query they may run) and {@code agent-ci} (ci-readonly): the rows a cursor returns,
 * through psql (its own {@code FETCH_COUNT} cursor too) and pgjdbc (text and binary results, its portal fetching), are
 * masked exactly as the same SELECT's; a cursor over a query the role may not run is denied with that query's rule;
 * one over a data-modifying {@code WITH} is a write; and the gateway forgets a cursor when PostgreSQL does.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class CursorMaskingTest {

    /** Every masking method and detector of the default rules, on plain and computed columns, beside unmasked ones. */
    private static final List<String> QUERIES = List.of(
            "SELECT id, name, email, phone FROM users ORDER BY id",
            "SELECT id, card_number, amount FROM payments ORDER BY id",
            "SELECT id, ssn, tax_id, password_hash, api_key, note FROM customers ORDER BY id",
            "SELECT u.id, split_part(email, '@', 1), email::bytea, left(card_number, 8), reverse(card_number)"
                    + " FROM users u JOIN payments p ON p.user_id = u.id ORDER BY u.id",
            "SELECT to_jsonb(u) FROM users u ORDER BY id");

    @BeforeEach
    void seeded() throws Exception {
        MaskingTargets.ensure();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4})
    void psql_fetches_a_cursor_masked_exactly_as_the_select(int query) throws Exception {
        String sql = QUERIES.get(query);
        String select = psql("bob", sql + ";");
        assertEquals(select, psql("bob", "BEGIN;\nDECLARE c NO SCROLL CURSOR FOR " + sql + ";\nFETCH 1 FROM c;\nFETCH ALL FROM c;\n"
                + "CLOSE c;\nCOMMIT;"));
        // psql's FETCH_COUNT reads any query through a cursor of its own (DECLARE _psql_cursor ..., FETCH FORWARD 1 ...)
        assertEquals(select, psql("bob", "\\set FETCH_COUNT 1\n" + sql + ";"));
        assertEquals(select, psql("bob", "DECLARE h CURSOR WITH HOLD FOR " + sql + ";\nMOVE FORWARD 0 IN h;\nFETCH ALL FROM h;\nCLOSE h;"));
        assertNothingRaw(sql, "psql", List.of(List.of(select)));
    }

    @Test
    void a_binary_cursor_is_masked_as_the_select_in_text() throws Exception {
        // DECLARE ... BINARY CURSOR: FETCH returns binary-format rows even over the simple protocol; a text value's binary
        // form is its text, so psql prints the same
        String sql = "SELECT name, email, split_part(email, '@', 1), card_number, reverse(card_number)"
                + " FROM users u JOIN payments p ON p.user_id = u.id ORDER BY u.id";
        String select = psql("bob", sql + ";");
        assertEquals(select, psql("bob", "BEGIN;\nDECLARE b BINARY CURSOR FOR " + sql + ";\nFETCH ALL FROM b;\nCOMMIT;"));
        assertNothingRaw(sql, "psql binary cursor", List.of(List.of(select)));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void pgjdbc_fetches_a_cursor_and_pages_a_portal_masked_exactly_as_the_select(boolean binary) throws Exception {
        try (Connection c = jdbc("bob", binary); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            for (int q = 0; q < QUERIES.size(); q++) {
                String sql = QUERIES.get(q);
                List<List<String>> select = Jdbc.rows(c, sql);
                // a name per query: pgjdbc keeps "FETCH ALL FROM c" prepared with the first cursor's columns
                st.execute("DECLARE c" + q + " CURSOR FOR " + sql);
                assertEquals(select, Jdbc.rows(c, "FETCH ALL FROM c" + q), sql);
                st.execute("CLOSE c" + q);
                // a fetch size inside a transaction: pgjdbc's own portal, Execute with a row limit, PortalSuspended
                assertEquals(select, pagedRows(c, sql), sql);
                assertNothingRaw(sql, "pgjdbc" + (binary ? " binary" : ""), select);
            }
            c.commit();
        }
    }

    @Test
    void a_cursor_over_unmasked_columns_returns_their_exact_values() throws Exception {
        String sql = "SELECT u.id, name, upper(name), tags, amount, amount * 2 FROM users u JOIN payments p ON p.user_id = u.id ORDER BY u.id";
        String exact = "1|Jane Doe|JANE DOE|{vip}|12.50|25.00\n2|John Roe|JOHN ROE|{}|99.00|198.00\n";
        assertEquals(exact, psql("bob", "BEGIN;\nDECLARE c CURSOR FOR " + sql + ";\nFETCH ALL FROM c;\nCOMMIT;"));
        assertEquals(exact, psql("agent-ci", "\\set FETCH_COUNT 1\n" + sql + ";"));
        try (Connection c = jdbc("bob", true); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("DECLARE c CURSOR FOR " + sql);
            assertEquals(List.of(List.of("1", "Jane Doe", "JANE DOE", "{vip}", "12.50", "25.00"),
                    List.of("2", "John Roe", "JOHN ROE", "{}", "99.00", "198.00")), Jdbc.rows(c, "FETCH ALL FROM c"));
            c.rollback();
        }
    }

    @Test
    void a_cursor_over_a_query_the_role_may_not_run_is_denied_as_the_query_is() throws Exception {
        // ci-readonly may not filter on a masked column, in a cursor or not
        String probe = "SELECT id FROM users WHERE email LIKE 'jane%'";
        assertDenied("agent-ci", PolicyTargets.DEV, probe, "SELECT (filters, groups or sorts on masked column public.users.email)",
                "pg/masked-predicate");
        assertDenied("agent-ci", PolicyTargets.DEV, "DECLARE c CURSOR WITH HOLD FOR " + probe,
                "SELECT inside DECLARE (filters, groups or sorts on masked column public.users.email)", "pg/masked-predicate");
        // developers may not run SQL from text the gateway cannot analyse, in a cursor or not
        String fromText = "SELECT query_to_xml('SELECT email FROM users', true, false, '')";
        assertDenied("bob", PolicyTargets.DEV, fromText, "function query_to_xml (runs SQL text the gateway cannot analyse)", "pg/role-admin");
        assertDenied("bob", PolicyTargets.DEV, "DECLARE c CURSOR WITH HOLD FOR " + fromText,
                "function query_to_xml (runs SQL text the gateway cannot analyse)", "pg/role-admin");
    }

    @Test
    void a_cursor_over_a_data_modifying_with_is_a_write() throws Exception {
        String declare = "DECLARE w CURSOR WITH HOLD FOR WITH gone AS (DELETE FROM payments RETURNING *) SELECT count(*) FROM gone";
        assertDenied("agent-ci", PolicyTargets.DEV, declare, "SELECT inside DECLARE (writes payments)", "pg/role-write");
        assertDenied("bob", PolicyTargets.PROD, declare, "SELECT inside DECLARE (writes payments)", "pg/role-write");
        // a role that may write reaches PostgreSQL, which refuses it itself
        Cli.Result r = Cli.psql(TestStack.token("bob"), PolicyTargets.DEV, declare + ";\n");
        assertTrue(r.stderr().contains("DECLARE CURSOR must not contain data-modifying statements in WITH"), r.all());
        assertEquals(2, paymentsLeft(), "nothing was deleted");
    }

    @Test
    void the_gateway_forgets_a_cursor_when_postgresql_does() throws Exception {
        // each cursor is declared again over unmasked columns once PostgreSQL dropped it: if the gateway still held the
        // old query's lineage (over email), it would mask the new one's columns too
        String masked = "SELECT name, upper(email) FROM users WHERE id = 1";
        String plain = "SELECT name, upper(name) FROM users WHERE id = 1";
        assertEquals("Jane Doe|***\nJane Doe|JANE DOE\n", psql("bob",
                "BEGIN;\nDECLARE c CURSOR FOR " + masked + ";\nFETCH c;\nCOMMIT;\n"
                        + "BEGIN;\nDECLARE c CURSOR FOR " + plain + ";\nFETCH c;\nCOMMIT;"));
        assertEquals("Jane Doe|***\nJane Doe|JANE DOE\n", psql("bob",
                "DECLARE h CURSOR WITH HOLD FOR " + masked + ";\nFETCH h;\nCLOSE ALL;\n"
                        + "DECLARE h CURSOR WITH HOLD FOR " + plain + ";\nFETCH h;\nCLOSE h;"));
        // a holdable cursor outlives the transaction that commits it, not one that rolls back
        assertEquals("Jane Doe|***\nJane Doe|JANE DOE\n", psql("bob",
                "BEGIN;\nDECLARE k CURSOR WITH HOLD FOR " + masked + ";\nCOMMIT;\nFETCH k;\nCLOSE k;\n"
                        + "BEGIN;\nDECLARE k CURSOR WITH HOLD FOR " + masked + ";\nROLLBACK;\n"
                        + "DECLARE k CURSOR WITH HOLD FOR " + plain + ";\nFETCH k;\nCLOSE k;"));
        Cli.Result gone = Cli.psql(TestStack.token("bob"), PolicyTargets.DEV,
                "BEGIN;\nDECLARE c CURSOR FOR " + masked + ";\nCOMMIT;\nFETCH c;\n");
        assertTrue(gone.stderr().contains("cursor \"c\" does not exist"), gone.all());
    }

    private static void assertDenied(String client, String connection, String sql, String what, String policy) throws Exception {
        Cli.Result r = Cli.psql(TestStack.token(client), connection, "BEGIN;\n" + sql + ";\nFETCH ALL FROM c;\nROLLBACK;\n");
        assertTrue(r.stderr().contains("Portcullis denied this statement: "), r.all());
        assertTrue(r.stderr().contains(what + " is not allowed on "), r.all());
        assertTrue(r.stderr().contains("[policy " + policy + "]"), r.all());
        assertFalse(r.stdout().contains("jane.doe"), r.all());
    }

    private static int paymentsLeft() throws SQLException {
        try (var c = TestStack.superuser(TargetDatabases.DATABASE); var st = c.createStatement();
                var rs = st.executeQuery("SELECT count(*) FROM payments")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static List<List<String>> pagedRows(Connection c, String sql) throws SQLException {
        List<List<String>> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setFetchSize(1);
            try (ResultSet rs = ps.executeQuery()) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    List<String> row = new ArrayList<>();
                    for (int i = 1; i <= n; i++) {
                        row.add(rs.getString(i));
                    }
                    out.add(row);
                }
            }
        }
        return out;
    }

    /** pgjdbc with server-prepared statements from the first use, optionally receiving text and bytea in binary. */
    private static Connection jdbc(String client, boolean binary) throws SQLException {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        if (binary) {
            p.setProperty("binaryTransferEnable", "TEXT,VARCHAR,BYTEA,25,1043,17");
        }
        return Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token(client), p);
    }

    private static String psql(String client, String sql) throws Exception {
        Cli.Result r = Cli.psql(TestStack.token(client), PolicyTargets.DEV,
                "\\set QUIET on\n\\set ON_ERROR_STOP on\n\\pset null (null)\n\\pset format unaligned\n\\pset tuples_only on\n" + sql + "\n");
        assertEquals(0, r.exitCode(), r.all());
        return r.stdout();
    }
}
