package dev.portcullis.admin.approval;

import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.admin.OidcTokens;
import dev.portcullis.admin.approval.HeldRequests.Held;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** An approval whose decision asked for a grant creates it; /grants lists and revokes it. */
@QuarkusTest
@TestProfile(ApprovalsProfile.class)
class GrantApiTest extends HeldRequestTest {

    @Test
    void approving_creates_the_grant_which_is_listed_then_revoked() throws SQLException {
        UUID request = held.create(Held.byAlice(connection).grant("unmask", 3600));
        OffsetDateTime approvedAt = OffsetDateTime.now();
        as(OidcTokens.CAROL).body(Map.of()).post("/approvals/" + request + "/approve").then().statusCode(200)
                .body("state", equalTo("approved"))
                .body("grant.scope", equalTo("unmask"))
                .body("grant.ttl_s", equalTo(3600));

        String list = "/grants?identity=alice&connection=" + connection;
        String id = as(OidcTokens.ADMIN).get(list + "&active=true").then().statusCode(200)
                .body("", hasSize(1))
                .body("[0].identity", equalTo("alice"))
                .body("[0].connection", equalTo(connection))
                .body("[0].scope", equalTo("unmask"))
                .body("[0].active", equalTo(true))
                .body("[0].approval_request_id", equalTo(request.toString()))
                .extract().path("[0].id");
        OffsetDateTime expiresAt = OffsetDateTime.parse(as(OidcTokens.ADMIN).get(list).then().extract().path("[0].expires_at"));
        Duration ttl = Duration.between(approvedAt, expiresAt);
        assertTrue(Math.abs(ttl.minusHours(1).toSeconds()) < 60, "expires an hour after the approval: " + expiresAt);

        // approvers vote; they do not manage grants
        as(OidcTokens.CAROL).get("/grants").then().statusCode(403).body("detail", containsString("'platform-admins'"));
        as(OidcTokens.CAROL).delete("/grants/" + id).then().statusCode(403);

        as(OidcTokens.ADMIN).delete("/grants/" + id).then().statusCode(200)
                .body("active", equalTo(false))
                .body("revoked_at", notNullValue())
                .body("revoked_by", equalTo(OidcTokens.ADMIN));
        as(OidcTokens.ADMIN).delete("/grants/" + id).then().statusCode(409).body("detail", containsString("was revoked at"));
        as(OidcTokens.ADMIN).get(list + "&active=true").then().statusCode(200).body("", hasSize(0));
        as(OidcTokens.ADMIN).get(list + "&active=false").then().statusCode(200).body("id", contains(id));

        List<String> audit = held.audit("grant/" + id);
        assertEquals(1, audit.size());
        assertTrue(audit.get(0).startsWith("grant.revoke " + OidcTokens.ADMIN + " ") && audit.get(0).contains("\"was_active\": true"),
                audit.get(0));
        assertEquals("alice", held.scalar("SELECT identity_subject FROM grants WHERE id = ?::uuid", id));
    }

    @Test
    void an_approval_without_grant_creates_none() throws SQLException {
        UUID request = held.create(Held.byAlice(connection));
        as(OidcTokens.CAROL).body(Map.of()).post("/approvals/" + request + "/approve").then().statusCode(200)
                .body("grant", equalTo(null));
        as(OidcTokens.ADMIN).get("/grants?connection=" + connection).then().statusCode(200).body("", hasSize(0));
    }

    @Test
    void grant_requests_are_checked() {
        as(OidcTokens.ADMIN).delete("/grants/" + UUID.randomUUID()).then().statusCode(404)
                .body("detail", containsString("GET /grants lists them"));
        as(OidcTokens.ADMIN).delete("/grants/nope").then().statusCode(400).body("errors[0].field", equalTo("id"));
        as(OidcTokens.ADMIN).get("/grants?active=yes").then().statusCode(400).body("errors[0].field", equalTo("active"));
        as(OidcTokens.ADMIN).get("/grants?subject=alice").then().statusCode(400)
                .body("errors[0].message", containsString("known ones are: active, connection, identity, limit"));
    }
}
