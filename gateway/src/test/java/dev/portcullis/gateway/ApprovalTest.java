package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.Approver;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.PolicyTargets;
import dev.portcullis.gateway.testing.RawPgClient;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Just-in-time approval on the wire (issue #14), with the real OPA's default policies: alice (dba) deleting every row of
 * a production table is held until an approver decides. The approver's side is played here by writing what the admin
 * API writes (a vote and the request's new state) in the real PostgreSQL, whose NOTIFY releases the statement.
 */
@QuarkusTest
@TestProfile(ApprovalTest.HeldBeforeARestart.class)
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class ApprovalTest {
    private static final String DELETE_ALL = "DELETE FROM policy_users";
    private static final Pattern REQUEST_ID = Pattern.compile("approval required: request ([0-9a-f-]{36}), waiting for");

    /** A pending request of this gateway, made before it starts: it must be abandoned, never left pending. */
    public static class HeldBeforeARestart implements QuarkusTestProfile {
        static final UUID ORPHAN = UUID.nameUUIDFromBytes("approval-test-orphan".getBytes(StandardCharsets.UTF_8));

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(Orphan.class));
        }
    }

    public static class Orphan implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            try {
                new StackResource().start(); // the schema must be there first
                Approver.insertPending(HeldBeforeARestart.ORPHAN, Approver.thisGateway(TestStack.gatewayPort()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return Map.of();
        }

        @Override
        public void stop() {
        }
    }

    @BeforeEach
    void rows() throws Exception {
        PolicyTargets.ensure();
        PolicyTargets.resetUsers(5);
    }

    @Test
    void a_request_held_before_the_gateway_restarted_is_abandoned_not_left_pending() throws Exception {
        assertEquals("abandoned", Approver.state(HeldBeforeARestart.ORPHAN));
    }

    /** psql running a script, its stderr read as it comes, so a notice is seen while the statement still waits. */
    private static final class Psql implements AutoCloseable {
        final Process process;
        final LinkedBlockingQueue<String> stderr = new LinkedBlockingQueue<>();
        final CompletableFuture<String> stdout;

        Psql(String token, String connection, String script) throws Exception {
            process = Cli.start(Cli.gatewayEnv(token, connection), "psql", "-X", "-At", "-v", "ON_ERROR_STOP=0", "-c", script);
            process.getOutputStream().close();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        stderr.add(line);
                    }
                } catch (Exception e) {
                    stderr.add("(stderr closed: " + e + ")");
                }
            });
            reader.setDaemon(true);
            reader.start();
            stdout = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (Exception e) {
                    return "";
                }
            });
        }

        /** The approval request id from the first notice; fails unless it comes while psql still runs. */
        UUID awaitNotice() throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                String line = stderr.poll(200, TimeUnit.MILLISECONDS);
                if (line != null) {
                    Matcher m = REQUEST_ID.matcher(line);
                    if (m.find()) {
                        assertTrue(process.isAlive(), "the notice comes while the statement waits");
                        assertTrue(line.startsWith("NOTICE:"), line);
                        return UUID.fromString(m.group(1));
                    }
                }
            }
            throw new AssertionError("no approval notice within 30 s; stderr so far: " + stderr);
        }

        String finish() throws Exception {
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "psql ends once the approval ends");
            Thread.sleep(100);
            return stdout.get(5, TimeUnit.SECONDS) + String.join("\n", stderr);
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    @Test
    void a_held_statement_waits_with_a_notice_then_runs_once_approved_and_the_recording_shows_it_all() throws Exception {
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        try (Psql psql = new Psql(TestStack.token("alice"), PolicyTargets.PROD, DELETE_ALL)) {
            UUID id = psql.awaitNotice();
            assertEquals(5, PolicyTargets.countUsers(), "nothing runs before the approval");
            Map<String, Object> row = Approver.request(id);
            assertEquals("pending", row.get("state"));
            assertEquals("alice", row.get("identity_subject"));
            assertEquals(PolicyTargets.PROD, row.get("connection_name"));
            assertEquals(DELETE_ALL, row.get("request_text"));
            assertTrue(row.get("summary").toString().startsWith("DELETE FROM policy_users"), row.toString());
            Approver.approve(id, "carol", "go ahead");
            String out = psql.finish();
            assertTrue(out.contains("DELETE 5"), out);
            assertEquals(0, PolicyTargets.countUsers(), "it ran, in the same session: " + out);
            String sessionId = row.get("session_id").toString();
            TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark, e -> e.get("session_id").asText().equals(sessionId),
                    SessionEventsTopic::ended, Duration.ofSeconds(30));
            List<String> what = events.values().stream().map(e -> e.get("type").asText()
                    + (e.has("state") ? ":" + e.get("state").asText() : "")).toList();
            assertTrue(what.containsAll(List.of("request", "approval:pending", "approval:approved", "result")), what.toString());
            JsonNode approved = events.values().stream().filter(e -> "approved".equals(e.path("state").asText())).findFirst().orElseThrow();
            assertEquals("carol", approved.get("approver").asText());
            assertEquals(id.toString(), approved.get("request_id").asText());
        }
    }

    private static CompletableFuture<SQLException> heldThroughJdbc(Connection c) {
        return CompletableFuture.supplyAsync(() -> {
            try (Statement st = c.createStatement()) {
                st.executeUpdate(DELETE_ALL);
                return null;
            } catch (SQLException e) {
                return e;
            }
        });
    }

    @Test
    void a_denied_request_fails_with_who_denied_it_and_why_and_the_session_goes_on() throws Exception {
        try (Connection c = Jdbc.viaGateway(PolicyTargets.PROD, TestStack.token("alice"))) {
            String session = ((org.postgresql.PGConnection) c).getParameterStatus("portcullis.session_id");
            CompletableFuture<SQLException> held = heldThroughJdbc(c);
            UUID id = Approver.awaitPending(session);
            Approver.deny(id, "carol", "not during the freeze");
            SQLException e = held.get(30, TimeUnit.SECONDS);
            assertEquals("42501", e.getSQLState());
            assertTrue(e.getMessage().contains("denied") && e.getMessage().contains("carol") && e.getMessage().contains("not during the freeze"),
                    e.getMessage());
            assertEquals(5, PolicyTargets.countUsers());
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM policy_users")) {
                assertTrue(rs.next(), "the session stays usable");
                assertEquals(5, rs.getInt(1));
            }
        }
    }

    @Test
    void an_expired_request_fails_saying_so() throws Exception {
        try (Connection c = Jdbc.viaGateway(PolicyTargets.PROD, TestStack.token("alice"))) {
            String session = ((org.postgresql.PGConnection) c).getParameterStatus("portcullis.session_id");
            CompletableFuture<SQLException> held = heldThroughJdbc(c);
            UUID id = Approver.awaitPending(session);
            Approver.expire(id);
            SQLException e = held.get(30, TimeUnit.SECONDS);
            assertTrue(e.getMessage().contains("expired"), e.getMessage());
            assertEquals(5, PolicyTargets.countUsers());
        }
    }

    @Test
    void the_client_cancelling_withdraws_the_request() throws Exception {
        try (Psql psql = new Psql(TestStack.token("alice"), PolicyTargets.PROD, DELETE_ALL)) {
            UUID id = psql.awaitNotice();
            new ProcessBuilder("kill", "-INT", Long.toString(psql.process.pid())).start().waitFor();
            String out = psql.finish();
            assertTrue(out.contains("canceling statement due to user request"), out);
            assertEquals("withdrawn", Approver.awaitEnded(id));
            assertEquals(5, PolicyTargets.countUsers());
        }
    }

    @Test
    void the_client_disconnecting_withdraws_the_request() throws Exception {
        Connection c = Jdbc.viaGateway(PolicyTargets.PROD, TestStack.token("alice"));
        String session = ((org.postgresql.PGConnection) c).getParameterStatus("portcullis.session_id");
        heldThroughJdbc(c);
        UUID id = Approver.awaitPending(session);
        c.abort(Runnable::run);
        assertEquals("withdrawn", Approver.awaitEnded(id));
        assertEquals(5, PolicyTargets.countUsers());
    }

    @Test
    void statements_pipelined_behind_a_held_one_wait_and_keep_their_order() throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            c.login(PolicyTargets.PROD, TestStack.token("alice"));
            c.sendString('Q', DELETE_ALL);
            c.sendString('Q', "SELECT count(*) FROM policy_users");
            c.sendString('Q', "SELECT 'third'");
            RawPgClient.Message notice = c.read();
            assertEquals('N', notice.type(), "first the notice, and nothing of what follows: " + notice.text());
            Matcher m = REQUEST_ID.matcher(notice.text());
            assertTrue(m.find(), notice.text());
            Approver.approve(UUID.fromString(m.group(1)), "carol", null);
            List<RawPgClient.Message> answers = new java.util.ArrayList<>();
            for (int ready = 0; ready < 3; ) {
                RawPgClient.Message msg = c.read();
                if (msg.type() == 'N') {
                    continue; // a reminder may come before the approval lands
                }
                answers.add(msg);
                if (msg.type() == 'Z') {
                    ready++;
                }
            }
            List<String> shape = answers.stream().map(a -> String.valueOf(a.type())).toList();
            assertEquals(List.of("C", "Z", "T", "D", "C", "Z", "T", "D", "C", "Z"), shape, "in order: " + answers);
            assertTrue(answers.get(0).text().startsWith("DELETE 5"), answers.get(0).text());
            assertTrue(answers.get(3).text().contains("0"), "the count runs after the DELETE: " + answers.get(3).text());
            assertTrue(answers.get(7).text().contains("third"));
        }
    }

    @Test
    void a_grant_takes_effect_for_the_identity_s_open_sessions_and_its_revocation_too() throws Exception {
        dev.portcullis.gateway.testing.MaskingTargets.ensure();
        Approver.revokeAll("bob", PolicyTargets.DEV);
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("bob")); Statement st = c.createStatement()) {
            assertEquals("j***@example.com", firstEmail(st));
            UUID grant = Approver.grant("bob", PolicyTargets.DEV, "unmask", Duration.ofMinutes(5));
            assertEquals("jane.doe@example.com", within(Duration.ofSeconds(2), () -> firstEmail(st), "jane.doe@example.com"),
                    "the grant reaches the open session within a second or two");
            Approver.revoke(grant);
            assertEquals("j***@example.com", within(Duration.ofSeconds(2), () -> firstEmail(st), "j***@example.com"),
                    "and so does its revocation");
        }
    }

    private static String firstEmail(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT email FROM users ORDER BY id LIMIT 1")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private interface Query {
        String run() throws SQLException;
    }

    private static String within(Duration time, Query q, String expected) throws Exception {
        long deadline = System.nanoTime() + time.toNanos();
        String got = q.run();
        while (!expected.equals(got) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            got = q.run();
        }
        return got;
    }

    @Test
    void the_held_request_is_recorded_for_approvers_with_what_the_policy_said() throws Exception {
        try (Connection c = Jdbc.viaGateway(PolicyTargets.PROD, TestStack.token("alice"))) {
            String session = ((org.postgresql.PGConnection) c).getParameterStatus("portcullis.session_id");
            CompletableFuture<SQLException> held = heldThroughJdbc(c);
            UUID id = Approver.awaitPending(session);
            Map<String, Object> row = Approver.request(id);
            assertEquals("pg/destructive-on-prod", row.get("policy"));
            assertFalse(row.get("approver_groups").toString().isEmpty());
            assertTrue(((java.time.OffsetDateTime) row.get("expires_at")).isAfter(java.time.OffsetDateTime.now().plusMinutes(9)),
                    "ten minutes by default: " + row.get("expires_at"));
            Approver.deny(id, "carol", "just looking");
            assertEquals("42501", held.get(30, TimeUnit.SECONDS).getSQLState());
        }
    }
}
