package dev.portcullis.gateway.approval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.identity.Identity;
import dev.portcullis.gateway.policy.Decision;
import dev.portcullis.gateway.session.ReplicaId;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.jboss.logging.Logger;

/**
 * The gateway's side of just-in-time approval, protocol-neutral: a request the policy says needs approval becomes an
 * {@code approval_requests} row (contract migration V7) that approvers vote on through the admin API; the client's
 * request waits here as a {@link Hold} until the row ends. Nothing is polled: every change to a request or its votes
 * NOTIFYs {@code portcullis_approvals}, which reaches this replica ({@link #changed}). This replica ends its own
 * requests when they expire, when the client gives up ({@link Hold#withdraw}), and, at start-up, those it held before
 * a restart ({@code abandoned}), so none is ever left pending.
 */
@ApplicationScoped
public class Approvals {
    private static final Logger LOG = Logger.getLogger(Approvals.class);
    public static final String PENDING = "pending";
    public static final String APPROVED = "approved";
    public static final String DENIED = "denied";
    public static final String EXPIRED = "expired";
    public static final String WITHDRAWN = "withdrawn";
    public static final String ABANDONED = "abandoned";
    /** At most this much of the request's text is kept for the approvers. */
    private static final int MAX_TEXT_CHARS = 32 * 1024;

    private static final String INSERT = """
            INSERT INTO approval_requests (id, expires_at, session_id, request_seq, gateway, identity_subject, identity_name,
              identity_groups, identity_kind, connection_name, connection_type, connection_tags, protocol, summary, request_text,
              request, policy, reasons, approver_groups, min_approvals, grant_scope, grant_ttl_s)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10, $11, $12::text::jsonb, $13, $14, $15, $16::text::jsonb,
              $17, $18::text::jsonb, $19::text::jsonb, $20, $21, $22)""";
    private static final String NOTIFICATION = "INSERT INTO approval_notifications (request_id, event) VALUES ($1, $2)";
    private static final String END_PENDING = """
            UPDATE approval_requests SET state = $2, outcome = $3, decided_at = now() WHERE id = $1 AND state = 'pending'
            RETURNING id""";
    private static final String STATE = """
            SELECT r.state, r.outcome, v.approver_subject, v.verdict, v.comment FROM approval_requests r
              LEFT JOIN approval_votes v ON v.request_id = r.id WHERE r.id = $1 ORDER BY v.at""";
    private static final String ABANDON = """
            WITH gone AS (UPDATE approval_requests SET state = 'abandoned', decided_at = now(),
                            outcome = 'the gateway that held it restarted' WHERE gateway = $1 AND state = 'pending' RETURNING id)
            INSERT INTO approval_notifications (request_id, event) SELECT id, 'abandoned' FROM gone""";

    /** What a held request is: who asks, on what, what the policy said. */
    public record Asked(String sessionId, long requestSeq, Identity identity, TargetConnection connection, String protocol,
            String summary, String text, Object request, Decision decision) {
    }

    private record Waiting(Hold hold, Executor executor) {
    }

    private final Pool pool;
    private final ObjectMapper json;
    private final Vertx vertx;
    private final String replica;
    private final String howToApprove;
    private final Map<UUID, Waiting> waiting = new ConcurrentHashMap<>();

    Approvals(Pool pool, ObjectMapper json, Vertx vertx, ReplicaId replica, GatewayConfig config) {
        this.pool = pool;
        this.json = json;
        this.vertx = vertx;
        this.replica = replica.value();
        this.howToApprove = config.approval().howToApprove();
    }

    /** Requests this replica held before it restarted can never be released: they end {@code abandoned}. */
    void abandonTheOnesBeforeARestart(@Observes StartupEvent event) {
        pool.preparedQuery(ABANDON).execute(Tuple.of(replica)).subscribe().with(
                rows -> {
                    if (rows.rowCount() > 0) {
                        LOG.warnf("%d approval requests this gateway held before it restarted are abandoned", rows.rowCount());
                    }
                },
                failure -> LOG.warnf("cannot mark the approval requests held before a restart as abandoned: %s", failure.getMessage()));
    }

    /**
     * Holds a request for approval: the request is stored, and the returned hold ends when approvers decide, it
     * expires, or the client withdraws it. Fails when it cannot be stored (the request must then be denied).
     *
     * @param executor where the listener is called: the session's
     */
    public CompletionStage<Hold> hold(Asked asked, Executor executor, Hold.Listener listener) {
        Decision.Approval approval = asked.decision().approval();
        UUID id = UUID.randomUUID();
        Instant expiresAt = Instant.now().plusSeconds(approval.expiresInS());
        Hold hold = new Hold(id, expiresAt, approval.approverGroups(), howToApprove.replace("{id}", id.toString()), this, listener);
        Tuple row;
        try {
            row = Tuple.tuple()
                    .addUUID(id).addOffsetDateTime(OffsetDateTime.ofInstant(expiresAt, ZoneOffset.UTC))
                    .addUUID(UUID.fromString(asked.sessionId())).addLong(asked.requestSeq()).addString(replica)
                    .addString(asked.identity().subject()).addString(asked.identity().name())
                    .addString(json.writeValueAsString(asked.identity().groups()))
                    .addString(asked.identity().kind().name().toLowerCase(Locale.ROOT))
                    .addString(asked.connection().name()).addString(asked.connection().type())
                    .addString(json.writeValueAsString(asked.connection().tags())).addString(asked.protocol())
                    .addString(asked.summary()).addString(cap(asked.text()))
                    .addString(json.writeValueAsString(asked.request())).addString(asked.decision().policy())
                    .addString(json.writeValueAsString(asked.decision().reasons()))
                    .addString(json.writeValueAsString(approval.approverGroups())).addInteger(approval.minApprovals())
                    .addString(approval.grant() == null ? null : approval.grant().scope())
                    .addInteger(approval.grant() == null ? null : approval.grant().ttlS());
        } catch (JsonProcessingException e) {
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
        waiting.put(id, new Waiting(hold, executor));
        return pool.withTransaction(conn -> conn.preparedQuery(INSERT).execute(row)
                        .chain(() -> conn.preparedQuery(NOTIFICATION).execute(Tuple.of(id, "created"))))
                .map(done -> {
                    long delay = Math.max(1, expiresAt.toEpochMilli() - System.currentTimeMillis());
                    vertx.setTimer(delay, t -> end(hold, EXPIRED, "it expired after " + approval.expiresInS() + " s without enough approvals"));
                    LOG.infof("session %s: request %d held for approval %s by %s until %s", asked.sessionId(), asked.requestSeq(), id,
                            approval.approverGroups(), expiresAt);
                    return hold;
                })
                .onFailure().invoke(e -> waiting.remove(id))
                .subscribeAsCompletionStage();
    }

    private static String cap(String text) {
        return text == null || text.length() <= MAX_TEXT_CHARS ? text : text.substring(0, MAX_TEXT_CHARS);
    }

    /** The client gave up: the request ends {@code withdrawn}, so nobody can approve it any more. */
    void withdraw(Hold hold, String why) {
        end(hold, WITHDRAWN, why);
    }

    /** Ends a pending request here (it expired, or was withdrawn) and tells its session. */
    private void end(Hold hold, String state, String why) {
        if (hold.isEnded()) {
            return;
        }
        pool.withTransaction(conn -> conn.preparedQuery(END_PENDING).execute(Tuple.of(hold.id(), state, why))
                        .chain(rows -> rows.rowCount() == 0 ? io.smallrye.mutiny.Uni.createFrom().item(false)
                                : conn.preparedQuery(NOTIFICATION).execute(Tuple.of(hold.id(), state)).map(r -> true)))
                .subscribe().with(
                        ended -> {
                            if (ended) {
                                deliver(hold.id(), new Hold.Ended(state, null, why));
                            } else {
                                changed(hold.id().toString()); // it ended another way first: tell the session how
                            }
                        },
                        failure -> {
                            LOG.errorf("cannot end approval request %s as %s: %s; it stays pending until the admin API expires it",
                                    hold.id(), state, failure.getMessage());
                            deliver(hold.id(), new Hold.Ended(state, null, why)); // the client's statement must not wait on
                        });
    }

    /** NOTIFY {@code portcullis_approvals}: a request or its votes changed. If it waits here, its session hears what. */
    public void changed(String requestId) {
        UUID id;
        try {
            id = UUID.fromString(requestId);
        } catch (IllegalArgumentException e) {
            return;
        }
        Waiting w = waiting.get(id);
        if (w == null) {
            return;
        }
        pool.preparedQuery(STATE).execute(Tuple.of(id)).subscribe().with(rows -> {
            String state = null;
            String outcome = null;
            List<Row> votes = new java.util.ArrayList<>();
            for (Row r : rows) {
                state = r.getString("state");
                outcome = r.getString("outcome");
                if (r.getString("approver_subject") != null && w.hold().votesSeen.add(r.getString("approver_subject"))) {
                    votes.add(r);
                }
            }
            boolean ended = state != null && !PENDING.equals(state);
            // each vote is told once; the one that ended the request is told with its end
            for (int i = 0; i < votes.size() - (ended ? 1 : 0); i++) {
                Row v = votes.get(i);
                String approver = v.getString("approver_subject");
                String verdict = v.getString("verdict");
                String comment = v.getString("comment");
                w.executor().execute(() -> w.hold().listener.voted(w.hold(), approver, verdict, comment));
            }
            if (ended) {
                deliver(id, new Hold.Ended(state, votes.isEmpty() ? null : votes.get(votes.size() - 1).getString("approver_subject"),
                        outcome));
            }
        }, failure -> LOG.warnf("cannot read approval request %s: %s", id, failure.getMessage()));
    }

    /** Every request waiting here is read again: after the NOTIFY listener reconnects, changes may have been missed. */
    public void changedAll() {
        waiting.keySet().forEach(id -> changed(id.toString()));
    }

    private void deliver(UUID id, Hold.Ended ended) {
        Waiting w = waiting.remove(id);
        if (w != null && w.hold().end(ended)) {
            w.executor().execute(() -> w.hold().listener.ended(w.hold(), ended));
        }
    }
}
