package dev.portcullis.contract.events;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Recomputes a session's hash chain from the stored events (the S3 chunks) against the index (PostgreSQL) and
 * finds the first broken link. Fed one chunk at a time, in seq order, so memory stays bounded by a chunk.
 *
 * <p>Each event is found in its chunk by seq, canonicalised, and chained: its link must equal the indexed hash.
 * The chain must end where the session row says it ends.
 *
 * <p>A gap in the seqs is not a broken link: the recorder chains an event onto the stored event before it, so a
 * gap means events that were never stored (not received, or parked as unreadable), and every link after it still
 * proves what is stored. Gaps are reported as {@link Outcome#missing()}; a deleted or reordered event breaks the
 * next link.
 */
public final class ChainVerifier {
    private final UUID sessionId;
    private byte[] previous;
    private long nextSeq;
    private long verified;
    private Outcome broken;
    private final List<Range> missing = new ArrayList<>();

    /** @param link an entry of the index: an event's seq, the first seq of the chunk that holds it, and its hash */
    public record Link(long seq, long chunkSeq, byte[] hash) {
    }

    /** Seqs {@code from} to {@code to}, both included. */
    public record Range(long from, long to) {
    }

    /**
     * @param ok             every link verifies and no seq is missing up to the chain end
     * @param firstBrokenSeq the seq of the first event that does not verify, {@code null} when every link does
     * @param problem        what is wrong there, for a person
     * @param missing        seqs absent from the index before the chain end (never stored), in order
     */
    public record Outcome(boolean ok, long verified, Long firstBrokenSeq, String problem, List<Range> missing) {
        /** No stored event was changed, removed or reordered (events may still be missing). */
        public boolean intact() {
            return firstBrokenSeq == null;
        }
    }

    /** Verifies from the session's first event. */
    public ChainVerifier(UUID sessionId) {
        this(sessionId, 1, HashChain.start());
    }

    /** Verifies from {@code firstSeq} on, given the indexed link of the event before it: for a page of a replay. */
    public ChainVerifier(UUID sessionId, long firstSeq, byte[] previousLink) {
        this.sessionId = sessionId;
        this.nextSeq = firstSeq;
        this.previous = previousLink.clone();
    }

    /**
     * @param links       the index entries that point at this chunk (or the part of them being read), seq ascending
     * @param chunkLines  the chunk's lines, or {@code null} when the object is missing or unreadable
     * @param onVerified  gets each event once it verified, in order
     * @return whether the chain is still whole
     */
    public boolean check(List<Link> links, List<byte[]> chunkLines, Consumer<CanonicalEvent> onVerified) {
        if (broken != null || links.isEmpty()) {
            return broken == null;
        }
        if (chunkLines == null) {
            return fail(links.get(0).seq(), "the chunk that holds it (first seq " + links.get(0).chunkSeq()
                    + ") is missing or unreadable");
        }
        Map<Long, CanonicalEvent> bySeq = new HashMap<>();
        int unreadable = 0;
        for (byte[] line : chunkLines) {
            try {
                CanonicalEvent event = SessionEvents.canonical(line);
                bySeq.putIfAbsent(event.seq(), event);
            } catch (InvalidEventException e) {
                unreadable++;
            }
        }
        for (Link link : links) {
            if (link.seq() < nextSeq) {
                return fail(link.seq(), "the index repeats or reorders seq " + link.seq());
            }
            if (link.seq() > nextSeq) {
                missing.add(new Range(nextSeq, link.seq() - 1));
                nextSeq = link.seq();
            }
            CanonicalEvent event = bySeq.get(link.seq());
            if (event == null) {
                return fail(link.seq(), "the event is not in its chunk (first seq " + link.chunkSeq() + ")"
                        + (unreadable > 0 ? "; the chunk has " + unreadable + " unreadable line(s)" : ""));
            }
            if (!event.sessionId().equals(sessionId)) {
                return fail(link.seq(), "the chunk holds an event of another session at this seq");
            }
            byte[] link2 = HashChain.next(previous, event.json());
            if (!MessageDigest.isEqual(link2, link.hash())) {
                return fail(link.seq(), "the stored event differs from the one recorded (its hash does not match the chain)");
            }
            previous = link2;
            nextSeq++;
            verified++;
            onVerified.accept(event);
        }
        return true;
    }

    public boolean check(List<Link> links, List<byte[]> chunkLines) {
        return check(links, chunkLines, event -> { });
    }

    /**
     * @param lastSeq  the session row's last seq
     * @param lastHash the session row's last hash
     */
    public Outcome finish(long lastSeq, byte[] lastHash) {
        if (broken != null) {
            return broken;
        }
        if (nextSeq - 1 < lastSeq) {
            return failed(nextSeq, "events " + nextSeq + " to " + lastSeq + " are missing from the index");
        }
        if (!MessageDigest.isEqual(previous, lastHash)) {
            return failed(lastSeq, "the chain does not end where the session row says it ends");
        }
        return outcome();
    }

    /** The outcome so far, for a partial read (a replay page). */
    public Outcome outcome() {
        return broken != null ? broken : new Outcome(missing.isEmpty(), verified, null, null, List.copyOf(missing));
    }

    private boolean fail(long seq, String problem) {
        failed(seq, problem);
        return false;
    }

    private Outcome failed(long seq, String problem) {
        broken = new Outcome(false, verified, seq, problem, List.copyOf(missing));
        return broken;
    }
}
