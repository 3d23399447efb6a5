package dev.portcullis.admin.gateway;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * What the gateway replicas report of themselves ({@code gateway_heartbeats}, written by each replica's Heartbeat every
 * few seconds): their live sessions and their policy engine's state. A replica whose last beat is older than
 * {@value #MISSED_BEATS} intervals is stale: its sessions are not counted as live.
 */
@ApplicationScoped
public class Heartbeats {
    static final int MISSED_BEATS = 3;
    private static final String FRESH = "h.beat_at > now() - make_interval(secs => " + MISSED_BEATS + " * h.interval_s)";

    private final Pool db;

    Heartbeats(Pool db) {
        this.db = db;
    }

    /** A live session, as the replica that holds it reports it. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record LiveSession(UUID id, String gateway, String identitySubject, String identityName, String connection,
            String protocol, String sourceIp, OffsetDateTime startedAt, OffsetDateTime reportedAt) {
    }

    /**
     * One replica's policy engine, as it last reported it.
     *
     * @param stale           its last beat is older than {@value #MISSED_BEATS} intervals: it is probably gone
     * @param opaHealthy      it knows OPA's bundle revision (OPA answers, and its bundle has a revision)
     * @param policyProblem   why the revision is unknown, when it is
     * @param decisions       decisions since the replica started, by outcome (allow, deny, approval, unavailable)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record ReplicaPolicy(String gateway, OffsetDateTime startedAt, OffsetDateTime reportedAt, boolean stale,
            int liveSessions, String policyRevision, OffsetDateTime policyLoadedAt, boolean opaHealthy,
            String policyProblem, Map<String, Long> decisions) {
    }

    /** The live sessions on every replica that beats, most recently started first. */
    public Uni<List<LiveSession>> liveSessions() {
        return db.query("SELECT h.replica, h.beat_at, s FROM gateway_heartbeats h, jsonb_array_elements(h.sessions) s"
                        + " WHERE " + FRESH + " ORDER BY s->>'started_at' DESC, s->>'id'")
                .execute()
                .map(rows -> {
                    List<LiveSession> live = new ArrayList<>();
                    for (Row row : rows) {
                        JsonObject s = (JsonObject) row.getValue(2);
                        live.add(new LiveSession(UUID.fromString(s.getString("id")), row.getString(0),
                                s.getString("identity_subject"), s.getString("identity_name"), s.getString("connection"),
                                s.getString("protocol"), s.getString("source_ip"), OffsetDateTime.parse(s.getString("started_at")),
                                row.getOffsetDateTime(1)));
                    }
                    return live;
                });
    }

    /** The replica that reports the session live, or null if none does. */
    public Uni<String> holder(UUID sessionId) {
        return db.preparedQuery("SELECT h.replica FROM gateway_heartbeats h WHERE " + FRESH
                        + " AND h.sessions @> jsonb_build_array(jsonb_build_object('id', $1::text)) LIMIT 1")
                .execute(Tuple.of(sessionId.toString()))
                .map(rows -> rows.iterator().hasNext() ? rows.iterator().next().getString(0) : null);
    }

    /** Every replica that has ever beaten, by name, stale ones included (and said to be). */
    public Uni<List<ReplicaPolicy>> policies() {
        return db.query("SELECT h.replica, h.started_at, h.beat_at, NOT (" + FRESH + "), h.session_count, h.policy_revision,"
                        + " h.policy_loaded_at, h.policy_problem, h.decisions FROM gateway_heartbeats h ORDER BY h.replica")
                .execute()
                .map(rows -> {
                    List<ReplicaPolicy> replicas = new ArrayList<>();
                    for (Row row : rows) {
                        Map<String, Long> decisions = new TreeMap<>();
                        JsonObject counts = (JsonObject) row.getValue(8);
                        counts.forEach(e -> decisions.put(e.getKey(), ((Number) e.getValue()).longValue()));
                        String revision = row.getString(5);
                        replicas.add(new ReplicaPolicy(row.getString(0), row.getOffsetDateTime(1), row.getOffsetDateTime(2),
                                row.getBoolean(3), row.getInteger(4), revision, row.getOffsetDateTime(6),
                                revision != null && row.getString(7) == null, row.getString(7), decisions));
                    }
                    return replicas;
                });
    }
}
