package dev.portcullis.recorder.recording;

import dev.portcullis.contract.events.RecordingChunks;
import dev.portcullis.recorder.parking.ParkedStore;
import dev.portcullis.recorder.storage.RecordingStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jboss.logging.Logger;

/**
 * Writes sessions' events: each session's new events go on from its stored chain end as one run; all runs of the
 * call become ONE S3 object (a gzip member each) and then their index rows, in one transaction. Only after both does
 * the caller acknowledge anything. A session with a parked run is quarantined: its new events are parked behind it.
 *
 * <p>One attempt that fails part-way may leave an object that no row points at; the next attempt, from the same
 * chain ends, reuses it (see {@link Attempts}) instead of writing another.
 */
@ApplicationScoped
public class RunWriter {
    private static final Logger LOG = Logger.getLogger(RunWriter.class);

    private final RecordingIndex index;
    private final RecordingStore store;
    private final ParkedStore parked;

    RunWriter(RecordingIndex index, RecordingStore store, ParkedStore parked) {
        this.index = index;
        this.store = store;
        this.parked = parked;
    }

    /** What one write did. */
    public record Written(int stored, int duplicates, int parked) {
    }

    /**
     * The object an earlier attempt at the same runs stored: when an attempt fails after its PUT, the next one, from
     * the same chain ends, writes the same bytes, so it points its rows at that object instead of writing another.
     */
    public static final class Attempts {
        private List<String> runs;
        private String objectKey;
        private List<RecordingChunks.Member> members;
        private final List<String> abandoned = new ArrayList<>();

        /** Objects stored by attempts that were given up: no row points at them (unless a lost reply hid a commit). */
        public List<String> abandoned() {
            return abandoned;
        }

        /** No further attempt will point at the last object. */
        public void giveUp() {
            if (objectKey != null) {
                abandoned.add(objectKey);
                objectKey = null;
                runs = null;
            }
        }
    }

    /**
     * @param deliveries events of distinct sessions
     * @param replayed   when replaying: the parked runs these events are; a session quarantined by the first of them is
     *                   written, not parked again
     */
    public Written write(List<SessionDelivery> deliveries, List<Long> replayed, Attempts attempts) {
        long t0 = System.nanoTime();
        var ends = index.chainEnds(deliveries.stream().map(SessionDelivery::sessionId).toList());
        long t1 = System.nanoTime();
        List<SessionRun> runs = new ArrayList<>();
        List<SessionRun> quarantined = new ArrayList<>();
        int duplicates = 0;
        for (SessionDelivery delivery : deliveries) {
            RecordingIndex.ChainEnd end = ends.get(delivery.sessionId());
            SessionRun run = SessionRun.of(delivery, end);
            duplicates += run.duplicates();
            if (run.isEmpty()) {
                continue;
            }
            if (end != null && end.quarantined() && !replayed.contains(end.parkedRunId())) {
                quarantined.add(run);
            } else {
                warnOfMissingEvents(run);
                runs.add(run);
            }
        }
        long t2 = System.nanoTime(), t3 = t2, t4 = t2;
        if (!runs.isEmpty() || !replayed.isEmpty()) {
            List<RecordingIndex.Chunk> chunks = storeObject(runs, attempts);
            t3 = System.nanoTime();
            index.append(runs, chunks, replayed);
            t4 = System.nanoTime();
        }
        if (LOG.isDebugEnabled()) {
            LOG.debugf("%d runs: chain ends %d ms, runs %d ms, object %d ms, index %d ms", runs.size(), (t1 - t0) / 1_000_000,
                    (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000, (t4 - t3) / 1_000_000);
        }
        for (SessionRun run : quarantined) {
            Long parkedBefore = ends.get(run.sessionId()).parkedRunId();
            long id = parked.park(new ParkedStore.Parking(ParkedStore.Reason.QUARANTINED, "session " + run.sessionId()
                    + " has run " + parkedBefore + " parked; its later events wait behind it until it is replayed",
                    run.source(), run.sessionId(), run.firstSeq(), run.lastSeq(), run.lines()));
            LOG.warnf("parked %d event(s) of session %s (seqs %d to %d) as parked run %d, behind its parked run %d",
                    run.events().size(), run.sessionId(), run.firstSeq(), run.lastSeq(), id, parkedBefore);
        }
        int stored = runs.stream().mapToInt(r -> r.events().size()).sum();
        int parkedEvents = quarantined.stream().mapToInt(r -> r.events().size()).sum();
        return new Written(stored, duplicates, parkedEvents);
    }

    /** One object for all runs, each run a gzip member; @return the chunk rows that point into it */
    private List<RecordingIndex.Chunk> storeObject(List<SessionRun> runs, Attempts attempts) {
        if (runs.isEmpty()) {
            return List.of();
        }
        List<String> signature = runs.stream().map(r -> r.sessionId() + ":" + r.storedLastSeq() + ":" + r.lastSeq()).toList();
        if (!Objects.equals(signature, attempts.runs)) {
            if (attempts.objectKey != null) {
                attempts.abandoned.add(attempts.objectKey);
            }
            RecordingChunks.ObjectWriter writer = new RecordingChunks.ObjectWriter();
            List<RecordingChunks.Member> members = new ArrayList<>(runs.size());
            for (SessionRun run : runs) {
                members.add(writer.add(run.lines()));
            }
            String key = RecordingChunks.objectKey(RecordingChunks.ROOT, Instant.now());
            store.put(key, writer.toByteArray());
            attempts.runs = signature;
            attempts.objectKey = key;
            attempts.members = members;
        }
        List<RecordingIndex.Chunk> chunks = new ArrayList<>(runs.size());
        for (int i = 0; i < runs.size(); i++) {
            SessionRun run = runs.get(i);
            RecordingChunks.Member m = attempts.members.get(i);
            chunks.add(new RecordingIndex.Chunk(run.sessionId(), run.firstSeq(), run.lastSeq(), attempts.objectKey,
                    m.offset(), m.length()));
        }
        return chunks;
    }

    private static void warnOfMissingEvents(SessionRun run) {
        if (run.firstSeq() != run.storedLastSeq() + 1) {
            // Kafka keeps a session's events in order, so these were never received (or were unreadable and parked):
            // the gap stays visible to verify; refusing the rest would lose them too.
            LOG.warnf("session %s: events %d to %d are missing; storing from %d on", run.sessionId(),
                    run.storedLastSeq() + 1, run.firstSeq() - 1, run.firstSeq());
        }
    }

    /** What is being written, for log lines: the session, or how many. */
    static String sessions(List<SessionDelivery> deliveries) {
        return deliveries.size() == 1 ? "session " + deliveries.get(0).sessionId() : deliveries.size() + " sessions";
    }
}
