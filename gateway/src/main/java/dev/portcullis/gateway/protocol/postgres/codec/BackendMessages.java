package dev.portcullis.gateway.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;

/**
 * The small backend messages the gateway writes itself during startup: Authentication requests,
 * BackendKeyData, ParameterStatus, ReadyForQuery and NegotiateProtocolVersion.
 */
public final class BackendMessages {
    private BackendMessages() {
    }

    public static ByteBuf authentication(ByteBufAllocator alloc, int code) {
        return alloc.buffer(9).writeByte(PgProtocol.AUTHENTICATION).writeInt(8).writeInt(code);
    }

    public static ByteBuf backendKeyData(ByteBufAllocator alloc, int processId, int secretKey) {
        return alloc.buffer(13).writeByte(PgProtocol.BACKEND_KEY_DATA).writeInt(12).writeInt(processId).writeInt(secretKey);
    }

    public static ByteBuf parameterStatus(ByteBufAllocator alloc, String name, String value) {
        int length = 4 + PgStrings.utf8Length(name) + PgStrings.utf8Length(value);
        ByteBuf buf = alloc.buffer(length + 1).writeByte(PgProtocol.PARAMETER_STATUS).writeInt(length);
        PgStrings.write(buf, name);
        PgStrings.write(buf, value);
        return buf;
    }

    public static ByteBuf readyForQuery(ByteBufAllocator alloc, byte transactionStatus) {
        return alloc.buffer(6).writeByte(PgProtocol.READY_FOR_QUERY).writeInt(5).writeByte(transactionStatus);
    }

    /** Tells a client asking for a newer 3.x minor version (or {@code _pq_} options) what this side speaks. */
    public static ByteBuf negotiateProtocolVersion(ByteBufAllocator alloc, int newestMinor, List<String> unsupportedOptions) {
        int length = 4 + 4 + 4;
        for (String o : unsupportedOptions) {
            length += PgStrings.utf8Length(o);
        }
        ByteBuf buf = alloc.buffer(length + 1).writeByte(PgProtocol.NEGOTIATE_PROTOCOL_VERSION).writeInt(length)
                .writeInt(newestMinor).writeInt(unsupportedOptions.size());
        unsupportedOptions.forEach(o -> PgStrings.write(buf, o));
        return buf;
    }

    /** The authentication code of an 'R' frame. */
    public static int authenticationCode(ByteBuf frame) {
        if (frame.readableBytes() < 9) {
            throw new PgProtocolException("authentication message too short");
        }
        return frame.getInt(frame.readerIndex() + 5);
    }
}
