package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.policy.Decision;
import dev.portcullis.gateway.protocol.postgres.codec.ErrorResponse;
import dev.portcullis.gateway.protocol.postgres.codec.FrontendMessage;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocol;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocolException;
import dev.portcullis.gateway.protocol.postgres.sql.Analysis;
import dev.portcullis.gateway.protocol.postgres.sql.AnalysisCache;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.Verdict;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The client's side of a logged-in session's relay. Messages that carry meaning (Query, Parse, FunctionCall) are
 * turned into {@link PgRequest}s and wait for their {@link Verdict} from the {@link Session} before they are
 * forwarded; what the client sends meanwhile waits behind them, in order. Every other message passes straight
 * through. A denial becomes an ErrorResponse placed in the response stream by the {@link ResponseSequencer}.
 * Confined to the session's event loop, which the backend channel shares.
 */
final class RequestGate {
    /** Texts up to this size are analysed on the event loop (microseconds); longer ones on the analysis pool. */
    private static final int INLINE_ANALYSIS_MAX_CHARS = 8 * 1024;

    private final Session session;
    private final ChannelHandlerContext client;
    private final Channel backend;
    private final AnalysisCache sql;
    private final Executor analysisPool;
    private final ExtendedProtocol protocol;
    private final ResponseSequencer sequencer;
    private final Flow flow;
    /** Null when results are not masked nor recorded (pass-through mode). */
    private final ResultRelay results;
    private final Runnable onTerminate;
    /** Frames that arrived while a decision was pending; dispatched in order once it is made. */
    private final ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();
    /** The denial of a Parse, reported when its batch's Sync arrives; non-null while discarding until Sync. */
    private ErrorResponse denied;
    /** Whether a message of the current extended-protocol batch was forwarded since the last Sync. */
    private boolean batchForwarded;
    private boolean closed;
    /** The request waiting for approval, if any. */
    private Verdict.Held held;
    /** The client cancelled the held request: it ends as a cancelled statement does. */
    private boolean withdrawnByClient;
    private final java.time.Duration noticeEvery;

    RequestGate(Session session, ChannelHandlerContext client, Channel backend, AnalysisCache sql, Executor analysisPool,
            ExtendedProtocol protocol, ResponseSequencer sequencer, Flow flow, ResultRelay results, Runnable onTerminate,
            java.time.Duration noticeEvery) {
        this.noticeEvery = noticeEvery;
        this.session = session;
        this.client = client;
        this.backend = backend;
        this.sql = sql;
        this.analysisPool = analysisPool;
        this.protocol = protocol;
        this.sequencer = sequencer;
        this.flow = flow;
        this.results = results;
        this.onTerminate = onTerminate;
    }

    void close() {
        closed = true;
        if (held != null) {
            held.hold().withdraw("the client disconnected");
        }
        waiting.forEach(ReferenceCountUtil::release);
        waiting.clear();
    }

    void fromClient(ByteBuf frame) {
        if (closed) {
            frame.release();
            return;
        }
        try {
            FrontendMessage.checkShape(frame);
        } catch (PgProtocolException e) {
            frame.release();
            throw e;
        }
        if (flow.holds(Flow.ClientHold.DECIDING) || !waiting.isEmpty()) {
            waiting.add(frame);
        } else {
            dispatch(frame);
        }
    }

    private void dispatch(ByteBuf frame) {
        byte type = frame.getByte(frame.readerIndex());
        if (denied != null) {
            discardUntilSync(frame, type);
            return;
        }
        switch (type) {
            case PgProtocol.QUERY -> analyse(frame, type, PgRequest.QUERY, "", FrontendMessage.Query.decode(frame).text());
            case PgProtocol.PARSE -> {
                FrontendMessage.Parse parse = FrontendMessage.Parse.decode(frame);
                analyse(frame, type, PgRequest.PARSE, parse.statement(), parse.text());
            }
            case PgProtocol.FUNCTION_CALL -> decide(frame, type,
                    CompletableFuture.completedFuture(PgRequest.functionCall(FrontendMessage.FunctionCall.decode(frame).functionOid())));
            default -> forward(frame, type, List.of(), Map.of(), 0);
        }
    }

    private void analyse(ByteBuf frame, byte type, String message, String statement, String text) {
        // Parsing a large text can take milliseconds: keep it off the event loop the other sessions share.
        CompletableFuture<Analysis> analysis = text.length() <= INLINE_ANALYSIS_MAX_CHARS
                ? CompletableFuture.completedFuture(sql.analyze(text, protocol.sqlPrepared()))
                : CompletableFuture.supplyAsync(() -> sql.analyze(text, protocol.sqlPrepared()), analysisPool);
        CompletableFuture<PgRequest> request = analysis.thenCompose(a -> PredicateColumns.of(a,
                        results == null ? null : results::predicateColumns)
                .thenApply(judged -> PgRequest.sql(message, statement, text, a, judged,
                        results == null ? null : plan -> planCopies(type, plan))));
        decide(frame, type, request);
    }

    /**
     * A COPY TO STDOUT is described on the client's own backend connection before it runs: between batches with a
     * Sync of the gateway's own, inside one (a Parse) with a Flush, which makes the gateway's messages part of the
     * client's batch. Called on the event loop, while the request waits for its verdict.
     */
    private CompletableFuture<List<ResultRelay.CopyPlan>> planCopies(byte type, Analysis analysis) {
        boolean synced = type == PgProtocol.QUERY;
        if (synced && batchForwarded) {
            return CompletableFuture.failedFuture(new MaskPlanner.PlanFailure("a COPY TO STDOUT in a simple Query inside an"
                    + " unfinished extended-protocol batch cannot be planned; send Sync before it"));
        }
        if (!synced) {
            batchForwarded = true;
        }
        return results.planCopies(analysis, synced);
    }

    private void decide(ByteBuf frame, byte type, CompletableFuture<PgRequest> request) {
        CompletionStage<Verdict> verdict = request.isDone()
                ? session.decide(request.join())
                : request.thenComposeAsync(session::decide, client.executor());
        CompletableFuture<Verdict> v = verdict.toCompletableFuture();
        if (v.isDone() && !v.isCompletedExceptionally()) {
            conclude(frame, type, v.join());
            return;
        }
        // Stop reading the client until the verdict is in; what it already sent waits in order.
        flow.hold(Flow.ClientHold.DECIDING);
        backend.flush();
        v.whenComplete((decided, failure) -> onEventLoop(() -> {
            if (closed) {
                frame.release();
                return;
            }
            if (failure != null) {
                deny(frame, type, Decision.failClosed("the gateway could not decide this request").denialMessage("this statement"));
            } else if (!conclude(frame, type, decided)) {
                return; // held for approval: what follows keeps waiting behind it
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

    /** Handles what queued while a decision was pending, until the next decision that has to wait. */
    private void drainWaiting() {
        flow.release(Flow.ClientHold.DECIDING);
        while (!closed && !waiting.isEmpty() && !flow.holds(Flow.ClientHold.DECIDING)) {
            dispatch(waiting.poll());
        }
        if (!closed) {
            backend.flush();
            client.flush();
        }
    }

    /** @return false when the request is held for approval: it and what follows it go on once the approval ends */
    private boolean conclude(ByteBuf frame, byte type, Verdict verdict) {
        if (verdict instanceof Verdict.Allow allow) {
            PgRequest request = (PgRequest) allow.request();
            request.ran(protocol.sqlPrepared());
            forward(frame, type, request.copies(), request.namedResults(), allow.seq());
        } else if (verdict instanceof Verdict.Deny deny) {
            deny(frame, type, deny.message("this statement"));
        } else {
            hold(frame, type, (Verdict.Held) verdict);
            return false;
        }
        return true;
    }

    /**
     * A request waiting for approval: the client hears so at once and every so often (a NoticeResponse, which psql
     * prints while it waits), nothing it sends after the request overtakes it, and once the approval ends the request
     * runs or is denied in its place.
     */
    private void hold(ByteBuf frame, byte type, Verdict.Held held) {
        this.held = held;
        flow.hold(Flow.ClientHold.DECIDING);
        notice(held);
        var reminders = client.executor().scheduleAtFixedRate(() -> notice(held), noticeEvery.toMillis(), noticeEvery.toMillis(),
                java.util.concurrent.TimeUnit.MILLISECONDS);
        held.outcome().whenComplete((verdict, failure) -> onEventLoop(() -> {
            reminders.cancel(false);
            this.held = null;
            if (closed) {
                frame.release();
                return;
            }
            if (withdrawnByClient) {
                withdrawnByClient = false;
                frame.release();
                sequencer.denyWithOwnReadyForQuery(client, ErrorResponse.error(PgProtocol.QUERY_CANCELED, "canceling statement due to user request"));
                client.flush();
            } else if (failure != null || !conclude(frame, type, verdict)) {
                deny(frame, type, Decision.failClosed("the gateway could not decide this request").denialMessage("this statement"));
            }
            drainWaiting();
        }));
    }

    private void notice(Verdict.Held held) {
        client.writeAndFlush(ErrorResponse.notice(held.hold().notice()).encode(client.alloc(), PgProtocol.NOTICE_RESPONSE),
                client.voidPromise());
    }

    /**
     * The client cancelled (a CancelRequest): a request held for approval is withdrawn, and the client gets what
     * PostgreSQL says of a cancelled statement.
     *
     * @return whether a held request was withdrawn (else the cancel is for the backend)
     */
    boolean withdrawHeld() {
        if (held == null) {
            return false;
        }
        withdrawnByClient = true;
        held.hold().withdraw("the client cancelled the statement");
        return true;
    }

    private void deny(ByteBuf frame, byte type, String message) {
        frame.release();
        ErrorResponse error = ErrorResponse.error(PgProtocol.INSUFFICIENT_PRIVILEGE, message);
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
            forward(frame, type, List.of(), Map.of(), 0);
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
            forward(frame, type, List.of(), Map.of(), 0);
            sequencer.denyBeforeBackendReadyForQuery(error);
        } else {
            frame.release();
            sequencer.denyWithOwnReadyForQuery(client, error);
            client.flush();
        }
    }

    /** @param requestSeq the recording's seq of the request this message carries (Query, Parse, FunctionCall), else 0 */
    private void forward(ByteBuf frame, byte type, List<ResultRelay.CopyPlan> copies,
            Map<Integer, ResultStatements.ResultStatement> named, long requestSeq) {
        if (results != null) {
            protocol.forwarding(frame, type, copies, named, requestSeq);
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
