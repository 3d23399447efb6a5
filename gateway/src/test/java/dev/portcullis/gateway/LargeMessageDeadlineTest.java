package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.RawPgClient;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A logged-in client that trickles a large message keeps its room in the frame budget only until the message's
 * deadline: then its session ends with FATAL 08P01 saying why, and a client that waited for the room is served.
 */
@QuarkusTest
@TestProfile(LargeMessageDeadlineTest.ShortDeadline.class)
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class LargeMessageDeadlineTest {
    static final int MAX_MESSAGE = 8 * 1024 * 1024;

    public static class ShortDeadline implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // the budget holds one largest message: while the trickler holds it, every other large message waits
            return Map.of("portcullis.postgres.max-message-bytes", Integer.toString(MAX_MESSAGE),
                    "portcullis.postgres.frame-budget-bytes", Integer.toString(MAX_MESSAGE),
                    "portcullis.postgres.large-message-timeout", "2s");
        }
    }

    private static RawPgClient session(String identity) throws Exception {
        TargetDatabases.ensure();
        RawPgClient c = new RawPgClient(TestStack.gatewayPort());
        List<RawPgClient.Message> m = c.login(TargetDatabases.CONNECTION, TestStack.token(identity));
        assertEquals('Z', m.get(m.size() - 1).type(), m.toString());
        return c;
    }

    @Test
    void a_trickled_large_message_ends_its_session_at_the_deadline_and_the_waiting_one_runs() throws Exception {
        try (RawPgClient trickler = session("alice"); RawPgClient waiter = session("alice")) {
            long start = System.nanoTime();
            // a Query of the largest size allowed, of which only a header and a few bytes ever come
            trickler.sendRaw(ByteBuffer.allocate(5).put((byte) 'Q').putInt(MAX_MESSAGE).array());
            trickler.sendRaw("SELECT '".getBytes());
            Thread.sleep(200); // the trickler's message has taken the room

            int length = 4 * 1024 * 1024;
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    waiter.sendString('Q', "SELECT length('" + "x".repeat(length) + "')");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            for (int i = 0; i < 5; i++) { // a byte every 300 ms: traffic, but never the whole message
                Thread.sleep(300);
                trickler.sendRaw(new byte[] {'x'});
            }

            List<RawPgClient.Message> cut = trickler.readUntil('Z');
            long after = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            Map<Character, String> error = cut.get(cut.size() - 1).fields();
            assertEquals("FATAL", error.get('S'), cut.toString());
            assertEquals("08P01", error.get('C'));
            assertEquals("invalid message from the client: a message of " + MAX_MESSAGE
                    + " bytes did not arrive whole within 2 s of its start", error.get('M'));
            assertTrue(after >= 1_900, "not before the deadline: after " + after + " ms");
            assertTrue(trickler.closedByServer());

            sent.get(30, TimeUnit.SECONDS);
            List<RawPgClient.Message> result = waiter.readUntil('Z');
            assertTrue(result.stream().anyMatch(m -> m.type() == 'D' && m.text().endsWith(Integer.toString(length))),
                    "the message that waited for room ran: " + result);
            assertEquals('Z', result.get(result.size() - 1).type());
        }
    }
}
