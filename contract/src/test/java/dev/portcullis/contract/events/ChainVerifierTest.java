package dev.portcullis.contract.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ChainVerifierTest {
    private static final UUID SESSION = SessionEventsTest.SESSION;

    /** Five events; chunks hold seqs 1-2 and 3-5. */
    private final List<byte[]> events = new ArrayList<>();
    private final List<ChainVerifier.Link> links = new ArrayList<>();
    private byte[] lastHash;

    ChainVerifierTest() {
        byte[] h = HashChain.start();
        for (int seq = 1; seq <= 5; seq++) {
            byte[] json = SessionEvents.toJson(new SessionEvent(SESSION, seq, Instant.parse("2026-11-28T08:00:00Z").plusSeconds(seq),
                    new Output(1, "stdout", "b3V0cHV0IA==")));
            h = HashChain.next(h, json);
            events.add(json);
            links.add(new ChainVerifier.Link(seq, seq <= 2 ? 1 : 3, h));
        }
        lastHash = h;
    }

    private ChainVerifier.Outcome verify(List<byte[]> first, List<byte[]> second) {
        ChainVerifier verifier = new ChainVerifier(SESSION);
        verifier.check(links.subList(0, 2), first);
        verifier.check(links.subList(2, 5), second);
        return verifier.finish(5, lastHash);
    }

    @Test
    void an_untouched_recording_verifies() {
        var outcome = verify(events.subList(0, 2), events.subList(2, 5));
        assertTrue(outcome.ok(), String.valueOf(outcome));
        assertEquals(5, outcome.verified());
    }

    @Test
    void a_changed_event_is_the_first_broken_link() {
        List<byte[]> second = new ArrayList<>(events.subList(2, 5));
        second.set(1, new String(second.get(1), StandardCharsets.UTF_8).replace("b3V0cHV0IA==", "dGFtcGVyZWQ=")
                .getBytes(StandardCharsets.UTF_8));
        var outcome = verify(events.subList(0, 2), second);
        assertFalse(outcome.ok());
        assertEquals(4L, outcome.firstBrokenSeq());
        assertEquals(3, outcome.verified());
        assertTrue(outcome.problem().contains("differs"), outcome.problem());
    }

    @Test
    void a_deleted_event_a_missing_chunk_and_a_truncated_index_are_each_found() {
        List<byte[]> withoutFour = List.of(events.get(2), events.get(4));
        assertEquals(4L, verify(events.subList(0, 2), withoutFour).firstBrokenSeq());
        assertEquals(3L, verify(events.subList(0, 2), null).firstBrokenSeq());

        ChainVerifier verifier = new ChainVerifier(SESSION);
        verifier.check(links.subList(0, 2), events.subList(0, 2));
        var outcome = verifier.finish(5, lastHash);
        assertEquals(3L, outcome.firstBrokenSeq());
        assertTrue(outcome.problem().contains("missing"), outcome.problem());
    }

    @Test
    void a_gap_in_the_index_is_reported_as_missing_seqs_and_the_links_after_it_still_verify() {
        // as the recorder stores it when seq 3 never arrived: seq 4 is chained onto seq 2
        byte[] h = links.get(1).hash();
        byte[] four = HashChain.next(h, events.get(3));
        byte[] five = HashChain.next(four, events.get(4));
        ChainVerifier verifier = new ChainVerifier(SESSION);
        verifier.check(links.subList(0, 2), events.subList(0, 2));
        assertTrue(verifier.check(List.of(new ChainVerifier.Link(4, 4, four), new ChainVerifier.Link(5, 4, five)),
                events.subList(3, 5)));
        var outcome = verifier.finish(5, five);
        assertFalse(outcome.ok(), "a recording with a missing event is not ok");
        assertTrue(outcome.intact(), "but nothing stored was changed");
        assertEquals(List.of(new ChainVerifier.Range(3, 3)), outcome.missing());
        assertEquals(4, outcome.verified());
    }

    @Test
    void swapped_events_break_the_chain() {
        List<byte[]> swapped = List.of(events.get(1), events.get(0));
        ChainVerifier verifier = new ChainVerifier(SESSION);
        // an index rewritten to the swapped order still fails: each link depends on the one before
        List<ChainVerifier.Link> reordered = List.of(new ChainVerifier.Link(1, 1, links.get(1).hash()),
                new ChainVerifier.Link(2, 1, links.get(0).hash()));
        assertFalse(verifier.check(reordered, swapped));
        assertEquals(1L, verifier.outcome().firstBrokenSeq());
    }

    @Test
    void a_page_verifies_from_the_indexed_link_before_it() {
        ChainVerifier page = new ChainVerifier(SESSION, 4, links.get(2).hash());
        List<Long> seen = new ArrayList<>();
        assertTrue(page.check(links.subList(3, 5), events.subList(2, 5), e -> seen.add(e.seq())));
        assertEquals(List.of(4L, 5L), seen);
    }
}
