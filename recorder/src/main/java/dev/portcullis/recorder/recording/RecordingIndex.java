package dev.portcullis.recorder.recording;

import dev.portcullis.contract.events.HashChain;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import org.hibernate.reactive.mutiny.Mutiny;

/**
 * The recordings' index in PostgreSQL ({@code sessions}, {@code session_events}; contract V3), through Hibernate
 * Reactive. Callers are on worker threads (the consumer and the retention job also block on S3), so each method
 * runs its work on a Vert.x context and waits for it.
 */
@ApplicationScoped
public class RecordingIndex {
    private final Mutiny.SessionFactory sessions;

    RecordingIndex(Mutiny.SessionFactory sessions) {
        this.sessions = sessions;
    }

    /** Where the chains of these sessions end; a session of which nothing is stored is not in the map. */
    public Map<UUID, ChainEnd> chainEnds(Collection<UUID> sessionIds) {
        List<Object[]> rows = await(() -> sessions.withSession(s -> s.createNativeQuery(
                        "SELECT id, object_prefix, last_seq, last_hash FROM sessions WHERE id IN (:ids)", Object[].class)
                .setParameter("ids", sessionIds)
                .getResultList()));
        Map<UUID, ChainEnd> ends = new HashMap<>();
        for (Object[] row : rows) {
            ends.put((UUID) row[0], new ChainEnd((String) row[1], ((Number) row[2]).longValue(), (byte[]) row[3]));
        }
        return ends;
    }

    /**
     * Appends runs of events to their sessions, all in one transaction: each session row moves its chain end from
     * the run's {@link SessionRun#storedLastSeq()} to the run's last event, and the event rows are inserted. Either
     * every run is indexed or none is.
     *
     * @throws ConcurrentAppendException when another writer moved a chain end first; the caller starts over
     */
    public void append(List<SessionRun> runs) {
        await(() -> sessions.withTransaction(s -> {
            // one statement at a time: a session (and its connection) runs one query after the other
            Uni<Void> appended = Uni.createFrom().voidItem();
            for (SessionRun run : runs) {
                appended = appended.chain(() -> appendRun(s, run));
            }
            return appended;
        }));
    }

    private static Uni<Void> appendRun(Mutiny.Session s, SessionRun run) {
        return insertSessionIfNew(s, run)
                .chain(() -> updateSession(s, run))
                .chain(updated -> {
                    if (updated != 1) {
                        throw new ConcurrentAppendException(run.sessionId(), run.storedLastSeq());
                    }
                    return insertEvents(s, run);
                })
                .replaceWithVoid();
    }

    private static Uni<Integer> insertSessionIfNew(Mutiny.Session s, SessionRun run) {
        return s.createNativeQuery("""
                        INSERT INTO sessions (id, object_prefix, last_seq, last_hash, last_event_at)
                        VALUES (:id, :prefix, 0, :start, :at)
                        ON CONFLICT (id) DO NOTHING""")
                .setParameter("id", run.sessionId())
                .setParameter("prefix", run.objectPrefix())
                .setParameter("start", HashChain.start())
                .setParameter("at", utc(run.events().get(0).at()))
                .executeUpdate();
    }

    private static Uni<Integer> updateSession(Mutiny.Session s, SessionRun run) {
        SessionRun.Summary summary = run.summary();
        return s.createNativeQuery("""
                        UPDATE sessions SET
                          last_seq = :last_seq, last_hash = :last_hash,
                          last_event_at = GREATEST(last_event_at, :last_at),
                          requests = requests + :requests, denials = denials + :denials,
                          started_at = COALESCE(CAST(:started_at AS timestamptz), started_at),
                          identity_subject = COALESCE(CAST(:subject AS text), identity_subject),
                          identity_name = COALESCE(CAST(:name AS text), identity_name),
                          connection_name = COALESCE(CAST(:connection AS text), connection_name),
                          connection_type = COALESCE(CAST(:connection_type AS text), connection_type),
                          source_ip = COALESCE(CAST(:source_ip AS text), source_ip),
                          gateway = COALESCE(CAST(:gateway AS text), gateway),
                          ended_at = COALESCE(CAST(:ended_at AS timestamptz), ended_at),
                          end_reason = COALESCE(CAST(:end_reason AS text), end_reason)
                        WHERE id = :id AND last_seq = :expected""")
                .setParameter("last_seq", run.lastSeq())
                .setParameter("last_hash", run.lastHash())
                .setParameter("last_at", utc(summary.lastAt()))
                .setParameter("requests", summary.requests())
                .setParameter("denials", summary.denials())
                .setParameter("started_at", utc(summary.startedAt()))
                .setParameter("subject", summary.subject())
                .setParameter("name", summary.name())
                .setParameter("connection", summary.connection())
                .setParameter("connection_type", summary.connectionType())
                .setParameter("source_ip", summary.sourceIp())
                .setParameter("gateway", summary.gateway())
                .setParameter("ended_at", utc(summary.endedAt()))
                .setParameter("end_reason", summary.endReason())
                .setParameter("id", run.sessionId())
                .setParameter("expected", run.storedLastSeq())
                .executeUpdate();
    }

    private static Uni<Integer> insertEvents(Mutiny.Session s, SessionRun run) {
        StringBuilder sql = new StringBuilder(
                "INSERT INTO session_events (session_id, seq, at, type, chunk_seq, hash, allow, policy, rows) VALUES ");
        List<SessionRun.Row> rows = run.rows();
        for (int i = 0; i < rows.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append("(:id, :seq").append(i).append(", :at").append(i).append(", :type").append(i)
                    .append(", :chunk, :hash").append(i).append(", CAST(:allow").append(i).append(" AS boolean), CAST(:policy")
                    .append(i).append(" AS text), CAST(:rows").append(i).append(" AS bigint))");
        }
        // a row that is already there is the same event stored before: the primary key is (session_id, seq)
        sql.append(" ON CONFLICT (session_id, seq) DO NOTHING");
        var query = s.createNativeQuery(sql.toString())
                .setParameter("id", run.sessionId())
                .setParameter("chunk", run.firstSeq());
        for (int i = 0; i < rows.size(); i++) {
            SessionRun.Row row = rows.get(i);
            query.setParameter("seq" + i, row.seq())
                    .setParameter("at" + i, utc(row.at()))
                    .setParameter("type" + i, row.type())
                    .setParameter("hash" + i, row.hash())
                    .setParameter("allow" + i, row.allow())
                    .setParameter("policy" + i, row.policy())
                    .setParameter("rows" + i, row.rows());
        }
        return query.executeUpdate();
    }

    /** Sessions whose last event is older than the cut-off, oldest first. */
    public List<Expired> expired(Instant cutoff, int limit) {
        List<Object[]> rows = await(() -> sessions.withSession(s -> s.createNativeQuery(
                        "SELECT id, object_prefix FROM sessions WHERE last_event_at < :cutoff ORDER BY last_event_at LIMIT :limit",
                        Object[].class)
                .setParameter("cutoff", utc(cutoff))
                .setParameter("limit", limit)
                .getResultList()));
        return rows.stream().map(r -> new Expired((UUID) r[0], (String) r[1])).toList();
    }

    /** Deletes the session and (by cascade) its events, unless an event arrived after the cut-off meanwhile. */
    public boolean delete(UUID sessionId, Instant cutoff) {
        int deleted = await(() -> sessions.withTransaction(s -> s.createNativeQuery(
                        "DELETE FROM sessions WHERE id = :id AND last_event_at < :cutoff")
                .setParameter("id", sessionId)
                .setParameter("cutoff", utc(cutoff))
                .executeUpdate()));
        return deleted == 1;
    }

    private static OffsetDateTime utc(Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }

    private static <T> T await(Supplier<Uni<T>> work) {
        try {
            return VertxContextSupport.subscribeAndAwait(work);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** The stored end of a session's chain. */
    public record ChainEnd(String objectPrefix, long lastSeq, byte[] lastHash) {
    }

    public record Expired(UUID sessionId, String objectPrefix) {
    }

    /** Another recorder appended to the session first (possible only around a consumer-group rebalance). */
    public static class ConcurrentAppendException extends RuntimeException {
        ConcurrentAppendException(UUID sessionId, long expectedLastSeq) {
            super("session " + sessionId + " moved past seq " + expectedLastSeq + " while this batch was written; retrying");
        }
    }
}
