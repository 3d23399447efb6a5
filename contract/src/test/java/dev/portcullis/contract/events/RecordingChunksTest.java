package dev.portcullis.contract.events;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RecordingChunksTest {
    private static final UUID SESSION = UUID.fromString("0b7c1d5e-8a4f-4c5e-9d2a-6f1e3b9a7c40");

    @Test
    void chunks_live_under_the_month_the_session_started_named_by_their_first_seq() {
        String prefix = RecordingChunks.sessionPrefix(SESSION, Instant.parse("2026-01-31T23:59:59.999Z"));
        assertEquals("recordings/2026/01/0b7c1d5e-8a4f-4c5e-9d2a-6f1e3b9a7c40/", prefix);
        assertEquals("recordings/2026/01/0b7c1d5e-8a4f-4c5e-9d2a-6f1e3b9a7c40/17.jsonl.gz", RecordingChunks.chunkKey(prefix, 17));
    }

    @Test
    void a_chunk_holds_one_event_per_line_and_reads_back_byte_for_byte() {
        List<byte[]> events = List.of(SessionEvents.toJson(SessionEventsTest.started()), SessionEvents.toJson(SessionEventsTest.request()));
        List<byte[]> read = RecordingChunks.decode(RecordingChunks.encode(events), 1 << 20);
        assertEquals(2, read.size());
        assertArrayEquals(events.get(0), read.get(0));
        assertArrayEquals(events.get(1), read.get(1));
    }

    @Test
    void an_object_of_several_members_reads_whole_and_each_member_reads_alone_by_its_byte_range() {
        RecordingChunks.ObjectWriter writer = new RecordingChunks.ObjectWriter();
        List<byte[]> first = List.of(SessionEvents.toJson(SessionEventsTest.started()));
        List<byte[]> second = List.of(SessionEvents.toJson(SessionEventsTest.request()), "{}".getBytes(StandardCharsets.UTF_8));
        RecordingChunks.Member a = writer.add(first);
        RecordingChunks.Member b = writer.add(second);
        byte[] object = writer.toByteArray();
        assertEquals(0, a.offset());
        assertEquals(a.length(), b.offset());
        assertEquals(object.length, b.offset() + b.length());

        List<byte[]> all = RecordingChunks.decode(object, 1 << 20);
        assertEquals(3, all.size(), "a multi-member gzip is one valid .jsonl.gz");
        List<byte[]> onlyB = RecordingChunks.decode(Arrays.copyOfRange(object, (int) b.offset(), (int) b.offset() + b.length()), 1 << 20);
        assertEquals(2, onlyB.size());
        assertArrayEquals(second.get(0), onlyB.get(0));
        assertArrayEquals(second.get(1), onlyB.get(1));
    }

    @Test
    void new_objects_are_named_by_day_at_random() {
        String key = RecordingChunks.objectKey(RecordingChunks.ROOT, Instant.parse("2026-03-04T23:59:59Z"));
        assertTrue(key.matches("recordings/2026/03/04/[0-9a-f-]{36}\\.jsonl\\.gz"), key);
        assertNotEquals(key, RecordingChunks.objectKey(RecordingChunks.ROOT, Instant.parse("2026-03-04T23:59:59Z")));
    }

    @Test
    void a_chunk_that_inflates_beyond_the_limit_or_is_not_gzip_is_refused() {
        byte[] big = RecordingChunks.encode(List.of(new byte[100_000]));
        assertThrows(IllegalArgumentException.class, () -> RecordingChunks.decode(big, 10_000));
        assertThrows(IllegalArgumentException.class,
                () -> RecordingChunks.decode("plain".getBytes(StandardCharsets.UTF_8), 10_000));
    }
}
