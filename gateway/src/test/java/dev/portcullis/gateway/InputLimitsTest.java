package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.session.SessionRegistry;
import dev.portcullis.gateway.testing.RawPgClient;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What one peer may take from the gateway: memory for large messages comes from one shared budget (a peer that
 * finds it full is not read), connections are capped per source address and per identity.
 */
@QuarkusTest
@TestProfile(InputLimitsTest.Limits.class)
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class InputLimitsTest {
    static final long BUDGET = 64L * 1024 * 1024;
    static final int PER_SOURCE = 6;
    static final int PER_IDENTITY = 3;

    public static class Limits implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("portcullis.postgres.frame-budget-bytes", Long.toString(BUDGET),
                    "portcullis.postgres.max-connections-per-source", Integer.toString(PER_SOURCE),
                    "portcullis.postgres.max-connections-per-identity", Integer.toString(PER_IDENTITY));
        }
    }

    @Inject
    SessionRegistry sessions;

    @BeforeEach
    void targetAndNoSessionsLeft() throws Exception {
        TargetDatabases.ensure();
        long deadline = System.currentTimeMillis() + 10_000;
        while (sessions.size() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, sessions.size(), "no session of an earlier test is left to count");
    }

    private static long directMemory() {
        return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
    }

    private static RawPgClient session(String token) throws Exception {
        RawPgClient c = new RawPgClient(TestStack.gatewayPort());
        List<RawPgClient.Message> m = c.login(TargetDatabases.CONNECTION, token);
        assertEquals('Z', m.get(m.size() - 1).type(), m.toString());
        return c;
    }

    /** Logs in, retrying while the gateway has not yet counted closed connections out. */
    private static List<RawPgClient.Message> loginEventually(String token) throws Exception {
        long deadline = System.currentTimeMillis() + 5_000;
        while (true) {
            try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
                List<RawPgClient.Message> m = c.login(TargetDatabases.CONNECTION, token);
                if (m.get(m.size() - 1).type() == 'Z' || System.currentTimeMillis() > deadline) {
                    return m;
                }
            }
            Thread.sleep(100);
        }
    }

    @Test
    void unfinished_large_messages_take_no_more_than_the_budget_and_a_whole_one_still_runs() throws Exception {
        assertTrue(ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider, "the gateway's allocator reports its memory");
        String[] who = {"alice", "alice", "agent-ci"};
        int unfinished = 48 * 1024 * 1024;
        long before = directMemory();
        AtomicLong peak = new AtomicLong(before);
        List<RawPgClient> clients = new ArrayList<>();
        List<Thread> senders = new ArrayList<>();
        AtomicLong sent = new AtomicLong();
        try {
            for (String identity : who) {
                RawPgClient c = session(TestStack.token(identity));
                clients.add(c);
                Thread t = new Thread(() -> {
                    try {
                        // a Query of 64 MiB (the largest message allowed) of which only 48 MiB ever come
                        c.sendRaw(ByteBuffer.allocate(5).put((byte) 'Q').putInt(64 * 1024 * 1024).array());
                        byte[] chunk = new byte[1024 * 1024];
                        java.util.Arrays.fill(chunk, (byte) ' ');
                        for (int i = 0; i < unfinished / chunk.length; i++) {
                            c.sendRaw(chunk);
                            sent.addAndGet(chunk.length);
                        }
                    } catch (Exception closed) {
                        // the test closed the connection while the gateway was not reading it
                    }
                });
                t.setDaemon(true);
                t.start();
                senders.add(t);
            }
            // sample until the sending has stopped for 3 s (what is not read waits in the clients)
            long last = -1;
            long stableSince = System.currentTimeMillis();
            long giveUp = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() - stableSince < 3_000 && System.currentTimeMillis() < giveUp) {
                peak.accumulateAndGet(directMemory(), Math::max);
                if (sent.get() != last) {
                    last = sent.get();
                    stableSince = System.currentTimeMillis();
                }
                Thread.sleep(20);
            }
            peak.accumulateAndGet(directMemory(), Math::max);
            long grown = peak.get() - before;
            assertTrue(sent.get() >= unfinished, "one message has room and arrives in full: " + sent.get());
            assertTrue(sent.get() < (long) who.length * unfinished, "the others wait for room: " + sent.get() + " bytes sent");
            assertTrue(grown < BUDGET + 16L * 1024 * 1024, "memory grew by " + grown / (1024 * 1024) + " MiB with a budget of "
                    + BUDGET / (1024 * 1024) + " MiB (" + who.length + " peers sending 48 MiB each)");
        } finally {
            for (RawPgClient c : clients) {
                c.abort(); // its sender may be blocked writing what the gateway does not read
            }
        }
        for (Thread t : senders) {
            t.join(10_000);
        }
        // once they are gone, their room is given back: a whole large query runs
        StringBuilder sql = new StringBuilder(16 * 1024 * 1024 + 64).append("SELECT length('");
        sql.append("x".repeat(16 * 1024 * 1024)).append("')");
        List<RawPgClient.Message> login = loginEventually(TestStack.token("alice"));
        assertEquals('Z', login.get(login.size() - 1).type(), login.toString());
        try (RawPgClient c = session(TestStack.token("alice"))) {
            c.sendString('Q', sql.toString());
            List<RawPgClient.Message> result = c.readUntil('Z');
            assertTrue(result.stream().anyMatch(m -> m.type() == 'D' && m.text().endsWith(Integer.toString(16 * 1024 * 1024))),
                    result.size() > 5 ? result.subList(0, 5).toString() : result.toString());
            assertEquals('Z', result.get(result.size() - 1).type());
        }
    }

    @Test
    void one_identity_may_hold_only_so_many_sessions() throws Exception {
        String token = TestStack.token("alice");
        List<RawPgClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < PER_IDENTITY; i++) {
                held.add(session(token));
            }
            try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
                List<RawPgClient.Message> m = c.login(TargetDatabases.CONNECTION, token);
                Map<Character, String> e = m.get(m.size() - 1).fields();
                assertEquals("FATAL", e.get('S'), m.toString());
                assertEquals("53300", e.get('C'));
                assertEquals("too many connections for alice: at most 3 sessions at once per identity", e.get('M'));
                assertTrue(c.closedByServer());
            }
            try (RawPgClient other = session(TestStack.token("agent-ci"))) {
                // another identity is not affected
            }
        } finally {
            for (RawPgClient c : held) {
                c.close();
            }
        }
        List<RawPgClient.Message> m = loginEventually(token);
        assertEquals('Z', m.get(m.size() - 1).type(), "alice logs in again once her sessions ended: " + m);
    }

    @Test
    void one_source_address_may_hold_only_so_many_connections() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < PER_SOURCE; i++) {
                // counted from accept, logged in or not: these only ask for TLS, and wait for the answer so the
                // gateway has surely taken them on
                Socket s = new Socket(TestStack.host(), TestStack.gatewayPort());
                held.add(s);
                s.getOutputStream().write(ByteBuffer.allocate(8).putInt(8).putInt(80877103).array());
                assertEquals('S', s.getInputStream().read());
            }
            try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
                List<RawPgClient.Message> m = c.login(TargetDatabases.CONNECTION, TestStack.token("alice"));
                assertEquals('E', m.get(m.size() - 1).type(), m.toString());
                Map<Character, String> e = m.get(m.size() - 1).fields();
                assertEquals("FATAL", e.get('S'), m.toString());
                assertEquals("53300", e.get('C'));
                assertEquals("too many connections from " + TestStack.host() + ": at most 6 at once from one address", e.get('M'));
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
        List<RawPgClient.Message> m = loginEventually(TestStack.token("alice"));
        assertEquals('Z', m.get(m.size() - 1).type(), "the address is served again once its connections closed: " + m);
    }
}
