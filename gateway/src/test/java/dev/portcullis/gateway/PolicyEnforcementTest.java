package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Approver;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.PolicyTargets;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every decision comes from the real OPA evaluating policies-rego: each role's allowed and denied statements,
 * through psql (simple protocol) and pgjdbc (extended protocol, server-side prepared statements), and the
 * bypass attempts of the default policies. A denied statement never reaches the backend and the session goes on.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class PolicyEnforcementTest {

    @BeforeEach
    void targets() throws Exception {
        PolicyTargets.ensure();
        PolicyTargets.resetUsers(10);
    }

    private static Connection as(String client, String connection) throws SQLException {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        return Jdbc.viaGateway(connection, TestStack.token(client), p);
    }

    private static SQLException denied(Connection c, String sql) {
        SQLException e = assertThrows(SQLException.class, () -> c.createStatement().execute(sql), sql);
        assertEquals("42501", e.getSQLState(), e.getMessage());
        assertTrue(e.getMessage().contains("Portcullis denied this statement"), e.getMessage());
        assertTrue(e.getMessage().contains("[policy "), "the denial names the rule: " + e.getMessage());
        return e;
    }

    private static int count(Connection c, String sql) throws SQLException {
        try (ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void ci_reads_on_dev_but_cannot_write_and_the_session_goes_on() throws Exception {
        try (Connection c = as("agent-ci", PolicyTargets.DEV)) {
            assertEquals(10, count(c, "SELECT count(*) FROM policy_users"));
            denied(c, "DELETE FROM policy_users WHERE id = 1");
            denied(c, "INSERT INTO policy_users VALUES (99, 'x', 'x')");
            assertEquals(10, count(c, "SELECT count(*) FROM policy_users"), "the session is still usable");
        }
        assertEquals(10, PolicyTargets.countUsers(), "nothing was written");
    }

    @Test
    void ci_cannot_read_production() throws Exception {
        SQLException e = assertThrows(SQLException.class, () -> {
            try (Connection c = as("agent-ci", PolicyTargets.PROD)) {
                count(c, "SELECT count(*) FROM policy_users");
            }
        });
        assertTrue(e.getSQLState().equals("28000") || e.getSQLState().equals("42501"), e.getSQLState() + " " + e.getMessage());
        assertTrue(e.getMessage().contains("Portcullis denied"), e.getMessage());
    }

    @Test
    void developers_write_on_dev_and_only_read_on_prod() throws Exception {
        try (Connection c = as("bob", PolicyTargets.DEV)) {
            assertEquals(1, c.createStatement().executeUpdate("UPDATE policy_users SET name = 'bob was here' WHERE id = 1"));
        }
        try (Connection c = as("bob", PolicyTargets.PROD)) {
            assertEquals(10, count(c, "SELECT count(*) FROM policy_users"));
            denied(c, "UPDATE policy_users SET name = 'x' WHERE id = 2");
        }
    }

    @Test
    void dba_destructive_statement_on_prod_is_held_for_approvers_but_a_targeted_one_runs() throws Exception {
        try (Connection c = as("alice", PolicyTargets.PROD)) {
            assertEquals(1, heldFor(c, "DELETE FROM policy_users"), "one approver");
            assertEquals(1, c.createStatement().executeUpdate("DELETE FROM policy_users WHERE id = 3"));
            assertEquals(2, heldFor(c, "TRUNCATE policy_users"), "two approvers for TRUNCATE");
            assertEquals(2, heldFor(c, "DROP TABLE policy_users"), "and for DROP");
        }
        assertEquals(9, PolicyTargets.countUsers());
    }

    /** The statement is held for group approvers; denied by one of them, it fails and never runs. @return approvals it needed */
    private static int heldFor(Connection c, String sql) throws Exception {
        String session = ((org.postgresql.PGConnection) c).getParameterStatus("portcullis.session_id");
        java.util.concurrent.CompletableFuture<SQLException> held = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (Statement st = c.createStatement()) {
                st.execute(sql);
                return null;
            } catch (SQLException e) {
                return e;
            }
        });
        java.util.UUID id = Approver.awaitPending(session);
        java.util.Map<String, Object> row = Approver.request(id);
        assertEquals("[\"approvers\"]", row.get("approver_groups").toString().replace(" ", ""));
        Approver.deny(id, "carol", "not now");
        SQLException e = held.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(e != null && e.getMessage().contains("denied") && e.getMessage().contains("not now"), String.valueOf(e));
        return (Integer) row.get("min_approvals");
    }

    @Test
    void backup_copies_out_but_cannot_write() throws Exception {
        var env = Cli.gatewayEnv(TestStack.token("agent-backup"), PolicyTargets.PROD);
        Cli.Result out = Cli.run(env, null, 30, "psql", "-X", "-c", "COPY policy_users TO STDOUT WITH (FORMAT csv)");
        assertEquals(0, out.exitCode(), out.all());
        assertEquals(10, out.stdout().lines().count(), out.all());
        Cli.Result write = Cli.run(env, null, 30, "psql", "-X", "-c", "INSERT INTO policy_users VALUES (50, 'x', 'y')");
        assertTrue(write.stderr().contains("Portcullis denied this statement"), write.all());
        assertEquals(10, PolicyTargets.countUsers());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT 1; DROP TABLE policy_users",
            "WITH gone AS (DELETE FROM policy_users RETURNING *) SELECT count(*) FROM gone",
            "/* harmless */ dElEtE -- really\n FROM policy_users WHERE id > 0",
            "PREPARE wipe AS DELETE FROM policy_users",
            "EXPLAIN ANALYZE DELETE FROM policy_users",
            "SET ROLE postgres",
            "SELECT set_config('role', 'postgres', false)",
            "DO $$BEGIN DELETE FROM policy_users; END$$",
            "COPY policy_users FROM PROGRAM 'id'",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT * FROM policy_users WHERE id = (SELECT lo_import('/etc/passwd'))",
            "SELEKT * FROM policy_users"})
    void bypass_attempts_by_a_read_only_role_are_denied_and_change_nothing(String sql) throws Exception {
        try (Connection c = as("agent-ci", PolicyTargets.DEV)) {
            denied(c, sql);
            assertEquals(10, count(c, "SELECT count(*) FROM policy_users"), "the session is still usable");
        }
        assertEquals(10, PolicyTargets.countUsers());
    }

    @Test
    void sql_prepare_then_execute_is_judged_by_what_it_runs() throws Exception {
        try (Connection c = as("agent-ci", PolicyTargets.DEV)) {
            // a plain column: what an EXECUTE returns is masked by its columns' own rules (a computed column of an
            // EXECUTE has unknown lineage, which is masked whole for a role with detectors: LineageMaskingTest)
            c.createStatement().execute("PREPARE newest AS SELECT id FROM policy_users ORDER BY id DESC LIMIT 1");
            assertEquals(10, count(c, "EXECUTE newest"), "a prepared read may be executed by a read-only role");
            denied(c, "EXECUTE never_prepared");
        }
    }

    @Test
    void very_large_query_is_analysed_off_the_event_loop_and_runs() throws Exception {
        StringBuilder sql = new StringBuilder("SELECT count(*) FROM policy_users WHERE id IN (0");
        for (int i = 1; i <= 30_000; i++) {
            sql.append(',').append(i);
        }
        sql.append(')');
        try (Connection c = as("agent-ci", PolicyTargets.DEV)) {
            assertEquals(10, count(c, sql.toString()));
            denied(c, sql.toString().replace("SELECT count(*) FROM", "DELETE FROM"));
        }
        assertEquals(10, PolicyTargets.countUsers());
    }

    @Test
    void superuser_functions_are_denied_even_for_the_dba() throws Exception {
        try (Connection c = as("alice", PolicyTargets.DEV)) {
            denied(c, "SELECT pg_read_file('/etc/passwd')");
            denied(c, "SELECT pg_terminate_backend(1)");
        }
    }

    @Test
    void denied_prepared_statement_in_a_pipeline_reports_in_order_and_the_connection_goes_on() throws Exception {
        try (Connection c = as("agent-ci", PolicyTargets.DEV)) {
            try (PreparedStatement select = c.prepareStatement("SELECT name FROM policy_users WHERE id = ?")) {
                for (int i = 1; i <= 5; i++) {
                    select.setInt(1, i);
                    try (ResultSet rs = select.executeQuery()) {
                        assertTrue(rs.next());
                    }
                }
            }
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM policy_users WHERE id = ?")) {
                delete.setInt(1, 1);
                SQLException e = assertThrows(SQLException.class, delete::executeUpdate);
                assertEquals("42501", e.getSQLState(), e.getMessage());
            }
            // a batch: the allowed statements before the denied one run; the denial is reported; nothing after it
            c.setAutoCommit(false);
            try (var st = c.createStatement()) {
                st.addBatch("SELECT 1");
                st.addBatch("DELETE FROM policy_users");
                assertThrows(SQLException.class, st::executeBatch);
            }
            c.rollback();
            c.setAutoCommit(true);
            assertEquals(10, count(c, "SELECT count(*) FROM policy_users"));
        }
        assertEquals(10, PolicyTargets.countUsers());
    }

    @Test
    void denial_in_psql_keeps_the_transaction_and_the_script_going() throws Exception {
        Cli.Result r = Cli.psql(TestStack.token("bob"), PolicyTargets.PROD, """
                BEGIN;
                SELECT count(*) AS before FROM policy_users;
                UPDATE policy_users SET name = 'x';
                SELECT 'after denial' AS marker;
                COMMIT;
                """);
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("ERROR:  Portcullis denied this statement"), r.all());
        assertTrue(r.stdout().contains("after denial"), r.all());
        assertFalse(r.stdout().contains("UPDATE "), r.all());
    }
}
