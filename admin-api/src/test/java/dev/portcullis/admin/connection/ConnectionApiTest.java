package dev.portcullis.admin.connection;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.admin.OidcTokens;
import dev.portcullis.contract.SecretSealer;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** The /connections API against the stack's real PostgreSQL and OIDC issuer. */
@QuarkusTest
class ConnectionApiTest {
    private static final String PASSWORD = "pw-" + UUID.randomUUID();

    @Inject
    AgroalDataSource db;

    @ConfigProperty(name = "PORTCULLIS_SECRET_KEY")
    String secretKey;

    @Test
    void adminCreatesListsGetsUpdatesAndDeletesAConnection() {
        String name = uniqueName();
        List<String> bodies = new ArrayList<>();

        Response created = asAdmin().body(connection(name, PASSWORD)).post("/connections");
        bodies.add(created.asString());
        created.then().statusCode(201)
                .header("Location", containsString("/connections/" + name))
                .body("name", equalTo(name))
                .body("type", equalTo("postgres"))
                .body("port", equalTo(5432))
                .body("tls_mode", equalTo("require"))
                .body("tags.env", equalTo("prod"))
                .body("has_secret", equalTo(true))
                .body("created_at", not(nullValue()));

        Response list = asAdmin().get("/connections");
        bodies.add(list.asString());
        list.then().statusCode(200).body("name", hasItem(name));

        Response one = asAdmin().get("/connections/" + name);
        bodies.add(one.asString());
        one.then().statusCode(200).body("host", equalTo("db.internal")).body("has_secret", equalTo(true));

        Map<String, Object> changed = connection(name, null);
        changed.put("host", "db2.internal");
        changed.put("tls_mode", "verify-full");
        Response updated = asAdmin().header("If-Match", one.header("ETag")).body(changed).put("/connections/" + name);
        bodies.add(updated.asString());
        updated.then().statusCode(200)
                .body("host", equalTo("db2.internal"))
                .body("tls_mode", equalTo("verify-full"))
                .body("has_secret", equalTo(true));

        asAdmin().delete("/connections/" + name).then().statusCode(204);
        asAdmin().get("/connections/" + name).then().statusCode(404)
                .body("detail", containsString("does not exist"));

        for (String body : bodies) {
            assertFalse(body.contains(PASSWORD), "a response contained the password: " + body);
            assertFalse(body.contains("\"password\""), "a response has a password field: " + body);
            assertFalse(body.contains("\"secret\""), "a response has the sealed secret: " + body);
        }
    }

    @Test
    void storedSecretOpensToTheGivenPasswordAndSurvivesAnUpdateWithoutOne() throws SQLException {
        String name = uniqueName();
        asAdmin().body(connection(name, PASSWORD)).post("/connections").then().statusCode(201);
        SecretSealer sealer = SecretSealer.fromBase64Key(secretKey);
        byte[] sealed = storedSecret(name);
        assertFalse(new String(sealed, java.nio.charset.StandardCharsets.ISO_8859_1).contains(PASSWORD),
                "the password is stored in clear");
        assertEquals(PASSWORD, sealer.open(name, sealed));

        Map<String, Object> withoutPassword = connection(name, null);
        withoutPassword.put("port", 6432);
        asAdmin().header("If-Match", etag(name)).body(withoutPassword).put("/connections/" + name).then().statusCode(200)
                .body("has_secret", equalTo(true));
        assertEquals(HexFormat.of().formatHex(sealed), HexFormat.of().formatHex(storedSecret(name)));

        asAdmin().header("If-Match", etag(name)).body(connection(name, "rotated")).put("/connections/" + name)
                .then().statusCode(200);
        assertEquals("rotated", sealer.open(name, storedSecret(name)));
        asAdmin().delete("/connections/" + name).then().statusCode(204);
    }

    @Test
    void aConnectionWithoutPasswordHasNoSecret() {
        String name = uniqueName();
        asAdmin().body(connection(name, null)).post("/connections").then().statusCode(201).body("has_secret", equalTo(false));
        asAdmin().delete("/connections/" + name).then().statusCode(204);
    }

    @Test
    void everyChangeIsAuditedWithTheActorAndWithoutThePassword() throws SQLException {
        String name = uniqueName();
        asAdmin().body(connection(name, PASSWORD)).post("/connections").then().statusCode(201);
        Map<String, Object> changed = connection(name, "new-" + PASSWORD);
        changed.put("host", "db2.internal");
        asAdmin().header("If-Match", etag(name)).body(changed).put("/connections/" + name).then().statusCode(200);
        asAdmin().delete("/connections/" + name).then().statusCode(204);

        List<String[]> rows = auditRows("connection/" + name);
        assertEquals(List.of("connection.create", "connection.update", "connection.delete"),
                rows.stream().map(r -> r[0]).toList());
        for (String[] row : rows) {
            assertEquals(OidcTokens.ADMIN, row[1], "actor subject");
            assertEquals(OidcTokens.ADMIN, row[2], "actor name");
            assertFalse(row[3].contains(PASSWORD), "audit details contain the password: " + row[3]);
        }
        assertTrue(rows.get(1)[3].contains("\"host\"") && rows.get(1)[3].contains("\"password\""),
                "the update lists what changed: " + rows.get(1)[3]);
    }

    @Test
    void aChangeNeedsTheCurrentEtagSoThatNoneIsOverwrittenUnseen() {
        String name = uniqueName();
        String created = asAdmin().body(connection(name, PASSWORD)).post("/connections").then().statusCode(201)
                .extract().header("ETag");
        assertEquals(created, etag(name), "POST and GET give the same ETag for the same row");
        assertTrue(created.matches("\"[A-Za-z0-9_-]{24}\""), "a strong, quoted ETag: " + created);

        Map<String, Object> changed = connection(name, null);
        changed.put("host", "db2.internal");
        asAdmin().body(changed).put("/connections/" + name).then().statusCode(428)
                .contentType("application/problem+json")
                .body("type", containsString("precondition-required"))
                .body("detail", containsString("If-Match"));
        asAdmin().header("If-Match", "W/" + created).body(changed).put("/connections/" + name).then().statusCode(412);

        // alice and bob both read it; alice writes first; bob's write, based on what he read, is refused
        String afterAlice = asAdmin().header("If-Match", created).body(changed).put("/connections/" + name)
                .then().statusCode(200).extract().header("ETag");
        assertFalse(created.equals(afterAlice), "a change gives a new ETag");
        Map<String, Object> bobs = connection(name, null);
        bobs.put("port", 6543);
        asAdmin().header("If-Match", created).body(bobs).put("/connections/" + name).then().statusCode(412)
                .contentType("application/problem+json")
                .body("detail", containsString("changed since"));
        asAdmin().get("/connections/" + name).then().body("host", equalTo("db2.internal")).body("port", equalTo(5432));

        // a password change alone changes the ETag; a list of tags and * match
        asAdmin().header("If-Match", "\"other\", " + afterAlice).body(connection(name, "new-" + PASSWORD))
                .put("/connections/" + name).then().statusCode(200);
        assertFalse(afterAlice.equals(etag(name)));
        asAdmin().header("If-Match", "*").body(changed).put("/connections/" + name).then().statusCode(200);

        asAdmin().header("If-Match", created).delete("/connections/" + name).then().statusCode(412);
        asAdmin().header("If-Match", etag(name)).delete("/connections/" + name).then().statusCode(204);
    }

    @Test
    void aDuplicateNameIsAConflict() {
        String name = uniqueName();
        asAdmin().body(connection(name, PASSWORD)).post("/connections").then().statusCode(201);
        asAdmin().body(connection(name, PASSWORD)).post("/connections").then().statusCode(409)
                .body("detail", containsString("already exists"));
        asAdmin().delete("/connections/" + name).then().statusCode(204);
    }

    @Test
    void unknownConnectionsAreNotFound() {
        asAdmin().body(connection("no-such-connection", null)).put("/connections/no-such-connection").then().statusCode(404);
        asAdmin().delete("/connections/no-such-connection").then().statusCode(404);
    }

    @Test
    void badInputIsRefusedNamingTheFieldAndWhatIsExpected() {
        Map<String, Object> badTls = connection(uniqueName(), PASSWORD);
        badTls.put("tls_mode", "sometimes");
        expectInvalid(badTls, "tls_mode", "disable, require, verify-full");

        Map<String, Object> portZero = connection(uniqueName(), PASSWORD);
        portZero.put("port", 0);
        expectInvalid(portZero, "port", "between 1 and 65535");

        Map<String, Object> noHost = connection(uniqueName(), PASSWORD);
        noHost.remove("host");
        expectInvalid(noHost, "host", "is required");

        expectInvalid(connection("Bad Name!", PASSWORD), "name", "a-z, 0-9");

        Map<String, Object> noName = connection("x", PASSWORD);
        noName.remove("name");
        expectInvalid(noName, "name", "is required");

        Map<String, Object> wrongType = connection(uniqueName(), PASSWORD);
        wrongType.put("port", "five");
        expectInvalid(wrongType, "port", "an integer");

        Map<String, Object> typo = connection(uniqueName(), PASSWORD);
        typo.put("tlsmode", "require");
        expectInvalid(typo, "tlsmode", "not a known field");

        Map<String, Object> badTag = connection(uniqueName(), PASSWORD);
        badTag.put("tags", Map.of("bad key", "x"));
        expectInvalid(badTag, "tags.bad key", "tag keys");
    }

    @Test
    void renamingThroughPutIsRefused() {
        String name = uniqueName();
        asAdmin().body(connection(name, null)).post("/connections").then().statusCode(201);
        asAdmin().body(connection(uniqueName(), null)).put("/connections/" + name).then().statusCode(400)
                .body("errors.field", hasItem("name"))
                .body("errors[0].message", containsString("cannot be renamed"));
        asAdmin().delete("/connections/" + name).then().statusCode(204);
    }

    @Test
    void withoutATokenTheAnswerIs401() {
        given().get("/connections").then().statusCode(401)
                .header("WWW-Authenticate", containsString("Bearer"))
                .body("detail", containsString("access token is required"));
        given().contentType(ContentType.JSON).body(connection(uniqueName(), PASSWORD)).post("/connections")
                .then().statusCode(401);
    }

    @Test
    void aGarbageTokenIs401() {
        given().auth().oauth2("not.a.token").get("/connections").then().statusCode(401);
        given().auth().oauth2("garbage").contentType(ContentType.JSON).body(connection(uniqueName(), PASSWORD))
                .post("/connections").then().statusCode(401);
    }

    @Test
    void aTokenWithoutThePlatformAdminsGroupIs403() {
        String ci = OidcTokens.of(OidcTokens.AGENT_CI);
        given().auth().oauth2(ci).get("/connections").then().statusCode(403)
                .body("detail", containsString("platform-admins"));
        given().auth().oauth2(ci).contentType(ContentType.JSON).body(connection(uniqueName(), PASSWORD))
                .post("/connections").then().statusCode(403);
    }

    @Test
    void healthMetricsAndOpenApiNeedNoToken() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().get("/q/metrics").then().statusCode(200);
        given().get("/q/openapi").then().statusCode(200).body(containsString("/connections"));
    }

    private static void expectInvalid(Map<String, Object> body, String field, String expected) {
        asAdmin().body(body).post("/connections").then().statusCode(400)
                .body("type", equalTo("https://portcullis.dev/problems/invalid-request"))
                .body("errors.field", hasItems(field))
                .body("errors.find { it.field == '" + field + "' }.message", containsString(expected))
                .body(not(containsString(PASSWORD)));
    }

    private static RequestSpecification asAdmin() {
        return given().auth().oauth2(OidcTokens.of(OidcTokens.ADMIN)).contentType(ContentType.JSON);
    }

    private static Map<String, Object> connection(String name, String password) {
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("name", name);
        body.put("type", "postgres");
        body.put("host", "db.internal");
        body.put("port", 5432);
        body.put("database", "orders");
        body.put("username", "orders_owner");
        if (password != null) {
            body.put("password", password);
        }
        body.put("tags", Map.of("env", "prod"));
        return body;
    }

    private static String etag(String name) {
        return asAdmin().get("/connections/" + name).then().statusCode(200).extract().header("ETag");
    }

    private static String uniqueName() {
        return "test-" + UUID.randomUUID().toString().substring(0, 12);
    }

    private byte[] storedSecret(String name) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT secret FROM connections WHERE name = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                assertTrue(rs.next(), "no row for " + name);
                byte[] secret = rs.getBytes(1);
                assertNotNull(secret, "no secret stored for " + name);
                return secret;
            }
        }
    }

    /** action, actor_subject, actor_name, details: oldest first. */
    private List<String[]> auditRows(String target) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "SELECT action, actor_subject, actor_name, details::text FROM admin_audit WHERE target = ? ORDER BY id")) {
            s.setString(1, target);
            List<String[]> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)});
                }
            }
            return rows;
        }
    }
}
