package dev.portcullis.gateway.session;

import dev.portcullis.contract.SecretSealer;
import dev.portcullis.gateway.approval.Approvals;
import dev.portcullis.gateway.approval.Grants;
import dev.portcullis.gateway.approval.Hold;
import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.identity.Identity;
import dev.portcullis.gateway.policy.Decision;
import dev.portcullis.gateway.policy.DecisionInput;
import dev.portcullis.gateway.policy.MaskDecision;
import dev.portcullis.gateway.policy.PolicyDecider;
import dev.portcullis.gateway.recording.SessionRecording;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jboss.logging.Logger;

/**
 * One open session of an identity on a connection, whatever the protocol: every request is decided here (the
 * session's memo, then the shared cache, then OPA, with the identity's active grants in the input), held for
 * approval when the policy says so, recorded here, and a kill from any replica ends it through the engine's
 * {@link Control}. Opened by {@link Sessions#open}.
 *
 * <p>Confined to the engine's executor for this session (for PostgreSQL, the client channel's event loop): call it
 * only from there. What completes elsewhere (OPA's answer, an approval, an engine's preparation) comes back to that
 * executor before the session's state changes.
 */
public final class Session {
    private static final Logger LOG = Logger.getLogger(Session.class);

    /** What the engine does when the spine ends or interrupts the session from outside. */
    public interface Control {
        /**
         * End the session now: stop what it runs (PostgreSQL: a CancelRequest to the backend, then close it, so an
         * open transaction commits nothing) and tell the client {@code message} in its protocol. Called on the
         * session's executor.
         *
         * @param reason {@code session.ended}'s reason: {@link #END_KILLED} or {@link #END_SHUTDOWN}
         */
        void kill(String reason, String message);

        /**
         * Stop the running operation, if any (PostgreSQL: a CancelRequest to the backend). Any thread. By default
         * nothing: in a protocol without a cancel of its own (an HTTP request, an SSH channel) only a kill ends what runs.
         */
        default void cancel() {
        }
    }

    /** {@code session.ended}'s reason when an administrator killed the session. */
    public static final String END_KILLED = "killed";
    /** {@code session.ended}'s reason when the gateway ended the session because it is shutting down. */
    public static final String END_SHUTDOWN = "gateway_shutdown";

    public static final String SOURCE_OPA = "opa";
    public static final String SOURCE_CACHE = "cache";
    public static final String SOURCE_MEMO = "memo";

    /** What a session needs besides its own facts; approvals and grants are null where nothing is ever held. */
    public record Parts(PolicyDecider policy, SecretSealer sealer, SessionRegistry registry, Approvals approvals, Grants grants) {
    }

    private final String id;
    private final Identity identity;
    private final TargetConnection connection;
    private final DecisionInput.SessionContext context;
    private final Parts parts;
    private final Executor executor;
    /** Null when the session is not recorded (pass-through mode, benchmarks only). */
    private final SessionRecording recording;
    private final DecisionMemo memo;
    private final java.time.Instant startedAt;
    private volatile List<Grants.Active> grants;
    /** Incremented each time the grants change: what was planned under other grants is planned again. */
    private volatile int grantsVersion;
    private volatile Control control;
    private boolean ended;

    /**
     * The gateway opens sessions with {@link Sessions#open}; this is for tests and benchmarks that bring their own parts.
     *
     * @param grants    the identity's active grants on the connection when the session opened
     * @param recording null: the session is not recorded
     */
    public Session(String id, Identity identity, TargetConnection connection, DecisionInput.SessionContext context, Parts parts,
            List<Grants.Active> grants, Executor executor, SessionRecording recording) {
        this.id = id;
        this.identity = identity;
        this.connection = connection;
        this.context = context;
        this.parts = parts;
        this.grants = List.copyOf(grants);
        this.executor = executor;
        this.recording = recording;
        this.memo = new DecisionMemo(parts.policy().cacheMaxTtl());
        this.startedAt = java.time.Instant.now();
    }

    public String id() {
        return id;
    }

    /** When the gateway opened this session. */
    public java.time.Instant startedAt() {
        return startedAt;
    }

    /** The client's address, as the policy sees it. */
    public String sourceIp() {
        return context.session().sourceIp();
    }

    public Identity identity() {
        return identity;
    }

    public TargetConnection connection() {
        return connection;
    }

    /** Whether results are masked; false only in pass-through mode (benchmarks of the bare relay). */
    public boolean enforced() {
        return !parts.policy().passThrough();
    }

    /** How the engine ends or interrupts the session from outside; set once the session is ready for requests. */
    public void attach(Control control) {
        this.control = control;
    }

    /** The connection's credential, unsealed now, for the moment of login; never keep it. */
    public String unsealSecret() {
        return connection.sealedSecret() == null ? null : parts.sealer().open(connection.name(), connection.sealedSecret());
    }

    /** The grants in force now, as the decision input lists them: expired ones are gone. */
    private List<DecisionInput.GrantInput> activeGrants() {
        List<Grants.Active> all = grants;
        if (all.isEmpty()) {
            return List.of();
        }
        Instant now = Instant.now();
        List<DecisionInput.GrantInput> out = new ArrayList<>(all.size());
        for (Grants.Active g : all) {
            if (g.expiresAt().isAfter(now)) {
                out.add(g.input());
            }
        }
        return out;
    }

    /** The identity's grants changed (NOTIFY): read them again; what the session remembered was decided without them. */
    void reloadGrants() {
        if (parts.grants() == null) {
            return;
        }
        parts.grants().active(identity.subject(), connection.name()).whenComplete((loaded, failure) -> executor.execute(() -> {
            if (failure != null) {
                LOG.warnf("session %s: cannot read the grants of %s again: %s; keeping none", id, identity.name(), failure.getMessage());
                grants = List.of();
            } else {
                grants = loaded;
            }
            memo.clear();
            grantsVersion++;
        }));
    }

    /** Changes whenever the identity's grants do; a plan made under another version must be made again. */
    public int grantsVersion() {
        return grantsVersion;
    }

    /**
     * Decides a request: the session's memo, then the shared cache, then OPA; then, if the policy allows it, the
     * engine's own preparation ({@link Request#prepare()}); if the policy asks for an approval, the request is held
     * ({@link Verdict.Held}). Records the request event with the verdict. Never completes exceptionally: a failure is
     * a denial by the gateway. Completes on the session's executor (at once when nothing had to be waited for).
     */
    public CompletionStage<Verdict> decide(Request request) {
        if (request.memoizable()) {
            DecisionMemo.Hit hit = memo.get(request.input(), parts.policy().revision());
            if (hit != null) {
                parts.policy().recordSessionMemoHit();
                // the remembered request is equal to this one; its instance lets the recording reuse its JSON
                return prepared(request, (Request) hit.request(), hit.decision(), SOURCE_MEMO);
            }
        }
        CompletableFuture<Verdict> verdict = onExecutor(parts.policy().decide("request", context.with(request.input(), activeGrants())))
                .thenCompose(decision -> {
                    if (request.memoizable()) {
                        memo.put(request.input(), request, decision);
                    }
                    return prepared(request, request, decision, decision.cached() ? SOURCE_CACHE : SOURCE_OPA);
                }).toCompletableFuture();
        if (verdict.isDone() && !verdict.isCompletedExceptionally()) {
            return verdict;
        }
        // a failure may complete on any thread: the denial is made on the session's executor
        return verdict.handleAsync((v, failure) -> {
            if (failure == null) {
                return v;
            }
            LOG.errorf(failure, "session %s: deciding a request failed", id);
            return conclude(request, request, Decision.failClosed("the gateway could not decide this request"), SOURCE_OPA);
        }, executor);
    }

    /** An allowed request runs only once the engine has prepared it; one that needs approval is held first. */
    private CompletionStage<Verdict> prepared(Request request, Request recorded, Decision decision, String source) {
        if (!decision.allow()) {
            if (decision.approval() != null && parts.approvals() != null) {
                return hold(request, recorded, decision, source);
            }
            return CompletableFuture.completedFuture(conclude(request, recorded, decision, source));
        }
        return onExecutor(request.prepare()).thenApply(refusal -> conclude(request, recorded,
                refusal == null ? decision : Decision.failClosed(refusal), source));
    }

    private Verdict conclude(Request request, Request recorded, Decision decision, String source) {
        if (decision.allow() && recording != null && !recording.accepting()) {
            decision = Decision.failClosed("Portcullis cannot record this session right now (Kafka is unreachable and the"
                    + " gateway's event journal is full), so nothing may run unrecorded; try again later");
        }
        long seq = record(request, recorded, decision, source);
        if (!decision.allow()) {
            LOG.infof("session %s: denied %s [decision %s, policy %s, revision %s]: %s", id, request.message(),
                    decision.decisionId(), decision.policy(), decision.revision(), decision.reasons());
            return new Verdict.Deny(decision, seq, request);
        }
        return new Verdict.Allow(decision, seq, request);
    }

    private long record(Request request, Request recorded, Decision decision, String source) {
        return recording == null ? 0 : recording.request(request.message(), recorded.details(), request.text(), decision, source);
    }

    /**
     * Holds a request the policy says a person must approve: it is recorded as waiting, stored for the approvers, and
     * its verdict comes when they decide, it expires, or the client withdraws it.
     */
    private CompletionStage<Verdict> hold(Request request, Request recorded, Decision decision, String source) {
        if (recording != null && !recording.accepting()) {
            return CompletableFuture.completedFuture(conclude(request, recorded, decision, source)); // refused as unrecordable
        }
        long seq = record(request, recorded, decision, source);
        CompletableFuture<Verdict> outcome = new CompletableFuture<>();
        Approvals.Asked asked = new Approvals.Asked(id, seq, identity, connection, request.protocol(), request.summary(),
                request.text(), request.input(), decision);
        Hold.Listener listener = new Hold.Listener() {
            @Override
            public void voted(Hold hold, String approver, String verdict, String comment) {
                if (recording != null) {
                    recording.approval(hold.id().toString(), seq, Approvals.PENDING, approver, comment);
                }
            }

            @Override
            public void ended(Hold hold, Hold.Ended ended) {
                if (recording != null) {
                    recording.approval(hold.id().toString(), seq, ended.state(), ended.by(), ended.why());
                }
                released(request, decision, seq, ended, outcome);
            }
        };
        return onExecutor(parts.approvals().hold(asked, executor, listener)).<Verdict>thenApply(h -> {
            if (recording != null) {
                recording.approval(h.id().toString(), seq, Approvals.PENDING, null, null);
            }
            return new Verdict.Held(decision, seq, request, h, outcome);
        }).exceptionally(failure -> {
            LOG.errorf("session %s: cannot store an approval request: %s", id, failure.getMessage());
            Decision refused = Decision.failClosed("the gateway could not store the approval request; try again later");
            if (recording != null) {
                recording.approval(null, seq, Approvals.ABANDONED, null, "it could not be stored");
            }
            return new Verdict.Deny(refused, seq, request);
        });
    }

    /** A held request's approvers decided (or it expired, or was withdrawn): it runs, or it is denied with why. */
    private void released(Request request, Decision held, long seq, Hold.Ended ended, CompletableFuture<Verdict> outcome) {
        if (ended.approved()) {
            Decision approved = new Decision(true, List.of("approved by " + ended.by()), held.policy(), null, held.mask(),
                    held.impersonateGroups(), 0, held.decisionId(), held.revision(), held.latencyMicros(), false);
            onExecutor(request.prepare()).thenAccept(refusal -> outcome.complete(refusal == null
                    ? new Verdict.Allow(approved, seq, request)
                    : new Verdict.Deny(Decision.failClosed(refusal), seq, request)));
            return;
        }
        String why = switch (ended.state()) {
            case Approvals.DENIED -> "the approval request was denied" + (ended.why() == null ? "" : ": " + ended.why());
            case Approvals.EXPIRED -> "the approval request expired before enough approvers approved it";
            case Approvals.WITHDRAWN -> "the approval request was withdrawn: " + ended.why();
            default -> "the approval request was " + ended.state() + (ended.why() == null ? "" : ": " + ended.why());
        };
        outcome.complete(new Verdict.Deny(new Decision(false, List.of(why), held.policy(), null, null, List.of(), 0, held.decisionId(),
                held.revision(), held.latencyMicros(), false), seq, request));
    }

    /** The masking plan of a result with these columns ({@code portcullis/mask}); never completes exceptionally. */
    public CompletionStage<MaskDecision> mask(List<DecisionInput.MaskInput.Column> columns) {
        return parts.policy().mask(context.mask(columns, activeGrants()));
    }

    /** What a request that ran returned. */
    public void result(RequestResult result) {
        if (recording != null) {
            recording.result(result);
        }
    }

    /**
     * Bytes that passed on a stream of an allowed interactive request (an SSH shell or exec, a {@code kubectl exec}):
     * the session's transcript. Record them before they reach the other side; the caller may reuse {@code data} once
     * this returns.
     *
     * @param requestSeq the request's seq ({@link Verdict#seq()})
     * @param stream     {@code stdin}, {@code stdout} or {@code stderr} (a terminal's output is {@code stdout}), or
     *                   {@code resize} with the ASCII text {@code COLSxROWS} when the client's terminal changed size
     */
    public void output(long requestSeq, String stream, byte[] data, int offset, int length) {
        if (recording != null && length > 0) {
            recording.output(requestSeq, stream, data, offset, length);
        }
    }

    /** Ends the session: records {@code session.ended} once and forgets the session; later calls do nothing. */
    public void end(String reason) {
        if (ended) {
            return;
        }
        ended = true;
        parts.registry().unregister(this);
        if (recording != null) {
            recording.ended(reason);
        }
    }

    /**
     * Ends the session from outside (an administrator, a drain), on its executor; false when it has no engine yet.
     *
     * @param reason {@link #END_KILLED} or {@link #END_SHUTDOWN}
     */
    boolean kill(String reason, String message) {
        Control c = control;
        if (c == null) {
            return false;
        }
        executor.execute(() -> c.kill(reason, message));
        return true;
    }

    /** Stops what the session is running now, if the engine can. */
    public void cancel() {
        Control c = control;
        if (c != null) {
            c.cancel();
        }
    }

    /** The stage, continued on the session's executor unless it is complete already. */
    private <T> CompletionStage<T> onExecutor(CompletionStage<T> stage) {
        CompletableFuture<T> f = stage.toCompletableFuture();
        return f.isDone() ? f : f.thenApplyAsync(v -> v, executor);
    }
}
