package dev.portcullis.recorder.retention;

import dev.portcullis.recorder.RecorderConfig;
import dev.portcullis.recorder.recording.RecordingIndex;
import dev.portcullis.recorder.storage.RecordingStore;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.Scheduler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.jboss.logging.Logger;

/**
 * Deletes recordings whose last event is older than {@code portcullis.recorder.retention.period}: first the S3
 * objects, then the PostgreSQL rows. In that order a failure in between leaves rows that the next run deletes,
 * never objects that no row points to any more.
 */
@ApplicationScoped
public class RetentionJob {
    private static final Logger LOG = Logger.getLogger(RetentionJob.class);
    private static final int PAGE = 100;

    private final RecordingIndex index;
    private final RecordingStore store;
    private final RecorderConfig.Retention config;
    private final Clock clock = Clock.systemUTC();

    RetentionJob(RecordingIndex index, RecordingStore store, RecorderConfig config) {
        this.index = index;
        this.store = store;
        this.config = config.retention();
    }

    void schedule(@Observes StartupEvent startup, Scheduler scheduler) {
        scheduler.newJob("recording-retention")
                .setInterval(config.checkEvery().toString())
                .setDelayed(Duration.ofMinutes(1).toString())
                .setConcurrentExecution(Scheduled.ConcurrentExecution.SKIP)
                .setTask(execution -> {
                    try {
                        deleteExpired();
                    } catch (RuntimeException e) {
                        LOG.warnf("retention: stopped early, the next run goes on: %s", e.getMessage());
                    }
                })
                .schedule();
    }

    /** @return how many sessions were deleted */
    public int deleteExpired() {
        return deleteLastActiveBefore(clock.instant().minus(config.period()));
    }

    /** @return how many sessions were deleted */
    public int deleteLastActiveBefore(Instant cutoff) {
        int deleted = 0;
        while (true) {
            var expired = index.expired(cutoff, PAGE);
            int before = deleted;
            for (RecordingIndex.Expired session : expired) {
                int objects = store.deletePrefix(session.objectPrefix());
                if (index.delete(session.sessionId(), cutoff)) {
                    deleted++;
                    LOG.infof("retention: deleted session %s (%d objects)", session.sessionId(), objects);
                }
            }
            if (expired.size() < PAGE || deleted == before) {
                return deleted;
            }
        }
    }
}
