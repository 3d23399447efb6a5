package dev.portcullis.recorder.recording;

import static dev.portcullis.recorder.testing.StoredRecording.await;
import static dev.portcullis.recorder.testing.StoredRecording.reaches;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import dev.portcullis.recorder.testing.EventTopic;
import dev.portcullis.recorder.testing.ParkedRow;
import dev.portcullis.recorder.testing.SessionScript;
import dev.portcullis.recorder.testing.Stack;
import dev.portcullis.recorder.testing.StoredRecording;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/** Events published to a real Kafka topic end up in the real PostgreSQL and S3, complete, once, and chained. */
@QuarkusTest
@QuarkusTestResource(EventTopic.class)
class RecordingTest {
    private static final long WAIT_MS = 30_000;

    @Inject
    S3Client s3;

    @ConfigProperty(name = "portcullis.recordings.s3.bucket")
    String bucket;

    @Test
    void a_session_is_stored_complete_in_order_and_chained() throws Exception {
        UUID id = UUID.randomUUID();
        List<SessionEvent> events = SessionScript.session(id, Instant.now(), 30);
        // two publishes: the session spans more than one batch and so more than one chunk
        EventTopic.publish(events.subList(0, 20));
        await("the first 20 events", WAIT_MS, reaches(id, 20));
        EventTopic.publish(events.subList(20, events.size()));
        await("all " + events.size() + " events", WAIT_MS, reaches(id, events.size()));

        StoredRecording stored = StoredRecording.read(id);
        assertNotNull(stored);
        assertEquals(events.size(), stored.links().size());
        for (int i = 0; i < events.size(); i++) {
            assertEquals(i + 1, stored.links().get(i).seq(), "index rows run 1..n without gaps");
        }
        assertTrue(stored.links().stream().map(l -> l.chunkSeq()).distinct().count() >= 2, "more than one chunk");
        assertEquals(30, stored.requests());
        assertEquals(10, stored.denials());
        assertEquals("client_terminate", stored.endReason());
        assertEquals("agent-ci", stored.subject());
        assertEquals("demo-dev", stored.connection());
        for (StoredRecording.Chunk chunk : stored.chunks().values()) {
            assertTrue(chunk.objectKey().matches("recordings/\\d{4}/\\d{2}/\\d{2}/[0-9a-f-]{36}\\.jsonl\\.gz"), chunk.objectKey());
            assertNotNull(chunk.length(), "a run is a byte range of its batch's object");
        }

        var outcome = stored.verify(s3, bucket);
        assertTrue(outcome.ok(), String.valueOf(outcome));
        assertEquals(events.size(), outcome.verified());

        // what is in S3 is exactly what was published, byte for byte (the gateway sends canonical JSON)
        List<byte[]> lines = stored.allStoredLines(s3, bucket);
        assertEquals(events.size(), lines.size());
        for (int i = 0; i < events.size(); i++) {
            assertTrue(Arrays.equals(SessionEvents.toJson(events.get(i)), lines.get(i)), "line " + (i + 1));
        }
    }

    @Test
    void redelivered_events_are_stored_once() throws Exception {
        UUID id = UUID.randomUUID();
        List<SessionEvent> events = SessionScript.session(id, Instant.now(), 10);
        EventTopic.publish(events.subList(0, 8));
        await("8 events", WAIT_MS, reaches(id, 8));
        // as after a gateway retry or a recorder crash: everything again, overlapping what is stored, then the rest twice
        List<SessionEvent> again = new ArrayList<>(events);
        again.addAll(events.subList(8, events.size()));
        EventTopic.publish(again);
        await("all events", WAIT_MS, reaches(id, events.size()));
        Thread.sleep(1500); // let any late duplicate land, if the recorder were to store it

        StoredRecording stored = StoredRecording.read(id);
        assertEquals(events.size(), stored.links().size());
        assertEquals(events.size(), stored.allStoredLines(s3, bucket).size(), "no event is in S3 twice");
        assertEquals(10, stored.requests(), "requests are counted once");
        assertEquals(3, stored.denials(), "denials are counted once");
        assertTrue(stored.verify(s3, bucket).ok());
    }

    @Test
    void sessions_on_several_partitions_are_stored_independently() throws Exception {
        List<UUID> ids = List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
        List<SessionEvent> interleaved = new ArrayList<>();
        List<List<SessionEvent>> sessions = ids.stream().map(id -> SessionScript.session(id, Instant.now(), 6)).toList();
        for (int i = 0; i < sessions.get(0).size(); i++) {
            for (List<SessionEvent> s : sessions) {
                interleaved.add(s.get(i));
            }
        }
        EventTopic.publish(interleaved);
        for (UUID id : ids) {
            await("session " + id, WAIT_MS, reaches(id, sessions.get(0).size()));
            assertTrue(StoredRecording.read(id).verify(s3, bucket).ok());
        }
    }

    @Test
    void a_record_of_several_events_is_stored_event_by_event_and_a_bad_line_is_kept_aside() throws Exception {
        UUID id = UUID.randomUUID();
        List<SessionEvent> events = SessionScript.session(id, Instant.now(), 3);
        var record = new java.io.ByteArrayOutputStream();
        for (SessionEvent e : events.subList(0, 3)) {
            record.write(SessionEvents.toWire(e));
            record.write('\n');
        }
        record.write("{\"v\":1,\"session_id\":\"broken-line\"}".getBytes(StandardCharsets.UTF_8));
        EventTopic.publishRaw(id.toString(), record.toByteArray());
        EventTopic.publish(events.subList(3, events.size()));
        await("the session", WAIT_MS, reaches(id, events.size()));
        assertTrue(StoredRecording.read(id).verify(s3, bucket).ok());

        ParkedRow parked = parkedLines(id).get(0);
        assertEquals("contract violation", parked.reason());
        assertTrue(parked.error().startsWith("line 4 of 4 of the record at " + EventTopic.topic() + "-"), parked.error());
        assertTrue(parked.error().contains("session_id"), "names what is wrong: " + parked.error());
        assertEquals(1, parked.events());
        assertTrue(new String(parked.lines(s3, bucket).get(0), StandardCharsets.UTF_8).contains("broken-line"), "kept as received");
    }

    @Test
    void an_event_that_breaks_the_contract_is_kept_aside_and_the_rest_is_stored() throws Exception {
        UUID id = UUID.randomUUID();
        EventTopic.publishRaw(id.toString(), "{\"v\":1,\"session_id\":\"not-a-uuid\"}".getBytes(StandardCharsets.UTF_8));
        List<SessionEvent> events = SessionScript.session(id, Instant.now(), 2);
        EventTopic.publish(events);
        await("the valid session", WAIT_MS, reaches(id, events.size()));

        // the record's key names the session, so the parked line is found by it
        ParkedRow parked = parkedLines(id).get(0);
        assertEquals("contract violation", parked.reason());
        assertEquals(parked.firstOffset(), parked.lastOffset(), "one record");
        assertEquals("{\"v\":1,\"session_id\":\"not-a-uuid\"}", new String(parked.lines(s3, bucket).get(0), StandardCharsets.UTF_8),
                "kept as received");
        assertTrue(StoredRecording.read(id).verify(s3, bucket).ok(), "an unreadable line without a seq does not hold the session up");
    }

    private static List<ParkedRow> parkedLines(UUID sessionId) throws Exception {
        await("the unreadable line parked", WAIT_MS, () -> {
            try {
                return !ParkedRow.ofSession(Stack::portcullisDb, sessionId).isEmpty();
            } catch (java.sql.SQLException e) {
                return false;
            }
        });
        return ParkedRow.ofSession(Stack::portcullisDb, sessionId);
    }
}
