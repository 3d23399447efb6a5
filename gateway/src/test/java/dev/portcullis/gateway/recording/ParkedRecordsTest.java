package dev.portcullis.gateway.recording;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal's dead-letter segment keeps what Kafka refused, across restarts, until it is taken back to be resent. */
class ParkedRecordsTest {
    @TempDir
    Path dir;

    @Test
    void parked_records_survive_a_reopen_and_are_handed_back_once() throws IOException {
        byte[] big = new byte[300_000];
        try (ParkedRecords p = new ParkedRecords(dir)) {
            p.park("session-a", big, "Kafka refused record 7: RecordTooLargeException");
            p.park("session-b", "{}".getBytes(StandardCharsets.UTF_8), "event 3 is too large");
            assertEquals(2, p.count());
        }
        try (ParkedRecords p = new ParkedRecords(dir)) {
            assertEquals(2, p.count());
            List<ParkedRecords.Parked> all = p.takeAll();
            assertEquals(List.of("session-a", "session-b"), all.stream().map(ParkedRecords.Parked::key).toList());
            assertArrayEquals(big, all.get(0).value());
            assertEquals("event 3 is too large", all.get(1).reason());
            assertEquals(0, p.count());
        }
        try (ParkedRecords p = new ParkedRecords(dir)) {
            assertEquals(0, p.count(), "taken back means gone");
        }
    }

    @Test
    void a_torn_last_record_is_cut_off() throws IOException {
        try (ParkedRecords p = new ParkedRecords(dir)) {
            p.park("s", new byte[10], "one");
            p.park("s", new byte[10], "two");
        }
        try (FileChannel ch = FileChannel.open(dir.resolve("parked.dlq"), StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 3);
        }
        try (ParkedRecords p = new ParkedRecords(dir)) {
            assertEquals(1, p.count());
            p.park("s", new byte[10], "three");
            assertEquals(List.of("one", "three"), p.takeAll().stream().map(ParkedRecords.Parked::reason).toList());
        }
    }
}
