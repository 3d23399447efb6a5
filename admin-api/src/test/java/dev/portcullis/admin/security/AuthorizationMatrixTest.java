package dev.portcullis.admin.security;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.admin.OidcTokens;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Every endpoint × every caller: the default roles (platform-admins, auditors, approvers), a token without an admin
 * group, no token, a garbage token and a token for another audience. The policy (portcullis/admin, evaluated by the
 * stack's real OPA) decides; a refusal is a 403 before the endpoint does anything, an allowed call reaches the endpoint,
 * which answers with what it would answer anyone (404 for an id that does not exist, 400 for an empty body, ...).
 */
@QuarkusTest
class AuthorizationMatrixTest {
    private static final String MISSING = "00000000-0000-4000-8000-000000000000";

    /** One endpoint: how to call it, and what it answers a caller who may call it. */
    record Endpoint(String method, String path, String body, String accept, int whenAllowed) {
        String name() {
            return method + " " + path + (accept == null ? "" : " (" + accept + ")");
        }
    }

    static final List<Endpoint> ENDPOINTS = List.of(
            new Endpoint("GET", "/whoami", null, null, 200),
            new Endpoint("GET", "/connections", null, null, 200),
            new Endpoint("GET", "/connections/no-such-connection", null, null, 404),
            new Endpoint("POST", "/connections", "{}", null, 400),
            new Endpoint("PUT", "/connections/no-such-connection", "{}", null, 400),
            new Endpoint("DELETE", "/connections/no-such-connection", null, null, 404),
            new Endpoint("POST", "/connections/no-such-connection/test", null, null, 404),
            new Endpoint("POST", "/connections/no-such-connection/rotate", "{}", null, 404),
            new Endpoint("GET", "/sessions", null, null, 200),
            new Endpoint("GET", "/sessions/live", null, null, 200),
            new Endpoint("GET", "/sessions/" + MISSING, null, null, 404),
            new Endpoint("POST", "/sessions/" + MISSING + "/kill", "{\"reason\": \"matrix\"}", null, 409),
            new Endpoint("GET", "/policy", null, null, 200),
            new Endpoint("GET", "/audit", null, null, 200),
            new Endpoint("GET", "/sessions/" + MISSING + "/events", null, null, 404),
            new Endpoint("GET", "/sessions/" + MISSING + "/transcript", null, "text/plain", 404),
            new Endpoint("GET", "/sessions/" + MISSING + "/transcript", null, "application/x-asciicast", 404),
            new Endpoint("POST", "/sessions/" + MISSING + "/verify", null, null, 404),
            new Endpoint("GET", "/recordings/parked", null, null, 200),
            new Endpoint("POST", "/recordings/parked/999999999/replay", null, null, 404),
            new Endpoint("POST", "/recordings/parked/replay", null, null, 202),
            new Endpoint("GET", "/approvals", null, null, 200),
            new Endpoint("GET", "/approvals/" + MISSING, null, null, 404),
            new Endpoint("POST", "/approvals/" + MISSING + "/approve", "{}", null, 404),
            new Endpoint("POST", "/approvals/" + MISSING + "/deny", "{\"comment\": \"no\"}", null, 404),
            new Endpoint("GET", "/grants", null, null, 200),
            new Endpoint("DELETE", "/grants/" + MISSING, null, null, 404));

    /** Per token, the endpoints it may call; every other one is a 403. */
    private static final Map<String, Set<String>> ALLOWED = new LinkedHashMap<>();

    static {
        Set<String> all = Set.copyOf(ENDPOINTS.stream().map(Endpoint::name).toList());
        ALLOWED.put(OidcTokens.ADMIN, all);
        ALLOWED.put(OidcTokens.DANA, Set.of("GET /whoami", "GET /sessions", "GET /sessions/live", "GET /sessions/" + MISSING,
                "GET /policy", "GET /audit", "GET /sessions/" + MISSING + "/events",
                "GET /sessions/" + MISSING + "/transcript (text/plain)",
                "GET /sessions/" + MISSING + "/transcript (application/x-asciicast)", "POST /sessions/" + MISSING + "/verify"));
        ALLOWED.put(OidcTokens.CAROL, Set.of("GET /whoami", "GET /approvals", "GET /approvals/" + MISSING,
                "POST /approvals/" + MISSING + "/approve", "POST /approvals/" + MISSING + "/deny"));
        ALLOWED.put(OidcTokens.BOB, Set.of("GET /whoami"));
    }

    @Test
    void everyEndpointAnswersEveryCallerAsThePolicySays() {
        List<String> wrong = new ArrayList<>();
        for (Endpoint endpoint : ENDPOINTS) {
            for (var caller : ALLOWED.entrySet()) {
                int expected = caller.getValue().contains(endpoint.name()) ? endpoint.whenAllowed() : 403;
                check(wrong, endpoint, caller.getKey(), given().auth().oauth2(OidcTokens.of(caller.getKey())), expected);
            }
            check(wrong, endpoint, "no token", given(), 401);
            check(wrong, endpoint, "a garbage token", given().auth().oauth2("not.a.token"), 401);
            check(wrong, endpoint, "a token for another audience",
                    given().auth().oauth2(OidcTokens.of(OidcTokens.WRONG_AUDIENCE)), 401);
        }
        assertTrue(wrong.isEmpty(), wrong.size() + " cell(s) of the matrix are wrong:\n" + String.join("\n", wrong));
    }

    @Inject
    AgroalDataSource db;

    @Test
    void refusedCallsAreAuditedWithoutTheToken() throws SQLException {
        String name = "audited-" + UUID.randomUUID();
        String dana = OidcTokens.of(OidcTokens.DANA);
        given().auth().oauth2(dana).delete("/connections/" + name).then().statusCode(403);
        given().auth().oauth2("not.a.token").delete("/connections/" + name).then().statusCode(401);
        given().delete("/connections/" + name).then().statusCode(401);

        List<String> rows = new ArrayList<>();
        try (Connection c = db.getConnection(); PreparedStatement q = c.prepareStatement("SELECT action || ' '"
                + " || actor_subject || ' ' || details::text FROM admin_audit WHERE target = ? ORDER BY id")) {
            q.setString(1, "/connections/" + name);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    rows.add(r.getString(1));
                }
            }
        }
        assertEquals(3, rows.size(), rows.toString());
        assertTrue(rows.get(0).startsWith("connections.write dana ") && rows.get(0).contains("\"status\": 403")
                && rows.get(0).contains("\"outcome\": \"refused\"") && rows.get(0).contains("admin/no-role"), rows.get(0));
        assertTrue(rows.get(1).startsWith("DELETE (anonymous) ") && rows.get(1).contains("\"status\": 401"), rows.get(1));
        assertTrue(rows.get(2).startsWith("DELETE (anonymous) ") && rows.get(2).contains("\"status\": 401"), rows.get(2));
        for (String row : rows) {
            assertFalse(row.contains(dana) || row.contains("not.a.token"), "a token was audited: " + row);
        }
    }

    @Test
    void whoamiShowsTheIdentityGroupsAndRoles() {
        Response carol = given().auth().oauth2(OidcTokens.of(OidcTokens.CAROL)).get("/whoami");
        carol.then().statusCode(200);
        assertEquals("carol", carol.path("subject"));
        assertEquals(List.of("approvers"), carol.path("groups"));
        assertEquals(List.of("approver"), carol.path("roles"));
        Response bob = given().auth().oauth2(OidcTokens.of(OidcTokens.BOB)).get("/whoami");
        assertEquals(List.of("developers"), bob.path("groups"));
        assertEquals(List.of(), bob.path("roles"));
        assertEquals(List.of("admin"), given().auth().oauth2(OidcTokens.of(OidcTokens.ADMIN)).get("/whoami").path("roles"));
    }

    @Test
    void aRefusalSaysWhichGroupsWouldDo() {
        given().auth().oauth2(OidcTokens.of(OidcTokens.DANA)).delete("/connections/x").then().statusCode(403)
                .body("detail", org.hamcrest.Matchers.containsString("'platform-admins'"))
                .body("detail", org.hamcrest.Matchers.containsString("[policy admin/no-role]"));
        given().auth().oauth2(OidcTokens.of(OidcTokens.CAROL)).get("/sessions").then().statusCode(403)
                .body("detail", org.hamcrest.Matchers.containsString("'auditors' or 'platform-admins'"));
    }

    private static void check(List<String> wrong, Endpoint endpoint, String caller, RequestSpecification request,
            int expected) {
        if (endpoint.body() != null) {
            request = request.contentType("application/json").body(endpoint.body());
        }
        if (endpoint.accept() != null) {
            request = request.accept(endpoint.accept());
        }
        Response response = request.request(endpoint.method(), endpoint.path());
        if (response.statusCode() != expected) {
            wrong.add(endpoint.name() + " as " + caller + ": expected " + expected + ", got " + response.statusCode() + " "
                    + response.asString());
        } else if (expected >= 400 && !String.valueOf(response.contentType()).startsWith("application/problem+json")) {
            wrong.add(endpoint.name() + " as " + caller + ": " + expected + " is not a problem detail: " + response.contentType());
        }
    }
}
