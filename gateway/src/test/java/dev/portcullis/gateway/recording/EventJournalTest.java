package dev.portcullis.gateway.recording;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The write-ahead journal of session events: order, durability across reopen, torn tails, acknowledgement, bounds. */
class EventJournalTest {
    @TempDir
    Path dir;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void entries_come_back_in_order_after_a_reopen() throws IOException {
        try (EventJournal j = new EventJournal(dir, 1 << 20, 256)) {
            for (int i = 0; i < 50; i++) {
                assertEquals(i, j.append("s" + (i % 3), bytes("event " + i)));
            }
            j.sync();
        }
        try (EventJournal j = new EventJournal(dir, 1 << 20, 256)) {
            assertEquals(0, j.firstIndex());
            assertEquals(50, j.nextIndex());
            List<EventJournal.Entry> all = j.read(0, 100);
            assertEquals(50, all.size());
            for (int i = 0; i < 50; i++) {
                assertEquals(i, all.get(i).index());
                assertEquals("s" + (i % 3), all.get(i).key());
                assertArrayEquals(bytes("event " + i), all.get(i).value());
            }
            assertEquals(List.of(20L, 21L), j.read(20, 2).stream().map(EventJournal.Entry::index).toList());
            assertEquals(List.of(22L), j.read(22, 1).stream().map(EventJournal.Entry::index).toList(), "reading on from where it stopped");
        }
    }

    @Test
    void a_torn_last_record_is_cut_off_and_the_rest_kept() throws IOException {
        try (EventJournal j = new EventJournal(dir, 1 << 20, 1 << 20)) {
            j.append("s", bytes("one"));
            j.append("s", bytes("two"));
            j.sync();
        }
        Path segment;
        try (Stream<Path> s = Files.list(dir)) {
            segment = s.filter(p -> p.toString().endsWith(".seg")).findFirst().orElseThrow();
        }
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 2); // a crash in the middle of the second write
        }
        try (EventJournal j = new EventJournal(dir, 1 << 20, 1 << 20)) {
            assertEquals(1, j.nextIndex());
            assertEquals(1, j.append("s", bytes("two again")), "the next entry takes the torn one's place");
            assertEquals(1, j.syncedIndex(), "an entry is not readable before it is forced to disk");
            j.sync();
            assertEquals("two again", new String(j.read(1, 1).get(0).value(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void acknowledged_segments_are_deleted_and_the_bound_holds() throws IOException {
        try (EventJournal j = new EventJournal(dir, 1000, 200)) {
            while (!j.full()) {
                j.append("s", new byte[90]);
                if (j.nextIndex() % 3 == 0) {
                    j.sync();
                }
            }
            j.sync();
            assertTrue(j.bytes() >= 1000);
            long next = j.nextIndex();
            j.acknowledgedBefore(next);
            assertEquals(0, j.bytes());
            assertFalse(j.full());
            assertEquals(next, j.firstIndex());
            assertEquals(next, j.append("s", bytes("after")));
        }
    }

    @Test
    void two_gateways_cannot_share_a_journal() throws IOException {
        try (EventJournal j = new EventJournal(dir, 1000, 200)) {
            IOException e = assertThrows(IOException.class, () -> new EventJournal(dir, 1000, 200));
            assertTrue(e.getMessage().contains("in use by another gateway"), e.getMessage());
        }
    }
}
