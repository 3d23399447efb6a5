package dev.portcullis.recorder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.contract.SecretSealer;
import dev.portcullis.contract.testing.AppProcess;
import dev.portcullis.contract.testing.StackEnv;
import dev.portcullis.recorder.testing.PrivateServices;
import dev.portcullis.recorder.testing.RecorderProcess;
import dev.portcullis.recorder.testing.Stack;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole pipeline with the packaged apps: a psql session through the gateway is recorded to Kafka, stored by
 * the recorder in PostgreSQL and S3, and replayed by the admin API exactly as it ran: what was executed, what was
 * denied and why, what was masked by which rule, in order, with a hash chain that verifies.
 */
class EndToEndRecordingIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final int GATEWAY_PG_PORT = 25442 + PrivateServices.PORT_OFFSET;
    private static final int GATEWAY_HTTP_PORT = 18197 + PrivateServices.PORT_OFFSET;
    private static final int ADMIN_HTTP_PORT = 18198 + PrivateServices.PORT_OFFSET;
    private static final int RECORDER_HTTP_PORT = 29081 + PrivateServices.PORT_OFFSET;
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    private static final String TOPIC = "portcullis.session-events.e2e-" + RUN;
    private static final String CONNECTION = "e2e-" + RUN;
    private static final List<AppProcess> APPS = new ArrayList<>();
    private static RecorderProcess recorder;

    @BeforeAll
    static void start() throws Exception {
        Stack.ensureUp();
        Path logs = Path.of("target/e2e-" + RUN);
        Files.createDirectories(logs);
        recorder = RecorderProcess.start(logs.resolve("recorder.log"), RECORDER_HTTP_PORT, List.of(
                "-Dquarkus.http.port=" + RECORDER_HTTP_PORT,
                "-Dportcullis.recorder.kafka.topic=" + TOPIC,
                "-Dportcullis.recorder.kafka.group-id=portcullis-recorder-e2e-" + RUN));
        APPS.add(AppProcess.start("gateway", GATEWAY_HTTP_PORT, logs.resolve("gateway.log"), List.of(
                "-Dportcullis.kubernetes.enabled=false", "-Dportcullis.ssh.enabled=false", "-Dportcullis.postgres.port=" + GATEWAY_PG_PORT,
                "-Dportcullis.postgres.tls-cert=" + Stack.ROOT.resolve(".stack/tls/server.crt"),
                "-Dportcullis.postgres.tls-key=" + Stack.ROOT.resolve(".stack/tls/server.key"),
                "-Dportcullis.recording.topic=" + TOPIC,
                "-Dportcullis.recording.journal-dir=" + logs.resolve("journal").toAbsolutePath())));
        APPS.add(AppProcess.start("admin-api", ADMIN_HTTP_PORT, logs.resolve("admin-api.log"), List.of()));
        register();
    }

    /** The seeded demo_dev database as a development connection of this run, its password sealed as the admin API does. */
    private static void register() throws Exception {
        byte[] sealed = SecretSealer.fromBase64Key(Stack.get("PORTCULLIS_SECRET_KEY")).seal(CONNECTION, Stack.get("DEMO_DB_PASSWORD"));
        try (Connection c = Stack.portcullisDb(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO connections (name, type, host, port, database, username, secret, tls_mode, tags)"
                        + " VALUES (?, 'postgres', ?, ?, ?, ?, ?, 'require', '{\"env\":\"dev\"}'::jsonb)")) {
            ps.setString(1, CONNECTION);
            ps.setString(2, Stack.get("STACK_HOST"));
            ps.setInt(3, Integer.parseInt(Stack.get("PG_PORT")));
            ps.setString(4, Stack.get("DEMO_DEV_DB"));
            ps.setString(5, Stack.get("DEMO_DB_USER"));
            ps.setBytes(6, sealed);
            ps.executeUpdate();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (AppProcess app : APPS) {
            app.close();
        }
        if (recorder != null) {
            recorder.close();
        }
        try (Connection c = Stack.portcullisDb(); PreparedStatement ps = c.prepareStatement("DELETE FROM connections WHERE name = ?")) {
            ps.setString(1, CONNECTION);
            ps.executeUpdate();
        }
    }

    private static HttpResponse<String> admin(String method, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ADMIN_HTTP_PORT + path))
                .header("Authorization", "Bearer " + StackEnv.token("portcullis-admin"))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String psql(String token, String script) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=0", "-f", "-");
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().putAll(java.util.Map.of("PGHOST", "127.0.0.1", "PGPORT", String.valueOf(GATEWAY_PG_PORT),
                "PGDATABASE", CONNECTION, "PGUSER", "agent-ci", "PGPASSWORD", token, "PGSSLMODE", "require"));
        Process p = pb.redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(script.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "psql finished");
        return out;
    }

    @Test
    void a_psql_session_is_replayed_as_it_ran() throws Exception {
        String select = "SELECT name, email FROM users ORDER BY id LIMIT 2;";
        String delete = "DELETE FROM orders;";
        String out = psql(StackEnv.token("agent-ci"), select + "\n" + delete + "\n");
        assertTrue(out.contains("James Smith|j***@example.org"), "psql saw the masked rows: " + out);
        assertTrue(out.contains("Portcullis denied this statement"), out);

        // the recorder stores the session; the admin API lists it once it has ended
        JsonNode session = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (session == null && System.nanoTime() < deadline) {
            HttpResponse<String> list = admin("GET", "/sessions?connection=" + CONNECTION + "&limit=100");
            assertEquals(200, list.statusCode(), list.body());
            for (JsonNode s : JSON.readTree(list.body()).get("items")) {
                if (CONNECTION.equals(s.get("connection").asText()) && !s.get("end_reason").isNull() && s.get("events").asLong() == 5) {
                    session = s;
                }
            }
            Thread.sleep(250);
        }
        assertTrue(session != null, "the session was recorded within 60 s; recorder log: " + recorder.log());
        String id = session.get("id").asText();
        assertEquals("agent-ci", session.get("identity_subject").asText());
        assertEquals(2, session.get("requests").asLong());
        assertEquals(1, session.get("denials").asLong());

        HttpResponse<String> replay = admin("GET", "/sessions/" + id + "/events");
        assertEquals(200, replay.statusCode(), replay.body());
        List<JsonNode> events = new ArrayList<>();
        JSON.readTree(replay.body()).get("events").forEach(events::add);
        assertEquals(List.of("session.started", "request", "result", "request", "session.ended"),
                events.stream().map(e -> e.get("type").asText()).toList());
        for (int i = 0; i < events.size(); i++) {
            assertEquals(i + 1, events.get(i).get("seq").asLong(), "in order");
        }
        assertEquals(select, events.get(1).get("text").asText());
        assertTrue(events.get(1).get("decision").get("allow").asBoolean());
        JsonNode result = events.get(2);
        assertEquals(2, result.get("details").get("rows").asLong());
        assertEquals("SELECT 2", result.get("details").get("command_tag").asText());
        assertEquals("pii/email", result.get("masked").get(0).get("rule").asText());
        assertEquals("email", result.get("masked").get(0).get("source_column").asText());
        assertEquals(delete, events.get(3).get("text").asText());
        assertFalse(events.get(3).get("decision").get("allow").asBoolean(), "the denial is recorded");
        assertFalse(replay.body().contains("james.smith@"), "no masked value in the recording");

        HttpResponse<String> transcript = admin("GET", "/sessions/" + id + "/transcript");
        assertEquals(200, transcript.statusCode());
        assertTrue(transcript.body().contains(select) && transcript.body().contains(delete), transcript.body());

        HttpResponse<String> verify = admin("POST", "/sessions/" + id + "/verify");
        assertEquals(200, verify.statusCode(), verify.body());
        assertTrue(JSON.readTree(verify.body()).get("ok").asBoolean(), verify.body());
    }
}
