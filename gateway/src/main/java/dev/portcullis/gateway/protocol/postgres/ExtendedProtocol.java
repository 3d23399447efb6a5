package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.masking.MaskPlan;
import dev.portcullis.gateway.protocol.postgres.codec.FrontendMessage;
import dev.portcullis.gateway.protocol.postgres.codec.FrontendMessages;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocol;
import dev.portcullis.gateway.protocol.postgres.codec.RowDescription;
import dev.portcullis.gateway.protocol.postgres.sql.PreparedStatements;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
        boolean describing;
        Shape shape;

        Statement(ResultRelay.CopyPlan copy, long requestSeq) {
            this.copy = copy;
            this.requestSeq = requestSeq;
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

    enum Kind { QUERY, SYNC, DESCRIBE_STATEMENT, DESCRIBE_PORTAL, EXECUTE }

    /**
     * A forwarded message whose responses matter, in the order the backend answers them.
     *
     * @param swallow    the gateway sent it itself: its answer is kept from the client
     * @param copies     the COPY TO STDOUT plans of a Query, in order
     * @param requestSeq the recorded request whose results these are (0: none)
     */
    record Expect(Kind kind, Statement statement, Portal portal, boolean swallow, ArrayDeque<ResultRelay.CopyPlan> copies,
            long requestSeq, long sentNanos) {
        static Expect of(Kind kind, Statement statement, Portal portal, boolean swallow) {
            return new Expect(kind, statement, portal, swallow, null, 0, 0);
        }

        boolean describes() {
            return kind == Kind.DESCRIBE_STATEMENT || kind == Kind.DESCRIBE_PORTAL;
        }

        boolean runs() {
            return kind == Kind.QUERY || kind == Kind.EXECUTE;
        }
    }

    private final Channel backend;
    private final PreparedStatements sqlPrepared = new PreparedStatements();
    private final Map<String, Statement> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    private final ArrayDeque<Expect> expected = new ArrayDeque<>();

    ExtendedProtocol(Channel backend) {
        this.backend = backend;
    }

    /** The session's prepared statements as the SQL analysis reads them (EXECUTE name). */
    PreparedStatements sqlPrepared() {
        return sqlPrepared;
    }

    /**
     * A client message on its way to the backend.
     *
     * @param copies     the plans of the COPY TO STDOUT statements the message runs, in order (Query, Parse)
     * @param requestSeq the recorded request the message carries (Query, Parse, FunctionCall), else 0
     */
    void forwarding(ByteBuf frame, byte type, List<ResultRelay.CopyPlan> copies, long requestSeq) {
        switch (type) {
            case PgProtocol.QUERY, PgProtocol.FUNCTION_CALL -> expected.add(new Expect(Kind.QUERY, null, null, false,
                    new ArrayDeque<>(copies), requestSeq, System.nanoTime()));
            case PgProtocol.SYNC -> expected.add(Expect.of(Kind.SYNC, null, null, false));
            case PgProtocol.PARSE -> statements.put(FrontendMessage.Parse.decode(frame).statement(),
                    new Statement(copies.isEmpty() ? null : copies.get(0), requestSeq));
            case PgProtocol.BIND -> {
                FrontendMessage.Bind bind = FrontendMessage.Bind.decode(frame);
                portals.put(bind.portal(), new Portal(statements.get(bind.statement()), bind.resultFormats()));
            }
            case PgProtocol.DESCRIBE -> {
                FrontendMessage.Describe d = FrontendMessage.Describe.decode(frame);
                if (d.what() == 'S') {
                    Statement s = statements.computeIfAbsent(d.name(), n -> new Statement(null, 0));
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
            }
            default -> {
            }
        }
    }

    private void execute(String name, ByteBuf frame) {
        Portal p = portals.computeIfAbsent(name, n -> new Portal(null, new short[0]));
        if (!p.describing && (p.statement == null || !p.statement.describing) && p.shape() == null) {
            // Nobody asked what this portal returns: ask, and keep the answer from the client.
            backend.write(FrontendMessages.describe(frame.alloc(), 'P', name), backend.voidPromise());
            p.describing = true;
            expected.add(Expect.of(Kind.DESCRIBE_PORTAL, null, p, true));
        }
        expected.add(new Expect(Kind.EXECUTE, null, p, false, null, p.statement == null ? 0 : p.statement.requestSeq,
                System.nanoTime()));
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

    /** A ReadyForQuery: everything up to the Query or Sync it answers is done (answered, or skipped after an error). */
    void ready() {
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
