package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.session.SessionRegistry;
import dev.portcullis.gateway.testing.RawPgClient;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile or broken bytes get a protocol error and a closed connection: no crash, no hang, no allocation of a
 * claimed length, and the gateway keeps serving everyone else.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class MalformedInputTest {

    @Inject
    SessionRegistry sessions;

    @BeforeEach
    void target() throws Exception {
        TargetDatabases.ensure();
    }

    @AfterEach
    void gatewayStillServesAndLeaksNoSession() throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            List<RawPgClient.Message> m = c.login(TargetDatabases.CONNECTION, TestStack.token("alice"));
            assertEquals('Z', m.get(m.size() - 1).type(), "a fresh session still works: " + m);
            c.sendString('Q', "SELECT 1");
            List<RawPgClient.Message> result = c.readUntil('Z');
            assertEquals('Z', result.get(result.size() - 1).type(), result.toString());
        }
        long deadline = System.currentTimeMillis() + 5_000;
        while (sessions.size() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, sessions.size(), "every session is unregistered once its client is gone");
    }

    private static RawPgClient session() throws Exception {
        RawPgClient c = new RawPgClient(TestStack.gatewayPort());
        List<RawPgClient.Message> m = c.login(TargetDatabases.CONNECTION, TestStack.token("alice"));
        assertEquals('Z', m.get(m.size() - 1).type(), m.toString());
        return c;
    }

    private static void assertProtocolError(RawPgClient c, String messagePart) throws Exception {
        List<RawPgClient.Message> m = c.readUntil('Z');
        RawPgClient.Message last = m.get(m.size() - 1);
        Map<Character, String> f = last.fields();
        assertEquals('E', last.type(), m.toString());
        assertEquals("FATAL", f.get('S'));
        assertEquals("08P01", f.get('C'));
        assertTrue(f.get('M').contains(messagePart), f.toString());
        assertTrue(c.closedByServer(), "connection closed after the protocol error");
    }

    @Test
    void claimed_length_of_4_gib_is_refused_without_allocating() throws Exception {
        try (RawPgClient c = session()) {
            c.sendRaw(ByteBuffer.allocate(5).put((byte) 'Q').putInt(0xFFFFFFFF).array());
            assertProtocolError(c, "message length 4294967295 exceeds the limit");
        }
    }

    @Test
    void claimed_length_just_over_the_limit_is_refused() throws Exception {
        try (RawPgClient c = session()) {
            c.sendRaw(ByteBuffer.allocate(5).put((byte) 'Q').putInt(64 * 1024 * 1024 + 1).array());
            assertProtocolError(c, "exceeds the limit of 67108864 bytes");
        }
    }

    @Test
    void length_shorter_than_the_length_field_is_refused() throws Exception {
        try (RawPgClient c = session()) {
            c.sendRaw(ByteBuffer.allocate(5).put((byte) 'Q').putInt(2).array());
            assertProtocolError(c, "invalid message length 2");
        }
    }

    @Test
    void a_bind_whose_fields_overrun_the_message_is_refused() throws Exception {
        try (RawPgClient c = session()) {
            // a text never seen before: its decision comes from OPA asynchronously, and the Bind waits for it
            String sql = "SELECT 1 AS never_seen_" + java.util.UUID.randomUUID().toString().replace("-", "");
            c.send('P', ("\0" + sql + "\0\0\0").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            // portal "", statement "", no parameter formats, then claims 5 parameters and ends
            c.send('B', new byte[] {0, 0, 0, 0, 0, 5});
            assertProtocolError(c, "malformed Bind message: it ends before its fields do");
        }
    }

    /**
     * Every frontend message type with a body cut short at every length below its smallest valid body (a prefix of
     * that smallest valid message): each is a FATAL 08P01 naming what is wrong, never an internal error, and the next
     * connection is served.
     */
    @Test
    void every_message_type_cut_short_is_a_protocol_error() throws Exception {
        Map<Character, byte[]> smallest = new java.util.LinkedHashMap<>();
        smallest.put('B', new byte[] {0, 0, 0, 0, 0, 0, 0, 0}); // portal, statement, 0 formats, 0 parameters, 0 result formats
        smallest.put('C', new byte[] {'S', 0});
        smallest.put('D', new byte[] {'S', 0});
        smallest.put('E', new byte[] {0, 0, 0, 0, 0}); // portal, row limit
        smallest.put('F', new byte[] {0, 0, 0, 16, 0, 0, 0, 0, 0, 0}); // oid, 0 formats, 0 arguments, result format
        smallest.put('P', new byte[] {0, 0, 0, 0}); // statement, query, 0 parameter types
        smallest.put('Q', new byte[] {0});
        smallest.put('f', new byte[] {0}); // CopyFail: its error message
        smallest.put('p', new byte[] {0}); // a password after authentication is refused at any length
        Map<Character, String> names = Map.of('B', "malformed Bind message", 'C', "malformed Close message",
                'D', "malformed Describe message", 'E', "malformed Execute message", 'F', "malformed FunctionCall message",
                'P', "malformed Parse message", 'Q', "malformed Query message", 'f', "malformed CopyFail message",
                'p', "unexpected password message");
        String token = TestStack.token("alice");
        int sent = 0;
        for (var e : smallest.entrySet()) {
            for (int length = 0; length < e.getValue().length; length++) {
                try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
                    List<RawPgClient.Message> m = c.login(TargetDatabases.CONNECTION, token);
                    assertEquals('Z', m.get(m.size() - 1).type(), "the gateway still serves after " + sent + " short messages: " + m);
                    c.send(e.getKey(), java.util.Arrays.copyOf(e.getValue(), length));
                    List<RawPgClient.Message> answer = c.readUntil('Z');
                    String what = "'" + e.getKey() + "' with a body of " + length + " bytes: " + answer;
                    RawPgClient.Message last = answer.get(answer.size() - 1);
                    assertEquals('E', last.type(), what);
                    assertEquals("FATAL", last.fields().get('S'), what);
                    assertEquals("08P01", last.fields().get('C'), what);
                    assertTrue(last.fields().get('M').startsWith("invalid message from the client: " + names.get(e.getKey())), what);
                    assertTrue(c.closedByServer(), what);
                    sent++;
                }
            }
        }
        assertEquals(34, sent);
    }

    @Test
    void unknown_message_type_is_refused() throws Exception {
        try (RawPgClient c = session()) {
            c.send('!', new byte[] {0});
            assertProtocolError(c, "invalid frontend message type '!'");
        }
    }

    @Test
    void early_eof_in_the_middle_of_a_message_closes_the_backend_too() throws Exception {
        try (RawPgClient c = session()) {
            c.sendRaw(ByteBuffer.allocate(9).put((byte) 'Q').putInt(100).put("SELE".getBytes()).array());
        }
        // @AfterEach checks the session was torn down and the gateway still serves
    }

    @Test
    void bad_startup_packet_length_is_refused() throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            c.sendRaw(ByteBuffer.allocate(8).putInt(0x7FFFFFFF).putInt(196608).array());
            assertProtocolError(c, "invalid startup packet length");
        }
    }

    @Test
    void unsupported_protocol_version_is_refused() throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            c.tls();
            c.sendRaw(ByteBuffer.allocate(9).putInt(9).putInt(2 << 16).put((byte) 0).array());
            List<RawPgClient.Message> m = c.readUntil('Z');
            assertEquals("0A000", m.get(m.size() - 1).fields().get('C'), m.toString());
        }
    }

    @Test
    void gssenc_request_is_declined_and_the_client_can_go_on() throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            c.sendRaw(ByteBuffer.allocate(8).putInt(8).putInt(80877104).array());
            assertEquals('N', c.readByte(), "GSSAPI encryption is declined");
            List<RawPgClient.Message> m = c.login(TargetDatabases.CONNECTION, TestStack.token("alice"));
            assertEquals('Z', m.get(m.size() - 1).type(), m.toString());
        }
    }

    @Test
    void data_smuggled_after_ssl_request_is_refused() throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            byte[] startup = ByteBuffer.allocate(9).putInt(9).putInt(196608).put((byte) 0).array();
            c.sendRaw(ByteBuffer.allocate(17).putInt(8).putInt(80877103).put(startup).array());
            assertTrue(c.closedByServer(), "the gateway must not accept plaintext bytes queued behind an SSLRequest");
        }
    }

    @Test
    void client_that_stalls_during_startup_is_disconnected_after_the_startup_timeout() throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            c.tls();
            c.startup("agent", TargetDatabases.CONNECTION);
            assertEquals('R', c.read().type());
            long start = System.nanoTime();
            // never answer the password request (test profile: startup-timeout=3s)
            List<RawPgClient.Message> m = c.readUntil('Z');
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals("08P01", m.get(m.size() - 1).fields().get('C'), m.toString());
            assertTrue(m.get(m.size() - 1).fields().get('M').contains("did not finish startup"), m.toString());
            assertTrue(waitedMs >= 2_000, "closed only after the timeout, not before: " + waitedMs + " ms");
        }
    }

    /** A trickle of bytes (one a second, under the 3 s of the test profile) does not extend the startup deadline. */
    @Test
    void client_that_trickles_its_startup_is_cut_at_the_deadline() throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            long start = System.nanoTime();
            Thread trickle = new Thread(() -> {
                try {
                    c.sendRaw(ByteBuffer.allocate(4).putInt(1000).array()); // a startup packet of 1000 bytes, sent slowly
                    for (int i = 0; i < 996; i++) {
                        Thread.sleep(1_000);
                        c.sendRaw(new byte[] {'x'});
                    }
                } catch (Exception closed) {
                    // the gateway cut the connection
                }
            });
            trickle.setDaemon(true);
            trickle.start();
            List<RawPgClient.Message> m = c.readUntil('Z');
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            trickle.interrupt();
            assertEquals("08P01", m.get(m.size() - 1).fields().get('C'), m.toString());
            assertEquals("the session did not finish startup and authentication within 3 s", m.get(m.size() - 1).fields().get('M'));
            assertTrue(waitedMs >= 2_500 && waitedMs < 10_000, "cut at the deadline, not before and not never: " + waitedMs + " ms");
        }
    }

    /** Bytes right behind the startup message, in the same packet, are framed like any later ones. */
    @Test
    void password_right_behind_the_startup_message_logs_in_and_garbage_there_is_a_protocol_error() throws Exception {
        String token = TestStack.token("alice");
        byte[] password = ByteBuffer.allocate(5 + token.length() + 1).put((byte) 'p').putInt(4 + token.length() + 1)
                .put(token.getBytes(java.nio.charset.StandardCharsets.UTF_8)).put((byte) 0).array();
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            c.tls();
            c.sendRaw(concat(startupPacket("alice"), password));
            List<RawPgClient.Message> m = c.readUntil('Z');
            assertEquals('Z', m.get(m.size() - 1).type(), m.toString());
        }
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            c.tls();
            c.sendRaw(concat(startupPacket("alice"), new byte[] {'p', 0, 0}));
            List<RawPgClient.Message> m = c.readUntil('Z');
            assertEquals("08P01", m.get(m.size() - 1).fields().get('C'), m.toString());
        }
    }

    private static byte[] startupPacket(String user) {
        byte[] params = ("user\0" + user + "\0database\0" + TargetDatabases.CONNECTION + "\0\0").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + params.length).putInt(8 + params.length).putInt(196608).put(params).array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    @Test
    void wrong_message_during_authentication_is_refused() throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            c.tls();
            c.startup("agent", TargetDatabases.CONNECTION);
            assertEquals('R', c.read().type());
            c.sendString('Q', "SELECT 1");
            assertProtocolError(c, "expected a password message");
        }
    }
}
