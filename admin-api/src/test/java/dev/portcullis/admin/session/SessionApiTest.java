package dev.portcullis.admin.session;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.admin.OidcTokens;
import dev.portcullis.contract.RecordingBucket;
import dev.portcullis.contract.events.RecordingChunks;
import dev.portcullis.contract.events.Request;
import dev.portcullis.contract.events.Result;
import dev.portcullis.contract.events.SessionEnded;
import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import dev.portcullis.contract.events.SessionStarted;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** /sessions against the stack's real PostgreSQL, S3 and OIDC issuer. */
@QuarkusTest
class SessionApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    AgroalDataSource db;

    @Inject
    RecordingBucket config;

    RecordingFixture fixture;

    @BeforeEach
    void fixture() {
        fixture = new RecordingFixture(db, config);
    }

    /** started, an allowed SELECT with its masked result, a denied DELETE, ended: 5 events. */
    static List<SessionEvent> session(UUID id) {
        Instant t = Instant.parse("2026-11-28T08:00:00.123Z");
        return List.of(
                new SessionEvent(id, 1, t, new SessionStarted(
                        new SessionStarted.Identity("agent-ci", "agent-ci", List.of("ci-readonly"), "agent-ci", "machine"),
                        new SessionStarted.Connection("demo-dev", "postgres", Map.of("env", "dev")), "127.0.0.1", "gw-1")),
                new SessionEvent(id, 2, t.plusMillis(100), Request.postgres("query",
                        SessionEvents.tree(List.of(Map.of("command", "SELECT", "normalized", "SELECT email FROM users LIMIT ?"))),
                        "SELECT email FROM users LIMIT 3",
                        new Request.Decision("d-1", true, "pg/role-read", "r1", List.of(), false, 300, "opa"))),
                new SessionEvent(id, 3, t.plusMillis(105), Result.postgres(2, 3, 96, 800,
                        List.of(new Result.MaskedColumn("email", "users", "public", "email", "email", "mask/pii")),
                        List.of(), "SELECT 3", null)),
                new SessionEvent(id, 4, t.plusMillis(200), Request.postgres("query",
                        SessionEvents.tree(List.of(Map.of("command", "DELETE", "normalized", "DELETE FROM users WHERE id = ?"))),
                        "DELETE FROM users WHERE id = 1\n-- forged line",
                        new Request.Decision("d-2", false, "pg/role-write", "r1", List.of("role ci-readonly may only read"),
                                false, 250, "cache"))),
                new SessionEvent(id, 5, t.plusMillis(300), new SessionEnded("client_terminate", 177, 2, 1)));
    }

    @Test
    void recorded_sessions_are_listed() throws Exception {
        UUID id = UUID.randomUUID();
        fixture.store(session(id), 2);
        asAdmin().get("/sessions?limit=500").then().statusCode(200).body("items.id", hasItem(id.toString()));
        asAdmin().get("/sessions?limit=0").then().statusCode(400).body("errors[0].field", equalTo("limit"));
    }

    @Test
    void events_replay_in_order_exactly_as_recorded_across_chunks_and_pages() throws Exception {
        UUID id = UUID.randomUUID();
        List<SessionEvent> events = session(id);
        fixture.store(events, 2);

        String body = asAdmin().get("/sessions/" + id + "/events").then().statusCode(200)
                .body("session_id", equalTo(id.toString()))
                .body("next_after_seq", nullValue())
                .extract().asString();
        var replayed = JSON.readTree(body).get("events");
        assertEquals(events.size(), replayed.size());
        for (int i = 0; i < events.size(); i++) {
            assertEquals(JSON.readTree(SessionEvents.toJson(events.get(i))), replayed.get(i), "event " + (i + 1));
        }

        asAdmin().get("/sessions/" + id + "/events?limit=2").then().statusCode(200)
                .body("events.seq", equalTo(List.of(1, 2))).body("next_after_seq", equalTo(2));
        asAdmin().get("/sessions/" + id + "/events?after_seq=2&limit=2").then().statusCode(200)
                .body("events.seq", equalTo(List.of(3, 4))).body("next_after_seq", equalTo(4));
        asAdmin().get("/sessions/" + id + "/events?after_seq=4").then().statusCode(200)
                .body("events.seq", equalTo(List.of(5))).body("next_after_seq", nullValue());
    }

    @Test
    void the_transcript_reads_as_what_happened() throws Exception {
        UUID id = UUID.randomUUID();
        fixture.store(session(id), 10);
        String text = asAdmin().accept("text/plain").get("/sessions/" + id + "/transcript").then().statusCode(200)
                .extract().asString();
        assertTrue(text.contains("2026-11-28T08:00:00.123Z"), text);
        assertTrue(text.contains("ALLOW [pg/role-read] SELECT email FROM users LIMIT 3"), text);
        assertTrue(text.contains("SELECT 3, 3 rows, masked email (email, mask/pii)"), text);
        assertTrue(text.contains("DENY  [pg/role-write] DELETE FROM users WHERE id = 1\\n-- forged line"), text);
        assertTrue(text.contains("role ci-readonly may only read"), text);
        assertTrue(text.contains("session ended: client_terminate"), text);
        assertEquals(1 + 5, text.lines().count(), "one header, one line per event: a statement cannot add lines");
        assertTrue(text.lines().skip(1).allMatch(l -> l.contains("agent-ci")), "every line names the identity");
    }

    /** An SSH shell's request and its streams: a resize first, typed input, output with a character split in two. */
    static List<SessionEvent> shell(UUID id, byte[] stdout) {
        Instant t = Instant.parse("2026-11-28T09:00:00.000Z");
        List<SessionEvent> events = new ArrayList<>();
        events.add(new SessionEvent(id, 1, t, new SessionStarted(
                new SessionStarted.Identity("alice", "alice", List.of("developers"), null, "human"),
                new SessionStarted.Connection("demo-box", "ssh", Map.of("env", "dev")), "127.0.0.1", "gw-1")));
        events.add(new SessionEvent(id, 2, t.plusMillis(10), new Request("ssh", "shell",
                SessionEvents.tree(Map.of("channel", "session")), null, null,
                new Request.Decision("d-1", true, "ssh/developers-shell", "r1", List.of(), false, 300, "opa"))));
        events.add(output(id, 3, t.plusMillis(20), "resize", "120x40".getBytes(StandardCharsets.US_ASCII)));
        int split = 6; // between the two bytes of "é"
        events.add(output(id, 4, t.plusMillis(1500), "stdout", java.util.Arrays.copyOfRange(stdout, 0, split)));
        events.add(output(id, 5, t.plusMillis(2250), "stdin", "ls\r".getBytes(StandardCharsets.UTF_8)));
        events.add(output(id, 6, t.plusMillis(2300), "stdout", java.util.Arrays.copyOfRange(stdout, split, stdout.length)));
        events.add(output(id, 7, t.plusMillis(2400), "resize", "100x30".getBytes(StandardCharsets.US_ASCII)));
        events.add(new SessionEvent(id, 8, t.plusMillis(3000), new SessionEnded("client_disconnect", 3000, 1, 0)));
        return events;
    }

    private static SessionEvent output(UUID id, long seq, Instant at, String stream, byte[] data) {
        return new SessionEvent(id, seq, at, new dev.portcullis.contract.events.Output(2, stream,
                java.util.Base64.getEncoder().encodeToString(data)));
    }

    @Test
    void a_shell_replays_as_an_asciicast_with_the_bytes_the_client_saw() throws Exception {
        UUID id = UUID.randomUUID();
        byte[] stdout = "$ caf\u00e9\r\n\u001b[1mbold\u001b[0m \u2603\r\n".getBytes(StandardCharsets.UTF_8);
        fixture.store(shell(id, stdout), 3);
        String cast = asAdmin().accept("application/x-asciicast").get("/sessions/" + id + "/transcript").then().statusCode(200)
                .contentType(containsString("application/x-asciicast")).extract().asString();
        List<String> lines = cast.lines().toList();
        var header = JSON.readTree(lines.get(0));
        assertEquals(2, header.get("version").asInt());
        assertEquals(120, header.get("width").asInt(), "the first resize sizes the terminal");
        assertEquals(40, header.get("height").asInt());
        assertEquals(Instant.parse("2026-11-28T09:00:00.020Z").getEpochSecond(), header.get("timestamp").asLong());
        StringBuilder seen = new StringBuilder();
        List<String> codes = new ArrayList<>();
        double last = -1;
        for (String line : lines.subList(1, lines.size())) {
            var event = JSON.readTree(line);
            assertTrue(event.get(0).asDouble() >= last, "times never go back: " + cast);
            last = event.get(0).asDouble();
            codes.add(event.get(1).asText());
            if (event.get(1).asText().equals("o")) {
                seen.append(event.get(2).asText());
            }
        }
        assertEquals(List.of("o", "i", "o", "r"), codes, cast);
        assertEquals(new String(stdout, StandardCharsets.UTF_8), seen.toString(), "the output, byte for byte, with é whole");
        assertEquals(1.48, JSON.readTree(lines.get(1)).get(0).asDouble(), 0.0001, "seconds since the first event");
        assertTrue(lines.get(2).contains("\"ls\\r\""), "typed input is an i event: " + lines.get(2));
        assertTrue(lines.get(4).contains("\"100x30\""), lines.get(4));

        String one = asAdmin().accept("application/x-asciicast").get("/sessions/" + id + "/transcript?request_seq=9")
                .then().statusCode(200).extract().asString();
        assertEquals(1, one.lines().count(), "another request's streams: the header alone");
        asAdmin().accept("application/x-asciicast").get("/sessions/" + id + "/transcript?request_seq=0").then().statusCode(400);
        String text = asAdmin().accept("text/plain").get("/sessions/" + id + "/transcript").then().statusCode(200).extract().asString();
        assertTrue(text.contains("output of #2: stdout, 6 bytes"), text);
        asAdmin().accept("*/*").get("/sessions/" + id + "/transcript").then().statusCode(200)
                .contentType(containsString("text/plain")).body(containsString("output of #2: stdout, 6 bytes"));
        asAdmin().accept("application/x-asciicast;q=0.5, text/plain").get("/sessions/" + id + "/transcript").then().statusCode(200)
                .contentType(containsString("text/plain"));
    }

    @Test
    void verify_passes_an_untouched_recording_and_names_the_first_tampered_event() throws Exception {
        UUID id = UUID.randomUUID();
        // a recording stored before V5, one object per chunk: still read and verified
        String prefix = fixture.storeLegacy(session(id), 2);
        asAdmin().post("/sessions/" + id + "/verify").then().statusCode(200)
                .body("ok", equalTo(true)).body("intact", equalTo(true)).body("complete", equalTo(true))
                .body("events", equalTo(5)).body("verified", equalTo(5)).body("first_broken_seq", nullValue());

        // rewrite the chunk of seqs 3-4: the DELETE (seq 4) now looks allowed
        String key = RecordingChunks.chunkKey(prefix, 3);
        List<byte[]> lines = new ArrayList<>(fixture.chunk(key));
        lines.set(1, new String(lines.get(1), StandardCharsets.UTF_8).replace("\"allow\":false", "\"allow\":true")
                .getBytes(StandardCharsets.UTF_8));
        fixture.putChunk(key, lines);

        asAdmin().post("/sessions/" + id + "/verify").then().statusCode(200)
                .body("ok", equalTo(false)).body("intact", equalTo(false)).body("verified", equalTo(3))
                .body("first_broken_seq", equalTo(4)).body("problem", containsString("differs"));
        asAdmin().get("/sessions/" + id + "/events").then().statusCode(409)
                .body("detail", containsString("does not verify at seq 4"));
        asAdmin().get("/sessions/" + id + "/events?limit=3").then().statusCode(200).body("events.seq", equalTo(List.of(1, 2, 3)));

        // a deleted chunk is found too
        fixture.s3.deleteObject(b -> b.bucket(fixture.bucket).key(RecordingChunks.chunkKey(prefix, 5)));
        fixture.putChunk(key, lines.subList(0, 1));
        asAdmin().post("/sessions/" + id + "/verify").then().statusCode(200)
                .body("ok", equalTo(false)).body("first_broken_seq", equalTo(4));
    }

    @Test
    void verify_of_a_session_whose_tail_is_in_flight_says_incomplete_and_where_it_stands() throws Exception {
        UUID id = UUID.randomUUID();
        fixture.store(session(id).subList(0, 3), 2);
        asAdmin().post("/sessions/" + id + "/verify").then().statusCode(200)
                .body("ok", equalTo(false)).body("intact", equalTo(true)).body("complete", equalTo(false))
                .body("ended", equalTo(false)).body("last_seq", equalTo(3)).body("verified", equalTo(3))
                .body("problem", containsString("session.ended has not arrived"));
    }

    @Test
    void verify_names_the_parked_seqs_and_why_and_parked_runs_are_listed_and_replayed_on_request() throws Exception {
        UUID id = UUID.randomUUID();
        List<SessionEvent> events = session(id);
        fixture.store(events.subList(0, 2), 2);
        long parked = fixture.park(events.subList(2, 5), "ERROR: timestamp out of range (SQLSTATE 22008)");
        try {
            asAdmin().post("/sessions/" + id + "/verify").then().statusCode(200)
                    .body("ok", equalTo(false)).body("intact", equalTo(true)).body("last_seq", equalTo(2))
                    .body("missing[0].from_seq", equalTo(3)).body("missing[0].to_seq", equalTo(5))
                    .body("missing[0].why", equalTo("parked")).body("missing[0].parked_id", equalTo((int) parked))
                    .body("missing[0].error", containsString("timestamp out of range"))
                    .body("parked[0].id", equalTo((int) parked)).body("problem", containsString("parked"));

            asAdmin().get("/recordings/parked?session_id=" + id).then().statusCode(200)
                    .body("id", equalTo(List.of((int) parked))).body("[0].state", equalTo("parked"))
                    .body("[0].partition", equalTo(2)).body("[0].first_offset", equalTo(40)).body("[0].events", equalTo(3));
            asAdmin().post("/recordings/parked/" + parked + "/replay").then().statusCode(202)
                    .body("state", equalTo("replay_requested")).body("replay_requested_by", equalTo("portcullis-admin"));
            try (var c = db.getConnection(); var s = c.prepareStatement(
                    "SELECT count(*) FROM admin_audit WHERE action = 'recording.parked.replay' AND target = ?")) {
                s.setString(1, "parked/" + parked);
                try (var rs = s.executeQuery()) {
                    rs.next();
                    assertEquals(1, rs.getLong(1), "the request is audited");
                }
            }
            try (var c = db.getConnection(); var s = c.prepareStatement("UPDATE parked_runs SET state = 'replayed' WHERE id = ?")) {
                s.setLong(1, parked);
                s.executeUpdate();
            }
            asAdmin().post("/recordings/parked/" + parked + "/replay").then().statusCode(409)
                    .body("detail", containsString("was replayed"));
            asAdmin().get("/recordings/parked?session_id=" + id).then().statusCode(200).body("id", equalTo(List.of()));
            asAdmin().get("/recordings/parked?state=all&session_id=" + id).then().statusCode(200).body("[0].state", equalTo("replayed"));
        } finally {
            try (var c = db.getConnection(); var s = c.prepareStatement("DELETE FROM parked_runs WHERE id = ?")) {
                s.setLong(1, parked);
                s.executeUpdate();
            }
        }
        asAdmin().post("/recordings/parked/" + Long.MAX_VALUE + "/replay").then().statusCode(404);
        asAdmin().post("/recordings/parked/abc/replay").then().statusCode(400).body("errors[0].field", equalTo("id"));
        asAdmin().get("/recordings/parked?state=closed").then().statusCode(400).body("errors[0].field", equalTo("state"));
        asAdmin().post("/recordings/parked/replay").then().statusCode(202).body("requested", notNullValue());
        given().get("/recordings/parked").then().statusCode(401);
        given().auth().oauth2(OidcTokens.of(OidcTokens.AGENT_CI)).post("/recordings/parked/replay").then().statusCode(403);
    }

    @Test
    void every_read_of_a_recording_is_audited_with_the_reader_and_what_was_read() throws Exception {
        UUID id = UUID.randomUUID();
        fixture.store(session(id), 5);
        given().auth().oauth2(OidcTokens.of(OidcTokens.DANA)).get("/sessions/" + id + "/events?after_seq=2")
                .then().statusCode(200);
        asAdmin().accept("text/plain").get("/sessions/" + id + "/transcript").then().statusCode(200);
        asAdmin().get("/sessions/" + id).then().statusCode(200); // the index entry, not the recording: not a read

        asAdmin().get("/audit?target=session/" + id).then().statusCode(200)
                .body("items.action", equalTo(List.of("recording.read", "recording.read")))
                .body("items.actor_subject", equalTo(List.of(OidcTokens.ADMIN, OidcTokens.DANA)))
                .body("items.details.what", equalTo(List.of("transcript", "events")))
                .body("items.details.from_seq", equalTo(List.of(0, 2)))
                .body("items.details.source", everyItem(equalTo("127.0.0.1")));
    }

    @Test
    void unknown_and_malformed_session_ids_are_refused() {
        UUID unknown = UUID.randomUUID();
        asAdmin().get("/sessions/" + unknown + "/events").then().statusCode(404)
                .body("detail", containsString("is not recorded"));
        asAdmin().post("/sessions/" + unknown + "/verify").then().statusCode(404);
        asAdmin().get("/sessions/" + unknown + "/transcript").then().statusCode(404);
        asAdmin().get("/sessions/not-a-uuid/events").then().statusCode(400).body("errors[0].field", equalTo("id"));
        asAdmin().get("/sessions/" + unknown + "/events?after_seq=-1").then().statusCode(400);
    }

    @Test
    void sessions_need_a_platform_admin_token() throws Exception {
        UUID id = UUID.randomUUID();
        fixture.store(session(id), 5);
        for (String path : List.of("/sessions", "/sessions/" + id + "/events", "/sessions/" + id + "/transcript")) {
            given().get(path).then().statusCode(401).body(containsString("access token is required"));
            given().auth().oauth2("garbage").get(path).then().statusCode(401);
            given().auth().oauth2(OidcTokens.of(OidcTokens.AGENT_CI)).get(path).then().statusCode(403)
                    .body(containsString("platform-admins")).body(not(containsString("SELECT")));
        }
        given().post("/sessions/" + id + "/verify").then().statusCode(401);
        given().auth().oauth2(OidcTokens.of(OidcTokens.AGENT_CI)).post("/sessions/" + id + "/verify").then().statusCode(403);
    }

    private static RequestSpecification asAdmin() {
        return given().auth().oauth2(OidcTokens.of(OidcTokens.ADMIN));
    }
}
