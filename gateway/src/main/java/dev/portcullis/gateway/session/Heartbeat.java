package dev.portcullis.gateway.session;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.policy.PolicyDecider;
import dev.portcullis.gateway.policy.PolicyRevision;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Tells the admin API, through PostgreSQL ({@code gateway_heartbeats}, one row per replica), what this replica holds
 * and how its policy engine is: every {@code portcullis.heartbeat-interval} it writes its live sessions (at most
 * {@value #MAX_SESSIONS}), its OPA bundle revision and since when, and its decisions by outcome. A beat that fails is
 * logged and the next one tries again; the row of a replica that stops beating grows stale, which readers see.
 */
@ApplicationScoped
public class Heartbeat {
    private static final Logger LOG = Logger.getLogger(Heartbeat.class);
    static final int MAX_SESSIONS = 5_000;
    private static final String UPSERT = "INSERT INTO gateway_heartbeats (replica, started_at, beat_at, interval_s, sessions,"
            + " session_count, policy_revision, policy_loaded_at, policy_problem, decisions)"
            + " VALUES ($1, $2, now(), $3, $4, $5, $6, $7, $8, $9)"
            + " ON CONFLICT (replica) DO UPDATE SET started_at = excluded.started_at, beat_at = excluded.beat_at,"
            + " interval_s = excluded.interval_s, sessions = excluded.sessions, session_count = excluded.session_count,"
            + " policy_revision = excluded.policy_revision, policy_loaded_at = excluded.policy_loaded_at,"
            + " policy_problem = excluded.policy_problem, decisions = excluded.decisions";

    private final Vertx vertx;
    private final Pool pool;
    private final ObjectMapper json;
    private final ReplicaId replica;
    private final SessionRegistry sessions;
    private final PolicyRevision revision;
    private final PolicyDecider decider;
    private final Duration interval;
    private final OffsetDateTime startedAt = OffsetDateTime.now(ZoneOffset.UTC);
    private long timerId = -1;
    private volatile String lastFailure;

    Heartbeat(Vertx vertx, Pool pool, ObjectMapper json, ReplicaId replica, SessionRegistry sessions,
            PolicyRevision revision, PolicyDecider decider,
            GatewayConfig config) {
        this.vertx = vertx;
        this.pool = pool;
        this.json = json;
        this.replica = replica;
        this.sessions = sessions;
        this.revision = revision;
        this.decider = decider;
        Duration interval = config.heartbeatInterval();
        this.interval = interval.toMillis() < 1000 ? Duration.ofSeconds(1) : interval;
    }

    void start(@Observes StartupEvent event) {
        beat();
        timerId = vertx.setPeriodic(interval.toMillis(), id -> beat());
    }

    void stop(@Observes ShutdownEvent event) {
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
    }

    void beat() {
        List<Session> live = sessions.live(MAX_SESSIONS);
        ArrayNode list = json.createArrayNode();
        for (Session s : live) {
            ObjectNode one = list.addObject();
            one.put("id", s.id());
            one.put("identity_subject", s.identity().subject());
            one.put("identity_name", s.identity().name());
            one.put("connection", s.connection().name());
            one.put("protocol", s.connection().type());
            one.put("source_ip", s.sourceIp());
            one.put("started_at", s.startedAt().toString());
        }
        Instant loadedAt = revision.loadedAt();
        Tuple values = Tuple.tuple()
                .addString(replica.value())
                .addOffsetDateTime(startedAt)
                .addInteger((int) interval.toSeconds())
                .addJsonArray(new JsonArray(list.toString()))
                .addInteger(sessions.size())
                .addString(decider.revision())
                .addOffsetDateTime(loadedAt == null ? null : loadedAt.atOffset(ZoneOffset.UTC))
                .addString(revision.problem())
                .addJsonObject(new JsonObject(json.valueToTree(decider.outcomes()).toString()));
        pool.preparedQuery(UPSERT).execute(values).subscribe().with(rows -> {
            if (lastFailure != null) {
                LOG.infof("heartbeat written again after: %s", lastFailure);
                lastFailure = null;
            }
        }, failure -> {
            String why = String.valueOf(failure.getMessage());
            if (!why.equals(lastFailure)) {
                LOG.warnf("cannot write this replica's heartbeat (live sessions, policy status): %s; retrying", why);
            }
            lastFailure = why;
        });
    }
}
