package dev.portcullis.gateway.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/** The frontend messages the gateway reads during authentication or writes to a backend itself. */
public final class FrontendMessages {
    private FrontendMessages() {
    }

    /** The text of a PasswordMessage frame (the client's access token). */
    public static String password(ByteBuf frame) {
        ByteBuf buf = frame.duplicate();
        buf.skipBytes(5);
        String value = PgStrings.read(buf);
        if (buf.isReadable()) {
            throw new PgProtocolException("unexpected bytes after the password");
        }
        return value;
    }

    public static ByteBuf password(ByteBufAllocator alloc, String password) {
        int length = 4 + PgStrings.utf8Length(password);
        ByteBuf buf = alloc.buffer(length + 1).writeByte(PgProtocol.PASSWORD).writeInt(length);
        PgStrings.write(buf, password);
        return buf;
    }

    public static ByteBuf saslInitialResponse(ByteBufAllocator alloc, String mechanism, String clientFirst) {
        byte[] data = clientFirst.getBytes(StandardCharsets.UTF_8);
        int length = 4 + PgStrings.utf8Length(mechanism) + 4 + data.length;
        ByteBuf buf = alloc.buffer(length + 1).writeByte(PgProtocol.PASSWORD).writeInt(length);
        PgStrings.write(buf, mechanism);
        buf.writeInt(data.length).writeBytes(data);
        return buf;
    }

    public static ByteBuf saslResponse(ByteBufAllocator alloc, String clientFinal) {
        byte[] data = clientFinal.getBytes(StandardCharsets.UTF_8);
        return alloc.buffer(5 + data.length).writeByte(PgProtocol.PASSWORD).writeInt(4 + data.length).writeBytes(data);
    }

    public static ByteBuf sslRequest(ByteBufAllocator alloc) {
        return alloc.buffer(8).writeInt(8).writeInt(PgProtocol.SSL_REQUEST);
    }

    public static ByteBuf cancelRequest(ByteBufAllocator alloc, int processId, int secretKey) {
        return alloc.buffer(16).writeInt(16).writeInt(PgProtocol.CANCEL_REQUEST).writeInt(processId).writeInt(secretKey);
    }

    /** Query: simple protocol, one text. */
    public static ByteBuf query(ByteBufAllocator alloc, String sql) {
        ByteBuf buf = alloc.buffer().writeByte(PgProtocol.QUERY).writeInt(0);
        PgStrings.write(buf, sql);
        return buf.setInt(1, buf.writerIndex() - 1);
    }

    /** Parse into the named statement ({@code ""}: the unnamed one), no parameter types given. */
    public static ByteBuf parse(ByteBufAllocator alloc, String statement, String sql) {
        ByteBuf buf = alloc.buffer().writeByte(PgProtocol.PARSE).writeInt(0);
        PgStrings.write(buf, statement);
        PgStrings.write(buf, sql);
        buf.writeShort(0);
        return buf.setInt(1, buf.writerIndex() - 1);
    }

    /** Close of a statement ({@code 'S'}) or a portal ({@code 'P'}). */
    public static ByteBuf close(ByteBufAllocator alloc, char what, String name) {
        ByteBuf buf = alloc.buffer().writeByte(PgProtocol.CLOSE).writeInt(0).writeByte(what);
        PgStrings.write(buf, name);
        return buf.setInt(1, buf.writerIndex() - 1);
    }

    public static ByteBuf flush(ByteBufAllocator alloc) {
        return alloc.buffer(5).writeByte(PgProtocol.FLUSH).writeInt(4);
    }

    /** Describe of a statement ({@code 'S'}) or a portal ({@code 'P'}). */
    public static ByteBuf describe(ByteBufAllocator alloc, char what, String name) {
        ByteBuf buf = alloc.buffer().writeByte(PgProtocol.DESCRIBE).writeInt(0).writeByte(what);
        PgStrings.write(buf, name);
        return buf.setInt(1, buf.writerIndex() - 1);
    }

    public static ByteBuf sync(ByteBufAllocator alloc) {
        return alloc.buffer(5).writeByte(PgProtocol.SYNC).writeInt(4);
    }

    public static ByteBuf terminate(ByteBufAllocator alloc) {
        return alloc.buffer(5).writeByte(PgProtocol.TERMINATE).writeInt(4);
    }
}
