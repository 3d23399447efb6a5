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
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Stores each batch of session events: per session, one S3 chunk, then one PostgreSQL transaction. The batch is
 * acknowledged (and its offsets become committable) only when every session of it is stored, so a crash at any
 * point means redelivery, and redelivery is harmless: events at or below a session's stored chain end are skipped.
 *
 * <p>A failure (S3 or PostgreSQL down) does not skip or fail the batch: it is retried, with back-off, until it is
 * stored or the recorder stops. Meanwhile the consumer stops fetching and its lag grows; nothing is committed.
 */
@ApplicationScoped
public class SessionEventConsumer {
    private static final Logger LOG = Logger.getLogger(SessionEventConsumer.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final RecordingStore store;
    private final RecordingIndex index;
    private final Counter stored;
    private final Counter duplicates;
    private final Counter rejected;
    private final Counter retries;
    private volatile boolean stopping;

    SessionEventConsumer(RecordingStore store, RecordingIndex index, MeterRegistry meters) {
        this.store = store;
        this.index = index;
        this.stored = meters.counter("portcullis.recorder.events.stored");
        this.duplicates = meters.counter("portcullis.recorder.events.duplicates");
        this.rejected = meters.counter("portcullis.recorder.events.rejected");
        this.retries = meters.counter("portcullis.recorder.batch.retries");
    }

    void stopping(@Observes ShutdownEvent shutdown) {
        stopping = true;
    }

    @Incoming("session-events")
    @Blocking // S3 calls block; batches of a partition stay in order (ordered by default)
    public void consume(ConsumerRecords<String, byte[]> batch) throws InterruptedException {
        Map<UUID, List<CanonicalEvent>> bySession = new LinkedHashMap<>();
        for (ConsumerRecord<String, byte[]> record : batch) {
            CanonicalEvent event = parse(record);
            if (event != null) {
                bySession.computeIfAbsent(event.sessionId(), id -> new ArrayList<>()).add(event);
            }
        }
        for (var session : bySession.entrySet()) {
            retryUntilStored(() -> record(session.getKey(), session.getValue()), "session " + session.getKey());
        }
    }

    private void record(UUID sessionId, List<CanonicalEvent> events) {
        RecordingIndex.ChainEnd end = index.chainEnd(sessionId);
        SessionRun run = SessionRun.of(sessionId, events, end);
        if (run.isEmpty()) {
            duplicates.increment(run.duplicates());
            return;
        }
        long expectedLastSeq = end == null ? 0 : end.lastSeq();
        if (run.firstSeq() != expectedLastSeq + 1) {
            // Kafka keeps a session's events in order, so this is an event the gateway never sent: the gap stays
            // visible to verify; refusing the rest would lose them too.
            LOG.warnf("session %s: events %d to %d are missing; storing from %d on", sessionId, expectedLastSeq + 1,
                    run.firstSeq() - 1, run.firstSeq());
        }
        store.putChunk(run.chunkKey(), run.chunk());
        index.append(run, expectedLastSeq);
        stored.increment(run.events().size());
        duplicates.increment(run.duplicates());
    }

    /** An event that breaks the contract is kept as received, outside the recordings, and the batch goes on. */
    private CanonicalEvent parse(ConsumerRecord<String, byte[]> record) throws InterruptedException {
        try {
            return SessionEvents.canonical(record.value());
        } catch (InvalidEventException e) {
            String where = record.topic() + "-" + record.partition() + "@" + record.offset();
            String[] key = new String[1];
            retryUntilStored(() -> key[0] = store.putRejected(record.topic(), record.partition(), record.offset(), record.value()),
                    "rejected event " + where);
            rejected.increment();
            LOG.errorf("refused the event at %s: %s. Kept as %s in the recordings bucket.", where, e.getMessage(), key[0]);
            return null;
        }
    }

    private void retryUntilStored(Runnable write, String what) throws InterruptedException {
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

    private static String summary(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? String.valueOf(e.getMessage()) : e.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
