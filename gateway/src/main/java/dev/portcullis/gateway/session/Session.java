package dev.portcullis.gateway.session;

import dev.portcullis.contract.SecretSealer;
import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.identity.Identity;
import dev.portcullis.gateway.policy.Decision;
import dev.portcullis.gateway.policy.DecisionInput;
import dev.portcullis.gateway.policy.MaskDecision;
import dev.portcullis.gateway.policy.PolicyDecider;
import dev.portcullis.gateway.recording.SessionRecording;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jboss.logging.Logger;

/**
 * One open session of an identity on a connection, whatever the protocol: every request is decided here (the
 * session's memo, then the shared cache, then OPA), recorded here, and a kill from any replica ends it through the
 * engine's {@link Control}. Opened by {@link Sessions#open}.
 *
 * <p>Confined to the engine's executor for this session (for PostgreSQL, the client channel's event loop): call it
 * only from there. What completes elsewhere (OPA's answer, an engine's preparation) comes back to that executor
 * before the session's state changes.
 */
public final class Session {
    private static final Logger LOG = Logger.getLogger(Session.class);

    /** What the engine does when the spine ends or interrupts the session from outside. */
    public interface Control {
        /** End the session now, telling the client {@code message} in its protocol. Called on the session's executor. */
        void kill(String message);

        /** Stop the running operation, if any (PostgreSQL: a CancelRequest to the backend). Any thread. */
        void cancel();
    }

    public static final String SOURCE_OPA = "opa";
    public static final String SOURCE_CACHE = "cache";
    public static final String SOURCE_MEMO = "memo";

    private final String id;
    private final Identity identity;
    private final TargetConnection connection;
    private final DecisionInput.SessionContext context;
    private final PolicyDecider policy;
    private final SecretSealer sealer;
    private final SessionRegistry registry;
    private final Executor executor;
    /** Null when the session is not recorded (pass-through mode, benchmarks only). */
    private final SessionRecording recording;
    private final DecisionMemo memo;
    private volatile Control control;
    private boolean ended;

    /**
     * The gateway opens sessions with {@link Sessions#open}; this is for tests and benchmarks that bring their own parts.
     *
     * @param recording null: the session is not recorded
     */
    public Session(String id, Identity identity, TargetConnection connection, DecisionInput.SessionContext context,
            PolicyDecider policy, SecretSealer sealer, SessionRegistry registry, Executor executor, SessionRecording recording) {
        this.id = id;
        this.identity = identity;
        this.connection = connection;
        this.context = context;
        this.policy = policy;
        this.sealer = sealer;
        this.registry = registry;
        this.executor = executor;
        this.recording = recording;
        this.memo = new DecisionMemo(policy.cacheMaxTtl());
    }

    public String id() {
        return id;
    }

    public Identity identity() {
        return identity;
    }

    public TargetConnection connection() {
        return connection;
    }

    /** Whether results are masked; false only in pass-through mode (benchmarks of the bare relay). */
    public boolean enforced() {
        return !policy.passThrough();
    }

    /** How the engine ends or interrupts the session from outside; set once the session is ready for requests. */
    public void attach(Control control) {
        this.control = control;
    }

    /** The connection's credential, unsealed now, for the moment of login; never keep it. */
    public String unsealSecret() {
        return connection.sealedSecret() == null ? null : sealer.open(connection.name(), connection.sealedSecret());
    }

    /**
     * Decides a request: the session's memo, then the shared cache, then OPA; then the engine's own preparation if
     * it is allowed ({@link Request#prepare()}). Records the request event with the verdict. Never completes
     * exceptionally: a failure is a denial by the gateway. Completes on the session's executor (at once when nothing
     * had to be waited for).
     */
    public CompletionStage<Verdict> decide(Request request) {
        if (request.memoizable()) {
            DecisionMemo.Hit hit = memo.get(request.input(), policy.revision());
            if (hit != null) {
                policy.recordSessionMemoHit();
                // the remembered request is equal to this one; its instance lets the recording reuse its JSON
                return prepared(request, (Request) hit.request(), hit.decision(), SOURCE_MEMO);
            }
        }
        CompletableFuture<Verdict> verdict = onExecutor(policy.decide("request", context.with(request.input()))).thenCompose(decision -> {
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

    /** An allowed request runs only once the engine has prepared it. */
    private CompletionStage<Verdict> prepared(Request request, Request recorded, Decision decision, String source) {
        if (!decision.allow()) {
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
        long seq = recording == null ? 0 : recording.request(request.message(), recorded.details(), request.text(), decision, source);
        if (!decision.allow()) {
            LOG.infof("session %s: denied %s [decision %s, policy %s, revision %s]: %s", id, request.message(),
                    decision.decisionId(), decision.policy(), decision.revision(), decision.reasons());
            return new Verdict.Deny(decision, seq, request);
        }
        return new Verdict.Allow(decision, seq, request);
    }

    /** The masking plan of a result with these columns ({@code portcullis/mask}); never completes exceptionally. */
    public CompletionStage<MaskDecision> mask(List<DecisionInput.MaskInput.Column> columns) {
        return policy.mask(context.mask(columns));
    }

    /** What a request that ran returned. */
    public void result(RequestResult result) {
        if (recording != null) {
            recording.result(result);
        }
    }

    /** Ends the session: records {@code session.ended} once and forgets the session; later calls do nothing. */
    public void end(String reason) {
        if (ended) {
            return;
        }
        ended = true;
        registry.unregister(this);
        if (recording != null) {
            recording.ended(reason);
        }
    }

    /** Ends the session from outside (an administrator, a drain), on its executor; false when it has no engine yet. */
    boolean kill(String message) {
        Control c = control;
        if (c == null) {
            return false;
        }
        executor.execute(() -> c.kill(message));
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
