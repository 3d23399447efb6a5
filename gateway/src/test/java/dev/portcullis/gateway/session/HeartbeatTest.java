package dev.portcullis.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/**
 * The gateway's heartbeat row, what the admin API's live sessions and policy status are read from: a psql-like session
 * through the real gateway shows up in it while it lasts, with the bundle revision OPA serves and the decisions made.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class HeartbeatTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeEach
    void target() throws Exception {
        TargetDatabases.ensure();
    }

    @Test
    void aLiveSessionAndThePolicyStateAreReportedAndTheSessionLeavesWhenItEnds() throws Exception {
        String manifestRevision = JSON.readTree(Files.readString(TestStack.ROOT.resolve(Path.of("policies-rego", "bundle",
                ".manifest")))).get("revision").asText();
        String sessionId;
        try (Connection c = Jdbc.viaGateway(TargetDatabases.CONNECTION, TestStack.token("alice"))) {
            sessionId = c.unwrap(PGConnection.class).getParameterStatus("portcullis.session_id");
            assertNotNull(sessionId);
            c.createStatement().execute("SELECT 1");
            JsonNode row = awaitRow(sessionId, true);
            JsonNode session = find(row, sessionId);
            assertNotNull(session, row.toString());
            assertEquals("alice", session.get("identity_subject").asText());
            assertEquals(TargetDatabases.CONNECTION, session.get("connection").asText());
            assertEquals("postgres", session.get("protocol").asText());
            assertEquals(manifestRevision, row.get("policy_revision").asText(), row.toString());
            assertTrue(row.get("policy_problem").isNull(), row.toString());
            assertTrue(row.get("decisions").get("allow").asLong() >= 1, row.toString());
        }
        assertNull(find(awaitRow(sessionId, false), sessionId), "an ended session is still reported live");
    }

    /** The first heartbeat row that lists (or, live false, no longer lists) the session, within 20 s. */
    private static JsonNode awaitRow(String sessionId, boolean live) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            try (Connection db = TestStack.superuser(TestStack.get("PORTCULLIS_DB"));
                    PreparedStatement q = db.prepareStatement("SELECT row_to_json(h)::text FROM gateway_heartbeats h"
                            + " WHERE (sessions @> jsonb_build_array(jsonb_build_object('id', ?::text))) = ?"
                            + " ORDER BY beat_at DESC LIMIT 1")) {
                q.setString(1, sessionId);
                q.setBoolean(2, live);
                try (ResultSet r = q.executeQuery()) {
                    if (r.next()) {
                        return JSON.readTree(r.getString(1));
                    }
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no heartbeat " + (live ? "lists" : "stopped listing") + " session " + sessionId
                + " within 20 s");
    }

    private static JsonNode find(JsonNode row, String sessionId) {
        for (JsonNode s : row.get("sessions")) {
            if (s.get("id").asText().equals(sessionId)) {
                return s;
            }
        }
        return null;
    }
}
