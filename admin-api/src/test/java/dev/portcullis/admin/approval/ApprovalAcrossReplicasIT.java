package dev.portcullis.admin.approval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.contract.testing.AppProcess;
import dev.portcullis.contract.testing.StackEnv;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Approval across replicas, with the packaged apps: two gateway processes and two admin API processes on one
 * PostgreSQL. alice's unfiltered DELETE on a production connection is held by the second gateway; carol approves it
 * through the second admin API, the first admin API sees the outcome, and the statement runs on the gateway that holds
 * it, in the same psql session.
 */
class ApprovalAcrossReplicasIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    private static final String CONNECTION = "replicas-prod-" + RUN;
    private static final String TABLE = "replicas_" + RUN;
    /** A block of ports beside the gateway test's own, shifted with the stack's ports in every checkout. */
    private static final int PG_BASE = StackEnv.port("GATEWAY_TEST_PG_PORT") + 40;
    private static final int HTTP_BASE = StackEnv.port("GATEWAY_TEST_HTTP_PORT") + 40;
    private static final List<AppProcess> APPS = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        StackEnv.ensureUp();
        Path logs = Path.of("target/replicas-" + RUN);
        for (int g = 0; g < 2; g++) {
            APPS.add(AppProcess.start("gateway", HTTP_BASE + g, logs.resolve("gateway-" + g + ".log"), List.of(
                    "-Dportcullis.kubernetes.enabled=false", "-Dportcullis.ssh.enabled=false", "-Dportcullis.postgres.port=" + (PG_BASE + g),
                    "-Dportcullis.postgres.tls-cert=" + StackEnv.ROOT.resolve(".stack/tls/server.crt"),
                    "-Dportcullis.postgres.tls-key=" + StackEnv.ROOT.resolve(".stack/tls/server.key"),
                    "-Dportcullis.recording.journal-dir=" + logs.resolve("journal-" + g).toAbsolutePath())));
        }
        for (int a = 0; a < 2; a++) {
            APPS.add(AppProcess.start("admin-api", HTTP_BASE + 2 + a, logs.resolve("admin-api-" + a + ".log"), List.of()));
        }
        String db = StackEnv.get("DEMO_PROD_DB");
        try (Connection c = StackEnv.superuser(db); var st = c.createStatement()) {
            st.execute("CREATE TABLE " + TABLE + " (id int PRIMARY KEY)");
            st.execute("INSERT INTO " + TABLE + " SELECT generate_series(1, 3)");
            st.execute("GRANT ALL ON " + TABLE + " TO " + StackEnv.get("DEMO_DB_USER"));
        }
        StackEnv.registerDemoConnection(CONNECTION, db, "prod");
    }

    @AfterAll
    static void stop() throws Exception {
        for (AppProcess app : APPS) {
            app.close();
        }
        StackEnv.removeConnection(CONNECTION);
        try (Connection c = StackEnv.superuser(StackEnv.get("DEMO_PROD_DB")); var st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + TABLE);
        }
    }

    @Test
    void an_approval_made_on_one_admin_api_releases_the_statement_held_by_another_gateway() throws Exception {
        int heldOn = PG_BASE + 1;
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-A", "-t", "-c", "DELETE FROM " + TABLE);
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().putAll(java.util.Map.of("PGHOST", StackEnv.host(), "PGPORT", String.valueOf(heldOn),
                "PGDATABASE", CONNECTION, "PGUSER", "alice", "PGPASSWORD", StackEnv.token("alice"), "PGSSLMODE", "require"));
        Process psql = pb.redirectErrorStream(true).start();
        try {
            UUID id = awaitPending();
            assertTrue(gatewayOf(id).endsWith(":" + heldOn), "held by the gateway the client reached: " + gatewayOf(id));
            assertEquals(3, rows(), "nothing runs before the approval");

            HttpResponse<String> vote = HTTP.send(HttpRequest.newBuilder(adminUrl(1, "/approvals/" + id + "/approve"))
                    .header("Authorization", "Bearer " + StackEnv.token("carol")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"comment\": \"approved on the other replica\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, vote.statusCode(), vote.body());

            assertTrue(psql.waitFor(60, TimeUnit.SECONDS), "the held psql finished once approved");
            String out = new String(psql.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(out.contains("DELETE 3"), out);
            assertEquals(0, rows(), "it ran: " + out);

            JsonNode seen = JSON.readTree(HTTP.send(HttpRequest.newBuilder(adminUrl(0, "/approvals/" + id))
                    .header("Authorization", "Bearer " + StackEnv.token("carol")).build(), HttpResponse.BodyHandlers.ofString()).body());
            assertEquals("approved", seen.path("state").asText(), seen.toString());
            assertEquals("approved by carol", seen.path("outcome").asText(), seen.toString());
        } finally {
            psql.destroyForcibly();
        }
    }

    private static URI adminUrl(int replica, String path) {
        return URI.create("http://" + StackEnv.host() + ":" + (HTTP_BASE + 2 + replica) + path);
    }

    private static UUID awaitPending() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try (Connection c = portcullisDb(); PreparedStatement ps = c.prepareStatement(
                    "SELECT id FROM approval_requests WHERE connection_name = ? AND state = 'pending'")) {
                ps.setString(1, CONNECTION);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return rs.getObject(1, UUID.class);
                    }
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no pending approval request for " + CONNECTION + " within 60 s");
    }

    private static String gatewayOf(UUID id) throws Exception {
        try (Connection c = portcullisDb(); PreparedStatement ps = c.prepareStatement("SELECT gateway FROM approval_requests WHERE id = ?")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private static long rows() throws Exception {
        try (Connection c = StackEnv.superuser(StackEnv.get("DEMO_PROD_DB")); var st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM " + TABLE)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Connection portcullisDb() throws java.sql.SQLException {
        return StackEnv.portcullisDb(StackEnv.port("PG_PORT"));
    }
}
