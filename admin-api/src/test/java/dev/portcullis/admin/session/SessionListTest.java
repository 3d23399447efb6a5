package dev.portcullis.admin.session;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.admin.OidcTokens;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** GET /sessions (filters, cursor pages) and GET /sessions/{id}, against rows in the real PostgreSQL index. */
@QuarkusTest
class SessionListTest {
    private static final Instant T0 = Instant.parse("2026-11-28T08:00:00.123456Z");

    @Inject
    AgroalDataSource db;

    @Test
    void filtersNarrowTheList() throws SQLException {
        String connection = "list-" + UUID.randomUUID();
        UUID live = insert(connection, T0, null, "alice", "postgres", "gw-a", 0);
        UUID sshWithDenials = insert(connection, T0.plusSeconds(60), T0.plusSeconds(70), "bob", "ssh", "gw-b", 2);
        UUID ended = insert(connection, T0.plusSeconds(120), T0.plusSeconds(130), "alice", "postgres", "gw-a", 1);
        String base = "/sessions?connection=" + connection;

        assertEquals(List.of(ended, sshWithDenials, live), ids(base));
        assertEquals(List.of(ended, live), ids(base + "&identity=alice"));
        assertEquals(List.of(sshWithDenials), ids(base + "&protocol=ssh"));
        assertEquals(List.of(ended, live), ids(base + "&gateway=gw-a"));
        assertEquals(List.of(live), ids(base + "&state=live"));
        assertEquals(List.of(ended, sshWithDenials), ids(base + "&state=ended"));
        assertEquals(List.of(ended, sshWithDenials), ids(base + "&had_denials=true"));
        assertEquals(List.of(live), ids(base + "&had_denials=false"));
        assertEquals(List.of(ended, sshWithDenials), ids(base + "&from=2026-11-28T08:01:00.123456Z"));
        assertEquals(List.of(live), ids(base + "&to=2026-11-28T08:01:00.123456Z"));
    }

    @Test
    void oneSessionByItsId() throws SQLException {
        String connection = "one-" + UUID.randomUUID();
        UUID id = insert(connection, T0, T0.plusSeconds(5), "carol", "kubernetes", "gw-k", 3);
        asAdmin().get("/sessions/" + id).then().statusCode(200)
                .body("id", equalTo(id.toString()))
                .body("connection", equalTo(connection))
                .body("connection_type", equalTo("kubernetes"))
                .body("identity_subject", equalTo("carol"))
                .body("denials", equalTo(3));
        asAdmin().get("/sessions/" + UUID.randomUUID()).then().statusCode(404)
                .body("detail", containsString("is not recorded"));
        asAdmin().get("/sessions/not-a-session").then().statusCode(400).body("errors.field", hasItem("id"));
    }

    @Test
    void badQueryParametersAreNamed() {
        asAdmin().get("/sessions?state=running").then().statusCode(400).body("errors[0].field", equalTo("state"));
        asAdmin().get("/sessions?had_denials=maybe").then().statusCode(400).body("errors[0].field", equalTo("had_denials"));
        asAdmin().get("/sessions?from=yesterday").then().statusCode(400).body("errors[0].field", equalTo("from"));
        asAdmin().get("/sessions?cursor=garbage").then().statusCode(400).body("errors[0].field", equalTo("cursor"));
        asAdmin().get("/sessions?identity=a&user=b").then().statusCode(400).body("errors[0].field", equalTo("user"));
    }

    /**
     * 30 sessions (some starting in the same microsecond) listed 7 at a time while other sessions are inserted, before
     * and among them: every one of the 30 comes exactly once, in order.
     */
    @Test
    void pagesAreStableWhileSessionsAreInserted() throws Exception {
        String connection = "pages-" + UUID.randomUUID();
        List<UUID> original = new ArrayList<>();
        List<Instant> starts = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            Instant start = T0.plusMillis(1000L * (i / 2)); // two sessions per start time: the id breaks the tie
            original.add(insert(connection, start, null, "agent-ci", "postgres", "gw-a", 0));
            starts.add(start);
        }
        AtomicBoolean done = new AtomicBoolean();
        ExecutorService inserter = Executors.newSingleThreadExecutor();
        Future<Integer> inserted = inserter.submit(() -> {
            int n = 0;
            while (!done.get() && n < 60) {
                // newer than all, and amid them at an existing start time
                insert(connection, T0.plusSeconds(3600 + n), null, "agent-ci", "postgres", "gw-a", 0);
                insert(connection, starts.get(n % starts.size()), null, "agent-ci", "postgres", "gw-a", 0);
                n += 2;
                Thread.sleep(5);
            }
            return n;
        });
        List<UUID> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        try {
            do {
                Response page = asAdmin().get("/sessions?limit=7&connection=" + connection
                        + (cursor == null ? "" : "&cursor=" + cursor));
                page.then().statusCode(200);
                seen.addAll(page.<List<String>>path("items.id").stream().map(UUID::fromString).toList());
                cursor = page.path("next");
                pages++;
            } while (cursor != null && pages < 100);
        } finally {
            done.set(true);
            inserter.shutdown();
        }
        assertTrue(inserted.get() > 0, "no session was inserted while paging");
        assertEquals(seen.size(), new HashSet<>(seen).size(), "a session came twice: " + seen);
        List<UUID> originalSeen = seen.stream().filter(Set.copyOf(original)::contains).toList();
        List<UUID> expected = new ArrayList<>(original);
        // newest first; within one start time, the greater id first (PostgreSQL compares uuids as unsigned bytes)
        expected.sort(Comparator.comparing((UUID id) -> starts.get(original.indexOf(id))).thenComparing(UUID::toString).reversed());
        assertEquals(expected, originalSeen);
    }

    private static List<UUID> ids(String path) {
        Response response = asAdmin().get(path);
        response.then().statusCode(200);
        return response.<List<String>>path("items.id").stream().map(UUID::fromString).toList();
    }

    private UUID insert(String connection, Instant start, Instant end, String identity, String protocol, String gateway,
            int denials) throws SQLException {
        UUID id = UUID.randomUUID();
        try (Connection c = db.getConnection(); PreparedStatement s = c.prepareStatement("INSERT INTO sessions (id,"
                + " started_at, ended_at, identity_subject, identity_name, connection_name, connection_type, gateway,"
                + " requests, denials, last_seq, last_hash, last_event_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)")) {
            s.setObject(1, id);
            s.setTimestamp(2, Timestamp.from(start));
            s.setTimestamp(3, end == null ? null : Timestamp.from(end));
            s.setString(4, identity);
            s.setString(5, identity);
            s.setString(6, connection);
            s.setString(7, protocol);
            s.setString(8, gateway);
            s.setLong(9, denials + 1);
            s.setLong(10, denials);
            s.setBytes(11, new byte[32]);
            s.setTimestamp(12, Timestamp.from(end == null ? start : end));
            s.executeUpdate();
        }
        return id;
    }

    private static RequestSpecification asAdmin() {
        return given().auth().oauth2(OidcTokens.of(OidcTokens.ADMIN));
    }
}
