package dev.portcullis.gateway;

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
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * What a driver relies on holds through the gateway as it holds directly (issue #21): a COPY TO STDOUT is planned on
 * the session's own connection, inside its transaction, so temporary tables, tables of the open transaction and locks
 * behave as PostgreSQL's own; one session waiting on a lock never slows another; a notification from the session's
 * own backend carries the pid the driver was given.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class ProtocolFidelityTest {

    @BeforeEach
    void seeded() throws Exception {
        MaskingTargets.ensure();
    }

    private static String copyOut(Connection c, String copy) throws Exception {
        StringWriter out = new StringWriter();
        ((PGConnection) c).getCopyAPI().copyOut(copy, out);
        return out.toString();
    }

    @Test
    void a_temporary_table_copies_out_masked() throws Exception {
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("alice")); Statement st = c.createStatement()) {
            st.execute("CREATE TEMP TABLE people (id int, ssn text)");
            st.execute("INSERT INTO people VALUES (1, '123-45-6789')");
            String out = copyOut(c, "COPY people TO STDOUT");
            assertTrue(out.startsWith("1\t"), out);
            assertFalse(out.contains("123-45-6789"), "ssn is masked wherever it is: " + out);
        }
    }

    /**
     * The COPY is planned inside the transaction that made the table, so it runs; the gateway's catalog connection
     * cannot see that table's columns yet, so what it holds is redacted (and NULL where it is not text) rather than
     * guessed at.
     */
    @Test
    void a_table_created_in_the_open_transaction_copies_out_with_its_unknown_columns_redacted() throws Exception {
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("alice")); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("CREATE TABLE fidelity_new (id int, ssn text)");
            st.execute("INSERT INTO fidelity_new VALUES (7, '987-65-4321')");
            assertEquals("\\N\t***\n", copyOut(c, "COPY fidelity_new TO STDOUT"));
            c.rollback();
        }
    }

    @Test
    void a_copy_of_a_locked_table_waits_for_the_lock_like_postgres_while_other_sessions_go_on() throws Exception {
        try (Connection locker = TestStack.superuser(TargetDatabases.DATABASE); Statement lock = locker.createStatement();
                Connection waiting = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("alice"));
                Connection other = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("bob"))) {
            locker.setAutoCommit(false);
            lock.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
            CompletableFuture<String> blocked = CompletableFuture.supplyAsync(() -> {
                try {
                    return copyOut(waiting, "COPY users (id, email) TO STDOUT");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitLockWait();
            // while the first session waits on PostgreSQL's lock, another's COPY and masked SELECT run at once
            long started = System.nanoTime();
            assertEquals("42\n", copyOut(other, "COPY (SELECT 42) TO STDOUT"));
            try (Statement st = other.createStatement(); ResultSet rs = st.executeQuery("SELECT card_number FROM payments WHERE id = 1")) {
                assertTrue(rs.next());
                assertTrue(rs.getString(1).endsWith("4242") && !rs.getString(1).contains("42424242"), rs.getString(1));
            }
            System.out.printf("while one session waited on a lock, another's COPY and masked SELECT took %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            assertFalse(blocked.isDone(), "the COPY waits for the lock, as it would directly");
            locker.rollback();
            String out = blocked.get(30, TimeUnit.SECONDS);
            assertTrue(out.contains("1\tj***@example.com"), "then it runs, masked: " + out);
        }
    }

    /** Several COPYs in one Query: each described ahead, their plans made one after another, every one masked. */
    @Test
    void copies_in_one_query_are_each_masked() throws Exception {
        Cli.Result r = Cli.run(Cli.gatewayEnv(TestStack.token("alice"), PolicyTargets.DEV), null, 60, "psql", "-X", "-c",
                "COPY (SELECT id, email FROM users WHERE id = 1) TO STDOUT; COPY (SELECT 42) TO STDOUT;"
                        + " COPY (SELECT card_number FROM payments WHERE id = 1) TO STDOUT");
        assertEquals(0, r.exitCode(), r.all());
        assertEquals("1\tj***@example.com\n42\n**** **** **** 4242\n", r.stdout());
    }

    /**
     * Until a backend of the test database waits on a lock (the gateway's describe of the blocked COPY). Asked outside
     * any transaction: inside one, pg_stat_activity would answer from one snapshot.
     */
    private static void awaitLockWait() throws Exception {
        for (int i = 0; i < 300; i++) {
            try (Connection c = TestStack.superuser(TargetDatabases.DATABASE); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = '"
                    + TargetDatabases.DATABASE + "'")) {
                rs.next();
                if (rs.getInt(1) > 0) {
                    return;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the COPY never waited on the lock");
    }

    @Test
    void a_notification_to_itself_carries_the_pid_the_driver_knows() throws Exception {
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("alice")); Statement st = c.createStatement()) {
            st.execute("LISTEN fidelity_jobs");
            st.execute("NOTIFY fidelity_jobs, 'ready'");
            PGNotification[] got = ((PGConnection) c).getNotifications(10_000);
            assertEquals(1, got.length);
            assertEquals("ready", got[0].getParameter());
            assertEquals(((PGConnection) c).getBackendPID(), got[0].getPID(), "notify.pid == conn.backend_pid");
        }
    }
}
