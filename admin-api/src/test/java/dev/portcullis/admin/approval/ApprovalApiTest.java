package dev.portcullis.admin.approval;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.admin.OidcTokens;
import dev.portcullis.admin.approval.HeldRequests.Held;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Votes on held requests through the real admin API, with the stack's real PostgreSQL, OPA (the served
 * portcullis/approve policy) and OIDC issuer. Requests are created the way the gateway creates them (HeldRequests).
 */
@QuarkusTest
@TestProfile(ApprovalsProfile.class)
class ApprovalApiTest extends HeldRequestTest {

    @Test
    void an_approver_approves_a_request_that_needs_one_approval() throws SQLException {
        UUID id = held.create(Held.byAlice(connection));

        as(OidcTokens.CAROL).body(Map.of("comment", "ok, maintenance window")).post("/approvals/" + id + "/approve")
                .then().statusCode(200)
                .body("id", equalTo(id.toString()))
                .body("state", equalTo("approved"))
                .body("approvals", equalTo(1))
                .body("min_approvals", equalTo(1))
                .body("outcome", equalTo("approved by carol"))
                .body("decided_at", notNullValue())
                .body("votes.approver.subject", contains("carol"))
                .body("votes[0].verdict", equalTo("approve"))
                .body("votes[0].comment", equalTo("ok, maintenance window"))
                .body("notifications.event", contains("created", "vote", "approved"))
                .body("requester.subject", equalTo("alice"))
                .body("request.statements[0].command", equalTo("DELETE"))
                .body("request_text", equalTo("DELETE FROM orders"));

        assertEquals("approved", held.state(id));
        List<String> audit = held.audit("approval/" + id);
        assertEquals(1, audit.size(), audit.toString());
        assertTrue(audit.get(0).startsWith("approval.approve carol ") && audit.get(0).contains("\"outcome\": \"recorded\"")
                && audit.get(0).contains("\"source\": \"127.0.0.1\""), audit.get(0));
    }

    @Test
    void two_distinct_approvers_are_needed_when_the_policy_asks_for_two_and_nobody_votes_twice() throws SQLException {
        UUID id = held.create(Held.byAlice(connection).requester("dave", "[\"dba\"]").approvers("[\"approvers\"]", 2));

        as(OidcTokens.CAROL).body(Map.of()).post("/approvals/" + id + "/approve").then().statusCode(200)
                .body("state", equalTo("pending"))
                .body("approvals", equalTo(1));
        as(OidcTokens.CAROL).body(Map.of()).post("/approvals/" + id + "/approve").then().statusCode(409)
                .body("detail", containsString("you already voted on approval request " + id));
        assertEquals("pending", held.state(id));

        as(OidcTokens.ALICE).body(Map.of("comment", "second pair of eyes")).post("/approvals/" + id + "/approve")
                .then().statusCode(200)
                .body("state", equalTo("approved"))
                .body("approvals", equalTo(2))
                .body("outcome", equalTo("approved by carol and alice"))
                .body("votes.approver.subject", contains("carol", "alice"));
        assertEquals(List.of("created", "vote", "vote", "approved"), held.events(id));
        assertEquals(3, held.audit("approval/" + id).size(), "both votes and the refused repeat are audited");
    }

    @Test
    void one_denial_ends_the_request_with_the_deniers_comment() throws SQLException {
        UUID id = held.create(Held.byAlice(connection).approvers("[\"approvers\"]", 2));

        as(OidcTokens.CAROL).body(Map.of()).post("/approvals/" + id + "/deny").then().statusCode(400)
                .body("errors[0].field", equalTo("comment"))
                .body("errors[0].message", containsString("is required to deny"));
        as(OidcTokens.CAROL).body(Map.of("comment", "x".repeat(1001))).post("/approvals/" + id + "/deny").then()
                .statusCode(400).body("errors[0].field", equalTo("comment"));

        as(OidcTokens.CAROL).body(Map.of("comment", "not during the sale")).post("/approvals/" + id + "/deny")
                .then().statusCode(200)
                .body("state", equalTo("denied"))
                .body("outcome", equalTo("denied by carol: not during the sale"))
                .body("votes[0].verdict", equalTo("deny"));
        assertEquals(List.of("created", "vote", "denied"), held.events(id));

        as(OidcTokens.ALICE).body(Map.of()).post("/approvals/" + id + "/approve").then().statusCode(409)
                .body("detail", containsString("is denied (denied by carol: not during the sale)"));
    }

    @Test
    void the_policy_refuses_self_approval_and_the_refusal_is_audited() throws SQLException {
        UUID id = held.create(Held.byAlice(connection));

        as(OidcTokens.ALICE).body(Map.of()).post("/approvals/" + id + "/approve").then().statusCode(403)
                .body("detail", containsString("it is their own"))
                .body("detail", containsString("[policy approve/self-approval]"));

        assertEquals("pending", held.state(id));
        as(OidcTokens.CAROL).get("/approvals/" + id).then().statusCode(200).body("votes", hasSize(0));
        List<String> audit = held.audit("approval/" + id);
        assertEquals(1, audit.size());
        assertTrue(audit.get(0).startsWith("approval.approve alice ") && audit.get(0).contains("\"outcome\": \"refused\"")
                && audit.get(0).contains("\"status\": 403"), audit.get(0));
    }

    @Test
    void an_approver_outside_the_requests_groups_is_refused_by_the_policy_and_others_by_the_api() throws SQLException {
        UUID id = held.create(Held.byAlice(connection).approvers("[\"dba\"]", 1));
        as(OidcTokens.CAROL).body(Map.of()).post("/approvals/" + id + "/approve").then().statusCode(403)
                .body("detail", containsString("carol is in none of the approver groups"))
                .body("detail", containsString("[policy approve/not-an-approver]"));
        // bob (developers) may not even call the endpoint; agent-ci neither, and without a token nobody
        as(OidcTokens.BOB).body(Map.of()).post("/approvals/" + id + "/approve").then().statusCode(403)
                .body("detail", containsString("group 'approvers' or 'platform-admins'"));
        as(OidcTokens.AGENT_CI).get("/approvals").then().statusCode(403);
        given().get("/approvals").then().statusCode(401);
    }

    @Test
    void a_request_past_its_expiry_cannot_be_approved_and_ends_expired() throws SQLException {
        UUID id = held.create(Held.byAlice(connection).expiresIn(-1));

        as(OidcTokens.CAROL).body(Map.of()).post("/approvals/" + id + "/approve").then().statusCode(409)
                .body("detail", containsString("approval request " + id + " is expired (it expired at"));
        assertEquals("expired", held.state(id));
        assertEquals(List.of("created", "expired"), held.events(id), "expired once, whoever noticed first");
        as(OidcTokens.CAROL).get("/approvals/" + id).then().statusCode(200).body("votes", hasSize(0))
                .body("outcome", containsString("before enough approvers decided it"));
    }

    @Test
    void pending_requests_whose_gateway_is_gone_expire_by_themselves() throws Exception {
        UUID id = held.create(Held.byAlice(connection).expiresIn(1));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!"expired".equals(held.state(id)) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals("expired", held.state(id), "the sweeper (every second here) ends it");
        assertEquals(List.of("created", "expired"), held.events(id));
    }

    @Test
    void unknown_and_malformed_ids_are_404_and_400() {
        as(OidcTokens.CAROL).get("/approvals/" + UUID.randomUUID()).then().statusCode(404)
                .body("detail", containsString("GET /approvals lists them"));
        as(OidcTokens.CAROL).body(Map.of()).post("/approvals/" + UUID.randomUUID() + "/approve").then().statusCode(404);
        as(OidcTokens.CAROL).get("/approvals/42").then().statusCode(400).body("errors[0].field", equalTo("id"));
        as(OidcTokens.CAROL).body(Map.of("comments", "typo")).post("/approvals/" + UUID.randomUUID() + "/deny")
                .then().statusCode(400).body("errors[0].field", equalTo("comments"));
    }

    @Test
    void pending_requests_are_listed_oldest_first_in_pages_that_new_requests_do_not_shift() throws SQLException {
        UUID first = held.create(Held.byAlice(connection));
        UUID second = held.create(Held.byAlice(connection));
        UUID third = held.create(Held.byAlice(connection));
        String page = "/approvals?state=pending&connection=" + connection + "&limit=2";

        var one = as(OidcTokens.CAROL).get(page).then().statusCode(200)
                .body("items.id", contains(first.toString(), second.toString()))
                .body("items[0].requester.name", equalTo("alice"))
                .body("items[0].approvals", equalTo(0))
                .body("items[0].request_text", nullValue())
                .extract().path("next");
        UUID fourth = held.create(Held.byAlice(connection));
        as(OidcTokens.CAROL).get(page + "&cursor=" + one).then().statusCode(200)
                .body("items.id", contains(third.toString(), fourth.toString()))
                .body("next", nullValue());

        as(OidcTokens.ADMIN).get("/approvals?identity=alice&connection=" + connection + "&state=approved").then()
                .statusCode(200).body("items", hasSize(0)).body("next", nullValue());
        as(OidcTokens.CAROL).get("/approvals?connection=" + connection + "&from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z")
                .then().statusCode(200).body("items", hasSize(0));
    }

    @Test
    void a_listing_names_the_query_parameter_it_cannot_use() {
        expectInvalid("/approvals?stat=pending", "stat", "is not a known query parameter");
        expectInvalid("/approvals?state=waiting", "state", "abandoned, approved, denied, expired, pending, withdrawn");
        expectInvalid("/approvals?limit=0", "limit", "between 1 and 500");
        expectInvalid("/approvals?from=yesterday", "from", "RFC 3339");
        expectInvalid("/approvals?cursor=bm9wZQ", "cursor", "is not a cursor this API gave out");
        expectInvalid("/approvals?state=pending&state=denied", "state", "more than once");
    }

    private static void expectInvalid(String path, String field, String message) {
        as(OidcTokens.CAROL).get(path).then().statusCode(400)
                .body("errors[0].field", equalTo(field))
                .body("errors[0].message", containsString(message));
    }
}
