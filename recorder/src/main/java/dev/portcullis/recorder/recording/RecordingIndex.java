package dev.portcullis.recorder.recording;

import static dev.portcullis.recorder.storage.Sql.await;
import static dev.portcullis.recorder.storage.Sql.utc;

import dev.portcullis.contract.events.HashChain;
import io.smallrye.mutiny.Uni;
import io.vertx.core.buffer.Buffer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The recordings' index in PostgreSQL ({@code sessions}, {@code session_chunks}, {@code session_events}; contract V3
 * and V5). Every statement binds whole columns as arrays, so its size in parameters is the same for 1 run or 70,000
 * events; the event rows of a slice go in statements of at most {@link #EVENT_ROWS_PER_STATEMENT} rows.
 */
@ApplicationScoped
public class RecordingIndex {
    /** Bounds one INSERT's bind message (about 150 bytes a row) and the work PostgreSQL does in one statement. */
    static final int EVENT_ROWS_PER_STATEMENT = 10_000;

    private final Pool pool;

    RecordingIndex(Pool pool) {
        this.pool = pool;
    }

    /**
     * The stored end of a session's chain.
     *
     * @param parkedRunId the first run of the session that is parked and not replayed (not counting unreadable lines),
     *                    or {@code null}: while there is one, the session's later events are parked too
     */
    public record ChainEnd(long lastSeq, byte[] lastHash, Long parkedRunId) {
        public boolean quarantined() {
            return parkedRunId != null;
        }
    }

    /** Where the chains of these sessions end; a session of which nothing is stored or parked is not in the map. */
    public Map<UUID, ChainEnd> chainEnds(Collection<UUID> sessionIds) {
        RowSet<Row> rows = await(pool.preparedQuery("""
                        SELECT u.id, s.last_seq, s.last_hash,
                               (SELECT min(p.id) FROM parked_runs p WHERE p.session_id = u.id AND p.state <> 'replayed'
                                  AND p.reason <> 'contract violation') AS parked
                        FROM unnest($1::uuid[]) AS u(id) LEFT JOIN sessions s ON s.id = u.id""")
                .execute(Tuple.of(sessionIds.toArray(UUID[]::new))));
        Map<UUID, ChainEnd> ends = new HashMap<>();
        for (Row row : rows) {
            Long lastSeq = row.getLong(1);
            Long parked = row.getLong(3);
            if (lastSeq != null || parked != null) {
                ends.put(row.getUUID(0), new ChainEnd(lastSeq == null ? 0 : lastSeq,
                        lastSeq == null ? HashChain.start() : row.getBuffer(2).getBytes(), parked));
            }
        }
        return ends;
    }

    /** Where a run's gzip member is: {@code byteLength} bytes from {@code byteOffset} of the object. */
    public record Chunk(UUID sessionId, long firstSeq, long lastSeq, String objectKey, long byteOffset, long byteLength) {
    }

    /**
     * Appends runs to their sessions in one transaction, its statements pipelined: each session row moves its chain
     * end from the run's {@link SessionRun#storedLastSeq()} to the run's last event, and the chunk and event rows are
     * inserted. Either every run is indexed or none is.
     *
     * @param chunks   one per run, in the same order
     * @param replayed parked runs that these runs replay: marked replayed in the same transaction
     * @throws ConcurrentAppendException when another writer moved a chain end first; the caller starts over
     */
    public void append(List<SessionRun> runs, List<Chunk> chunks, List<Long> replayed) {
        await(pool.withTransaction(conn -> {
            List<Uni<RowSet<Row>>> statements = new ArrayList<>();
            statements.add(insertNewSessions(conn, runs));
            Uni<RowSet<Row>> moved = moveChainEnds(conn, runs);
            statements.add(moved.invoke(rs -> {
                if (rs.rowCount() != runs.size()) {
                    throw new ConcurrentAppendException(runs.size() - rs.rowCount());
                }
            }));
            statements.add(insertChunks(conn, chunks));
            statements.addAll(insertEvents(conn, runs));
            if (!replayed.isEmpty()) {
                statements.add(conn.preparedQuery("UPDATE parked_runs SET state = 'replayed', replayed_at = now()"
                        + " WHERE id = ANY($1::bigint[])").execute(Tuple.of(replayed.toArray(Long[]::new))));
            }
            // subscribed together, so sent back to back on the transaction's connection without waiting for replies
            return Uni.combine().all().unis(statements).discardItems();
        }));
    }

    private static Uni<RowSet<Row>> insertNewSessions(SqlConnection conn, List<SessionRun> runs) {
        List<UUID> ids = new ArrayList<>();
        List<OffsetDateTime> at = new ArrayList<>();
        for (SessionRun run : runs) {
            if (run.storedLastSeq() == 0) {
                ids.add(run.sessionId());
                at.add(utc(run.events().get(0).at()));
            }
        }
        return conn.preparedQuery("""
                        INSERT INTO sessions (id, last_seq, last_hash, last_event_at)
                        SELECT id, 0, $3, at FROM unnest($1::uuid[], $2::timestamptz[]) AS r(id, at)
                        ON CONFLICT (id) DO NOTHING""")
                .execute(Tuple.of(ids.toArray(UUID[]::new), at.toArray(OffsetDateTime[]::new),
                        Buffer.buffer(HashChain.start())));
    }

    private static Uni<RowSet<Row>> moveChainEnds(SqlConnection conn, List<SessionRun> runs) {
        int n = runs.size();
        UUID[] id = new UUID[n];
        Long[] expected = new Long[n], lastSeq = new Long[n], requests = new Long[n], denials = new Long[n];
        Buffer[] lastHash = new Buffer[n];
        OffsetDateTime[] lastAt = new OffsetDateTime[n], startedAt = new OffsetDateTime[n], endedAt = new OffsetDateTime[n];
        String[] subject = new String[n], name = new String[n], connection = new String[n], connectionType = new String[n],
                sourceIp = new String[n], gateway = new String[n], endReason = new String[n];
        for (int i = 0; i < n; i++) {
            SessionRun run = runs.get(i);
            SessionRun.Summary s = run.summary();
            id[i] = run.sessionId();
            expected[i] = run.storedLastSeq();
            lastSeq[i] = run.lastSeq();
            lastHash[i] = Buffer.buffer(run.lastHash());
            lastAt[i] = utc(s.lastAt());
            requests[i] = s.requests();
            denials[i] = s.denials();
            startedAt[i] = utc(s.startedAt());
            subject[i] = s.subject();
            name[i] = s.name();
            connection[i] = s.connection();
            connectionType[i] = s.connectionType();
            sourceIp[i] = s.sourceIp();
            gateway[i] = s.gateway();
            endedAt[i] = utc(s.endedAt());
            endReason[i] = s.endReason();
        }
        return conn.preparedQuery("""
                        UPDATE sessions s SET
                          last_seq = r.last_seq, last_hash = r.last_hash,
                          last_event_at = GREATEST(s.last_event_at, r.last_at),
                          requests = s.requests + r.requests, denials = s.denials + r.denials,
                          started_at = COALESCE(r.started_at, s.started_at),
                          identity_subject = COALESCE(r.subject, s.identity_subject),
                          identity_name = COALESCE(r.name, s.identity_name),
                          connection_name = COALESCE(r.connection, s.connection_name),
                          connection_type = COALESCE(r.connection_type, s.connection_type),
                          source_ip = COALESCE(r.source_ip, s.source_ip),
                          gateway = COALESCE(r.gateway, s.gateway),
                          ended_at = COALESCE(r.ended_at, s.ended_at),
                          end_reason = COALESCE(r.end_reason, s.end_reason)
                        FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bytea[], $5::timestamptz[], $6::bigint[],
                                    $7::bigint[], $8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::text[],
                                    $13::text[], $14::text[], $15::timestamptz[], $16::text[])
                          AS r(id, expected, last_seq, last_hash, last_at, requests, denials, started_at, subject, name,
                               connection, connection_type, source_ip, gateway, ended_at, end_reason)
                        WHERE s.id = r.id AND s.last_seq = r.expected""")
                .execute(Tuple.from(new Object[] {id, expected, lastSeq, lastHash, lastAt, requests, denials, startedAt,
                        subject, name, connection, connectionType, sourceIp, gateway, endedAt, endReason}));
    }

    private static Uni<RowSet<Row>> insertChunks(SqlConnection conn, List<Chunk> chunks) {
        int n = chunks.size();
        UUID[] id = new UUID[n];
        Long[] first = new Long[n], last = new Long[n], offset = new Long[n], length = new Long[n];
        String[] key = new String[n];
        for (int i = 0; i < n; i++) {
            Chunk c = chunks.get(i);
            id[i] = c.sessionId();
            first[i] = c.firstSeq();
            last[i] = c.lastSeq();
            key[i] = c.objectKey();
            offset[i] = c.byteOffset();
            length[i] = c.byteLength();
        }
        return conn.preparedQuery("""
                        INSERT INTO session_chunks (session_id, first_seq, last_seq, object_key, byte_offset, byte_length)
                        SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[])""")
                .execute(Tuple.of(id, first, last, key, offset, length));
    }

    private static List<Uni<RowSet<Row>>> insertEvents(SqlConnection conn, List<SessionRun> runs) {
        List<Uni<RowSet<Row>>> inserts = new ArrayList<>();
        EventColumns columns = new EventColumns(EVENT_ROWS_PER_STATEMENT);
        for (SessionRun run : runs) {
            List<SessionRun.Row> rows = run.rows();
            for (SessionRun.Row row : rows) {
                columns.add(run.sessionId(), run.firstSeq(), row);
                if (columns.full()) {
                    inserts.add(columns.insert(conn));
                    columns = new EventColumns(EVENT_ROWS_PER_STATEMENT);
                }
            }
        }
        if (columns.size > 0) {
            inserts.add(columns.insert(conn));
        }
        return inserts;
    }

    /** The columns of up to {@code capacity} session_events rows. */
    private static final class EventColumns {
        final UUID[] id;
        final Long[] seq, chunkSeq, rows;
        final OffsetDateTime[] at;
        final String[] type, policy;
        final Buffer[] hash;
        final Boolean[] allow;
        int size;

        EventColumns(int capacity) {
            id = new UUID[capacity];
            seq = new Long[capacity];
            chunkSeq = new Long[capacity];
            rows = new Long[capacity];
            at = new OffsetDateTime[capacity];
            type = new String[capacity];
            policy = new String[capacity];
            hash = new Buffer[capacity];
            allow = new Boolean[capacity];
        }

        void add(UUID sessionId, long firstSeq, SessionRun.Row row) {
            id[size] = sessionId;
            seq[size] = row.seq();
            at[size] = utc(row.at());
            type[size] = row.type();
            chunkSeq[size] = firstSeq;
            hash[size] = Buffer.buffer(row.hash());
            allow[size] = row.allow();
            policy[size] = row.policy();
            rows[size] = row.rows();
            size++;
        }

        boolean full() {
            return size == id.length;
        }

        Uni<RowSet<Row>> insert(SqlConnection conn) {
            // No ON CONFLICT (it cost PostgreSQL a speculative insertion per row): a run holds only events above its
            // session's stored chain end, and rows are inserted only in the transaction that moves that end, after the
            // statement that moves it. Should another writer have moved it first, that statement fails the
            // transaction with ConcurrentAppendException before a duplicate row could.
            return conn.preparedQuery("""
                            INSERT INTO session_events (session_id, seq, at, type, chunk_seq, hash, allow, policy, rows)
                            SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[], $4::text[], $5::bigint[],
                                                 $6::bytea[], $7::boolean[], $8::text[], $9::bigint[])""")
                    .execute(Tuple.from(new Object[] {cut(id), cut(seq), cut(at), cut(type), cut(chunkSeq), cut(hash),
                            cut(allow), cut(policy), cut(rows)}));
        }

        private <T> T[] cut(T[] column) {
            return size == column.length ? column : java.util.Arrays.copyOf(column, size);
        }
    }

    /** How many of these seqs of the session are stored: a replay checks that events it would skip are there. */
    public long storedCount(UUID sessionId, List<Long> seqs) {
        Row row = await(pool.preparedQuery("SELECT count(*) FROM session_events WHERE session_id = $1 AND seq = ANY($2::bigint[])")
                .execute(Tuple.of(sessionId, seqs.toArray(Long[]::new)))).iterator().next();
        return row.getLong(0);
    }

    /**
     * Queues objects for deletion (retention's queue, V5): the deleter removes each once no chunk points at it.
     */
    public void queueDeletion(List<String> objectKeys) {
        await(pool.preparedQuery("INSERT INTO recording_deletions (object_key) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING")
                .execute(Tuple.of(objectKeys.toArray(String[]::new))));
    }

    /** Throws when PostgreSQL does not answer: an outage, not bad content. */
    public void ping() {
        await(pool.query("SELECT 1").execute());
    }

    /** Another recorder appended to a session first (possible only around a consumer-group rebalance). */
    public static class ConcurrentAppendException extends RuntimeException {
        ConcurrentAppendException(int sessions) {
            super(sessions + " session(s) moved on while this slice was written; it is written again from their new ends");
        }
    }
}
