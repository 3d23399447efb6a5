package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.RawPgClient;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLWarning;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** What the relay passes on untouched (notices, notifications), what it decides (FunctionCall), and backpressure. */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class RelayBehaviourTest {

    @BeforeEach
    void target() throws Exception {
        TargetDatabases.ensure();
    }

    @Test
    void notices_and_notifications_reach_the_client() throws Exception {
        try (Connection listener = Jdbc.viaGateway(TargetDatabases.CONNECTION, TestStack.token("alice"));
                Connection notifier = Jdbc.viaGateway(TargetDatabases.CONNECTION, TestStack.token("alice"))) {
            var st = listener.createStatement();
            st.execute("DO $$BEGIN RAISE NOTICE 'hello from the backend'; END$$");
            SQLWarning warning = st.getWarnings();
            assertNotNull(warning, "the NoticeResponse is relayed");
            assertTrue(warning.getMessage().contains("hello from the backend"), warning.getMessage());

            listener.createStatement().execute("LISTEN gateway_test_channel");
            notifier.createStatement().execute("NOTIFY gateway_test_channel, 'ping'");
            PGNotification[] received = null;
            long deadline = System.currentTimeMillis() + 10_000;
            while ((received == null || received.length == 0) && System.currentTimeMillis() < deadline) {
                received = listener.unwrap(PGConnection.class).getNotifications(500);
            }
            assertNotNull(received);
            assertEquals(1, received.length);
            assertEquals("gateway_test_channel", received[0].getName());
            assertEquals("ping", received[0].getParameter());
        }
    }

    @Test
    void function_call_message_is_decided_by_policy_and_the_session_goes_on() throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            List<RawPgClient.Message> login = c.login(TargetDatabases.CONNECTION, TestStack.token("alice"));
            assertEquals('Z', login.get(login.size() - 1).type());
            // FunctionCall of pg_backend_pid() (OID 2026): no arguments, text result
            c.send('F', ByteBuffer.allocate(4 + 2 + 2 + 2).putInt(2026).putShort((short) 0).putShort((short) 0).putShort((short) 0).array());
            List<RawPgClient.Message> answer = c.readUntil('Z');
            RawPgClient.Message error = answer.stream().filter(m -> m.type() == 'E').findFirst().orElseThrow(
                    () -> new AssertionError("the default policy denies the fast-path FunctionCall: " + answer));
            assertEquals("42501", error.fields().get('C'));
            assertEquals('Z', answer.get(answer.size() - 1).type(), "ReadyForQuery follows the denial");
            c.sendString('Q', "SELECT 1");
            List<RawPgClient.Message> after = c.readUntil('Z');
            assertTrue(after.stream().anyMatch(m -> m.type() == 'D'), "the session is usable: " + after);
        }
    }

    @Test
    void a_client_that_stops_reading_stops_the_backend_instead_of_filling_gateway_memory() throws Exception {
        String marker = "backpressure_" + System.nanoTime();
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            List<RawPgClient.Message> login = c.login(TargetDatabases.CONNECTION, TestStack.token("alice"));
            assertEquals('Z', login.get(login.size() - 1).type());
            // about 2 GB of rows, far more than the gateway could buffer; the client reads none of it
            c.sendString('Q', "SELECT '" + marker + "', repeat('x', 1000) FROM generate_series(1, 2000000)");
            String waitEvent = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!"ClientWrite".equals(waitEvent) && System.nanoTime() < deadline) {
                Thread.sleep(200);
                try (var db = TestStack.superuser("postgres"); var st = db.createStatement();
                        var rs = st.executeQuery("SELECT wait_event FROM pg_stat_activity WHERE query LIKE '%" + marker
                                + "%' AND pid <> pg_backend_pid() AND state = 'active'")) {
                    waitEvent = rs.next() ? rs.getString(1) : null;
                }
            }
            assertEquals("ClientWrite", waitEvent, "PostgreSQL must be blocked writing to the gateway, which stopped reading it");
            // Without backpressure the gateway would by now hold gigabytes of rows in its buffers.
            Thread.sleep(5_000);
            long bufferedMb = io.netty.buffer.PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() / (1 << 20);
            System.gc(); // what the heap holds, not the garbage the test JVM's earlier tests left behind
            long heapMb = (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / (1 << 20);
            assertTrue(bufferedMb < 128, "buffered rows stay bounded while the client does not read: " + bufferedMb + " MB");
            assertTrue(heapMb < 1024, "gateway heap stays small while the client does not read: " + heapMb + " MB");
        }
        // the client went away: the gateway ends the backend query too
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int left = 1;
        while (left > 0 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            try (var db = TestStack.superuser("postgres"); var st = db.createStatement();
                    var rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%" + marker
                            + "%' AND pid <> pg_backend_pid()")) {
                rs.next();
                left = rs.getInt(1);
            }
        }
        assertEquals(0, left, "the backend session ends when its client is gone");
    }
}
