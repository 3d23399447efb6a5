package dev.portcullis.gateway.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a stream of typed protocol v3 messages ({@code type(1) length(4) payload}) into frames without
 * copying: each frame is a retained slice of the read buffer, type byte and length included, so it can be
 * written to the other side unchanged. The length is validated before anything is allocated for it.
 *
 * <p>Frames nobody needs to look at may be passed on as <em>runs</em>: one slice spanning several consecutive
 * whole frames (thousands of DataRows from one read become one buffer to write instead of thousands).
 */
public final class PgFrameDecoder extends ByteToMessageDecoder {
    private static final int HEADER = 5;

    /** Which message types may travel inside a run; the others are always emitted one per slice. */
    @FunctionalInterface
    public interface RunFilter {
        boolean opaque(byte type);
    }

    private static final RunFilter NO_RUNS = type -> false;

    private final int maxFrameBytes;
    private final boolean frontend;
    private final RunFilter runs;
    private boolean failed;

    /**
     * @param maxFrameBytes largest accepted message length (the length field counts itself, not the type byte)
     * @param frontend      true to accept only frontend message types
     */
    public PgFrameDecoder(int maxFrameBytes, boolean frontend) {
        this(maxFrameBytes, frontend, NO_RUNS);
    }

    public PgFrameDecoder(int maxFrameBytes, boolean frontend, RunFilter runs) {
        this.maxFrameBytes = maxFrameBytes;
        this.frontend = frontend;
        this.runs = runs;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int runStart = -1;
        int position = in.readerIndex();
        int end = in.writerIndex();
        while (end - position >= HEADER) {
            byte type = in.getByte(position);
            long length = in.getUnsignedInt(position + 1);
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
            if (end - position < length + 1) {
                break;
            }
            if (runs.opaque(type)) {
                if (runStart < 0) {
                    runStart = position;
                }
            } else {
                if (runStart >= 0) {
                    out.add(in.retainedSlice(runStart, position - runStart));
                    runStart = -1;
                }
                out.add(in.retainedSlice(position, (int) length + 1));
            }
            position += (int) length + 1;
        }
        if (runStart >= 0) {
            out.add(in.retainedSlice(runStart, position - runStart));
        }
        in.readerIndex(position);
    }

    private void fail(ByteBuf in) {
        failed = true;
        in.skipBytes(in.readableBytes());
    }
}
