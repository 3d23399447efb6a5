package dev.portcullis.gateway.recording;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.contract.events.Request;
import dev.portcullis.contract.events.Result;
import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Every event the gateway builds stays within its bound, whatever the client sent, and says what it left out. */
class EventBoundsTest {

    @Test
    void a_short_text_is_kept_whole() {
        EventBounds.Text t = EventBounds.text("SELECT 1");
        assertEquals("SELECT 1", t.kept());
        assertNull(t.cut());
        String justFits = "x".repeat(Request.MAX_TEXT_BYTES);
        assertSame(justFits, EventBounds.text(justFits).kept());
        assertNull(EventBounds.text(justFits).cut());
    }

    @Test
    void a_long_text_keeps_its_first_bytes_its_length_and_its_hash() throws Exception {
        String text = "SELECT 1 /* " + "é".repeat(600_000) + " */";
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        EventBounds.Text t = EventBounds.text(text);
        assertEquals(utf8.length, t.cut().bytes());
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(utf8)), t.cut().sha256());
        byte[] kept = t.kept().getBytes(StandardCharsets.UTF_8);
        assertEquals(kept.length, t.cut().keptBytes());
        assertTrue(kept.length <= Request.MAX_TEXT_BYTES && kept.length > Request.MAX_TEXT_BYTES - 4, "cut at the limit: " + kept.length);
        assertTrue(text.startsWith(t.kept()), "the kept part is the text's beginning");
    }

    @Test
    void a_cut_never_splits_a_character() {
        String text = "😀".repeat(Request.MAX_TEXT_BYTES); // 4 bytes each, 2 chars each
        EventBounds.Text t = EventBounds.text(text);
        assertEquals(Request.MAX_TEXT_BYTES, t.kept().getBytes(StandardCharsets.UTF_8).length);
        assertTrue(Character.isHighSurrogate(t.kept().charAt(t.kept().length() - 2)), "ends with a whole pair");
        assertEquals(4L * Request.MAX_TEXT_BYTES, t.cut().bytes());
    }

    @Test
    void a_lone_surrogate_is_counted_as_utf8_writes_it() {
        String text = "\ud800".repeat(Request.MAX_TEXT_BYTES + 1);
        EventBounds.Text t = EventBounds.text(text);
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length, t.cut().bytes());
    }

    private static Map<String, Object> statement(String normalized, int tables) {
        List<Map<String, Object>> t = new ArrayList<>();
        for (int i = 0; i < tables; i++) {
            t.add(Map.of("schema", "public", "name", "t" + i, "access", "read"));
        }
        return Map.of("command", "SELECT", "tables", t, "functions", List.of(), "normalized", normalized);
    }

    @Test
    void statements_that_fit_are_kept_as_they_are() {
        EventBounds.Details s = EventBounds.details(Map.of("statements", List.of(statement("SELECT ?", 1))));
        assertNull(s.cut());
        assertEquals("SELECT ?", s.tree().get("statements").get(0).get("normalized").asText());
    }

    @Test
    void details_written_once_give_the_same_event_as_the_tree() throws Exception {
        EventBounds.Details d = EventBounds.details(Map.of("statements", List.of(statement("SELECT \"é\", '\\n' FROM t WHERE a = ?", 2))));
        Request.Decision decision = new Request.Decision("d-1", true, "sql/select", "r-1", List.of("ok"), false, 5, "memo");
        UUID session = UUID.randomUUID();
        Instant at = Instant.parse("2026-12-07T16:00:00.123Z");
        byte[] fromTree = SessionEvents.toWire(new SessionEvent(session, 2, at, new Request("postgres", "query", d.tree(), "SELECT 1", null, decision)));
        byte[] written = SessionEvents.toWire(new SessionEvent(session, 2, at, new Request("postgres", "query", d.written().json(), "SELECT 1", null, decision)));
        assertEquals(new String(fromTree, StandardCharsets.UTF_8), new String(written, StandardCharsets.UTF_8));
        assertEquals(SessionEvents.read(fromTree), SessionEvents.read(written));
    }

    @Test
    void too_many_statements_keep_the_first_ones_shortened_and_say_how_many_there_were() {
        List<Object> many = new ArrayList<>(Collections.nCopies(200, statement("SELECT " + "a, ".repeat(3000) + "b FROM t", 500)));
        EventBounds.Details s = EventBounds.details(Map.of("statements", many));
        assertEquals(200, s.cut().count());
        assertTrue(s.cut().kept() > 0 && s.cut().kept() < 200, "kept " + s.cut().kept());
        assertEquals(s.cut().kept(), s.tree().get("statements").size());
        assertTrue(s.tree().toString().getBytes(StandardCharsets.UTF_8).length <= Request.MAX_DETAILS_BYTES);
        JsonNode first = s.tree().get("statements").get(0);
        assertEquals(EventBounds.MAX_STRING_CHARS, first.get("normalized").asText().length());
        assertEquals(EventBounds.MAX_LIST_ITEMS, first.get("tables").size());
    }

    @Test
    void details_without_a_list_that_do_not_fit_are_left_out_and_said_so() {
        EventBounds.Details d = EventBounds.details(Map.of("path", "/api/" + "x".repeat(Request.MAX_DETAILS_BYTES)));
        assertNull(d.tree());
        assertEquals(new Request.Truncated.Details(null, null), d.cut());
        EventBounds.Details small = EventBounds.details(Map.of("verb", "get", "resource", "pods"));
        assertNull(small.cut());
        assertEquals("pods", small.tree().get("resource").asText());
    }

    @Test
    void the_worst_request_and_result_a_client_can_cause_fit_in_one_event() {
        List<Object> many = new ArrayList<>(Collections.nCopies(300, statement("x".repeat(20_000), 300)));
        EventBounds.Details s = EventBounds.details(Map.of("statements", many));
        EventBounds.Text t = EventBounds.text("€".repeat(5_000_000));
        List<String> reasons = EventBounds.reasons(Collections.nCopies(100, "r".repeat(10_000)));
        assertEquals(EventBounds.MAX_REASONS, reasons.size());
        Request request = new Request("postgres", "query", s.tree(), t.kept(), new Request.Truncated(t.cut(), s.cut()),
                new Request.Decision("d-1", true, "p".repeat(200), "rev", reasons, false, 1, "opa"));
        int requestBytes = SessionEvents.toWire(new SessionEvent(UUID.randomUUID(), 2, Instant.now(), request)).length;
        assertTrue(requestBytes <= EventBounds.MAX_EVENT_BYTES, "request event of " + requestBytes + " bytes");

        String name = "n".repeat(63);
        List<Result.MaskedColumn> masked = Collections.nCopies(Result.MAX_MASKED_COLUMNS,
                new Result.MaskedColumn(name, name, name, name, "partial", "r".repeat(200)));
        Result result = new Result("postgres", 2, true, 1, 1, masked, 1536, List.of("email", "card", "iban", "phone",
                "national_id", "secret"), SessionEvents.tree(Map.of("rows", 1, "command_tag", "SELECT 1")));
        int resultBytes = SessionEvents.toWire(new SessionEvent(UUID.randomUUID(), 3, Instant.now(), result)).length;
        assertTrue(resultBytes <= EventBounds.MAX_EVENT_BYTES, "result event of " + resultBytes + " bytes");
    }
}
