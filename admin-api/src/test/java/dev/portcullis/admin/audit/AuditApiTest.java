package dev.portcullis.admin.audit;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.portcullis.admin.OidcTokens;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * GET /audit against the stack's real PostgreSQL: what the API's changes and the database's own audit of SQL changes
 * (V9) write, the filters, and cursor pages that entries written meanwhile do not shift.
 */
@QuarkusTest
class AuditApiTest {
    private static final Instant T0 = Instant.parse("2026-11-28T08:00:00.123456Z");

    @Inject
    AgroalDataSource db;

    @Test
    void aChangeThroughTheApiIsAuditedOnceWithTheCallerAndNoSecret() {
        String name = "audit-" + UUID.randomUUID().toString().substring(0, 8);
        String password = "pw-" + UUID.randomUUID();
        asAdmin().contentType(ContentType.JSON).body(Map.of("name", name, "type", "postgres", "host", "db.internal",
                "port", 5432, "database", "orders", "username", "app", "password", password))
                .post("/connections").then().statusCode(201);

        Response page = asAdmin().get("/audit?target=connection/" + name);
        page.then().statusCode(200)
                .body("items.size()", equalTo(1)) // not a second row from the database's own audit
                .body("items[0].action", equalTo("connection.create"))
                .body("items[0].actor_subject", equalTo(OidcTokens.ADMIN))
                .body("items[0].details.has_secret", equalTo(true))
                .body("next", equalTo(null));
        assertFalse(page.asString().contains(password), page.asString());
    }

    @Test
    void aChangeInSqlIsAuditedByTheDatabaseWithItsRoleAndWithoutTheSecret() throws SQLException {
        String name = "sql-" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("SELECT set_config('portcullis.change_by', 'audit-test', true)");
            s.execute("INSERT INTO connections (name, type, host, port, database, username, secret, tags) VALUES ('" + name
                    + "', 'postgres', 'h', 5432, 'd', 'u', '\\xdeadbeefcafe'::bytea, '{\"env\": \"dev\"}')");
            c.commit();
            s.execute("UPDATE connections SET secret = '\\x0102030405'::bytea, host = 'h2' WHERE name = '" + name + "'");
            s.execute("DELETE FROM connections WHERE name = '" + name + "'");
            c.commit();
            c.setAutoCommit(true);
        }
        Response page = asAdmin().get("/audit?target=connection/" + name);
        page.then().statusCode(200)
                .body("items.action", equalTo(List.of("connection.delete", "connection.update", "connection.create")))
                .body("items.actor_subject[0]", containsString("db:"))
                .body("items[2].actor_name", equalTo("audit-test"))
                .body("items[2].details.via", equalTo("sql"))
                .body("items[2].details.after.host", equalTo("h"))
                .body("items[2].details.after.has_secret", equalTo(true))
                .body("items[1].details.before.host", equalTo("h"))
                .body("items[1].details.after.host", equalTo("h2"))
                .body("items[1].details.secret_changed", equalTo(true))
                .body("items[0].details.before.host", equalTo("h2"));
        String body = page.asString();
        assertFalse(body.contains("deadbeef") || body.contains("3q2+") || body.contains("0102030405"),
                "a secret reached the audit: " + body);
    }

    @Test
    void filtersNarrowTheListAndPagesDoNotShiftWhenEntriesArrive() throws SQLException {
        String target = "audit-test/" + UUID.randomUUID();
        long a = insert(T0, "alice", "connection.update", target);
        long b = insert(T0.plusSeconds(60), "bob", "session.kill", target);
        long c = insert(T0.plusSeconds(60), "alice", "recording.read", target); // same time as b: the id breaks the tie
        long d = insert(T0.plusSeconds(120), "dana", "recording.read", target);
        String base = "/audit?target=" + target;

        assertEquals(List.of(d, c, b, a), ids(base));
        assertEquals(List.of(c, a), ids(base + "&actor=alice"));
        assertEquals(List.of(d, c), ids(base + "&action=recording.read"));
        assertEquals(List.of(d, c, b), ids(base + "&since=2026-11-28T08:01:00.123456Z"));
        assertEquals(List.of(c, b, a), ids(base + "&until=2026-11-28T08:02:00.123456Z"));

        List<Long> paged = new ArrayList<>();
        String next = null;
        int pages = 0;
        do {
            Response page = asAdmin().get(base + "&limit=1" + (next == null ? "" : "&cursor=" + next));
            page.then().statusCode(200);
            paged.addAll(page.jsonPath().getList("items.id", Long.class));
            next = page.path("next");
            if (pages++ == 0) {
                insert(T0.plusSeconds(180), "eve", "connection.delete", target); // newer: before the first page
            }
        } while (next != null && pages < 10);
        assertEquals(List.of(d, c, b, a), paged, "no entry twice, none skipped, the one written meanwhile not shifting them");
    }

    @Test
    void badQueryParametersAreNamed() {
        asAdmin().get("/audit?who=alice").then().statusCode(400).body("errors[0].field", equalTo("who"));
        asAdmin().get("/audit?since=yesterday").then().statusCode(400).body("errors[0].field", equalTo("since"));
        asAdmin().get("/audit?limit=501").then().statusCode(400).body("errors[0].field", equalTo("limit"));
        asAdmin().get("/audit?cursor=garbage").then().statusCode(400).body("errors[0].field", equalTo("cursor"));
        // a cursor of GET /sessions (keyed by UUID) is not one of this listing
        String sessionsCursor = new dev.portcullis.admin.Cursor(java.time.OffsetDateTime.now(), UUID.randomUUID()).encode();
        asAdmin().get("/audit?cursor=" + sessionsCursor).then().statusCode(400).body("errors[0].field", equalTo("cursor"));
        asAdmin().get("/sessions?cursor=" + new dev.portcullis.admin.Cursor(java.time.OffsetDateTime.now(), 42L).encode())
                .then().statusCode(400).body("errors[0].field", equalTo("cursor"));
    }

    @Test
    void anAuditorReadsTheAuditAndAnApproverMayNot() {
        given().auth().oauth2(OidcTokens.of(OidcTokens.DANA)).get("/audit?limit=1").then().statusCode(200);
        given().auth().oauth2(OidcTokens.of(OidcTokens.CAROL)).get("/audit").then().statusCode(403)
                .body("detail", containsString("'auditors' or 'platform-admins'"));
        Response refusal = asAdmin().get("/audit?actor=carol&action=audit.read&limit=1");
        refusal.then().statusCode(200).body("items[0].details.outcome", equalTo("refused"))
                .body("items[0].details.status", equalTo(403));
        assertNull(refusal.path("items[0].details.token"));
    }

    private long insert(Instant at, String actor, String action, String target) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement q = c.prepareStatement("INSERT INTO admin_audit"
                + " (at, actor_subject, actor_name, action, target) VALUES (?, ?, ?, ?, ?) RETURNING id")) {
            q.setTimestamp(1, Timestamp.from(at));
            q.setString(2, actor);
            q.setString(3, actor);
            q.setString(4, action);
            q.setString(5, target);
            try (var r = q.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        }
    }

    private static List<Long> ids(String path) {
        return asAdmin().get(path).then().statusCode(200).extract().jsonPath().getList("items.id", Long.class);
    }

    private static RequestSpecification asAdmin() {
        return given().auth().oauth2(OidcTokens.of(OidcTokens.ADMIN));
    }
}
