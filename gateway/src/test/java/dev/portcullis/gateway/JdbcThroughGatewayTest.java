package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.contract.Channels;
import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/** pgjdbc through the gateway: extended protocol, server-side prepared statements, batches, large results. */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class JdbcThroughGatewayTest {

    @BeforeEach
    void target() throws Exception {
        TargetDatabases.ensure();
    }

    @Test
    void prepared_statements_batches_and_large_results_work() throws Exception {
        Properties props = new Properties();
        props.setProperty("prepareThreshold", "1");
        props.setProperty("reWriteBatchedInserts", "false");
        try (Connection c = Jdbc.viaGateway(TargetDatabases.CONNECTION, TestStack.token("alice"), props)) {
            try (var st = c.createStatement()) {
                st.execute("DROP TABLE IF EXISTS jdbc_items");
                st.execute("CREATE TABLE jdbc_items (id int PRIMARY KEY, label text, price numeric(10,2))");
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_items VALUES (?, ?, ?)")) {
                for (int i = 1; i <= 5_000; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "item-" + i);
                    ps.setBigDecimal(3, new java.math.BigDecimal(i).movePointLeft(2));
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                assertEquals(5_000, counts.length);
            }
            c.commit();
            // the same server-side prepared statement, executed many times (Bind/Execute only after the first Parse)
            try (PreparedStatement ps = c.prepareStatement("SELECT label FROM jdbc_items WHERE id = ?")) {
                for (int i = 1; i <= 200; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals("item-" + i, rs.getString(1));
                    }
                }
            }
            // a large result, fetched in chunks with a cursor, plus a full one
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT g, repeat('x', 200) FROM generate_series(1, 300000) g")) {
                ps.setFetchSize(1_000);
                long sum = 0;
                int rows = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        sum += rs.getInt(1);
                        rows++;
                    }
                }
                assertEquals(300_000, rows);
                assertEquals(300_000L * 300_001L / 2, sum);
            }
            c.commit();
            try (var st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT sum(price) FROM jdbc_items")) {
                assertTrue(rs.next());
                assertEquals(new java.math.BigDecimal("125025.00"), rs.getBigDecimal(1));
            }
        }
    }

    @Test
    void errors_keep_the_session_usable() throws Exception {
        try (Connection c = Jdbc.viaGateway(TargetDatabases.CONNECTION, TestStack.token("alice"))) {
            SQLException e = assertThrows(SQLException.class, () -> c.createStatement().execute("SELECT * FROM no_such_table"));
            assertEquals("42P01", e.getSQLState());
            try (ResultSet rs = c.createStatement().executeQuery("SELECT 42")) {
                assertTrue(rs.next());
                assertEquals(42, rs.getInt(1));
            }
        }
    }

    @Test
    void cancel_stops_the_running_query_and_the_session_goes_on() throws Exception {
        try (Connection c = Jdbc.viaGateway(TargetDatabases.CONNECTION, TestStack.token("alice"));
                var st = c.createStatement()) {
            var canceller = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    PsqlThroughGatewayTest.waitForActiveQuery("pg_sleep(30)");
                    st.cancel();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            SQLException e = assertThrows(SQLException.class, () -> st.execute("SELECT pg_sleep(30)"));
            canceller.get();
            assertEquals("57014", e.getSQLState(), e.getMessage());
            try (ResultSet rs = st.executeQuery("SELECT 'still usable'")) {
                assertTrue(rs.next());
                assertEquals("still usable", rs.getString(1));
            }
        }
    }

    @Test
    void cancel_key_of_another_session_cancels_nothing() throws Exception {
        try (var c = new dev.portcullis.gateway.testing.RawPgClient(TestStack.gatewayPort())) {
            // a made-up key: the gateway must answer nothing and close, as PostgreSQL does
            c.sendRaw(java.nio.ByteBuffer.allocate(16).putInt(16).putInt(80877102).putInt(12345).putInt(67890).array());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void administrator_kill_ends_the_session_with_a_clear_fatal_error() throws Exception {
        try (Connection c = Jdbc.viaGateway(TargetDatabases.CONNECTION, TestStack.token("alice"))) {
            String sessionId = c.unwrap(PGConnection.class).getParameterStatus("portcullis.session_id");
            assertNotNull(sessionId, "the gateway tells the client its session id");
            TestStack.execute(TestStack.get("PORTCULLIS_DB"), "SELECT pg_notify('" + Channels.KILL_SESSION + "', '" + sessionId + "')");
            SQLException e = null;
            long deadline = System.currentTimeMillis() + 10_000;
            while (e == null && System.currentTimeMillis() < deadline) {
                try {
                    c.createStatement().execute("SELECT 1");
                    Thread.sleep(100);
                } catch (SQLException thrown) {
                    e = thrown;
                }
            }
            assertNotNull(e, "the killed session must stop working");
            assertTrue(e.getMessage().contains("an administrator ended this session"), e.getMessage());
        }
    }

    @Test
    void changed_connection_is_picked_up_without_restart() throws Exception {
        String name = "gw-test-moving";
        TestStack.registerConnection(name, TargetDatabases.DATABASE, TargetDatabases.SCRAM_ROLE, TargetDatabases.SCRAM_PASSWORD,
                "require", null, "{}");
        try (Connection c = Jdbc.viaGateway(name, TestStack.token("alice")); ResultSet rs = c.createStatement()
                .executeQuery("SELECT current_database()")) {
            rs.next();
            assertEquals(TargetDatabases.DATABASE, rs.getString(1));
        }
        TestStack.registerConnection(name, "postgres", TargetDatabases.SCRAM_ROLE, TargetDatabases.SCRAM_PASSWORD, "require", null, "{}");
        long deadline = System.currentTimeMillis() + 5_000;
        String db = null;
        while (!"postgres".equals(db) && System.currentTimeMillis() < deadline) {
            try (Connection c = Jdbc.viaGateway(name, TestStack.token("alice")); ResultSet rs = c.createStatement()
                    .executeQuery("SELECT current_database()")) {
                rs.next();
                db = rs.getString(1);
            }
        }
        assertEquals("postgres", db, "the registry cache must drop a connection when its row changes");
        TestStack.execute(TestStack.get("PORTCULLIS_DB"), "DELETE FROM connections WHERE name = '" + name + "'");
    }
}
