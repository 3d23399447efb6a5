package dev.portcullis.recorder.retention;

import static dev.portcullis.recorder.storage.Sql.await;
import static dev.portcullis.recorder.storage.Sql.utc;

import dev.portcullis.recorder.RecorderConfig;
import dev.portcullis.recorder.storage.RecordingStore;
import dev.portcullis.recorder.storage.Sql;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.Scheduler;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Deletes recordings whose last event is older than {@code portcullis.recorder.retention.period}. Objects are shared
 * by the sessions of a batch, so a session's rows go first, and in the same transaction every object that no chunk
 * points at any more is queued ({@code recording_deletions}); then the queued objects are deleted from S3. A failed S3
 * delete stays queued and is retried on the next run, so nothing outlives retention for good because S3 was away.
 */
@ApplicationScoped
public class RetentionJob {
    private static final Logger LOG = Logger.getLogger(RetentionJob.class);
    private static final int PAGE = 100;

    private final Pool pool;
    private final RecordingStore store;
    private final RecorderConfig.Retention config;
    private final Clock clock = Clock.systemUTC();

    RetentionJob(Pool pool, RecordingStore store, RecorderConfig config) {
        this.pool = pool;
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
        int sessions = deleteLastActiveBefore(clock.instant().minus(config.period()));
        deleteQueuedObjects();
        return sessions;
    }

    /** Deletes the sessions' rows and queues the objects nothing points at any more. @return how many sessions */
    public int deleteLastActiveBefore(Instant cutoff) {
        int deleted = 0;
        while (true) {
            List<UUID> page = Sql.rows(await(pool.preparedQuery(
                    "SELECT id FROM sessions WHERE last_event_at < $1 ORDER BY last_event_at LIMIT $2")
                    .execute(Tuple.of(utc(cutoff), PAGE))), r -> r.getUUID(0));
            if (page.isEmpty()) {
                return deleted;
            }
            int gone = await(pool.withTransaction(conn -> conn.preparedQuery("""
                            WITH objects AS (SELECT DISTINCT object_key FROM session_chunks WHERE session_id = ANY($1::uuid[])),
                                 gone AS (DELETE FROM sessions WHERE id = ANY($1::uuid[]) AND last_event_at < $2 RETURNING id),
                                 -- session_events has no foreign key to cascade (V10: it cost a lookup per event row)
                                 events AS (DELETE FROM session_events WHERE session_id IN (SELECT id FROM gone))
                            SELECT (SELECT count(*) FROM gone), array(SELECT object_key FROM objects)""")
                    .execute(Tuple.of(page.toArray(UUID[]::new), utc(cutoff)))
                    .chain(rows -> {
                        Row row = rows.iterator().next();
                        String[] keys = row.getArrayOfStrings(1);
                        // the cascade has removed the sessions' chunks: an object still pointed at belongs to others
                        return conn.preparedQuery("""
                                        INSERT INTO recording_deletions (object_key)
                                        SELECT k FROM unnest($1::text[]) AS k
                                        WHERE NOT EXISTS (SELECT 1 FROM session_chunks c WHERE c.object_key = k)
                                        ON CONFLICT DO NOTHING""")
                                .execute(Tuple.of(keys == null ? new String[0] : keys))
                                .map(ignored -> row.getLong(0).intValue());
                    })));
            deleted += gone;
            LOG.infof("retention: deleted %d session(s) whose last event is before %s", gone, cutoff);
            if (page.size() < PAGE || gone == 0) {
                return deleted;
            }
        }
    }

    /** Deletes queued objects from S3 that still nothing points at; a refused delete is kept and retried. */
    public int deleteQueuedObjects() {
        int deleted = 0;
        while (true) {
            List<String> keys = Sql.rows(await(pool.preparedQuery("""
                            SELECT object_key FROM recording_deletions d
                            WHERE NOT EXISTS (SELECT 1 FROM session_chunks c WHERE c.object_key = d.object_key)
                              AND NOT EXISTS (SELECT 1 FROM parked_runs p WHERE p.object_key = d.object_key AND p.state <> 'replayed')
                            ORDER BY queued_at LIMIT $1""")
                    .execute(Tuple.of(RecordingStore.MAX_DELETE_KEYS))), r -> r.getString(0));
            if (keys.isEmpty()) {
                return deleted;
            }
            Map<String, String> refused;
            try {
                refused = store.delete(keys);
            } catch (RuntimeException e) {
                refused = keys.stream().collect(Collectors.toMap(k -> k, k -> String.valueOf(e.getMessage())));
            }
            Map<String, String> failed = refused;
            String[] done = keys.stream().filter(k -> !failed.containsKey(k)).toArray(String[]::new);
            await(pool.preparedQuery("DELETE FROM recording_deletions WHERE object_key = ANY($1::text[])").execute(Tuple.of(done)));
            deleted += done.length;
            if (!failed.isEmpty()) {
                var first = failed.entrySet().iterator().next();
                await(pool.preparedQuery("UPDATE recording_deletions SET attempts = attempts + 1, last_error = $2"
                        + " WHERE object_key = ANY($1::text[])")
                        .execute(Tuple.of(failed.keySet().toArray(String[]::new), Sql.text(first.getValue(), 500))));
                LOG.warnf("retention: S3 did not delete %d object(s); they stay queued for the next run (first: %s, %s)",
                        failed.size(), first.getKey(), first.getValue());
                return deleted;
            }
            if (keys.size() < RecordingStore.MAX_DELETE_KEYS) {
                return deleted;
            }
        }
    }
}
