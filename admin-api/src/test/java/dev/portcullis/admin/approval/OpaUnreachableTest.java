package dev.portcullis.admin.approval;

import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.admin.OidcTokens;
import dev.portcullis.admin.approval.HeldRequests.Held;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Without OPA nothing is allowed: approve and deny are refused (503) before the vote is even looked at, nothing changes
 * but the audit of the refusals.
 */
@QuarkusTest
@TestProfile(OpaUnreachableTest.NoOpa.class)
class OpaUnreachableTest extends HeldRequestTest {

    public static class NoOpa implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("portcullis.admin.opa.url", "http://127.0.0.1:1"); // port 1 on loopback: nothing listens
        }
    }

    @Test
    void votes_are_refused_while_the_policy_engine_is_unreachable() throws SQLException {
        UUID id = held.create(Held.byAlice(connection));

        as(OidcTokens.CAROL).body(Map.of()).post("/approvals/" + id + "/approve").then().statusCode(503)
                .body("detail", containsString("nothing is allowed while the policy engine cannot decide: the policy engine"
                        + " is unreachable"));
        as(OidcTokens.CAROL).body(Map.of("comment", "no")).post("/approvals/" + id + "/deny").then().statusCode(503);

        assertEquals("pending", held.state(id));
        assertEquals(List.of("created"), held.events(id));
        assertEquals("0", held.scalar("SELECT count(*) FROM approval_votes WHERE request_id = ?", id));
        List<String> audit = new java.util.ArrayList<>(held.audit("/approvals/" + id + "/approve"));
        audit.addAll(held.audit("/approvals/" + id + "/deny"));
        assertEquals(2, audit.size(), audit.toString());
        assertTrue(audit.stream().allMatch(a -> a.startsWith("approvals.vote carol ") && a.contains("\"status\": 503")
                && a.contains("\"outcome\": \"refused\"")), audit.toString());
    }
}
