package dev.portcullis.recorder.recording;

import dev.portcullis.contract.events.CanonicalEvent;
import dev.portcullis.contract.events.InvalidEventException;
import dev.portcullis.contract.events.SessionEvents;
import dev.portcullis.recorder.storage.RecordingStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Stores each batch of session events: per session, one S3 chunk (the chunks of a batch are written concurrently),
 * then the index rows of all its sessions in one PostgreSQL transaction. The batch is acknowledged (and its offsets
 * become committable) only when every session of it is stored, so a crash at any point means redelivery, and
 * redelivery is harmless: events at or below a session's stored chain end are skipped.
 *
 * <p>A failure (S3 or PostgreSQL down) does not skip or fail the batch: it is retried, with back-off, until it is
 * stored or the recorder stops. Meanwhile the consumer stops fetching and its lag grows; nothing is committed.
 */
@ApplicationScoped
public class SessionEventConsumer {
    private static final Logger LOG = Logger.getLogger(SessionEventConsumer.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
    /** S3 PUTs of one batch in flight at once; each blocks a thread of {@link #chunkWriters} for its round trip. */
    private static final int CONCURRENT_CHUNK_WRITES = 8;

    private final RecordingStore store;
    private final RecordingIndex index;
    private final ExecutorService chunkWriters;
    private final Counter stored;
    private final Counter duplicates;
    private final Counter rejected;
    private final Counter retries;
    private volatile boolean stopping;

    SessionEventConsumer(RecordingStore store, RecordingIndex index, MeterRegistry meters) {
        this.store = store;
        this.index = index;
        this.chunkWriters = newChunkWriters();
        this.stored = meters.counter("portcullis.recorder.events.stored");
        this.duplicates = meters.counter("portcullis.recorder.events.duplicates");
        this.rejected = meters.counter("portcullis.recorder.events.rejected");
        this.retries = meters.counter("portcullis.recorder.batch.retries");
    }

    void stopping(@Observes ShutdownEvent shutdown) {
        stopping = true;
        chunkWriters.shutdown(); // writes in flight finish; a batch that needs more is left for redelivery
    }

    @Incoming("session-events")
    @Blocking // S3 calls block; batches of a partition stay in order (ordered by default)
    public void consume(ConsumerRecords<String, byte[]> batch) throws InterruptedException {
        Map<UUID, List<CanonicalEvent>> bySession = new LinkedHashMap<>();
        for (ConsumerRecord<String, byte[]> record : batch) {
            List<byte[]> lines = SessionEvents.lines(record.value());
            for (int line = 0; line < lines.size(); line++) {
                CanonicalEvent event = parse(record, lines.size() == 1 ? -1 : line, lines.get(line));
                if (event != null) {
                    bySession.computeIfAbsent(event.sessionId(), id -> new ArrayList<>()).add(event);
                }
            }
        }
        if (!bySession.isEmpty()) {
            retryUntilStored(() -> record(bySession), "a batch of " + bySession.size() + " sessions");
        }
    }

    /**
     * Each session's new events go on from its stored chain end: first their chunks into S3, all of them, and only
     * then their index rows, together. An attempt that fails part-way may leave chunks in S3 without index rows; the
     * next attempt, from the same chain ends, writes them again under the same keys with the same bytes.
     */
    private void record(Map<UUID, List<CanonicalEvent>> bySession) throws InterruptedException {
        Map<UUID, RecordingIndex.ChainEnd> chainEnds = index.chainEnds(bySession.keySet());
        List<SessionRun> runs = new ArrayList<>();
        int duplicateEvents = 0;
        int newEvents = 0;
        for (var session : bySession.entrySet()) {
            SessionRun run = SessionRun.of(session.getKey(), session.getValue(), chainEnds.get(session.getKey()));
            duplicateEvents += run.duplicates();
            if (!run.isEmpty()) {
                warnOfMissingEvents(run);
                runs.add(run);
                newEvents += run.events().size();
            }
        }
        if (!runs.isEmpty()) {
            putChunks(runs);
            index.append(runs);
        }
        stored.increment(newEvents);
        duplicates.increment(duplicateEvents);
    }

    private static void warnOfMissingEvents(SessionRun run) {
        if (run.firstSeq() != run.storedLastSeq() + 1) {
            // Kafka keeps a session's events in order, so this is an event the gateway never sent: the gap stays
            // visible to verify; refusing the rest would lose them too.
            LOG.warnf("session %s: events %d to %d are missing; storing from %d on", run.sessionId(),
                    run.storedLastSeq() + 1, run.firstSeq() - 1, run.firstSeq());
        }
    }

    /** Writes the runs' chunks, up to {@link #CONCURRENT_CHUNK_WRITES} at a time; returns when all are stored. */
    private void putChunks(List<SessionRun> runs) throws InterruptedException {
        List<Callable<Void>> puts = new ArrayList<>(runs.size());
        for (SessionRun run : runs) {
            puts.add(() -> {
                store.putChunk(run.chunkKey(), run.chunk());
                return null;
            });
        }
        // invokeAll waits for every put, so none of this attempt is still running when the caller goes on or retries
        for (Future<Void> put : chunkWriters.invokeAll(puts)) {
            try {
                put.get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException cause ? cause : new IllegalStateException(e.getCause());
            }
        }
    }

    /**
     * An event that breaks the contract is kept as received, outside the recordings, and the batch goes on.
     *
     * @param line the event's line in a record of several events, or -1 for a record of one
     */
    private CanonicalEvent parse(ConsumerRecord<String, byte[]> record, int line, byte[] raw) throws InterruptedException {
        try {
            return SessionEvents.canonical(raw);
        } catch (InvalidEventException e) {
            String where = record.topic() + "-" + record.partition() + "@" + record.offset() + (line < 0 ? "" : " line " + (line + 1));
            String[] key = new String[1];
            retryUntilStored(() -> key[0] = store.putRejected(record.topic(), record.partition(), record.offset(), line, raw),
                    "rejected event " + where);
            rejected.increment();
            LOG.errorf("refused the event at %s: %s. Kept as %s in the recordings bucket.", where, e.getMessage(), key[0]);
            return null;
        }
    }

    /** A write that may fail with an unchecked exception, and is then retried. */
    private interface Write {
        void run() throws InterruptedException;
    }

    private void retryUntilStored(Write write, String what) throws InterruptedException {
        Duration backoff = FIRST_BACKOFF;
        for (int attempt = 1; ; attempt++) {
            try {
                write.run();
                if (attempt > 1) {
                    LOG.infof("stored %s after %d attempts", what, attempt);
                }
                return;
            } catch (RuntimeException e) {
                if (stopping) {
                    throw new IllegalStateException("the recorder is stopping; " + what + " is left for redelivery", e);
                }
                retries.increment();
                if (attempt == 1 || attempt % 10 == 0) {
                    LOG.warnf("cannot store %s yet (attempt %d, next in %d ms): %s", what, attempt, backoff.toMillis(), summary(e));
                }
                Thread.sleep(backoff.toMillis());
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            }
        }
    }

    private static ExecutorService newChunkWriters() {
        AtomicInteger count = new AtomicInteger();
        return Executors.newFixedThreadPool(CONCURRENT_CHUNK_WRITES, task -> {
            Thread thread = new Thread(task, "recorder-chunk-writer-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    private static String summary(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? String.valueOf(e.getMessage()) : e.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
