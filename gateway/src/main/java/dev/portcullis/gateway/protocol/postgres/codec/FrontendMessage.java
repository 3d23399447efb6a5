package dev.portcullis.gateway.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import java.util.function.Function;

/**
 * The frontend messages that carry meaning, read from a whole frame (type byte and length included, never released
 * here). One record per message; every other message travels opaque. A frame that ends before its fields do, or has
 * bytes after them, is a {@link PgProtocolException} (SQLSTATE 08P01 for the client), never an internal error.
 */
public sealed interface FrontendMessage permits FrontendMessage.Query, FrontendMessage.Parse, FrontendMessage.Bind,
        FrontendMessage.Describe, FrontendMessage.Execute, FrontendMessage.Close, FrontendMessage.FunctionCall {

    /** A simple-protocol query: one or more statements. */
    record Query(String text) implements FrontendMessage {
        public static Query decode(ByteBuf frame) {
            return read(frame, "Query", b -> new Query(PgStrings.read(b)));
        }
    }

    /** A statement to prepare; {@code statement} is empty for the unnamed one. Parameter types are not kept. */
    record Parse(String statement, String text) implements FrontendMessage {
        public static Parse decode(ByteBuf frame) {
            return read(frame, "Parse", b -> {
                Parse p = new Parse(PgStrings.read(b), PgStrings.read(b));
                int types = b.readUnsignedShort();
                b.skipBytes(4 * types);
                return p;
            });
        }
    }

    /** A portal made from a prepared statement; parameter values are skipped, never kept. */
    record Bind(String portal, String statement, short[] resultFormats) implements FrontendMessage {
        public static Bind decode(ByteBuf frame) {
            return read(frame, "Bind", b -> {
                String portal = PgStrings.read(b);
                String statement = PgStrings.read(b);
                b.skipBytes(2 * b.readUnsignedShort());
                int params = b.readUnsignedShort();
                for (int i = 0; i < params; i++) {
                    int len = b.readInt();
                    if (len < -1) {
                        throw new PgProtocolException("malformed Bind message: parameter " + (i + 1) + " has length " + len);
                    }
                    if (len > 0) {
                        b.skipBytes(len);
                    }
                }
                short[] formats = new short[b.readUnsignedShort()];
                for (int i = 0; i < formats.length; i++) {
                    formats[i] = b.readShort();
                }
                return new Bind(portal, statement, formats);
            });
        }
    }

    /** {@code what} is {@code 'S'} for a prepared statement, {@code 'P'} for a portal. */
    record Describe(byte what, String name) implements FrontendMessage {
        public static Describe decode(ByteBuf frame) {
            return read(frame, "Describe", b -> new Describe(kind(b, "Describe"), PgStrings.read(b)));
        }
    }

    /** Runs a portal; a row limit of 0 means all rows. */
    record Execute(String portal, int maxRows) implements FrontendMessage {
        public static Execute decode(ByteBuf frame) {
            return read(frame, "Execute", b -> new Execute(PgStrings.read(b), b.readInt()));
        }
    }

    /** {@code what} is {@code 'S'} for a prepared statement, {@code 'P'} for a portal. */
    record Close(byte what, String name) implements FrontendMessage {
        public static Close decode(ByteBuf frame) {
            return read(frame, "Close", b -> new Close(kind(b, "Close"), PgStrings.read(b)));
        }
    }

    /** A call of a function by its OID (argument formats, arguments and result format are checked, then skipped). */
    record FunctionCall(int functionOid) implements FrontendMessage {
        public static FunctionCall decode(ByteBuf frame) {
            return read(frame, "FunctionCall", b -> {
                int oid = b.readInt();
                b.skipBytes(2 * b.readUnsignedShort());
                int args = b.readUnsignedShort();
                for (int i = 0; i < args; i++) {
                    int len = b.readInt();
                    if (len < -1) {
                        throw new PgProtocolException("malformed FunctionCall message: argument " + (i + 1) + " has length " + len);
                    }
                    if (len > 0) {
                        b.skipBytes(len);
                    }
                }
                b.readShort(); // result format
                return new FunctionCall(oid);
            });
        }
    }

    /**
     * Checks the shape of a client message the gateway otherwise passes on without reading, so that a malformed one
     * is refused here (08P01 with a reason) rather than by the backend or not at all: Bind, Describe, Execute and Close
     * are decoded; Sync, Flush, Terminate and CopyDone have no body; CopyFail is one string. A PasswordMessage after
     * authentication is refused. Query, Parse and FunctionCall are decoded where the gateway reads them.
     */
    static void checkShape(ByteBuf frame) {
        byte type = frame.getByte(frame.readerIndex());
        switch (type) {
            case PgProtocol.BIND -> Bind.decode(frame);
            case PgProtocol.DESCRIBE -> Describe.decode(frame);
            case PgProtocol.EXECUTE -> Execute.decode(frame);
            case PgProtocol.CLOSE -> Close.decode(frame);
            case PgProtocol.SYNC -> empty(frame, "Sync");
            case PgProtocol.FLUSH -> empty(frame, "Flush");
            case PgProtocol.TERMINATE -> empty(frame, "Terminate");
            case PgProtocol.COPY_DONE -> empty(frame, "CopyDone");
            case PgProtocol.COPY_FAIL -> read(frame, "CopyFail", PgStrings::read);
            case PgProtocol.PASSWORD -> throw new PgProtocolException("unexpected password message: the session is already authenticated");
            default -> {
            }
        }
    }

    private static void empty(ByteBuf frame, String name) {
        read(frame, name, b -> b);
    }

    private static byte kind(ByteBuf b, String message) {
        byte what = b.readByte();
        if (what != 'S' && what != 'P') {
            throw new PgProtocolException("malformed " + message + " message: it names neither a statement ('S') nor a portal ('P')");
        }
        return what;
    }

    private static <T> T read(ByteBuf frame, String name, Function<ByteBuf, T> fields) {
        ByteBuf body = frame.duplicate().skipBytes(5);
        T message;
        try {
            message = fields.apply(body);
        } catch (IndexOutOfBoundsException e) {
            throw new PgProtocolException("malformed " + name + " message: it ends before its fields do");
        } catch (PgProtocolException e) {
            throw e.getMessage().startsWith("malformed ") ? e : new PgProtocolException("malformed " + name + " message: " + e.getMessage());
        }
        if (body.isReadable()) {
            throw new PgProtocolException("malformed " + name + " message: " + body.readableBytes() + " bytes after its last field");
        }
        return message;
    }
}
