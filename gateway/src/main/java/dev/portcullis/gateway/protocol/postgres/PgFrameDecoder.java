package dev.portcullis.gateway.protocol.postgres;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a stream of typed protocol v3 messages ({@code type(1) length(4) payload}) into frames without
 * copying: each frame is a retained slice of the read buffer, type byte and length included, so it can be
 * written to the other side unchanged. The length is validated before anything is allocated for it.
 */
public final class PgFrameDecoder extends ByteToMessageDecoder {
    private static final int HEADER = 5;

    private final int maxFrameBytes;
    private final boolean frontend;
    private boolean failed;

    /**
     * @param maxFrameBytes largest accepted message length (the length field counts itself, not the type byte)
     * @param frontend      true to accept only frontend message types
     */
    public PgFrameDecoder(int maxFrameBytes, boolean frontend) {
        this.maxFrameBytes = maxFrameBytes;
        this.frontend = frontend;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (in.readableBytes() >= HEADER) {
            int start = in.readerIndex();
            byte type = in.getByte(start);
            long length = in.getUnsignedInt(start + 1);
            if (frontend && !PgProtocol.isFrontendType(type)) {
                fail(in);
                throw new PgProtocolException("invalid frontend message type " + PgProtocol.describeType(type));
            }
            if (length < 4) {
                fail(in);
                throw new PgProtocolException("invalid message length " + length + " for message type "
                        + PgProtocol.describeType(type));
            }
            if (length > maxFrameBytes) {
                fail(in);
                throw new PgProtocolException("message length " + length + " exceeds the limit of "
                        + maxFrameBytes + " bytes");
            }
            if (in.readableBytes() < length + 1) {
                return;
            }
            out.add(in.readRetainedSlice((int) length + 1));
        }
    }

    private void fail(ByteBuf in) {
        failed = true;
        in.skipBytes(in.readableBytes());
    }
}
