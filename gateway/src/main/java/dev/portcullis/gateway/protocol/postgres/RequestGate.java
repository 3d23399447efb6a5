package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.policy.Decision;
import dev.portcullis.gateway.recording.SessionRecording;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jboss.logging.Logger;

/**
 * The relay of a logged-in session. Client messages that carry meaning (Query, Parse, FunctionCall) wait for
 * their policy decision before they are forwarded, in order; the others pass straight through. A denial
 * becomes an ErrorResponse placed in the response stream by the {@link ResponseSequencer}. Confined to the
 * session's event loop, which the backend channel shares.
 */
final class RequestGate {
    private static final Logger LOG = Logger.getLogger(RequestGate.class);
    /** Texts up to this size are analysed on the event loop (microseconds); longer ones on the analysis pool. */
    private static final int INLINE_ANALYSIS_MAX_CHARS = 8 * 1024;

    private final SessionDependencies deps;
    private final String sessionId;
    private final ChannelHandlerContext client;
    private final Channel backend;
    private final PgRequests requests;
    private final Runnable onTerminate;
    private final ResponseSequencer sequencer;
    private final DecisionMemo memo;
    /** Null when results are not masked (pass-through mode). */
    private final ResultMasking masking;
    /** Null when the session is not recorded (pass-through mode). */
    private final SessionRecording recording;
    /** Frames that arrived while a decision was pending; forwarded in order once it is made. */
    private final ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();
    private boolean deciding;
    /** The denial of a Parse, reported when its batch's Sync arrives; non-null while discarding until Sync. */
    private ErrorResponse denied;
    /** Whether a message of the current extended-protocol batch was forwarded since the last Sync. */
    private boolean batchForwarded;
    private boolean closed;

    RequestGate(SessionDependencies deps, String sessionId, ChannelHandlerContext client, Channel backend, PgRequests requests,
            byte transactionStatus, Runnable onTerminate, SessionRecording recording,
            java.util.function.Function<ResponseSequencer, ResultMasking> masking) {
        this.deps = deps;
        this.sessionId = sessionId;
        this.client = client;
        this.backend = backend;
        this.requests = requests;
        this.onTerminate = onTerminate;
        this.sequencer = new ResponseSequencer(transactionStatus);
        this.memo = new DecisionMemo(deps.policy().cacheMaxTtl());
        this.recording = recording;
        this.masking = masking.apply(sequencer);
    }

    /** A backend frame (or run of frames) on its way to the client. */
    void fromBackend(ByteBuf frame) {
        if (masking != null) {
            masking.fromBackend(frame);
        } else {
            sequencer.relay(client, frame);
        }
    }

    /** The client is read only while the backend keeps up and no decision is pending. */
    void updateAutoRead() {
        client.channel().config().setAutoRead(!deciding && backend.isWritable());
    }

    /** The backend is read only while the client keeps up and no masking plan is being made. */
    void updateBackendAutoRead() {
        backend.config().setAutoRead(client.channel().isWritable() && (masking == null || !masking.stalled()));
    }

    void close() {
        closed = true;
        if (masking != null) {
            masking.close();
        }
        waiting.forEach(ReferenceCountUtil::release);
        waiting.clear();
    }

    void fromClient(ByteBuf frame) {
        if (closed) {
            frame.release();
            return;
        }
        if (deciding) {
            waiting.add(frame);
            return;
        }
        dispatch(frame);
    }

    private void dispatch(ByteBuf frame) {
        byte type = frame.getByte(frame.readerIndex());
        if (denied != null) {
            discardUntilSync(frame, type);
            return;
        }
        CompletableFuture<PgRequests.Pending> analysed;
        switch (type) {
            case PgProtocol.QUERY, PgProtocol.PARSE -> {
                String text = PgRequests.text(type, frame);
                // Parsing a large text can take milliseconds: keep it off the event loop the other sessions share.
                analysed = text.length() <= INLINE_ANALYSIS_MAX_CHARS
                        ? CompletableFuture.completedFuture(requests.sql(type, text))
                        : CompletableFuture.supplyAsync(() -> requests.sql(type, text), deps.analysisPool());
            }
            case PgProtocol.FUNCTION_CALL -> analysed = CompletableFuture.completedFuture(requests.functionCall(frame));
            default -> {
                forward(frame, type);
                return;
            }
        }
        if (analysed.isDone()) {
            PgRequests.Pending pending = analysed.join();
            DecisionMemo.Hit remembered = pending.memoizable() ? memo.get(pending.request(), deps.policy().revision()) : null;
            if (remembered != null) {
                deps.policy().recordSessionMemoHit();
                // the remembered request is equal to this one; its instance lets the recording reuse its JSON
                decided(frame, type, pending.with((PgRequests.PgRequest) remembered.request()), remembered.decision(), SOURCE_MEMO);
                return;
            }
            CompletableFuture<Decision> decision = deps.policy().decide("request", pending.input()).toCompletableFuture();
            if (decision.isDone()) {
                decided(frame, type, pending, decision.join(), null);
                return;
            }
            await(frame, type, decision.thenApply(d -> new Decided(pending, d)));
        } else {
            await(frame, type, analysed.thenCompose(p -> deps.policy().decide("request", p.input()).thenApply(d -> new Decided(p, d))));
        }
    }

    private record Decided(PgRequests.Pending pending, Decision decision) {
    }

    /** Stops reading from the client until the decision is made, then handles it and whatever queued meanwhile. */
    private void await(ByteBuf frame, byte type, CompletionStage<Decided> outcome) {
        deciding = true;
        updateAutoRead();
        backend.flush();
        outcome.whenComplete((d, err) -> onEventLoop(() -> {
            deciding = false;
            if (closed) {
                frame.release();
                return;
            }
            if (err != null) {
                LOG.errorf(err, "session %s: deciding a request failed", sessionId);
                conclude(frame, type, null, Decision.failClosed("the gateway could not decide this request"), null, List.of());
            } else {
                decided(frame, type, d.pending(), d.decision(), null);
            }
            drainWaiting();
        }));
    }

    /**
     * Runs a continuation on the session's event loop. What it throws (a malformed message met while relaying what
     * queued) goes through the client pipeline like an exception of a read, so the session ends with an error
     * rather than hanging.
     */
    private void onEventLoop(Runnable task) {
        client.executor().execute(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                client.pipeline().fireExceptionCaught(e);
            }
        });
    }

    /** Handles what queued while a decision was pending, until the next one. */
    private void drainWaiting() {
        while (!deciding && !waiting.isEmpty() && !closed) {
            dispatch(waiting.poll());
        }
        if (!closed) {
            backend.flush();
            client.flush();
            updateAutoRead();
        }
    }

    /** @param source {@link #SOURCE_MEMO} when the session remembered it; null to tell from the decision */
    private void decided(ByteBuf frame, byte type, PgRequests.Pending pending, Decision decision, String source) {
        if (pending.memoizable() && source == null) {
            memo.put(pending.request(), decision);
        }
        if (decision.allow() && masking != null && pending.analysis() != null && ResultMasking.runsCopyToClient(pending.analysis())) {
            // A COPY TO STDOUT sends no RowDescription: its columns are described and planned before it runs.
            awaitCopyPlans(frame, type, pending, decision, source);
            return;
        }
        conclude(frame, type, pending, decision, source, List.of());
    }

    private static final String SOURCE_MEMO = "memo";

    /**
     * The request's outcome: recorded, then forwarded or denied. A request that could not be recorded is refused.
     *
     * @param pending null when the request could not even be analysed
     */
    private void conclude(ByteBuf frame, byte type, PgRequests.Pending pending, Decision decision, String source,
            List<ResultMasking.CopyPlan> copies) {
        if (decision.allow() && recording != null && !recording.accepting()) {
            decision = Decision.failClosed("Portcullis cannot record this session right now (Kafka is unreachable and the"
                    + " gateway's event journal is full), so nothing may run unrecorded; try again later");
        }
        long seq = 0;
        if (recording != null) {
            String message = type == PgProtocol.PARSE ? "parse" : type == PgProtocol.FUNCTION_CALL ? "function_call" : "query";
            seq = recording.request(message, pending == null ? List.of() : pending.request().statements(),
                    pending == null ? null : pending.sql(), decision, source != null ? source : decision.cached() ? "cache" : "opa");
        }
        if (decision.allow() && pending != null) {
            requests.allowed(pending);
        }
        apply(frame, type, decision, copies, seq);
    }

    private void awaitCopyPlans(ByteBuf frame, byte type, PgRequests.Pending pending, Decision decision, String source) {
        deciding = true;
        updateAutoRead();
        backend.flush();
        masking.planCopies(pending.analysis()).whenComplete((plans, err) -> onEventLoop(() -> {
            deciding = false;
            if (closed) {
                frame.release();
                return;
            }
            if (err != null) {
                conclude(frame, type, pending, Decision.failClosed(MaskPlanner.rootMessage(err)), null, List.of());
            } else {
                conclude(frame, type, pending, decision, source, plans);
            }
            drainWaiting();
        }));
    }

    private void apply(ByteBuf frame, byte type, Decision decision, List<ResultMasking.CopyPlan> copies, long requestSeq) {
        if (decision.allow()) {
            forward(frame, type, copies, requestSeq);
            return;
        }
        frame.release();
        LOG.infof("session %s: denied %s [decision %s, policy %s, revision %s]: %s", sessionId, PgProtocol.describeType(type),
                decision.decisionId(), decision.policy(), decision.revision(), decision.reasons());
        ErrorResponse error = ErrorResponse.error(PgProtocol.INSUFFICIENT_PRIVILEGE, decision.denialMessage("this statement"));
        if (type == PgProtocol.PARSE) {
            // Extended protocol: like PostgreSQL after an error, ignore everything up to the Sync.
            denied = error;
        } else {
            sequencer.denyWithOwnReadyForQuery(client, error);
            client.flush();
        }
    }

    private void discardUntilSync(ByteBuf frame, byte type) {
        if (type == PgProtocol.TERMINATE) {
            forward(frame, type);
            return;
        }
        if (type != PgProtocol.SYNC) {
            frame.release();
            return;
        }
        ErrorResponse error = denied;
        denied = null;
        if (batchForwarded) {
            // Earlier messages of this batch already went to the backend: let it finish them, then report.
            forward(frame, type);
            sequencer.denyBeforeBackendReadyForQuery(error);
        } else {
            frame.release();
            sequencer.denyWithOwnReadyForQuery(client, error);
            client.flush();
        }
    }

    private void forward(ByteBuf frame, byte type) {
        forward(frame, type, List.of(), 0);
    }

    /** @param requestSeq the recording's seq of the request this message carries (Query, Parse, FunctionCall), else 0 */
    private void forward(ByteBuf frame, byte type, List<ResultMasking.CopyPlan> copies, long requestSeq) {
        if (masking != null) {
            masking.forwarding(frame, type, copies, requestSeq);
        }
        if (type == PgProtocol.TERMINATE) {
            onTerminate.run();
            backend.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        sequencer.forwarded(type);
        batchForwarded = type != PgProtocol.SYNC && type != PgProtocol.QUERY && type != PgProtocol.FUNCTION_CALL;
        backend.write(frame, backend.voidPromise());
    }

}
