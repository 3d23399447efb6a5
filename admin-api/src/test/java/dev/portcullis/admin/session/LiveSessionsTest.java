package dev.portcullis.admin.session;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.admin.OidcTokens;
import dev.portcullis.contract.Channels;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Live sessions, kill and policy status, read from the gateways' heartbeat rows (the shape the gateway's Heartbeat
 * writes, checked against the real gateway by its HeartbeatTest), with the kill request observed on the real
 * PostgreSQL NOTIFY channel the gateways listen on.
 */
@QuarkusTest
class LiveSessionsTest {
    @Inject
    AgroalDataSource db;

    @Test
    void liveSessionsComeFromFreshHeartbeatsOnlyAndAKillGoesOutOnTheNotifyChannelAudited() throws Exception {
        UUID live = UUID.randomUUID();
        UUID onAGoneReplica = UUID.randomUUID();
        String fresh = "gw-" + UUID.randomUUID();
        String gone = "gw-" + UUID.randomUUID();
        beat(fresh, "now()", live, "{\"allow\": 3, \"deny\": 1}");
        beat(gone, "now() - interval '1 hour'", onAGoneReplica, "{}");

        as(OidcTokens.DANA).get("/sessions/live").then().statusCode(200)
                .body("id", hasItem(live.toString()))
                .body("id", not(hasItem(onAGoneReplica.toString())))
                .body("find { it.id == '" + live + "' }.gateway", equalTo(fresh))
                .body("find { it.id == '" + live + "' }.identity_subject", equalTo("alice"));
        as(OidcTokens.DANA).get("/policy").then().statusCode(200)
                .body("find { it.gateway == '" + fresh + "' }.stale", equalTo(false))
                .body("find { it.gateway == '" + fresh + "' }.policy_revision", equalTo("sha256:0123456789abcdef"))
                .body("find { it.gateway == '" + fresh + "' }.opa_healthy", equalTo(true))
                .body("find { it.gateway == '" + fresh + "' }.decisions.allow", equalTo(3))
                .body("find { it.gateway == '" + gone + "' }.stale", equalTo(true));

        try (Connection listener = db.getConnection()) {
            listener.createStatement().execute("LISTEN " + Channels.KILL_SESSION);
            as(OidcTokens.DANA).contentType("application/json").body(Map.of("reason", "no")).post("/sessions/" + live + "/kill")
                    .then().statusCode(403);
            as(OidcTokens.ADMIN).contentType("application/json").body(Map.of()).post("/sessions/" + live + "/kill")
                    .then().statusCode(400).body("errors.field", hasItem("reason"));
            as(OidcTokens.ADMIN).contentType("application/json").body(Map.of("reason", "x"))
                    .post("/sessions/" + onAGoneReplica + "/kill").then().statusCode(409)
                    .body("detail", containsString("is not live on any gateway"));
            as(OidcTokens.ADMIN).contentType("application/json").body(Map.of("reason", "leaving the building"))
                    .post("/sessions/" + live + "/kill").then().statusCode(202)
                    .body("session_id", equalTo(live.toString()))
                    .body("gateway", equalTo(fresh));
            assertEquals(List.of(live.toString()), notifications(listener));
        }
        List<String> audit = new ArrayList<>();
        try (Connection c = db.getConnection(); PreparedStatement q = c.prepareStatement("SELECT action || ' '"
                + " || actor_subject || ' ' || details::text FROM admin_audit WHERE target = ? ORDER BY id")) {
            q.setString(1, "session/" + live);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    audit.add(r.getString(1));
                }
            }
        }
        assertEquals(1, audit.size(), audit.toString());
        assertTrue(audit.get(0).startsWith("session.kill portcullis-admin ") && audit.get(0).contains("leaving the building")
                && audit.get(0).contains(fresh), audit.get(0));
    }

    /** The kill requests that arrive within 5 s. */
    private static List<String> notifications(Connection listener) throws SQLException {
        List<String> ids = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 5_000;
        while (ids.isEmpty() && System.currentTimeMillis() < deadline) {
            PGNotification[] arrived = listener.unwrap(PGConnection.class).getNotifications(500);
            if (arrived != null) {
                for (PGNotification n : arrived) {
                    ids.add(n.getParameter());
                }
            }
        }
        return ids;
    }

    private void beat(String replica, String at, UUID session, String decisions) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement s = c.prepareStatement("INSERT INTO gateway_heartbeats"
                + " (replica, started_at, beat_at, interval_s, sessions, session_count, policy_revision, policy_loaded_at,"
                + " decisions) VALUES (?, now(), " + at + ", 5, jsonb_build_array(jsonb_build_object('id', ?::text,"
                + " 'identity_subject', 'alice', 'identity_name', 'alice', 'connection', 'demo-prod', 'protocol', 'postgres',"
                + " 'source_ip', '127.0.0.1', 'started_at', '2026-12-06T10:00:00Z')), 1, 'sha256:0123456789abcdef', now(),"
                + " ?::jsonb)")) {
            s.setString(1, replica);
            s.setString(2, session.toString());
            s.setString(3, decisions);
            s.executeUpdate();
        }
    }

    private static RequestSpecification as(String client) {
        return given().auth().oauth2(OidcTokens.of(client));
    }
}
