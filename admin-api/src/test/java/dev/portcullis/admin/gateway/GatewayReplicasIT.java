package dev.portcullis.admin.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.contract.testing.AppProcess;
import dev.portcullis.contract.testing.StackEnv;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two gateway processes, each with an OPA of its own (the stack's, and one this test starts on the same bundle, as
 * two sidecars would be), and an admin API process, on one PostgreSQL: the admin API's view of the replicas, and a
 * kill that crosses processes.
 */
class GatewayReplicasIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    private static final String CONNECTION = "replicas-dev-" + RUN;
    /** A block of ports beside the gateway test's own (ApprovalAcrossReplicasIT takes +40 to +43). */
    private static final int PG_BASE = StackEnv.port("GATEWAY_TEST_PG_PORT") + 50;
    private static final int HTTP_BASE = StackEnv.port("GATEWAY_TEST_HTTP_PORT") + 50;
    private static final int ADMIN_PORT = HTTP_BASE + 2;
    private static final int SECOND_OPA_PORT = HTTP_BASE + 3;
    private static final List<AppProcess> APPS = new ArrayList<>();
    private static Process secondOpa;

    @BeforeAll
    static void start() throws Exception {
        StackEnv.ensureUp();
        Path logs = Path.of("target/gateway-replicas-" + RUN);
        Files.createDirectories(logs);
        secondOpa = new ProcessBuilder(StackEnv.ROOT.resolve(".tools/bin/opa").toString(), "run", "--server",
                "--skip-version-check", "--addr", StackEnv.host() + ":" + SECOND_OPA_PORT,
                "--bundle", StackEnv.ROOT.resolve("policies-rego/bundle").toString())
                .redirectErrorStream(true).redirectOutput(logs.resolve("opa-1.log").toFile()).start();
        awaitOk(URI.create("http://" + StackEnv.host() + ":" + SECOND_OPA_PORT + "/health?bundles"));
        String[] opaUrls = {StackEnv.get("OPA_URL"), "http://" + StackEnv.host() + ":" + SECOND_OPA_PORT};
        for (int g = 0; g < 2; g++) {
            APPS.add(AppProcess.start("gateway", HTTP_BASE + g, logs.resolve("gateway-" + g + ".log"), List.of(
                    "-Dportcullis.kubernetes.enabled=false", "-Dportcullis.ssh.enabled=false", "-Dportcullis.postgres.port=" + (PG_BASE + g),
                    "-Dportcullis.opa.url=" + opaUrls[g],
                    "-Dportcullis.heartbeat-interval=1s",
                    "-Dportcullis.postgres.tls-cert=" + StackEnv.ROOT.resolve(".stack/tls/server.crt"),
                    "-Dportcullis.postgres.tls-key=" + StackEnv.ROOT.resolve(".stack/tls/server.key"),
                    "-Dportcullis.recording.journal-dir=" + logs.resolve("journal-" + g).toAbsolutePath())));
        }
        APPS.add(AppProcess.start("admin-api", ADMIN_PORT, logs.resolve("admin-api.log"), List.of()));
        StackEnv.registerDemoConnection(CONNECTION, StackEnv.get("DEMO_DEV_DB"), "dev");
    }

    @AfterAll
    static void stop() throws Exception {
        for (AppProcess app : APPS) {
            app.close();
        }
        if (secondOpa != null) {
            secondOpa.destroy();
            secondOpa.waitFor(10, TimeUnit.SECONDS);
        }
        StackEnv.removeConnection(CONNECTION);
    }

    @Test
    void the_policy_revision_is_the_bundles_on_20_consecutive_polls_of_both_replicas() throws Exception {
        String manifest = JSON.readTree(Files.readString(StackEnv.ROOT.resolve("policies-rego/bundle/.manifest")))
                .path("revision").asText();
        assertFalse(manifest.isBlank(), "the bundle's manifest has a revision (policies-rego/check --stamp)");
        Set<String> revisions = new HashSet<>();
        Set<String> loadedAt = new HashSet<>();
        for (int poll = 0; poll < 20; poll++) {
            JsonNode replicas = get("/policy", "dana");
            for (int g = 0; g < 2; g++) {
                JsonNode replica = replica(replicas, PG_BASE + g);
                assertNotNull(replica, "replica " + g + " reports its policy: " + replicas);
                assertTrue(replica.path("opa_healthy").asBoolean(), replica.toString());
                revisions.add(replica.path("policy_revision").asText(null));
                loadedAt.add(g + " " + replica.path("policy_loaded_at").asText(null));
            }
            Thread.sleep(1100); // a heartbeat (1 s) apart: each poll reads a new report
        }
        assertEquals(Set.of(manifest), revisions, "one revision, the manifest's, on every poll of both replicas");
        assertEquals(2, loadedAt.size(), "no replica reloaded: each kept the time it first read the revision " + loadedAt);
    }

    @Test
    void a_kill_through_the_admin_api_ends_a_psql_session_held_by_the_other_gateway_process() throws Exception {
        int heldOn = PG_BASE + 1;
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-A", "-t");
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().putAll(Map.of("PGHOST", StackEnv.host(), "PGPORT", String.valueOf(heldOn),
                "PGDATABASE", CONNECTION, "PGUSER", "alice", "PGPASSWORD", StackEnv.token("alice"), "PGSSLMODE", "require"));
        Process psql = pb.redirectErrorStream(true).start();
        String id = null;
        try (OutputStream stdin = psql.getOutputStream()) {
            stdin.write("SELECT 'before the kill';\n".getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            JsonNode live = awaitLive(heldOn, true);
            id = live.path("id").asText();

            HttpResponse<String> kill = HTTP.send(HttpRequest.newBuilder(admin("/sessions/" + id + "/kill"))
                    .header("Authorization", "Bearer " + StackEnv.token("portcullis-admin"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"reason\": \"replicas test\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(202, kill.statusCode(), kill.body());
            assertTrue(JSON.readTree(kill.body()).path("gateway").asText().endsWith(":" + heldOn), kill.body());

            awaitLive(heldOn, false);
            stdin.write("SELECT 'after the kill';\n".getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        } catch (IOException e) {
            // psql may have gone already, closing its input: what it printed says why
        }
        assertTrue(psql.waitFor(30, TimeUnit.SECONDS), "psql ends once its session is killed");
        String out = new String(psql.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out.contains("before the kill"), out);
        assertTrue(out.contains("an administrator ended this session"), out);
        assertFalse(out.contains("after the kill"), "nothing runs after the kill: " + out);
        assertTrue(psql.exitValue() != 0, "psql reports the lost session: " + out);

        JsonNode audit = get("/audit?action=session.kill&target=session/" + id, "dana");
        assertEquals("replicas test", audit.path("items").path(0).path("details").path("reason").asText(), audit.toString());
        assertEquals("portcullis-admin", audit.path("items").path(0).path("actor_subject").asText(), audit.toString());
    }

    /** Waits until the session on this gateway is listed live (present) or is not any more. */
    private static JsonNode awaitLive(int gatewayPort, boolean present) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            JsonNode found = null;
            for (JsonNode session : get("/sessions/live", "dana")) {
                if (session.path("gateway").asText().endsWith(":" + gatewayPort)
                        && session.path("connection").asText().equals(CONNECTION)) {
                    found = session;
                }
            }
            if ((found != null) == present) {
                return found;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("the session on gateway :" + gatewayPort + (present ? " was never" : " was still")
                + " listed live within 30 s");
    }

    private static JsonNode replica(JsonNode replicas, int gatewayPort) {
        for (JsonNode replica : replicas) {
            if (replica.path("gateway").asText().endsWith(":" + gatewayPort)) {
                return replica;
            }
        }
        return null;
    }

    private static JsonNode get(String path, String clientId) throws Exception {
        HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(admin(path))
                .header("Authorization", "Bearer " + StackEnv.token(clientId)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), path + ": " + answer.body());
        return JSON.readTree(answer.body());
    }

    private static URI admin(String path) {
        return URI.create("http://" + StackEnv.host() + ":" + ADMIN_PORT + path);
    }

    private static void awaitOk(URI uri) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try {
                if (HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError(uri + " did not answer 200 within 30 s");
    }
}
