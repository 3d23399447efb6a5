package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.masking.MaskPlan;
import dev.portcullis.gateway.protocol.postgres.codec.FrontendMessage;
import dev.portcullis.gateway.protocol.postgres.codec.FrontendMessages;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocol;
import dev.portcullis.gateway.protocol.postgres.codec.RowDescription;
import dev.portcullis.gateway.protocol.postgres.sql.AnalysisCache;
import dev.portcullis.gateway.protocol.postgres.sql.PreparedStatements;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The session's one tracker of the extended protocol, which masking and recording both read: its prepared
 * statements and portals (with the shape of their rows, the COPY plan they run and the recorded request they belong
 * to) and, in order, the responses the backend owes for what was forwarded. So every DataRow and CopyData can be
 * matched with its shape, whether that shape came with it (simple Query), from an earlier Describe, or from a
 * Describe the gateway added itself (an Execute whose shape nobody asked for; its answer is kept from the client).
 * Also holds the SQL-level memory of the session's prepared statements ({@link PreparedStatements}), which shares
 * PostgreSQL's one namespace with the protocol's. Confined to the session's event loop.
 */
final class ExtendedProtocol {

    /** The rows of one result shape: their plan, or why there is none. */
    record Shape(MaskPlan plan, boolean[] binary, String failure) {
        static final Shape NO_ROWS = new Shape(null, null, "the statement was described as returning no rows");
    }

    static final class Statement {
        final ResultRelay.CopyPlan copy;
        final long requestSeq;
        /** The SQL text it was parsed from (null: not known), whose column lineage a plan may need. */
        private final String text;
        /** The queries its EXECUTE or FETCH runs, as the session's memory held them when it was parsed. */
        private final Map<Integer, ResultStatements.ResultStatement> named;
        /** The session's memory of prepared statements and cursors, to read again when it runs (null: not read again). */
        private final NamedNow namedNow;
        boolean describing;
        Shape shape;

        Statement(ResultRelay.CopyPlan copy, long requestSeq, String text, Map<Integer, ResultStatements.ResultStatement> named,
                NamedNow namedNow) {
            this.copy = copy;
            this.requestSeq = requestSeq;
            this.text = text;
            this.named = named;
            this.namedNow = namedNow;
        }

        /**
         * What its rows are made of; null when its text is not known or holds other than one statement. A parsed
         * EXECUTE or FETCH reads the rows of what its name holds when it runs, not when it was parsed: a driver may
         * prepare {@code FETCH ALL IN c} before it declares {@code c} (pgx does), or declare {@code c} again for
         * another query between two runs.
         */
        ResultStatements.ResultStatement resultStatement() {
            List<ResultStatements.ResultStatement> all = text == null ? List.of() : ResultStatements.of(text, named);
            if (all.size() != 1) {
                return null;
            }
            if (all.get(0).kind() == ResultStatements.Kind.NAMED && namedNow != null) {
                List<ResultStatements.ResultStatement> now = ResultStatements.of(text, namedNow.resolve(text));
                return now.size() == 1 ? now.get(0) : null;
            }
            return all.get(0);
        }
    }

    /** The queries the EXECUTEs and FETCHes of a text run, as the session's memory holds them now. */
    interface NamedNow {
        Map<Integer, ResultStatements.ResultStatement> resolve(String text);
    }

    /** The statements of a simple Query, and which of them the backend is answering (each ends with its CommandComplete). */
    static final class QueryStatements {
        private final String text;
        private final Map<Integer, ResultStatements.ResultStatement> named;
        private List<ResultStatements.ResultStatement> statements;
        private int answering;

        QueryStatements(String text, Map<Integer, ResultStatements.ResultStatement> named) {
            this.text = text;
            this.named = named;
        }

        /** The statement whose result comes now; null past the last one. Split on first need: most results need none. */
        ResultStatements.ResultStatement current() {
            if (statements == null) {
                statements = ResultStatements.of(text, named);
            }
            return answering < statements.size() ? statements.get(answering) : null;
        }

        /** The current statement's result ended. */
        void ended() {
            answering++;
        }
    }

    static final class Portal {
        final Statement statement;
        final short[] resultFormats;
        boolean describing;
        Shape shape;
        boolean[] binary;

        Portal(Statement statement, short[] resultFormats) {
            this.statement = statement;
            this.resultFormats = resultFormats;
        }

        /** The shape of its rows: its own (described), or its statement's. */
        Shape shape() {
            return shape != null ? shape : statement != null ? statement.shape : null;
        }
    }

    enum Kind { QUERY, SYNC, PARSE, BIND, CLOSE, DESCRIBE_STATEMENT, DESCRIBE_PORTAL, EXECUTE, INJECTED_DESCRIBE }

    /**
     * A forwarded message whose responses matter, in the order the backend answers them.
     *
     * @param swallow    the gateway sent it itself: its answer is kept from the client
     * @param copies     the COPY TO STDOUT plans of a Query, in order
     * @param requestSeq the recorded request whose results these are (0: none)
     * @param injected   for {@link Kind#INJECTED_DESCRIBE}: the describe the gateway made
     * @param query      for a {@link Kind#QUERY} with SQL text: its statements
     */
    record Expect(Kind kind, Statement statement, Portal portal, boolean swallow, ArrayDeque<ResultRelay.CopyPlan> copies,
            long requestSeq, long sentNanos, InjectedDescribe injected, QueryStatements query) {
        static Expect of(Kind kind, Statement statement, Portal portal, boolean swallow) {
            return new Expect(kind, statement, portal, swallow, null, 0, 0, null, null);
        }

        /** The statement this RowDescription answer describes: a described statement's or portal's, else the Query's current one. */
        ResultStatements.ResultStatement resultStatement() {
            Statement s = kind == Kind.DESCRIBE_STATEMENT ? statement : kind == Kind.DESCRIBE_PORTAL ? portal.statement : null;
            if (s != null) {
                return s.resultStatement();
            }
            return query != null ? query.current() : null;
        }

        boolean describes() {
            return kind == Kind.DESCRIBE_STATEMENT || kind == Kind.DESCRIBE_PORTAL;
        }

        boolean runs() {
            return kind == Kind.QUERY || kind == Kind.EXECUTE;
        }
    }

    /**
     * A query described on the session's own backend connection, inside its transaction, so that what it reads
     * (temporary tables, tables of the open transaction, the session's search_path) resolves as PostgreSQL resolves
     * it: Parse into a statement of the gateway's own, Describe, Close, then Sync (between the client's batches) or
     * Flush (within one). Every answer to it is kept from the client.
     */
    static final class InjectedDescribe {
        /** Ends with the gateway's own Sync, whose ReadyForQuery ends it; else with the CloseComplete. */
        final boolean synced;
        final CompletableFuture<RowDescription> shape = new CompletableFuture<>();
        RowDescription described;
        String error;

        InjectedDescribe(boolean synced) {
            this.synced = synced;
        }
    }

    private static final String DESCRIBE_STATEMENT = "__portcullis_describe";

    private final Channel backend;
    private final PreparedStatements sqlPrepared = new PreparedStatements();
    private final Map<String, Statement> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    private final ArrayDeque<Expect> expected = new ArrayDeque<>();

    private final NamedNow namedNow;

    /** @param sql the session's SQL analysis, to resolve a parsed EXECUTE or FETCH when it runs (null: when parsed) */
    ExtendedProtocol(Channel backend, AnalysisCache sql) {
        this.backend = backend;
        this.namedNow = sql == null ? null : text -> sql.analyze(text, sqlPrepared).namedResults();
    }

    /** The session's prepared statements as the SQL analysis reads them (EXECUTE name). */
    PreparedStatements sqlPrepared() {
        return sqlPrepared;
    }

    /**
     * A client message on its way to the backend.
     *
     * @param copies     the plans of the COPY TO STDOUT statements the message runs, in order (Query, Parse)
     * @param named      the queries its EXECUTEs and FETCHes run, by statement index (Query, Parse)
     * @param requestSeq the recorded request the message carries (Query, Parse, FunctionCall), else 0
     */
    void forwarding(ByteBuf frame, byte type, List<ResultRelay.CopyPlan> copies,
            Map<Integer, ResultStatements.ResultStatement> named, long requestSeq) {
        switch (type) {
            case PgProtocol.QUERY, PgProtocol.FUNCTION_CALL -> expected.add(new Expect(Kind.QUERY, null, null, false,
                    new ArrayDeque<>(copies), requestSeq, System.nanoTime(), null,
                    type == PgProtocol.QUERY ? new QueryStatements(FrontendMessage.Query.decode(frame).text(), named) : null));
            case PgProtocol.SYNC -> expected.add(Expect.of(Kind.SYNC, null, null, false));
            case PgProtocol.PARSE -> {
                FrontendMessage.Parse parse = FrontendMessage.Parse.decode(frame);
                statements.put(parse.statement(), new Statement(copies.isEmpty() ? null : copies.get(0), requestSeq, parse.text(), named,
                        namedNow));
                expected.add(Expect.of(Kind.PARSE, null, null, false));
            }
            case PgProtocol.BIND -> {
                FrontendMessage.Bind bind = FrontendMessage.Bind.decode(frame);
                portals.put(bind.portal(), new Portal(statements.get(bind.statement()), bind.resultFormats()));
                expected.add(Expect.of(Kind.BIND, null, null, false));
            }
            case PgProtocol.DESCRIBE -> {
                FrontendMessage.Describe d = FrontendMessage.Describe.decode(frame);
                if (d.what() == 'S') {
                    Statement s = statements.computeIfAbsent(d.name(), n -> new Statement(null, 0, null, Map.of(), null));
                    s.describing = true;
                    expected.add(Expect.of(Kind.DESCRIBE_STATEMENT, s, null, false));
                } else {
                    Portal p = portals.computeIfAbsent(d.name(), n -> new Portal(null, new short[0]));
                    p.describing = true;
                    expected.add(Expect.of(Kind.DESCRIBE_PORTAL, null, p, false));
                }
            }
            case PgProtocol.EXECUTE -> execute(FrontendMessage.Execute.decode(frame).portal(), frame);
            case PgProtocol.CLOSE -> {
                FrontendMessage.Close c = FrontendMessage.Close.decode(frame);
                if (c.what() == 'S') {
                    statements.remove(c.name());
                    sqlPrepared.closed(c.name());
                } else {
                    portals.remove(c.name());
                }
                expected.add(Expect.of(Kind.CLOSE, null, null, false));
            }
            default -> {
            }
        }
    }

    private void execute(String name, ByteBuf frame) {
        Portal p = portals.computeIfAbsent(name, n -> new Portal(null, new short[0]));
        boolean copy = p.statement != null && p.statement.copy != null; // its rows come with the COPY's own plan
        if (!copy && !p.describing && (p.statement == null || !p.statement.describing) && p.shape() == null) {
            // Nobody asked what this portal returns: ask, and keep the answer from the client.
            backend.write(FrontendMessages.describe(frame.alloc(), 'P', name), backend.voidPromise());
            p.describing = true;
            expected.add(Expect.of(Kind.DESCRIBE_PORTAL, null, p, true));
        }
        expected.add(new Expect(Kind.EXECUTE, null, p, false, null, p.statement == null ? 0 : p.statement.requestSeq,
                System.nanoTime(), null, null));
    }

    /**
     * Describes {@code query} on the backend ahead of what the client sends next (see {@link InjectedDescribe}).
     * Completes with its shape (null: it returns no rows), or exceptionally with PostgreSQL's error.
     *
     * @param synced between the client's batches (a Sync of the gateway's own ends it), else inside one (a Flush)
     */
    CompletableFuture<RowDescription> describe(String query, boolean synced) {
        InjectedDescribe describe = new InjectedDescribe(synced);
        var alloc = backend.alloc();
        backend.write(FrontendMessages.parse(alloc, DESCRIBE_STATEMENT, query), backend.voidPromise());
        backend.write(FrontendMessages.describe(alloc, 'S', DESCRIBE_STATEMENT), backend.voidPromise());
        backend.write(FrontendMessages.close(alloc, 'S', DESCRIBE_STATEMENT), backend.voidPromise());
        backend.writeAndFlush(synced ? FrontendMessages.sync(alloc) : FrontendMessages.flush(alloc), backend.voidPromise());
        expected.add(new Expect(Kind.INJECTED_DESCRIBE, null, null, true, null, 0, 0, describe, null));
        return describe.shape;
    }

    // ---- the backend's answers ---------------------------------------------------------------------------

    /** The response the backend owes next, or null. */
    Expect head() {
        return expected.peek();
    }

    /** The head was answered. */
    void answered() {
        expected.poll();
    }

    /** The head, if it is a message of this kind, was answered (ParseComplete, BindComplete, CloseComplete). */
    void answered(Kind kind) {
        Expect head = expected.peek();
        if (head != null && head.kind() == kind) {
            expected.poll();
        }
    }

    /** A Describe was answered with this shape (or NoData). */
    static void assign(Expect describe, Shape shape) {
        if (describe.kind() == Kind.DESCRIBE_STATEMENT) {
            describe.statement().shape = shape;
        } else {
            describe.portal().shape = shape;
            describe.portal().binary = shape.binary();
        }
    }

    /** An ErrorResponse: in the extended protocol the backend skips the rest of the batch, up to its Sync. */
    void failed() {
        Expect head = expected.peek();
        if (head != null && head.kind() != Kind.QUERY) {
            while ((head = expected.peek()) != null && head.kind() != Kind.SYNC && head.kind() != Kind.QUERY) {
                expected.poll();
            }
        }
    }

    /**
     * A ReadyForQuery: everything up to the Query or Sync it answers is done (answered, or skipped after an error). At
     * status {@code I} no transaction is open, so the cursors declared without {@code WITH HOLD} are gone.
     */
    void ready(byte status) {
        if (status == 'I') {
            sqlPrepared.transactionEnded();
        }
        Expect head;
        while ((head = expected.poll()) != null && head.kind() != Kind.SYNC && head.kind() != Kind.QUERY) {
            // answered, or skipped after an error
        }
    }

    /** The formats of an Execute's rows: the portal's own, or its statement's shape with the Bind's formats. */
    static boolean[] binary(Portal portal, Shape shape) {
        if (portal.binary == null && portal.shape == null && shape.plan() != null) {
            portal.binary = RowDescription.formats(portal.resultFormats, shape.plan().columnCount());
        }
        return portal.binary;
    }
}
