package dev.portcullis.contract.events;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The wire form of events and the hash chain over them. The expected bytes and hashes were computed outside Java
 * (Python's json.dumps with sorted keys and compact separators, and hashlib.sha256), so they pin the contract,
 * not this implementation.
 */
class SessionEventsTest {
    static final UUID SESSION = UUID.fromString("0b7c1d5e-8a4f-4c5e-9d2a-6f1e3b9a7c40");

    static final String STARTED_JSON = "{\"at\":\"2026-11-28T08:00:00.123Z\",\"connection\":{\"name\":\"demo-dev\","
            + "\"tags\":{\"env\":\"dev\"},\"type\":\"postgres\"},\"gateway\":\"gw-1\",\"identity\":{\"client_id\":\"agent-ci\","
            + "\"groups\":[\"ci-readonly\"],\"kind\":\"machine\",\"name\":\"agent-ci\",\"subject\":\"agent-ci\"},\"seq\":1,"
            + "\"session_id\":\"0b7c1d5e-8a4f-4c5e-9d2a-6f1e3b9a7c40\",\"source_ip\":\"127.0.0.1\",\"type\":\"session.started\",\"v\":2}";
    static final String STATEMENTS_JSON = "[{\"command\":\"SELECT\",\"copy\":null,\"functions\":[],\"has_where\":true,"
            + "\"normalized\":\"SELECT email FROM users WHERE name = ?\",\"prepared_name\":null,\"set_parameter\":null,"
            + "\"tables\":[{\"access\":\"read\",\"name\":\"users\",\"schema\":null}],\"via\":null}]";
    static final String DECISION_JSON = "{\"allow\":true,\"approval_required\":false,\"id\":\"d-1\",\"latency_us\":420,"
            + "\"policy\":\"pg/role-read\",\"reasons\":[],\"revision\":\"r1\",\"source\":\"opa\"}";
    static final String SQL_JSON = "\"SELECT email FROM users WHERE name = 'Zoë \\\"\uD83D\uDE00\\\"\\t\\u0001'\"";
    static final String REQUEST_JSON = "{\"at\":\"2026-11-28T08:00:01.000Z\",\"decision\":" + DECISION_JSON
            + ",\"details\":{\"statements\":" + STATEMENTS_JSON + "},\"message\":\"query\",\"protocol\":\"postgres\",\"seq\":2,"
            + "\"session_id\":\"0b7c1d5e-8a4f-4c5e-9d2a-6f1e3b9a7c40\",\"text\":" + SQL_JSON
            + ",\"truncated\":null,\"type\":\"request\",\"v\":2}";
    static final String H1 = "37e81eadb8401a919f5072640f5284914d8c437bf18a16af584f9a10c585e5e5";
    static final String H2 = "a804cb7a6474df54cdff758da719cab1258799089be195a4e06359deb5c78a6e";

    /** The same two events as contract version 1 wrote them, and their chain: recordings made then must still verify. */
    static final String STARTED_V1_JSON = STARTED_JSON.replace("\"v\":2}", "\"v\":1}");
    static final String REQUEST_V1_JSON = "{\"at\":\"2026-11-28T08:00:01.000Z\",\"decision\":" + DECISION_JSON
            + ",\"message\":\"query\",\"seq\":2,\"session_id\":\"0b7c1d5e-8a4f-4c5e-9d2a-6f1e3b9a7c40\",\"sql\":" + SQL_JSON
            + ",\"statements\":" + STATEMENTS_JSON + ",\"truncated\":null,\"type\":\"request\",\"v\":1}";
    static final String RESULT_V1_JSON = "{\"at\":\"2026-11-28T08:00:02.000Z\",\"bytes\":120,\"command_tag\":\"SELECT 3\","
            + "\"detectors\":[],\"duration_us\":950,\"masked\":[],\"request_seq\":2,\"rows\":3,"
            + "\"session_id\":\"0b7c1d5e-8a4f-4c5e-9d2a-6f1e3b9a7c40\",\"seq\":3,\"sqlstate\":null,\"type\":\"result\",\"v\":1}";
    static final String H1_V1 = "e626af19169ed9df7b5ffb8e0cc5d0fe9408fcacf506aae6d95817f912098828";
    static final String H2_V1 = "c361f9249938b0e200ae7baa8a4c2cc37150ecec30b227c3cc48ab1616ddbea3";

    static SessionEvent started() {
        return new SessionEvent(SESSION, 1, Instant.parse("2026-11-28T08:00:00.123456Z"), new SessionStarted(
                new SessionStarted.Identity("agent-ci", "agent-ci", List.of("ci-readonly"), "agent-ci", "machine"),
                new SessionStarted.Connection("demo-dev", "postgres", Map.of("env", "dev")),
                "127.0.0.1", "gw-1"));
    }

    static SessionEvent request() {
        Map<String, Object> table = new LinkedHashMap<>();
        table.put("schema", null);
        table.put("name", "users");
        table.put("access", "read");
        Map<String, Object> statement = new LinkedHashMap<>();
        statement.put("command", "SELECT");
        statement.put("tables", List.of(table));
        statement.put("functions", List.of());
        statement.put("has_where", true);
        statement.put("normalized", "SELECT email FROM users WHERE name = ?");
        statement.put("via", null);
        statement.put("copy", null);
        statement.put("set_parameter", null);
        statement.put("prepared_name", null);
        return new SessionEvent(SESSION, 2, Instant.parse("2026-11-28T08:00:01Z"), new Request("postgres", "query",
                SessionEvents.tree(Map.of("statements", List.of(statement))),
                "SELECT email FROM users WHERE name = 'Zoë \"\uD83D\uDE00\"\t\u0001'", null,
                new Request.Decision("d-1", true, "pg/role-read", "r1", List.of(), false, 420, "opa")));
    }

    @Test
    void events_are_written_as_canonical_json_with_snake_case_fields_and_millisecond_utc_times() {
        assertEquals(STARTED_JSON, utf8(SessionEvents.toJson(started())));
        assertEquals(REQUEST_JSON, utf8(SessionEvents.toJson(request())));
    }

    @Test
    void the_wire_form_the_gateway_sends_canonicalises_to_the_canonical_form() {
        SessionEvent result = new SessionEvent(SESSION, 3, Instant.parse("2026-11-28T08:00:02Z"), Result.postgres(2, 3, 120, 950,
                List.of(new Result.MaskedColumn("email", "users", "public", "email", "email", "pii/email")), List.of("email"),
                "SELECT 3", null));
        SessionEvent output = new SessionEvent(SESSION, 4, Instant.parse("2026-11-28T08:00:02Z"), new Output(2, "stdout", "aGkK"));
        SessionEvent ended = new SessionEvent(SESSION, 4, Instant.parse("2026-11-28T08:00:03Z"), new SessionEnded("client_terminate", 3000, 2, 0));
        for (SessionEvent e : List.of(started(), request(), result, output, ended)) {
            assertEquals(utf8(SessionEvents.toJson(e)), utf8(SessionEvents.canonical(SessionEvents.toWire(e)).json()), e.type());
        }
    }

    @Test
    void times_are_written_as_utc_with_milliseconds_like_the_contract_pattern() {
        var pattern = java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);
        var random = new java.util.Random(7);
        List<Instant> instants = new java.util.ArrayList<>(List.of(Instant.parse("2026-11-28T08:00:00Z"),
                Instant.parse("2026-11-28T23:59:59.999999999Z"), Instant.parse("1969-12-31T23:59:59.001Z"),
                Instant.parse("0001-01-01T00:00:00.010Z"), Instant.parse("9999-12-31T23:59:59.999Z")));
        for (int i = 0; i < 10_000; i++) {
            instants.add(Instant.ofEpochSecond(random.nextInt(2_000_000_000), random.nextInt(1_000_000_000)));
            instants.add(instants.get(instants.size() - 1).plusNanos(random.nextInt(3_000_000))); // often the same second
        }
        for (Instant at : instants) {
            assertEquals(pattern.format(at), SessionEvents.formatAt(at), at.toString());
        }
    }

    @Test
    void a_record_of_several_events_reads_back_as_each_event_in_order() {
        byte[] first = SessionEvents.toWire(started());
        byte[] second = SessionEvents.toWire(request());
        byte[] record = new byte[first.length + 1 + second.length + 1];
        System.arraycopy(first, 0, record, 0, first.length);
        record[first.length] = '\n';
        System.arraycopy(second, 0, record, first.length + 1, second.length);
        record[record.length - 1] = '\n'; // a final line break is allowed

        List<byte[]> lines = SessionEvents.lines(record);
        assertEquals(2, lines.size());
        assertEquals(STARTED_JSON, utf8(SessionEvents.canonical(lines.get(0)).json()));
        assertEquals(REQUEST_JSON, utf8(SessionEvents.canonical(lines.get(1)).json()));
        assertEquals(1, SessionEvents.lines(first).size(), "a single event is a record of one line");
        // a blank line is an empty event, which the reader refuses on its own
        assertThrows(InvalidEventException.class, () -> SessionEvents.canonical(SessionEvents.lines("{}\n\n{}".getBytes(StandardCharsets.UTF_8)).get(1)));
    }

    @Test
    void the_chain_over_the_fixed_events_matches_the_test_vector() {
        byte[] h1 = HashChain.next(HashChain.start(), SessionEvents.toJson(started()));
        byte[] h2 = HashChain.next(h1, SessionEvents.toJson(request()));
        assertEquals(H1, HexFormat.of().formatHex(h1));
        assertEquals(H2, HexFormat.of().formatHex(h2));
    }

    @Test
    void the_same_event_written_with_other_key_order_and_whitespace_hashes_the_same() {
        String reordered = "{ \"v\": 2, \"type\": \"session.started\", \"seq\": 1,\n \"session_id\": \"" + SESSION + "\","
                + " \"at\": \"2026-11-28T08:00:00.123Z\", \"source_ip\": \"127.0.0.1\", \"gateway\": \"gw-1\","
                + " \"identity\": {\"kind\": \"machine\", \"subject\": \"agent-ci\", \"name\": \"agent-ci\","
                + " \"groups\": [\"ci-readonly\"], \"client_id\": \"agent-ci\"},"
                + " \"connection\": {\"type\": \"postgres\", \"tags\": {\"env\": \"dev\"}, \"name\": \"demo-dev\"} }";
        CanonicalEvent event = SessionEvents.canonical(reordered.getBytes(StandardCharsets.UTF_8));
        assertEquals(STARTED_JSON, utf8(event.json()));
        assertEquals(H1, HexFormat.of().formatHex(HashChain.next(HashChain.start(), event.json())));
    }

    @Test
    void changing_one_character_changes_the_link() {
        String tampered = REQUEST_JSON.replace("\"allow\":true", "\"allow\":false");
        byte[] h1 = HexFormat.of().parseHex(H1);
        byte[] link = HashChain.next(h1, SessionEvents.canonical(tampered.getBytes(StandardCharsets.UTF_8)).json());
        assertFalse(H2.equals(HexFormat.of().formatHex(link)));
    }

    @Test
    void typed_events_survive_the_round_trip() {
        SessionEvent read = SessionEvents.read(SessionEvents.toJson(request()));
        assertEquals(SESSION, read.sessionId());
        assertEquals(2, read.seq());
        assertEquals(Instant.parse("2026-11-28T08:00:01Z"), read.at());
        Request body = (Request) read.body();
        assertEquals("pg/role-read", body.decision().policy());
        assertEquals(420, body.decision().latencyUs());
        assertEquals("SELECT", body.details().get("statements").get(0).get("command").asText());
        assertEquals(request().body(), body);

        SessionEvent result = new SessionEvent(SESSION, 3, Instant.parse("2026-11-28T08:00:01.002Z"), Result.postgres(2, 3, 96, 850,
                List.of(new Result.MaskedColumn("email", "users", "public", "email", "email", "mask/pii-email")),
                List.of("card"), "SELECT 3", null));
        SessionEvent readResult = SessionEvents.read(SessionEvents.toJson(result));
        // details are a JSON tree: 3 reads back as an int node where a long was written, so compare what is written
        assertEquals(utf8(SessionEvents.toJson(result)), utf8(SessionEvents.toJson(readResult)));
        assertEquals(3, ((Result) readResult.body()).details().get("rows").asLong());
        SessionEvent ended = new SessionEvent(SESSION, 4, Instant.parse("2026-11-28T08:00:02Z"),
                new SessionEnded("client_terminate", 1877, 1, 0));
        assertEquals(ended, SessionEvents.read(SessionEvents.toJson(ended)));
        assertTrue(utf8(SessionEvents.toJson(result)).contains("\"sqlstate\":null"), "null fields are written");
    }

    @Test
    void fields_a_newer_minor_revision_adds_are_kept_and_hashed() {
        String withExtra = STARTED_JSON.replace("\"v\":2}", "\"v\":2,\"zone\":\"eu-1\"}");
        CanonicalEvent event = SessionEvents.canonical(withExtra.getBytes(StandardCharsets.UTF_8));
        assertArrayEquals(withExtra.getBytes(StandardCharsets.UTF_8), event.json());
        assertEquals("agent-ci", ((SessionStarted) SessionEvents.read(event).body()).identity().subject());
    }

    @Test
    void envelope_errors_name_the_field_and_never_quote_the_event() {
        assertInvalid(STARTED_JSON.replace("\"v\":2", "\"v\":3"), "field v must be 1 to 2");
        assertInvalid(STARTED_JSON.replace("\"v\":2", "\"v\":0"), "field v must be 1 to 2");
        assertInvalid(STARTED_JSON.replace("\"seq\":1", "\"seq\":0"), "field seq");
        assertInvalid(STARTED_JSON.replace("\"seq\":1", "\"seq\":1.5"), "field seq");
        assertInvalid(STARTED_JSON.replace(SESSION.toString(), SESSION.toString().toUpperCase()), "field session_id");
        assertInvalid(STARTED_JSON.replace("2026-11-28T08:00:00.123Z", "yesterday"), "field at");
        assertInvalid(STARTED_JSON.replace("session.started", "Session Started"), "field type");
        assertInvalid("[1,2]", "not a JSON object");
        assertInvalid("{\"v\":1, \"secret-value\"", "not valid JSON");
        assertInvalid(STARTED_JSON.replace("\"v\":2}", "\"v\":2,\"gateway\":\"gw-2\"}"), "a field appears twice");
        assertInvalid(STARTED_JSON.replace("\"v\":2}", "\"v\":2,\"load\":0.5}"), "field load is not an integer");
        assertInvalid(STARTED_JSON.replace("\"v\":2}", "\"v\":2,\"n\":9007199254740992}"), "field n is outside");
        assertInvalid(STARTED_JSON.replace("\"gw-1\"", "\"gw-\\ud800\""), "field gateway holds an unpaired");
        var tooLarge = new byte[SessionEvents.MAX_EVENT_BYTES + 1];
        assertThrows(InvalidEventException.class, () -> SessionEvents.canonical(tooLarge));
    }

    @Test
    void at_is_read_as_instant_parse_reads_it_in_the_contract_spelling_and_any_other() {
        for (String at : List.of("2026-11-28T08:00:00.123Z", "2024-02-29T23:59:59.999Z", "0001-01-01T00:00:00.000Z",
                "2026-11-28T08:00:00Z", "2026-11-28T08:00:00.123456Z", "+300000-01-01T00:00:00.000Z",
                "2026-02-30T08:00:00.123Z", "2026-11-28T24:00:00.000Z", "2026-13-28T08:00:00.123Z", "2026-11-28T08:00:60.000Z")) {
            Instant expected;
            try {
                expected = Instant.parse(at);
            } catch (java.time.format.DateTimeParseException e) {
                assertInvalid(STARTED_JSON.replace("2026-11-28T08:00:00.123Z", at), "field at");
                continue;
            }
            CanonicalEvent e = SessionEvents.canonical(STARTED_JSON.replace("2026-11-28T08:00:00.123Z", at)
                    .getBytes(StandardCharsets.UTF_8));
            assertEquals(expected, e.at(), at);
        }
    }

    @Test
    void a_version_1_recording_keeps_its_chain_and_reads_as_version_2_records() {
        CanonicalEvent started = SessionEvents.canonical(STARTED_V1_JSON.getBytes(StandardCharsets.UTF_8));
        CanonicalEvent request = SessionEvents.canonical(REQUEST_V1_JSON.getBytes(StandardCharsets.UTF_8));
        CanonicalEvent result = SessionEvents.canonical(RESULT_V1_JSON.getBytes(StandardCharsets.UTF_8));
        assertEquals(REQUEST_V1_JSON, utf8(request.json()), "stored as received: the hash covers version 1's bytes");
        byte[] h1 = HashChain.next(HashChain.start(), started.json());
        assertEquals(H1_V1, HexFormat.of().formatHex(h1));
        assertEquals(H2_V1, HexFormat.of().formatHex(HashChain.next(h1, request.json())));

        Request read = (Request) SessionEvents.read(request).body();
        assertEquals(((Request) request().body()).details(), read.details());
        assertEquals(((Request) request().body()).text(), read.text());
        assertEquals("postgres", read.protocol());
        assertEquals(((Request) request().body()).decision(), read.decision());
        SessionEvent asV2 = new SessionEvent(SESSION, 3, result.at(), Result.postgres(2, 3, 120, 950, List.of(), List.of(), "SELECT 3", null));
        assertEquals(utf8(SessionEvents.toJson(asV2)), utf8(SessionEvents.toJson(SessionEvents.read(result))));
        assertEquals(3L, result.resultRows());
        assertEquals(3L, SessionEvents.canonical(SessionEvents.toJson(new SessionEvent(SESSION, 3, Instant.EPOCH,
                Result.postgres(2, 3, 120, 950, List.of(), List.of(), "SELECT 3", null)))).resultRows());

        String cut = REQUEST_V1_JSON.replace("\"truncated\":null", "\"truncated\":{\"sql\":{\"bytes\":40000,\"kept_bytes\":32768,"
                + "\"sha256\":\"ab\"},\"statements\":{\"count\":9,\"kept\":1}}");
        Request.Truncated truncated = ((Request) SessionEvents.read(cut.getBytes(StandardCharsets.UTF_8)).body()).truncated();
        assertEquals(new Request.Truncated(new Request.Truncated.Text(40000, 32768, "ab"), new Request.Truncated.Details(9, 1)), truncated);
    }

    @Test
    void an_unknown_type_is_kept_by_canonical_but_refused_by_the_typed_reader() {
        String future = STARTED_JSON.replace("session.started", "session.paused");
        CanonicalEvent event = SessionEvents.canonical(future.getBytes(StandardCharsets.UTF_8));
        assertEquals("session.paused", event.type());
        var e = assertThrows(InvalidEventException.class, () -> SessionEvents.read(event));
        assertTrue(e.getMessage().contains("session.paused"), e.getMessage());
    }

    @Test
    void a_body_field_of_the_wrong_type_is_refused_naming_it() {
        String wrong = REQUEST_JSON.replace("\"latency_us\":420", "\"latency_us\":\"secret-value\"");
        var e = assertThrows(InvalidEventException.class,
                () -> SessionEvents.read(wrong.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("latency_us"), e.getMessage());
        assertFalse(e.getMessage().contains("secret-value"), e.getMessage());
    }

    private static void assertInvalid(String json, String expected) {
        var e = assertThrows(InvalidEventException.class, () -> SessionEvents.canonical(json.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertFalse(e.getMessage().contains("secret-value"), e.getMessage());
        assertFalse(e.getMessage().contains("agent-ci"), "the message quotes the event: " + e.getMessage());
    }

    private static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
