package dev.portcullis.gateway.recording;

import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.node.POJONode;
import dev.portcullis.contract.events.Approval;
import dev.portcullis.contract.events.Output;
import dev.portcullis.contract.events.Request;
import dev.portcullis.contract.events.Result;
import dev.portcullis.contract.events.SessionEnded;
import dev.portcullis.contract.events.SessionEvents;
import dev.portcullis.contract.events.SessionStarted;
import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.masking.MaskPlan;
import dev.portcullis.gateway.policy.Decision;
import dev.portcullis.gateway.policy.DecisionInput;
import dev.portcullis.gateway.session.RequestResult;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * One session's recording: builds its events (contract v2, {@code contract/EVENTS.md}) with their sequence
 * numbers and hands them to the {@link SessionRecorder}. Confined to the session's event loop. Values of masked
 * columns never appear: a result lists which columns were masked and by which rule.
 */
public final class SessionRecording {
    private final SessionRecorder recorder;
    private final UUID sessionId;
    /** The connection's type, which is the protocol of every request and result of the session. */
    private final String protocol;
    private final long startNanos = System.nanoTime();
    private long seq;
    private long requests;
    private long denials;
    private boolean ended;

    private SessionRecording(SessionRecorder recorder, UUID sessionId, String protocol) {
        this.recorder = recorder;
        this.sessionId = sessionId;
        this.protocol = protocol;
    }

    /** Starts the recording of a session with its {@code session.started} event. */
    public static SessionRecording start(SessionRecorder recorder, UUID sessionId, DecisionInput.SessionContext context, String gateway) {
        SessionRecording r = new SessionRecording(recorder, sessionId, context.connection().type());
        DecisionInput.IdentityInput i = context.identity();
        DecisionInput.ConnectionInput c = context.connection();
        r.emit(() -> new SessionStarted(new SessionStarted.Identity(i.subject(), i.name(), i.groups(), i.clientId(), i.kind()),
                new SessionStarted.Connection(c.name(), c.type(), c.tags()), context.session().sourceIp(), gateway));
        return r;
    }

    /** Whether new requests may run: false when they could not be recorded. */
    public boolean accepting() {
        return recorder.accepting();
    }

    /**
     * A decided request; returns its {@code seq}, which its results refer to.
     *
     * @param message the wire message or operation it came from ({@code query}, {@code parse}, ...)
     * @param details what the request is, as the policy saw it (a JSON object per protocol); the same instance for a
     *                repeated request, so its JSON is written once
     * @param text    the text as the client sent it, or null
     * @param source  {@code opa}, {@code cache} or {@code memo}
     */
    public long request(String message, Object details, String text, Decision d, String source) {
        requests++;
        if (!d.allow() && d.approval() == null) {
            denials++; // a held request counts once its approval ends, if it is not approved
        }
        boolean approval = d.approval() != null && d.approval().required();
        return emit(() -> {
            EventBounds.Written what = recorder.details(details);
            EventBounds.Text sent = EventBounds.text(text);
            Request.Truncated truncated = sent.cut() == null && what.cut() == null ? null : new Request.Truncated(sent.cut(), what.cut());
            return new Request(protocol, message, what.json(), sent.kept(), truncated, new Request.Decision(d.decisionId(), d.allow(),
                    d.policy(), d.revision(), EventBounds.reasons(d.reasons()), approval, d.latencyMicros(), source));
        });
    }

    /**
     * A request's result: bytes relayed, what masking did to it, and the protocol's own outcome. Details that write
     * themselves ({@link JsonSerializable}, a PostgreSQL result's) are written as they are; others are converted.
     */
    public void result(RequestResult r) {
        List<String> detectors = r.detectors().isEmpty() ? List.of()
                : r.detectors().stream().map(Detectors.Kind::wireName).sorted().toList();
        List<MaskPlan.MaskedColumn> masked = r.masked();
        emit(() -> {
            int listed = Math.min(masked.size(), Result.MAX_MASKED_COLUMNS);
            return new Result(protocol, r.requestSeq(), r.ok(), r.bytes(), r.durationUs(), masked.subList(0, listed).stream()
                    .map(m -> new Result.MaskedColumn(m.column(), m.table(), m.schema(), m.sourceColumn(), m.method(), m.rule())).toList(),
                    masked.size() - listed, detectors, r.details() instanceof JsonSerializable written ? new POJONode(written)
                    : SessionEvents.tree(r.details()));
        });
    }

    /**
     * Bytes that passed on one of an interactive request's streams, as {@code output} events of at most
     * {@link Output#MAX_DATA_BYTES} each. Copies them: the caller may reuse its buffer once this returns.
     *
     * @param stream {@code stdin}, {@code stdout} or {@code stderr}
     */
    public void output(long requestSeq, String stream, byte[] data, int offset, int length) {
        for (int from = offset; from < offset + length; from += Output.MAX_DATA_BYTES) {
            byte[] chunk = Arrays.copyOfRange(data, from, Math.min(offset + length, from + Output.MAX_DATA_BYTES));
            emit(() -> new Output(requestSeq, stream, Base64.getEncoder().encodeToString(chunk)));
        }
    }

    /**
     * A held request's approval changed: created ({@code pending}, no approver), a vote that was not yet enough
     * ({@code pending}, its approver), or its end.
     */
    public void approval(String requestId, long requestSeq, String state, String approver, String comment) {
        if (!"pending".equals(state) && !"approved".equals(state)) {
            denials++;
        }
        emit(() -> new Approval(requestId, requestSeq, state, approver, comment));
    }

    /** The last event of the session; later calls do nothing. */
    public void ended(String reason) {
        if (ended) {
            return;
        }
        ended = true;
        long durationMs = (System.nanoTime() - startNanos) / 1_000_000;
        long total = requests;
        long denied = denials;
        emit(() -> new SessionEnded(reason, durationMs, total, denied));
    }

    /** @param body built on the recorder's thread: it may only capture values that no longer change */
    private long emit(java.util.function.Supplier<dev.portcullis.contract.events.EventBody> body) {
        long n = ++seq;
        recorder.record(sessionId, n, Instant.now(), body);
        return n;
    }
}
