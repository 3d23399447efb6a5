package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.contract.events.Result;
import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.masking.MaskPlan;
import dev.portcullis.gateway.protocol.postgres.ExtendedProtocol.Expect;
import dev.portcullis.gateway.protocol.postgres.ExtendedProtocol.Kind;
import dev.portcullis.gateway.protocol.postgres.ExtendedProtocol.Shape;
import dev.portcullis.gateway.protocol.postgres.codec.ErrorResponse;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocol;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocolException;
import dev.portcullis.gateway.protocol.postgres.codec.RowDescription;
import dev.portcullis.gateway.protocol.postgres.sql.Analysis;
import dev.portcullis.gateway.protocol.postgres.sql.CopyFormat;
import dev.portcullis.gateway.protocol.postgres.sql.CopyInfo;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.ColumnLineage;
import dev.portcullis.gateway.protocol.postgres.sql.StatementInfo;
import dev.portcullis.gateway.session.RequestResult;
import dev.portcullis.gateway.session.Session;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.jboss.logging.Logger;

/**
 * The backend's responses on their way to the client, in an enforced session: each result is masked as its plan
 * says and recorded. When a result shape is new, the backend is read no further until its plan is made (catalog
 * lookup and OPA), so no row ever passes unplanned; rows are rewritten one at a time as they stream; a result whose
 * plan cannot be made, or whose rows do not match it, is withheld and ends in an ErrorResponse instead of its
 * CommandComplete. Which shape a row has comes from the {@link ExtendedProtocol} tracker. Confined to the session's
 * event loop.
 */
final class ResultRelay {
    private static final Logger LOG = Logger.getLogger(ResultRelay.class);
    private static final int MEMO_MAX_ENTRIES = 256;
    /** Plans of statements with longer texts are not remembered: the memo stays within a few megabytes. */
    private static final int MEMO_MAX_STATEMENT_CHARS = 4_096;

    /** A COPY TO STDOUT's plan and how its rows are written, decided before the COPY ran. */
    record CopyPlan(MaskPlanner.Planned planned, CopyFormat format) {
    }

    private final MaskPlanner planner;
    private final Session session;
    private final ChannelHandlerContext client;
    private final ExtendedProtocol protocol;
    private final ResponseSequencer sequencer;
    private final Flow flow;
    private final RowRewriter rows;
    private final int backendPid;
    private final int clientPid;
    /** A plan this session made for a result shape, and under which of its grants (they change what is masked). */
    private record Remembered(MaskPlanner.Planned planned, int grantsVersion) {
    }

    private final Map<FrameKey, Remembered> memo = new LinkedHashMap<>(32, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<FrameKey, Remembered> eldest) {
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

    // runs held while a plan is being made
    private boolean stalled;
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    private boolean closed;

    /**
     * @param backendPid the backend's real process id, which the client never sees
     * @param clientPid  the process id the client was given instead (BackendKeyData)
     */
    ResultRelay(MaskPlanner planner, Session session, ChannelHandlerContext client, ExtendedProtocol protocol,
            ResponseSequencer sequencer, Flow flow, int backendPid, int clientPid) {
        this.backendPid = backendPid;
        this.clientPid = clientPid;
        this.planner = planner;
        this.session = session;
        this.client = client;
        this.protocol = protocol;
        this.sequencer = sequencer;
        this.flow = flow;
        this.rows = new RowRewriter(client.alloc());
    }

    void close() {
        closed = true;
        held.forEach(ReferenceCountUtil::release);
        held.clear();
    }

    /** What the predicates of a statement of this session read, resolved on its connection's catalog. */
    CompletableFuture<ColumnLineage> predicateColumns(ResultStatements.ResultStatement statement) {
        return planner.predicateColumns(session.connection(), statement);
    }

    /**
     * The plans of the COPY TO STDOUT statements in the text, in order, each described on the session's own backend
     * connection, inside its transaction (see {@link ExtendedProtocol#describe}). Fails when one has no plan, or
     * needs masking in a format the gateway cannot rewrite: the COPY must then not run. The describes go out together;
     * the plans are made one after another, so a session has at most one catalog lookup in flight.
     *
     * @param synced the COPY comes between the client's batches (a simple Query), not inside one (a Parse)
     */
    CompletableFuture<List<CopyPlan>> planCopies(Analysis analysis, boolean synced) {
        List<CompletableFuture<RowDescription>> describes = new ArrayList<>();
        CompletableFuture<List<CopyPlan>> plans = CompletableFuture.completedFuture(List.of());
        for (StatementInfo s : analysis.statements()) {
            CopyInfo copy = s.copy();
            if (copy == null || !copy.toClient()) {
                continue;
            }
            if (copy.source() == null) {
                plans = CompletableFuture.failedFuture(new MaskPlanner.PlanFailure("cannot tell which columns this COPY writes"));
                continue;
            }
            CompletableFuture<RowDescription> described = protocol.describe(copy.source(), synced);
            describes.add(described);
            plans = plans.thenCompose(before -> described
                    .exceptionally(e -> {
                        throw new MaskPlanner.PlanFailure("cannot determine the columns of the COPY: " + MaskPlanner.rootMessage(e));
                    })
                    .thenCompose(shape -> {
                        if (shape == null) {
                            throw new MaskPlanner.PlanFailure("the COPY's query returns no columns");
                        }
                        List<ResultStatements.ResultStatement> source = ResultStatements.of(copy.source());
                        return planner.plan(session, shape, source.size() == 1 ? source.get(0) : null);
                    })
                    .thenApply(p -> {
                        List<CopyPlan> all = new ArrayList<>(before);
                        all.add(copyPlan(p, copy));
                        return all;
                    }));
        }
        // the verdict waits until the backend has answered every describe, whatever became of the plans
        CompletableFuture<List<CopyPlan>> result = plans;
        return CompletableFuture.allOf(describes.toArray(CompletableFuture[]::new)).handle((v, e) -> null).thenCompose(v -> result);
    }

    private static CopyPlan copyPlan(MaskPlanner.Planned p, CopyInfo copy) {
        CopyFormat.Kind kind = copy.format().kind();
        if (!p.plan().passesUnchanged() && kind != CopyFormat.Kind.TEXT && kind != CopyFormat.Kind.CSV) {
            throw new MaskPlanner.PlanFailure(kind == CopyFormat.Kind.BINARY
                    ? "this COPY writes masked columns, which cannot be masked in binary format; use FORMAT text or csv"
                    : "this COPY writes masked columns with options the gateway cannot read; use FORMAT text or csv with one-character DELIMITER, QUOTE and ESCAPE");
        }
        return new CopyPlan(p, copy.format());
    }

    /** A backend frame, or run of frames, on its way to the client. */
    void fromBackend(ByteBuf run) {
        if (closed) {
            run.release();
        } else if (stalled) {
            held.add(run);
        } else {
            relay(run);
        }
    }

    private void relay(ByteBuf run) {
        rows.begin(run);
        int pos = run.readerIndex();
        int end = run.writerIndex();
        while (pos < end) {
            byte type = run.getByte(pos);
            int len = run.getInt(pos + 1) + 1;
            if (onFrame(type, pos, len)) {
                // a plan is being made: what came before goes now, the rest waits
                int next = pos + len;
                if (next < end) {
                    held.addFirst(run.retainedSlice(next, end - next));
                }
                send(rows.finish(next));
                return;
            }
            pos += len;
        }
        send(rows.finish(end));
    }

    private void send(ByteBuf out) {
        if (out != null) {
            sequencer.relay(client, out);
        }
    }

    /** @return true to stall: a plan is being made for the RowDescription at {@code pos} */
    private boolean onFrame(byte type, int pos, int len) {
        ByteBuf in = rows.in();
        Expect owed = protocol.head();
        if (owed != null && owed.kind() == Kind.INJECTED_DESCRIBE && !asynchronous(type)) {
            injected(owed, type, pos, len);
            return false;
        }
        switch (type) {
            case PgProtocol.NOTIFICATION_RESPONSE -> {
                // the client's "is this my own notification?" compares with the pid it was given, not the backend's
                if (len >= 9 && in.getInt(pos + 5) == backendPid) {
                    in.setInt(pos + 5, clientPid);
                }
            }
            case PgProtocol.PARSE_COMPLETE -> protocol.answered(Kind.PARSE);
            case PgProtocol.BIND_COMPLETE -> protocol.answered(Kind.BIND);
            case PgProtocol.CLOSE_COMPLETE -> protocol.answered(Kind.CLOSE);
            case PgProtocol.ROW_DESCRIPTION -> {
                return rowDescription(pos, len);
            }
            case PgProtocol.NO_DATA -> {
                Expect head = protocol.head();
                if (head != null && head.describes()) {
                    protocol.answered();
                    ExtendedProtocol.assign(head, Shape.NO_ROWS);
                    if (head.swallow()) {
                        rows.drop(pos, len);
                    }
                }
            }
            case PgProtocol.DATA_ROW -> dataRow(pos, len);
            case PgProtocol.COMMAND_COMPLETE, PgProtocol.EMPTY_QUERY_RESPONSE, PgProtocol.PORTAL_SUSPENDED -> {
                String failure = inCopy ? copyFailure : inRows ? rowsFailure : null;
                if (failure != null && type != PgProtocol.PORTAL_SUSPENDED) {
                    withhold(pos, len, failure);
                }
                recordResult(failure != null ? PgProtocol.INSUFFICIENT_PRIVILEGE : null,
                        type == PgProtocol.COMMAND_COMPLETE && failure == null ? commandTag(in, pos, len) : null);
                endResult();
                Expect head = protocol.head();
                if (head != null && head.query() != null && type != PgProtocol.PORTAL_SUSPENDED) {
                    head.query().ended();
                }
                if (head != null && head.kind() == Kind.EXECUTE) {
                    protocol.answered();
                }
            }
            case PgProtocol.COPY_OUT_RESPONSE -> copyOut(pos);
            case PgProtocol.COPY_DATA -> copyData(pos, len);
            case PgProtocol.COPY_DONE -> {
                if (inCopy && copyFailure != null) {
                    rows.drop(pos, len);
                }
            }
            case PgProtocol.ERROR_RESPONSE -> {
                recordResult(ErrorResponse.fields(in.slice(pos, len)).get((char) PgProtocol.FIELD_SQLSTATE), null);
                endResult();
                protocol.failed();
            }
            case PgProtocol.READY_FOR_QUERY -> {
                endResult();
                protocol.ready(len > 5 ? in.getByte(pos + 5) : (byte) 0);
            }
            default -> {
            }
        }
        return false;
    }

    /** Messages the backend may send at any time, between others: never an answer to what was sent. */
    private static boolean asynchronous(byte type) {
        return type == PgProtocol.NOTICE_RESPONSE || type == PgProtocol.NOTIFICATION_RESPONSE || type == PgProtocol.PARAMETER_STATUS;
    }

    /**
     * An answer to the gateway's own describe: kept from the client. It ends with its Sync's ReadyForQuery, or without
     * a Sync with its CloseComplete or its error (after which the backend skips the client's messages of the batch up
     * to the client's Sync, as it would have skipped them after the client's own failed Parse).
     */
    private void injected(Expect owed, byte type, int pos, int len) {
        ExtendedProtocol.InjectedDescribe describe = owed.injected();
        rows.drop(pos, len);
        switch (type) {
            case PgProtocol.ROW_DESCRIPTION -> describe.described = RowDescription.decode(rows.in().slice(pos, len));
            case PgProtocol.ERROR_RESPONSE -> {
                describe.error = ErrorResponse.decode(rows.in().slice(pos, len)).message();
                if (!describe.synced) {
                    protocol.answered();
                    protocol.failed();
                    describe.shape.completeExceptionally(new MaskPlanner.PlanFailure(describe.error));
                }
            }
            case PgProtocol.CLOSE_COMPLETE -> {
                if (!describe.synced) {
                    protocol.answered();
                    describe.shape.complete(describe.described);
                }
            }
            case PgProtocol.READY_FOR_QUERY -> {
                protocol.answered();
                sequencer.observe(rows.in().getByte(pos + 5));
                if (describe.error != null) {
                    describe.shape.completeExceptionally(new MaskPlanner.PlanFailure(describe.error));
                } else {
                    describe.shape.complete(describe.described);
                }
            }
            default -> {
                // ParseComplete, ParameterDescription, NoData: nothing to keep
            }
        }
    }

    private void withhold(int pos, int len, String why) {
        rows.replaceWithError(pos, len, ErrorResponse.error(PgProtocol.INSUFFICIENT_PRIVILEGE, "Portcullis withheld this result: " + why));
        sequencer.backendErrorInBatch();
    }

    /**
     * Records the result that just ended (CommandComplete, EmptyQueryResponse, PortalSuspended or an error) for
     * the request at the head of the queue: its rows, bytes, masked columns and the detectors that fired.
     */
    private void recordResult(String sqlState, String commandTag) {
        Expect head = protocol.head();
        if (head != null && head.runs() && head.requestSeq() > 0) {
            MaskPlan plan = inCopy ? copyRowsPlan : inRows ? rowsPlan : null;
            session.result(new RequestResult(head.requestSeq(), sqlState == null, resultBytes,
                    (System.nanoTime() - head.sentNanos()) / 1_000, plan == null ? List.of() : plan.masked(),
                    fired.isEmpty() ? Set.of() : EnumSet.copyOf(fired), new Result.PostgresDetails(resultRows, commandTag, sqlState)));
        }
        resultRows = 0;
        resultBytes = 0;
        fired.clear();
    }

    /** The command tag of a CommandComplete ({@code SELECT 3}). */
    private static String commandTag(ByteBuf in, int pos, int len) {
        int end = in.indexOf(pos + 5, pos + len, (byte) 0);
        return end < 0 ? null : in.toString(pos + 5, end - pos - 5, StandardCharsets.UTF_8);
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
        ByteBuf in = rows.in();
        Expect head = protocol.head();
        Expect describe = head != null && head.describes() ? head : null;
        if (describe != null) {
            protocol.answered();
            if (describe.swallow()) {
                rows.drop(pos, len);
            }
        }
        // A computed column's lineage depends on the statement, which two results of one shape need not share.
        Expect answered = describe != null ? describe : head != null && head.kind() == Kind.QUERY ? head : null;
        ResultStatements.ResultStatement statement = answered != null && hasComputedColumn(in, pos) ? answered.resultStatement() : null;
        String statementKey = statement == null ? "" : statement.key();
        FrameKey probe = new FrameKey(in.slice(pos + 5, len - 5), statementKey);
        Remembered known = memo.get(probe);
        if (known != null && known.grantsVersion() == session.grantsVersion() && known.planned().validUnder(planner.revision())) {
            apply(describe, known.planned().plan(), formatsOf(in, pos), null);
            return false;
        }
        RowDescription shape;
        try {
            shape = RowDescription.decode(in.slice(pos, len));
        } catch (PgProtocolException e) {
            apply(describe, null, null, "the backend sent an unreadable RowDescription: " + e.getMessage());
            return false;
        }
        FrameKey key = probe.copy();
        boolean[] binary = shape.formats();
        int grantsVersion = session.grantsVersion();
        stalled = true;
        flow.hold(Flow.BackendHold.PLANNING);
        planner.plan(session, shape, statement).whenComplete((planned, err) -> client.executor().execute(() -> {
            if (closed) {
                return;
            }
            try {
                planned(describe, key, binary, grantsVersion, planned, err);
            } catch (RuntimeException e) {
                // like an exception of a backend read: the session ends with an error instead of hanging
                client.pipeline().fireExceptionCaught(e);
            }
        }));
        return true;
    }

    /** A plan was made (or not) for the RowDescription the relay stopped at: apply it and relay on. */
    private void planned(Expect describe, FrameKey key, boolean[] binary, int grantsVersion, MaskPlanner.Planned planned, Throwable err) {
        if (err != null) {
            String why = MaskPlanner.rootMessage(err);
            LOG.warnf("session %s: no masking plan for a result: %s", session.id(), why);
            apply(describe, null, null, why);
        } else {
            if (key.statement.length() <= MEMO_MAX_STATEMENT_CHARS) {
                memo.put(key, new Remembered(planned, grantsVersion));
            }
            apply(describe, planned.plan(), binary, null);
        }
        resume();
    }

    /** Whether a RowDescription names a column that is no table column (table OID 0, or a whole-row or system column). */
    private static boolean hasComputedColumn(ByteBuf in, int pos) {
        int count = in.getUnsignedShort(pos + 5);
        int p = pos + 7;
        for (int i = 0; i < count; i++) {
            p = in.indexOf(p, in.writerIndex(), (byte) 0) + 1;
            if (in.getInt(p) == 0 || in.getShort(p + 4) <= 0) {
                return true;
            }
            p += 18;
        }
        return false;
    }

    private static boolean[] formatsOf(ByteBuf in, int pos) {
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
            ExtendedProtocol.assign(describe, shape);
        } else {
            endResult();
            inRows = true;
            rowsPlan = plan;
            rowsBinary = binary;
            rowsFailure = failure;
        }
    }

    private void dataRow(int pos, int len) {
        if (!inRows) {
            beginExecuteRows();
        }
        if (rowsFailure != null) {
            rows.drop(pos, len);
            return;
        }
        resultRows++;
        if (rowsPlan.passesUnchanged()) {
            resultBytes += len;
            return;
        }
        ByteBuf o = rows.cut(pos);
        int mark = o.writerIndex();
        try {
            DataRows.append(rowsPlan, rows.in(), pos, len, rowsBinary, o, fired);
            resultBytes += o.writerIndex() - mark;
        } catch (MaskPlan.MaskingException e) {
            o.writerIndex(mark);
            rowsFailure = e.getMessage();
            LOG.warnf("session %s: withheld a result: %s", session.id(), e.getMessage());
        }
        rows.replaced(pos, len);
    }

    /** The first DataRow of an Execute: its shape is the portal's, or its statement's with the Bind's formats. */
    private void beginExecuteRows() {
        inRows = true;
        Expect head = protocol.head();
        ExtendedProtocol.Portal portal = head != null && head.kind() == Kind.EXECUTE ? head.portal() : null;
        Shape shape = portal == null ? null : portal.shape();
        if (shape == null || shape.failure() != null) {
            rowsFailure = shape == null ? "the gateway could not tell which columns these rows have" : shape.failure();
            return;
        }
        rowsPlan = shape.plan();
        rowsBinary = ExtendedProtocol.binary(portal, shape);
    }

    private void copyOut(int pos) {
        endResult();
        inCopy = true;
        Expect head = protocol.head();
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
        boolean binary = rows.in().getByte(pos + 5) == 1;
        CopyFormat.Kind kind = plan.format().kind();
        if (binary || kind != CopyFormat.Kind.TEXT && kind != CopyFormat.Kind.CSV) {
            copyFailure = "a COPY in binary format cannot be masked; use FORMAT text or csv";
            return;
        }
        copyRows = new CopyRows(mask, plan.format());
        copyRowsPlan = mask;
    }

    private void copyData(int pos, int len) {
        if (!inCopy) {
            return;
        }
        if (copyFailure != null) {
            rows.drop(pos, len);
        } else if (copyRows == null) {
            resultRows++;
            resultBytes += len;
        } else {
            ByteBuf o = rows.cut(pos);
            int mark = o.writerIndex();
            try {
                copyRows.append(rows.in(), pos, len, o, fired);
                resultRows++;
                resultBytes += o.writerIndex() - mark;
            } catch (MaskPlan.MaskingException e) {
                o.writerIndex(mark); // neither the row nor a part of it reaches the client
                copyFailure = e.getMessage();
                LOG.warnf("session %s: withheld a COPY: %s", session.id(), e.getMessage());
            }
            rows.replaced(pos, len);
        }
    }

    /** Goes on relaying after a plan was made, until the next stall. */
    private void resume() {
        stalled = false;
        while (!stalled && !held.isEmpty() && !closed) {
            relay(held.poll());
        }
        client.flush();
        if (!stalled && !closed) {
            flow.release(Flow.BackendHold.PLANNING);
        }
    }

    /**
     * A RowDescription's bytes, and the statement's parser text when a column is computed, as a map key: compared by
     * content, copied only to be kept.
     */
    private static final class FrameKey {
        private final ByteBuf bytes;
        private final String statement;
        private final int hash;

        FrameKey(ByteBuf bytes, String statement) {
            this.bytes = bytes;
            this.statement = statement;
            this.hash = ByteBufUtil.hashCode(bytes) * 31 + statement.hashCode();
        }

        FrameKey copy() {
            return new FrameKey(Unpooled.copiedBuffer(bytes), statement);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FrameKey k && hash == k.hash && ByteBufUtil.equals(bytes, k.bytes) && statement.equals(k.statement);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
