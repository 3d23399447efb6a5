package dev.portcullis.gateway.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Frames the untyped packets a client sends before the session starts ({@code length(4) code(4) ...}):
 * SSLRequest, GSSENCRequest, CancelRequest and StartupMessage. Emits one retained slice per packet.
 */
public final class StartupFrameDecoder extends ByteToMessageDecoder {
    private boolean failed;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < 4) {
            return;
        }
        long length = in.getUnsignedInt(in.readerIndex());
        if (length < 8 || length > PgProtocol.MAX_STARTUP_PACKET) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw new PgProtocolException("invalid startup packet length " + length);
        }
        if (in.readableBytes() < length) {
            return;
        }
        out.add(in.readRetainedSlice((int) length));
    }

    /**
     * Takes the bytes received after the last packet (null: none), so that the decoder that comes next frames them: a
     * client may send its password right behind its startup message.
     */
    public ByteBuf takePending() {
        ByteBuf pending = internalBuffer();
        return pending.isReadable() ? pending.readRetainedSlice(pending.readableBytes()) : null;
    }

    /** Bytes received after the last packet; after an SSLRequest there must be none (CVE-2021-23214). */
    public boolean hasPendingBytes() {
        return internalBuffer().isReadable();
    }
}
