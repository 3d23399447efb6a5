package dev.portcullis.admin.connection;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.admin.OidcTokens;
import dev.portcullis.contract.testing.StackEnv;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * POST /connections/{name}/test and /rotate against a real target: a login role of its own on the stack's
 * PostgreSQL (scram-sha-256 over TLS), created for each test and dropped after it.
 */
@QuarkusTest
class ConnectionTargetTest {
    private final String role = "rot_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private final String initial = "initial-" + UUID.randomUUID();
    private final String name = "target-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<String> bodies = new ArrayList<>();
    /** Every password this test hands the API: none may come back in an answer or reach the log. */
    private final List<String> passwords = new ArrayList<>(List.of(initial));

    @BeforeEach
    void createRole() throws SQLException {
        try (Connection c = StackEnv.superuser("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + role + " LOGIN PASSWORD '" + initial + "'");
        }
    }

    @AfterEach
    void dropRoleAndCheckNoSecretWasAnsweredOrLogged() throws SQLException, IOException {
        try (Connection c = StackEnv.superuser("postgres"); Statement s = c.createStatement()) {
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role + "'");
            s.execute("DROP ROLE IF EXISTS " + role);
        }
        for (String body : bodies) {
            assertFalse(body.contains(initial) || body.contains("SCRAM-SHA-256$"), "an answer held a secret: " + body);
        }
        // ... nor a log line: the passwords, a verifier, the caller's bearer token
        Path log = Path.of("target/quarkus-test.log");
        assertTrue(Files.exists(log), "the test profile logs to " + log.toAbsolutePath());
        String logged = Files.readString(log);
        passwords.add("SCRAM-SHA-256$");
        passwords.add(OidcTokens.of(OidcTokens.ADMIN));
        for (String secret : passwords) {
            assertFalse(logged.contains(secret), "the log holds a secret (" + secret.substring(0, 8) + "...): " + log.toAbsolutePath());
        }
    }

    @Test
    void theTestLogsInWithTheStoredPasswordAndSaysWhatFailedWithoutIt() {
        register(name, StackEnv.port("PG_PORT"), initial, "require");
        Response ok = record(asAdmin().post("/connections/" + name + "/test"));
        ok.then().statusCode(200)
                .body("ok", equalTo(true))
                .body("connection", equalTo(name))
                .body("detail", containsString("logged in as user " + role))
                .body("server_version", notNullValue());

        String wrong = name + "-wrong";
        register(wrong, StackEnv.port("PG_PORT"), "not-" + initial, "require");
        record(asAdmin().post("/connections/" + wrong + "/test")).then().statusCode(200)
                .body("ok", equalTo(false))
                .body("detail", containsString("28P01"))
                .body("server_version", nullValue());

        String closed = name + "-closed";
        register(closed, 1, initial, "disable");
        record(asAdmin().post("/connections/" + closed + "/test")).then().statusCode(200)
                .body("ok", equalTo(false))
                .body("detail", containsString("cannot reach " + StackEnv.host() + ":1"));

        asAdmin().post("/connections/no-such-connection/test").then().statusCode(404);
        given().auth().oauth2(OidcTokens.of(OidcTokens.DANA)).post("/connections/" + name + "/test").then().statusCode(403);

        record(asAdmin().get("/audit?target=connection/" + wrong + "&action=connection.test")).then().statusCode(200)
                .body("items[0].details.outcome", equalTo("error"))
                .body("items[0].actor_subject", equalTo(OidcTokens.ADMIN));
        for (String connection : List.of(name, wrong, closed)) {
            asAdmin().delete("/connections/" + connection).then().statusCode(204);
        }
    }

    @Test
    void rotationChangesThePasswordOnTheTargetAndInPortcullisWhileLiveSessionsGoOn() throws SQLException {
        String etag = register(name, StackEnv.port("PG_PORT"), initial, "require");
        try (Connection live = login(initial)) {
            rotate(null, "{}").then().statusCode(428).contentType("application/problem+json");
            rotate("\"stale\"", "{}").then().statusCode(412);
            rotate(etag, "{\"password\": \"short\"}").then().statusCode(400).body("errors[0].field", equalTo("password"));

            Response rotated = record(rotate(etag, "{}"));
            rotated.then().statusCode(200).body("has_secret", equalTo(true));
            assertNotEquals(etag, rotated.header("ETag"));

            assertEquals(1, selectOne(live), "the session opened before the rotation goes on");
            SQLException refused = assertThrows(SQLException.class, () -> login(initial).close());
            assertEquals("28P01", refused.getSQLState(), "the old password no longer logs in");
            record(asAdmin().post("/connections/" + name + "/test")).then().statusCode(200).body("ok", equalTo(true));

            String chosen = "chosen-" + UUID.randomUUID();
            passwords.add(chosen);
            record(rotate(rotated.header("ETag"), "{\"password\": \"" + chosen + "\"}")).then().statusCode(200);
            try (Connection withChosen = login(chosen)) {
                assertEquals(1, selectOne(withChosen));
            }
            assertFalse(bodies.stream().anyMatch(b -> b.contains(chosen)), "an answer held the new password");
        }
        record(asAdmin().get("/audit?target=connection/" + name + "&action=connection.rotate")).then().statusCode(200)
                .body("items.details.outcome", equalTo(List.of("rotated", "rotated")))
                .body("items.details.generated", equalTo(List.of(false, true)));
        asAdmin().delete("/connections/" + name).then().statusCode(204);
    }

    @Test
    void aRotationTheTargetRefusesChangesNothing() throws SQLException {
        String etag = register(name, StackEnv.port("PG_PORT"), "not-" + initial, "require");
        record(rotate(etag, "{}")).then().statusCode(502)
                .contentType("application/problem+json")
                .body("detail", containsString("the password was not rotated"))
                .body("detail", containsString("28P01"));
        assertEquals(etag, asAdmin().get("/connections/" + name).header("ETag"), "nothing was stored");
        try (Connection stillInitial = login(initial)) {
            assertEquals(1, selectOne(stillInitial), "the target's password is unchanged");
        }
        asAdmin().delete("/connections/" + name).then().statusCode(204);
    }

    /** Registers a connection to the target role; @return its ETag */
    private String register(String connection, int port, String password, String tlsMode) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", connection);
        body.put("type", "postgres");
        body.put("host", StackEnv.host());
        body.put("port", port);
        body.put("database", "postgres");
        body.put("username", role);
        body.put("password", password);
        body.put("tls_mode", tlsMode);
        return asAdmin().contentType(ContentType.JSON).body(body).post("/connections").then().statusCode(201)
                .extract().header("ETag");
    }

    private Response rotate(String ifMatch, String body) {
        RequestSpecification request = asAdmin().contentType(ContentType.JSON).body(body);
        if (ifMatch != null) {
            request = request.header("If-Match", ifMatch);
        }
        return request.post("/connections/" + name + "/rotate");
    }

    private Connection login(String password) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://" + StackEnv.host() + ":" + StackEnv.port("PG_PORT")
                + "/postgres?sslmode=require", role, password);
    }

    private static int selectOne(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT 1")) {
            r.next();
            return r.getInt(1);
        }
    }

    private Response record(Response response) {
        bodies.add(response.asString());
        return response;
    }

    private static RequestSpecification asAdmin() {
        return given().auth().oauth2(OidcTokens.of(OidcTokens.ADMIN));
    }
}
