package dev.portcullis.recorder.recording;

import dev.portcullis.recorder.RecorderConfig;
import dev.portcullis.recorder.health.DependencyProbe;
import dev.portcullis.recorder.parking.ParkedStore;
import dev.portcullis.recorder.parking.ParkedStore.Parking;
import dev.portcullis.recorder.parking.ParkedStore.Reason;
import dev.portcullis.recorder.recording.RecordingIndex.ConcurrentAppendException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * What happens when a write fails. The rule: never drop an event, never let one slice hold up a partition for good.
 *
 * <ol>
 *   <li>PostgreSQL or S3 does not answer ({@link DependencyProbe}): an outage. Retry with back-off for as long as it
 *       lasts, acknowledging nothing; the lag grows and the health checks say why.</li>
 *   <li>Both answer, yet the slice fails: retry it {@code portcullis.recorder.batch.content-attempts} times, then
 *       write it session by session. A session whose run still fails is parked (its events and the error in the
 *       dead-letter store) and quarantined; the others are stored, and the partition moves on.</li>
 *   <li>Lines that are not events of the contract are parked at once.</li>
 * </ol>
 */
@ApplicationScoped
public class StoreOrPark {
    private static final Logger LOG = Logger.getLogger(StoreOrPark.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final RunWriter writer;
    private final ParkedStore parked;
    private final DependencyProbe probe;
    private final RecordingIndex index;
    private final int contentAttempts;
    private final Counter stored;
    private final Counter duplicates;
    private final Counter retries;
    private final MeterRegistry meters;
    private volatile boolean stopping;

    StoreOrPark(RunWriter writer, ParkedStore parked, DependencyProbe probe, RecordingIndex index, RecorderConfig config,
            MeterRegistry meters) {
        this.writer = writer;
        this.parked = parked;
        this.probe = probe;
        this.index = index;
        this.contentAttempts = config.batch().contentAttempts();
        this.meters = meters;
        this.stored = meters.counter("portcullis.recorder.events.stored");
        this.duplicates = meters.counter("portcullis.recorder.events.duplicates");
        this.retries = meters.counter("portcullis.recorder.batch.retries");
    }

    /** From now on a failed write is not retried: what is not stored is left for redelivery. */
    public void stop() {
        stopping = true;
    }

    /** Thrown when the recorder stops while a write waits to be retried: nothing of it is acknowledged. */
    public static class Stopping extends RuntimeException {
        Stopping(String what, Throwable cause) {
            super("the recorder is stopping; " + what + " is left for redelivery", cause);
        }
    }

    /** Stores (or parks) every event of the slice; returns when all of it is in one place or the other. */
    public void store(DeliveredBatch slice) throws InterruptedException {
        for (DeliveredBatch.Unreadable lines : slice.unreadable()) {
            long id = parkUntilDone(new Parking(Reason.CONTRACT_VIOLATION, lines.error(), lines.source(), lines.sessionId(),
                    lines.firstSeq(), lines.lastSeq(), lines.lines()));
            LOG.errorf("parked %d line(s) that break the contract, from %s, as parked run %d: %s", lines.lines().size(),
                    lines.source(), id, lines.error());
        }
        if (slice.sessions().isEmpty()) {
            return;
        }
        RunWriter.Attempts attempts = new RunWriter.Attempts();
        RuntimeException failure = attempt(slice.sessions(), attempts);
        if (failure == null) {
            discard(attempts);
            return;
        }
        attempts.giveUp();
        LOG.warnf("a slice of %d sessions (%s) still fails while PostgreSQL and S3 answer: %s. Storing it session by"
                + " session; what fails alone is parked.", slice.sessions().size(), slice.sessions().get(0).source(), summary(failure));
        for (SessionDelivery session : slice.sessions()) {
            RunWriter.Attempts alone = new RunWriter.Attempts();
            RuntimeException refused = attempt(List.of(session), alone);
            if (refused != null) {
                alone.giveUp();
                park(session, refused);
            }
            discard(alone);
        }
        discard(attempts);
    }

    /** @return {@code null} once written, or the last failure after the content attempts are used up */
    private RuntimeException attempt(List<SessionDelivery> sessions, RunWriter.Attempts attempts) throws InterruptedException {
        String what = RunWriter.sessions(sessions);
        Duration backoff = FIRST_BACKOFF;
        int contentFailures = 0;
        for (int attempt = 1; ; attempt++) {
            try {
                RunWriter.Written written = writer.write(sessions, List.of(), attempts);
                stored.increment(written.stored());
                duplicates.increment(written.duplicates());
                if (attempt > 1) {
                    LOG.infof("stored %s after %d attempts", what, attempt);
                }
                return null;
            } catch (ConcurrentAppendException e) {
                LOG.infof("%s: %s", what, e.getMessage()); // a rebalance moved the session's writer; start over
            } catch (RuntimeException e) {
                if (stopping) {
                    throw new Stopping(what, e);
                }
                retries.increment();
                String outage = probe.outage();
                if (outage == null && ++contentFailures >= contentAttempts) {
                    return e;
                }
                if (attempt == 1 || attempt % 10 == 0) {
                    LOG.warnf("cannot store %s yet (attempt %d, next in %d ms): %s%s", what, attempt, backoff.toMillis(),
                            summary(e), outage == null ? "" : "; " + outage);
                }
                Thread.sleep(backoff.toMillis());
                backoff = longer(backoff);
            }
        }
    }

    private void park(SessionDelivery session, RuntimeException refused) throws InterruptedException {
        var events = session.events();
        long first = events.stream().mapToLong(e -> e.seq()).min().orElseThrow();
        long last = events.stream().mapToLong(e -> e.seq()).max().orElseThrow();
        String error = summary(refused);
        long id = parkUntilDone(new Parking(Reason.STORE_FAILED, error, session.source(), session.sessionId(), first, last,
                events.stream().map(e -> e.json()).toList()));
        LOG.errorf("parked %d event(s) of session %s (seqs %d to %d, from %s) as parked run %d: %s. Its later events are"
                + " parked behind them until they are replayed (admin API POST /recordings/parked/%d/replay).",
                events.size(), session.sessionId(), first, last, session.source(), id, error, id);
    }

    /** Parking must not fail for good either: it is retried while anything is down. @return the parked run's id */
    private long parkUntilDone(Parking parking) throws InterruptedException {
        Duration backoff = FIRST_BACKOFF;
        for (int attempt = 1; ; attempt++) {
            try {
                long id = parked.park(parking);
                meters.counter("portcullis.recorder.parked", "reason", parking.reason().label).increment(parking.lines().size());
                return id;
            } catch (RuntimeException e) {
                if (stopping) {
                    throw new Stopping("parking " + parking.lines().size() + " event(s)", e);
                }
                retries.increment();
                if (attempt == 1 || attempt % 10 == 0) {
                    LOG.warnf("cannot park %d event(s) from %s yet (attempt %d): %s", parking.lines().size(),
                            parking.source(), attempt, summary(e));
                }
                Thread.sleep(backoff.toMillis());
                backoff = longer(backoff);
            }
        }
    }

    /** Objects of attempts that were given up: queued for deletion (the deleter checks that no row points at them). */
    private void discard(RunWriter.Attempts attempts) {
        if (!attempts.abandoned().isEmpty()) {
            try {
                index.queueDeletion(attempts.abandoned());
            } catch (RuntimeException e) {
                LOG.warnf("could not queue %d unused object(s) for deletion; they stay in the bucket: %s",
                        attempts.abandoned().size(), e.getMessage());
            }
        }
    }

    /** Twice as long, up to {@link #MAX_BACKOFF}. */
    private static Duration longer(Duration backoff) {
        return backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }

    static String summary(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? String.valueOf(e.getMessage()) : e.getClass().getSimpleName() + ": " + root.getMessage();
    }

    /** Runs a write for the replayer, with the same outage rule: retried while anything is down. */
    public <T> T untilNoOutage(String what, Supplier<T> write) throws InterruptedException {
        Duration backoff = FIRST_BACKOFF;
        while (true) {
            try {
                return write.get();
            } catch (ConcurrentAppendException e) {
                LOG.infof("%s: %s", what, e.getMessage());
            } catch (RuntimeException e) {
                if (stopping || probe.outage() == null) {
                    throw e;
                }
                Thread.sleep(backoff.toMillis());
                backoff = longer(backoff);
            }
        }
    }
}
