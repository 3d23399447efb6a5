package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.contract.Channels;
import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/**
 * A kill stops the work, not just the client's connection: the statement the session runs is cancelled on the
 * backend (pg_stat_activity on the target, read directly), and a transaction the kill interrupts commits nothing,
 * even when the client had already sent its COMMIT.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class KillStopsTheStatementTest {

    @BeforeEach
    void target() throws Exception {
        TargetDatabases.ensure();
    }

    @Test
    void a_kill_cancels_the_running_statement_on_the_backend() throws Exception {
        try (Connection c = Jdbc.viaGateway(TargetDatabases.CONNECTION, TestStack.token("alice"))) {
            CompletableFuture<Throwable> running = runInBackground(c, "SELECT pg_sleep(60) AS killed_sleep");
            awaitBackend("killed_sleep", true, 20);

            kill(c);

            Throwable failure = running.get(10, TimeUnit.SECONDS);
            assertInstanceOf(SQLException.class, failure);
            assertTrue(failure.getMessage().contains("an administrator ended this session"), failure.getMessage());
            awaitBackend("killed_sleep", false, 5); // not the 60 s the statement asked for
        }
    }

    @Test
    void a_kill_during_a_transaction_leaves_nothing_committed() throws Exception {
        try (Connection c = Jdbc.viaGateway(TargetDatabases.CONNECTION, TestStack.token("alice")); var st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS kill_accounts");
            st.execute("CREATE TABLE kill_accounts (id int PRIMARY KEY, balance int NOT NULL)");
            st.execute("INSERT INTO kill_accounts VALUES (1, 100)");
        }
        try (Connection c = Jdbc.viaGateway(TargetDatabases.CONNECTION, TestStack.token("alice"))) {
            // BEGIN, a slow UPDATE and the COMMIT, all sent before the kill: only a cancel keeps the COMMIT from running
            CompletableFuture<Throwable> running = runInBackground(c, "BEGIN; UPDATE kill_accounts SET balance = 0"
                    + " WHERE id = 1 AND pg_sleep(30) IS NOT NULL; COMMIT");
            awaitBackend("UPDATE kill_accounts", true, 20);

            kill(c);

            assertInstanceOf(SQLException.class, running.get(10, TimeUnit.SECONDS));
            awaitBackend("UPDATE kill_accounts", false, 5);
        }
        try (Connection su = TestStack.superuser(TargetDatabases.DATABASE); var st = su.createStatement();
                ResultSet rs = st.executeQuery("SELECT balance FROM kill_accounts WHERE id = 1")) {
            rs.next();
            assertEquals(100, rs.getInt(1), "the killed transaction must not have committed its UPDATE");
        }
    }

    static CompletableFuture<Throwable> runInBackground(Connection c, String sql) {
        return CompletableFuture.supplyAsync(() -> {
            try (var st = c.createStatement()) {
                st.execute(sql);
                return null;
            } catch (SQLException e) {
                return e;
            }
        });
    }

    private static void kill(Connection c) throws Exception {
        String sessionId = c.unwrap(PGConnection.class).getParameterStatus("portcullis.session_id");
        TestStack.execute(TestStack.get("PORTCULLIS_DB"), "SELECT pg_notify('" + Channels.KILL_SESSION + "', '" + sessionId + "')");
    }

    /** Waits until a statement containing {@code fragment} runs on the target ({@code active}) or no longer does. */
    static void awaitBackend(String fragment, boolean active, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        int count = -1;
        while (System.nanoTime() < deadline) {
            try (var c = TestStack.superuser("postgres"); var st = c.createStatement();
                    var rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%"
                            + fragment.replace("'", "''") + "%' AND pid <> pg_backend_pid()")) {
                rs.next();
                count = rs.getInt(1);
            }
            if ((count > 0) == active) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(active ? "the statement '" + fragment + "' never started on the backend"
                : "the statement '" + fragment + "' still runs on the backend " + seconds + " s after the session ended");
    }
}
