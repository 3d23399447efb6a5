package dev.portcullis.recorder.parking;

import static dev.portcullis.recorder.storage.Sql.await;

import dev.portcullis.contract.events.RecordingChunks;
import dev.portcullis.recorder.recording.Source;
import dev.portcullis.recorder.storage.RecordingStore;
import dev.portcullis.recorder.storage.Sql;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The recorder's one dead-letter store ({@code parked_runs}, contract V5): events it could not store, kept as
 * received in S3 ({@code parked/<yyyy>/<mm>/<dd>/<random>.jsonl.gz}) with a row that says where they came from in
 * Kafka, which session and seqs they are, and why they are parked. Nothing here is ever dropped; a replay stores a
 * parked run through the normal path and marks it replayed.
 */
@ApplicationScoped
public class ParkedStore {
    /** The longest error kept with a parked run; errors name fields and limits, never quote events. */
    private static final int MAX_ERROR = 2000;
    /** A parked object holds at most one slice of a poll; this bound only stops a hostile object. */
    private static final long MAX_PARKED_BYTES = 512L << 20;

    private final Pool pool;
    private final RecordingStore store;

    ParkedStore(Pool pool, RecordingStore store) {
        this.pool = pool;
        this.store = store;
    }

    public enum Reason {
        /** Lines that are not events of the contract (version 1 or 2). They do not hold up their session: its other events are stored. */
        CONTRACT_VIOLATION("contract violation"),
        /** A session's run that PostgreSQL or S3 refused for its content, after bounded retries. */
        STORE_FAILED("store failed"),
        /** Later events of a session with a parked run: parked behind it, so that the session's chain stays linear. */
        QUARANTINED("quarantined");

        public final String label;

        Reason(String label) {
            this.label = label;
        }
    }

    /** What to park: lines as received (or canonical, for events that were readable), with where they came from. */
    public record Parking(Reason reason, String error, Source source, UUID sessionId, Long firstSeq, Long lastSeq,
            List<byte[]> lines) {
    }

    /** Writes the lines to S3, then the row. @return the parked run's id */
    public long park(Parking p) {
        String key = RecordingChunks.objectKey(RecordingChunks.PARKED, Instant.now());
        store.put(key, RecordingChunks.encode(p.lines()));
        Row row = await(pool.preparedQuery("""
                        INSERT INTO parked_runs (reason, error, object_key, topic, kafka_partition, first_offset, last_offset,
                                                 session_id, first_seq, last_seq, events)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id""")
                .execute(Tuple.from(new Object[] {p.reason().label, Sql.text(p.error(), MAX_ERROR), key,
                        p.source().topic(), p.source().partition(), p.source().firstOffset(), p.source().lastOffset(),
                        p.sessionId(), p.firstSeq(), p.lastSeq(), p.lines().size()}))).iterator().next();
        return row.getLong(0);
    }

    /** A parked run as the replayer sees it. */
    public record Parked(long id, Reason reason, String objectKey, Source source, UUID sessionId, boolean requested) {
    }

    /**
     * What to replay next, oldest first: runs whose replay was requested, and quarantined runs whose session has no
     * earlier run parked any more (they follow the run they were parked behind, once: if that fails, they wait for a
     * request like any parked run).
     */
    public List<Parked> toReplay(int limit) {
        return Sql.rows(await(pool.preparedQuery("""
                        SELECT id, reason, object_key, topic, kafka_partition, first_offset, last_offset, session_id, state
                        FROM parked_runs p
                        WHERE p.state = 'replay_requested'
                           OR (p.state = 'parked' AND p.reason = 'quarantined' AND p.replay_attempts = 0 AND NOT EXISTS (
                                 SELECT 1 FROM parked_runs e WHERE e.session_id = p.session_id AND e.id < p.id
                                   AND e.state <> 'replayed' AND e.reason <> 'contract violation'))
                        ORDER BY id LIMIT $1""").execute(Tuple.of(limit))),
                r -> new Parked(r.getLong(0), reason(r.getString(1)), r.getString(2),
                        new Source(r.getString(3), r.getInteger(4), r.getLong(5), r.getLong(6)), r.getUUID(7),
                        "replay_requested".equals(r.getString(8))));
    }

    /** The first run of the session that is parked before this one and not replayed, or {@code null}. */
    public Long parkedBefore(Parked run) {
        if (run.sessionId() == null) {
            return null;
        }
        Row row = await(pool.preparedQuery("""
                        SELECT min(id) FROM parked_runs WHERE session_id = $1 AND id < $2 AND state <> 'replayed'
                          AND reason <> 'contract violation'""")
                .execute(Tuple.of(run.sessionId(), run.id()))).iterator().next();
        return row.getLong(0);
    }

    public List<byte[]> lines(Parked run) {
        return RecordingChunks.decode(store.get(run.objectKey()), MAX_PARKED_BYTES);
    }

    /** The replay failed: the run stays parked with the new error, until the next request. */
    public void keepParked(long id, String error) {
        await(pool.preparedQuery("UPDATE parked_runs SET state = 'parked', error = $2, replay_attempts = replay_attempts + 1"
                + " WHERE id = $1").execute(Tuple.of(id, Sql.text(error, MAX_ERROR))));
    }

    /** Parked runs not replayed yet: how many, how many events, and since when. */
    public record Backlog(long runs, long events, Instant oldest) {
    }

    public Backlog backlog() {
        Row row = await(pool.query("SELECT count(*), coalesce(sum(events), 0), min(parked_at) FROM parked_runs"
                + " WHERE state <> 'replayed'").execute()).iterator().next();
        var oldest = row.getOffsetDateTime(2);
        return new Backlog(row.getLong(0), row.getLong(1), oldest == null ? null : oldest.toInstant());
    }

    private static Reason reason(String label) {
        for (Reason r : Reason.values()) {
            if (r.label.equals(label)) {
                return r;
            }
        }
        throw new IllegalStateException("unknown parked_runs.reason " + label);
    }
}
