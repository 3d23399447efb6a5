package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.masking.CopyRows;
import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.masking.MaskPlan;
import dev.portcullis.gateway.policy.DecisionInput;
import dev.portcullis.gateway.recording.SessionRecording;
import dev.portcullis.gateway.sql.Analysis;
import dev.portcullis.gateway.sql.CopyFormat;
import dev.portcullis.gateway.sql.CopyInfo;
import dev.portcullis.gateway.sql.StatementInfo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.jboss.logging.Logger;

/**
 * Masks a session's results in flight. Follows the extended protocol's prepared statements and portals and the
 * order of the responses, so every DataRow and CopyData is matched with the shape it belongs to, whether that
 * shape came with it (simple Query), from an earlier Describe (prepared statements) or from a Describe the
 * gateway added itself (an Execute whose shape the client never asked for).
 *
 * <p>When a shape is new, the backend is read no further until its plan is made (catalog lookup and OPA), so no
 * row ever passes unplanned. Rows are rewritten one at a time as they stream; a result whose plan cannot be made,
 * or whose rows do not match it, is withheld and ends in an ErrorResponse instead of its CommandComplete.
 * Confined to the session's event loop.
 */
final class ResultMasking {
    private static final Logger LOG = Logger.getLogger(ResultMasking.class);
    private static final int MEMO_MAX_ENTRIES = 256;

    /** A COPY TO STDOUT's plan and how its rows are written, decided before the COPY ran. */
    record CopyPlan(MaskPlanner.Planned planned, CopyFormat format) {
    }

    /** The rows of one result shape: their plan or why there is none. */
    private record Shape(MaskPlan plan, boolean[] binary, String failure) {
        static final Shape NO_ROWS = new Shape(null, null, "the statement was described as returning no rows");
    }

    private static final class Statement {
        final CopyPlan copy;
        final long requestSeq;
        boolean describing;
        Shape shape;

        Statement(CopyPlan copy, long requestSeq) {
            this.copy = copy;
            this.requestSeq = requestSeq;
        }
    }

    private static final class Portal {
        final Statement statement;
        final short[] resultFormats;
        boolean describing;
        Shape shape;
        boolean[] binary;

        Portal(Statement statement, short[] resultFormats) {
            this.statement = statement;
            this.resultFormats = resultFormats;
        }
    }

    private enum Kind { QUERY, SYNC, DESCRIBE_STATEMENT, DESCRIBE_PORTAL, EXECUTE }

    /**
     * A forwarded message whose responses matter here, in the order the backend answers them.
     *
     * @param requestSeq the recorded request whose results these are (0: none)
     */
    private record Expect(Kind kind, Statement statement, Portal portal, boolean swallow, ArrayDeque<CopyPlan> copies,
            long requestSeq, long sentNanos) {
        Expect(Kind kind, Statement statement, Portal portal, boolean swallow, ArrayDeque<CopyPlan> copies) {
            this(kind, statement, portal, swallow, copies, 0, 0);
        }
    }

    private final MaskPlanner planner;
    private final TargetConnection target;
    private final DecisionInput.SessionContext context;
    private final String sessionId;
    private final ChannelHandlerContext client;
    private final Channel backend;
    private final ResponseSequencer sequencer;
    private final Map<String, Statement> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    private final ArrayDeque<Expect> expected = new ArrayDeque<>();
    private final Map<FrameKey, MaskPlanner.Planned> memo = new LinkedHashMap<>(32, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<FrameKey, MaskPlanner.Planned> eldest) {
            return size() > MEMO_MAX_ENTRIES;
        }
    };

    // the result being relayed
    private boolean inRows;
    private MaskPlan rowsPlan;
    private boolean[] rowsBinary;
    private String rowsFailure;
    private boolean inCopy;
    private CopyRows copyRows;
    private MaskPlan copyRowsPlan;
    private String copyFailure;
    private final Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);
    private long resultRows;
    private long resultBytes;
    /** Null when the session is not recorded. */
    private final SessionRecording recording;

    // frames held while a plan is being made
    private boolean stalled;
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    private boolean closed;

    // the run being relayed: what was copied out of it so far
    private ByteBuf in;
    private ByteBuf out;
    private int copiedUpTo;

    ResultMasking(MaskPlanner planner, TargetConnection target, DecisionInput.SessionContext context, String sessionId,
            ChannelHandlerContext client, Channel backend, ResponseSequencer sequencer, SessionRecording recording) {
        this.recording = recording;
        this.planner = planner;
        this.target = target;
        this.context = context;
        this.sessionId = sessionId;
        this.client = client;
        this.backend = backend;
        this.sequencer = sequencer;
    }

    /** Whether the backend must not be read: a plan is being made. */
    boolean stalled() {
        return stalled;
    }

    void close() {
        closed = true;
        held.forEach(ReferenceCountUtil::release);
        held.clear();
    }

    /** Whether the analysed text runs a {@code COPY ... TO STDOUT}, whose rows need a plan made before it runs. */
    static boolean runsCopyToClient(Analysis analysis) {
        return analysis.statements().stream().anyMatch(s -> s.copy() != null && s.copy().toClient());
    }

    /**
     * The plans of the COPY TO STDOUT statements in the text, in order. Fails when one has no plan, or needs
     * masking in a format the gateway cannot rewrite: the COPY must then not run.
     */
    CompletableFuture<List<CopyPlan>> planCopies(Analysis analysis) {
        List<CompletableFuture<CopyPlan>> each = new ArrayList<>();
        for (StatementInfo s : analysis.statements()) {
            CopyInfo copy = s.copy();
            if (copy == null || !copy.toClient()) {
                continue;
            }
            if (copy.source() == null) {
                each.add(CompletableFuture.failedFuture(new MaskPlanner.PlanFailure("cannot tell which columns this COPY writes")));
                continue;
            }
            each.add(planner.planQuery(target, context, copy.source()).thenApply(planned -> {
                CopyFormat.Kind kind = copy.format().kind();
                if (!planned.plan().passesUnchanged() && kind != CopyFormat.Kind.TEXT && kind != CopyFormat.Kind.CSV) {
                    throw new MaskPlanner.PlanFailure(kind == CopyFormat.Kind.BINARY
                            ? "this COPY writes masked columns, which cannot be masked in binary format; use FORMAT text or csv"
                            : "this COPY writes masked columns with options the gateway cannot read; use FORMAT text or csv with one-character DELIMITER, QUOTE and ESCAPE");
                }
                return new CopyPlan(planned, copy.format());
            }));
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
    }

    // ---- client → backend --------------------------------------------------------------------------------

    /**
     * Called for each client message just before it is written to the backend.
     *
     * @param copies the plans of the COPY TO STDOUT statements the message runs, in order (Query, Parse)
     */
    void forwarding(ByteBuf frame, byte type, List<CopyPlan> copies, long requestSeq) {
        try {
            track(frame, type, copies, requestSeq);
        } catch (IndexOutOfBoundsException e) {
            throw new PgProtocolException("malformed " + PgProtocol.describeType(type) + " message: it ends before its fields do");
        }
    }

    private void track(ByteBuf frame, byte type, List<CopyPlan> copies, long requestSeq) {
        switch (type) {
            case PgProtocol.QUERY, PgProtocol.FUNCTION_CALL -> expected.add(new Expect(Kind.QUERY, null, null, false,
                    new ArrayDeque<>(copies), requestSeq, System.nanoTime()));
            case PgProtocol.SYNC -> expected.add(new Expect(Kind.SYNC, null, null, false, null));
            case PgProtocol.PARSE -> {
                ByteBuf b = frame.duplicate().skipBytes(5);
                statements.put(PgStrings.read(b), new Statement(copies.isEmpty() ? null : copies.get(0), requestSeq));
            }
            case PgProtocol.BIND -> bind(frame);
            case PgProtocol.DESCRIBE -> {
                ByteBuf b = frame.duplicate().skipBytes(5);
                byte what = b.readByte();
                String name = PgStrings.read(b);
                if (what == 'S') {
                    Statement s = statements.computeIfAbsent(name, n -> new Statement(null, 0));
                    s.describing = true;
                    expected.add(new Expect(Kind.DESCRIBE_STATEMENT, s, null, false, null));
                } else {
                    Portal p = portals.computeIfAbsent(name, n -> new Portal(null, new short[0]));
                    p.describing = true;
                    expected.add(new Expect(Kind.DESCRIBE_PORTAL, null, p, false, null));
                }
            }
            case PgProtocol.EXECUTE -> {
                ByteBuf b = frame.duplicate().skipBytes(5);
                String name = PgStrings.read(b);
                Portal p = portals.computeIfAbsent(name, n -> new Portal(null, new short[0]));
                if (!p.describing && (p.statement == null || !p.statement.describing) && p.shape == null
                        && (p.statement == null || p.statement.shape == null)) {
                    // Nobody asked what this portal returns: ask, and keep the answer from the client.
                    backend.write(FrontendMessages.describe(frame.alloc(), 'P', name), backend.voidPromise());
                    p.describing = true;
                    expected.add(new Expect(Kind.DESCRIBE_PORTAL, null, p, true, null));
                }
                expected.add(new Expect(Kind.EXECUTE, null, p, false, null, p.statement == null ? 0 : p.statement.requestSeq,
                        System.nanoTime()));
            }
            case PgProtocol.CLOSE -> {
                ByteBuf b = frame.duplicate().skipBytes(5);
                byte what = b.readByte();
                String name = PgStrings.read(b);
                (what == 'S' ? statements : portals).remove(name);
            }
            default -> {
            }
        }
    }

    /** Bind: portal, statement, parameter formats and values (skipped), result format codes. */
    private void bind(ByteBuf frame) {
        ByteBuf b = frame.duplicate().skipBytes(5);
        String portal = PgStrings.read(b);
        String statement = PgStrings.read(b);
        b.skipBytes(2 * b.readUnsignedShort());
        int params = b.readUnsignedShort();
        for (int i = 0; i < params; i++) {
            int len = b.readInt();
            if (len > 0) {
                b.skipBytes(len);
            }
        }
        int formats = b.readUnsignedShort();
        short[] resultFormats = new short[formats];
        for (int i = 0; i < formats; i++) {
            resultFormats[i] = b.readShort();
        }
        portals.put(portal, new Portal(statements.get(statement), resultFormats));
    }

    // ---- backend → client --------------------------------------------------------------------------------

    /** A backend frame, or run of frames, on its way to the client. */
    void fromBackend(ByteBuf buf) {
        if (stalled || closed) {
            if (closed) {
                buf.release();
            } else {
                held.add(buf);
            }
            return;
        }
        relay(buf);
    }

    private void relay(ByteBuf buf) {
        in = buf;
        out = null;
        copiedUpTo = buf.readerIndex();
        int pos = buf.readerIndex();
        int end = buf.writerIndex();
        while (pos < end) {
            byte type = buf.getByte(pos);
            int len = buf.getInt(pos + 1) + 1;
            if (onFrame(type, pos, len)) {
                // a plan is being made: what came before goes now, the rest waits
                int next = pos + len;
                if (next < end) {
                    held.addFirst(buf.retainedSlice(next, end - next));
                }
                emit(next);
                return;
            }
            pos += len;
        }
        emit(end);
    }

    /** Sends the current run up to {@code end}, with whatever was rewritten in it. */
    private void emit(int end) {
        ByteBuf buf = in;
        in = null;
        if (out == null) {
            if (end == buf.writerIndex() && copiedUpTo == buf.readerIndex()) {
                sequencer.relay(client, buf);
            } else {
                ByteBuf part = buf.retainedSlice(copiedUpTo, end - copiedUpTo);
                buf.release();
                if (part.isReadable()) {
                    sequencer.relay(client, part);
                } else {
                    part.release();
                }
            }
            return;
        }
        out.writeBytes(buf, copiedUpTo, end - copiedUpTo);
        buf.release();
        ByteBuf done = out;
        out = null;
        sequencer.relay(client, done);
    }

    /** Copies the run up to {@code pos} into the output, so what follows can be changed. */
    private ByteBuf cut(int pos) {
        if (out == null) {
            out = client.alloc().buffer(Math.max(256, in.writerIndex() - copiedUpTo + 64));
        }
        out.writeBytes(in, copiedUpTo, pos - copiedUpTo);
        return out;
    }

    private void drop(int pos, int len) {
        cut(pos);
        copiedUpTo = pos + len;
    }

    private void replaceWithError(int pos, int len, String message) {
        ByteBuf o = cut(pos);
        ByteBuf error = ErrorResponse.error(PgProtocol.INSUFFICIENT_PRIVILEGE, "Portcullis withheld this result: " + message)
                .encode(client.alloc());
        o.writeBytes(error);
        error.release();
        copiedUpTo = pos + len;
        sequencer.backendErrorInBatch();
    }

    /** @return true to stall: a plan is being made for the RowDescription at {@code pos} */
    private boolean onFrame(byte type, int pos, int len) {
        switch (type) {
            case PgProtocol.ROW_DESCRIPTION -> {
                return rowDescription(pos, len);
            }
            case PgProtocol.NO_DATA -> {
                Expect head = expected.peek();
                if (head != null && (head.kind() == Kind.DESCRIBE_STATEMENT || head.kind() == Kind.DESCRIBE_PORTAL)) {
                    expected.poll();
                    assign(head, Shape.NO_ROWS);
                    if (head.swallow()) {
                        drop(pos, len);
                    }
                }
            }
            case PgProtocol.DATA_ROW -> dataRow(pos, len);
            case PgProtocol.COMMAND_COMPLETE, PgProtocol.EMPTY_QUERY_RESPONSE, PgProtocol.PORTAL_SUSPENDED -> {
                String failure = inCopy ? copyFailure : inRows ? rowsFailure : null;
                if (failure != null && type != PgProtocol.PORTAL_SUSPENDED) {
                    replaceWithError(pos, len, failure);
                }
                recordResult(failure != null ? PgProtocol.INSUFFICIENT_PRIVILEGE : null,
                        type == PgProtocol.COMMAND_COMPLETE && failure == null ? commandTag(pos, len) : null);
                endResult();
                Expect head = expected.peek();
                if (head != null && head.kind() == Kind.EXECUTE) {
                    expected.poll();
                }
            }
            case PgProtocol.COPY_OUT_RESPONSE -> copyOut(pos);
            case PgProtocol.COPY_DATA -> {
                if (inCopy) {
                    if (copyFailure != null) {
                        drop(pos, len);
                    } else if (copyRows == null) {
                        resultRows++;
                        resultBytes += len;
                    } else {
                        try {
                            ByteBuf o = cut(pos);
                            int mark = o.writerIndex();
                            copyRows.append(in, pos, len, o, fired);
                            resultRows++;
                            resultBytes += o.writerIndex() - mark;
                            copiedUpTo = pos + len;
                        } catch (MaskPlan.MaskingException e) {
                            copyFailure = e.getMessage();
                            LOG.warnf("session %s: withheld a COPY: %s", sessionId, e.getMessage());
                        }
                    }
                }
            }
            case PgProtocol.COPY_DONE -> {
                if (inCopy && copyFailure != null) {
                    drop(pos, len);
                }
            }
            case PgProtocol.ERROR_RESPONSE -> {
                recordResult(ErrorResponse.fields(in.slice(pos, len)).get((char) PgProtocol.FIELD_SQLSTATE), null);
                endResult();
                Expect head = expected.peek();
                if (head != null && head.kind() != Kind.QUERY) {
                    // the backend skips the rest of the batch up to Sync
                    while ((head = expected.peek()) != null && head.kind() != Kind.SYNC && head.kind() != Kind.QUERY) {
                        expected.poll();
                    }
                }
            }
            case PgProtocol.READY_FOR_QUERY -> {
                endResult();
                Expect head;
                while ((head = expected.poll()) != null && head.kind() != Kind.SYNC && head.kind() != Kind.QUERY) {
                    // answered, or skipped after an error
                }
            }
            default -> {
            }
        }
        return false;
    }

    /**
     * Records the result that just ended (CommandComplete, EmptyQueryResponse, PortalSuspended or an error) for
     * the request at the head of the queue: its rows, bytes, masked columns and the detectors that fired.
     */
    private void recordResult(String sqlState, String commandTag) {
        Expect head = expected.peek();
        if (recording != null && head != null && (head.kind() == Kind.QUERY || head.kind() == Kind.EXECUTE) && head.requestSeq() > 0) {
            MaskPlan plan = inCopy ? copyRowsPlan : inRows ? rowsPlan : null;
            recording.result(head.requestSeq(), resultRows, resultBytes, (System.nanoTime() - head.sentNanos()) / 1_000, plan,
                    fired, commandTag, sqlState);
        }
        resultRows = 0;
        resultBytes = 0;
        fired.clear();
    }

    /** The command tag of a CommandComplete ({@code SELECT 3}). */
    private String commandTag(int pos, int len) {
        int end = in.indexOf(pos + 5, pos + len, (byte) 0);
        return end < 0 ? null : in.toString(pos + 5, end - pos - 5, java.nio.charset.StandardCharsets.UTF_8);
    }

    private void endResult() {
        inRows = false;
        rowsPlan = null;
        rowsBinary = null;
        rowsFailure = null;
        inCopy = false;
        copyRows = null;
        copyRowsPlan = null;
        copyFailure = null;
    }

    private boolean rowDescription(int pos, int len) {
        Expect head = expected.peek();
        boolean describe = head != null && (head.kind() == Kind.DESCRIBE_STATEMENT || head.kind() == Kind.DESCRIBE_PORTAL);
        if (describe) {
            expected.poll();
            if (head.swallow()) {
                drop(pos, len);
            }
        }
        FrameKey probe = new FrameKey(in.slice(pos + 5, len - 5));
        MaskPlanner.Planned known = memo.get(probe);
        if (known != null && known.validUnder(planner.revision())) {
            apply(describe ? head : null, known.plan(), formatsOf(pos), null);
            return false;
        }
        RowDescription shape;
        try {
            shape = RowDescription.decode(in.slice(pos, len));
        } catch (PgProtocolException e) {
            apply(describe ? head : null, null, null, "the backend sent an unreadable RowDescription: " + e.getMessage());
            return false;
        }
        FrameKey key = probe.copy();
        Expect target = describe ? head : null;
        boolean[] binary = shape.formats();
        stalled = true;
        backend.config().setAutoRead(false);
        planner.plan(this.target, context, shape).whenComplete((planned, err) -> client.executor().execute(() -> {
            if (closed) {
                return;
            }
            try {
                planned(target, key, binary, planned, err);
            } catch (RuntimeException e) {
                // like an exception of a backend read: the session ends with an error instead of hanging
                backend.pipeline().fireExceptionCaught(e);
            }
        }));
        return true;
    }

    /** A plan was made (or not) for the RowDescription the relay stopped at: apply it and relay on. */
    private void planned(Expect target, FrameKey key, boolean[] binary, MaskPlanner.Planned planned, Throwable err) {
        if (err != null) {
            String why = MaskPlanner.rootMessage(err);
            LOG.warnf("session %s: no masking plan for a result: %s", sessionId, why);
            apply(target, null, null, why);
        } else {
            memo.put(key, planned);
            apply(target, planned.plan(), binary, null);
        }
        resume();
    }

    private boolean[] formatsOf(int pos) {
        int count = in.getUnsignedShort(pos + 5);
        boolean[] binary = new boolean[count];
        int p = pos + 7;
        for (int i = 0; i < count; i++) {
            p = in.indexOf(p, in.writerIndex(), (byte) 0) + 1 + 16;
            binary[i] = in.getShort(p) == 1;
            p += 2;
        }
        return binary;
    }

    /** A RowDescription's plan goes to the statement or portal it describes, or to the rows that follow it. */
    private void apply(Expect describe, MaskPlan plan, boolean[] binary, String failure) {
        Shape shape = new Shape(plan, binary, failure);
        if (describe != null) {
            assign(describe, shape);
        } else {
            endResult();
            inRows = true;
            rowsPlan = plan;
            rowsBinary = binary;
            rowsFailure = failure;
        }
    }

    private static void assign(Expect describe, Shape shape) {
        if (describe.kind() == Kind.DESCRIBE_STATEMENT) {
            describe.statement().shape = shape;
        } else {
            describe.portal().shape = shape;
            describe.portal().binary = shape.binary();
        }
    }

    private void dataRow(int pos, int len) {
        if (!inRows) {
            beginExecuteRows();
        }
        if (rowsFailure != null) {
            drop(pos, len);
            return;
        }
        resultRows++;
        if (rowsPlan.passesUnchanged()) {
            resultBytes += len;
            return;
        }
        ByteBuf o = cut(pos);
        int mark = o.writerIndex();
        try {
            rowsPlan.appendDataRow(in, pos, len, rowsBinary, o, fired);
            resultBytes += o.writerIndex() - mark;
        } catch (MaskPlan.MaskingException e) {
            o.writerIndex(mark);
            rowsFailure = e.getMessage();
            LOG.warnf("session %s: withheld a result: %s", sessionId, e.getMessage());
        }
        copiedUpTo = pos + len;
    }

    /** The first DataRow of an Execute: its shape is the portal's, or its statement's with the Bind's formats. */
    private void beginExecuteRows() {
        inRows = true;
        Expect head = expected.peek();
        Portal portal = head != null && head.kind() == Kind.EXECUTE ? head.portal() : null;
        Shape shape = portal == null ? null : portal.shape != null ? portal.shape
                : portal.statement != null ? portal.statement.shape : null;
        if (shape == null || shape.failure() != null) {
            rowsFailure = shape == null ? "the gateway could not tell which columns these rows have" : shape.failure();
            return;
        }
        rowsPlan = shape.plan();
        if (portal.shape == null && portal.binary == null) {
            portal.binary = RowDescription.formats(portal.resultFormats, rowsPlan.columnCount());
        }
        rowsBinary = portal.binary;
    }

    private void copyOut(int pos) {
        endResult();
        inCopy = true;
        Expect head = expected.peek();
        CopyPlan plan = null;
        if (head != null && head.kind() == Kind.QUERY) {
            plan = head.copies().poll();
        } else if (head != null && head.kind() == Kind.EXECUTE && head.portal().statement != null) {
            plan = head.portal().statement.copy;
        }
        if (plan == null) {
            copyFailure = "the gateway has no masking plan for this COPY";
            return;
        }
        MaskPlan mask = plan.planned().plan();
        if (mask.passesUnchanged()) {
            return;
        }
        boolean binary = in.getByte(pos + 5) == 1;
        CopyFormat.Kind kind = plan.format().kind();
        if (binary || kind != CopyFormat.Kind.TEXT && kind != CopyFormat.Kind.CSV) {
            copyFailure = "a COPY in binary format cannot be masked; use FORMAT text or csv";
            return;
        }
        copyRows = new CopyRows(mask, plan.format());
        copyRowsPlan = mask;
    }

    /** Goes on relaying after a plan was made, until the next stall. */
    private void resume() {
        stalled = false;
        while (!stalled && !held.isEmpty() && !closed) {
            relay(held.poll());
        }
        client.flush();
        if (!stalled && !closed) {
            backend.config().setAutoRead(client.channel().isWritable());
        }
    }

    /** A RowDescription's bytes as a map key: compared by content, copied only to be kept. */
    private static final class FrameKey {
        private final ByteBuf bytes;
        private final int hash;

        FrameKey(ByteBuf bytes) {
            this.bytes = bytes;
            this.hash = ByteBufUtil.hashCode(bytes);
        }

        FrameKey copy() {
            return new FrameKey(Unpooled.copiedBuffer(bytes));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FrameKey k && hash == k.hash && ByteBufUtil.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
