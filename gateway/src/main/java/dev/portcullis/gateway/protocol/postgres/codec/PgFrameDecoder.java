package dev.portcullis.gateway.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Splits a stream of typed protocol v3 messages ({@code type(1) length(4) payload}) into frames without
 * copying: each frame is a retained slice of the read buffer, type byte and length included, so it can be
 * written to the other side unchanged. The length is validated before anything is allocated for it.
 *
 * <p>Frames nobody needs to look at may be passed on as <em>runs</em>: one slice spanning several consecutive
 * whole frames (thousands of DataRows from one read become one buffer to write instead of thousands).
 *
 * <p>Given a {@link FrameBudget}, a message longer than {@link FrameBudget#SMALL} is only waited for once its
 * length is reserved there; until then the connection is not read. From then on it must arrive whole within the
 * budget's {@link FrameBudget#receiveTimeout()}, or the decoder fails with a {@link PgProtocolException} (the session
 * ends, 08P01) and the room is given back: a peer that trickles a large message cannot keep its room for as long as
 * its session lasts.
 */
public final class PgFrameDecoder extends ByteToMessageDecoder {
    private static final int HEADER = 5;

    /** Which message types may travel inside a run; the others are always emitted one per slice. */
    @FunctionalInterface
    public interface RunFilter {
        boolean opaque(byte type);
    }

    /** Stops and resumes reading the connection while its next large message waits for room in the budget. */
    public interface ReadHold {
        void hold();

        void release();
    }

    private static final RunFilter NO_RUNS = type -> false;

    private final int maxFrameBytes;
    private final boolean frontend;
    private final RunFilter runs;
    private final FrameBudget budget;
    private final ReadHold readHold;
    /** Bytes reserved in the budget for the message being received (0: none). */
    private long reserved;
    /** Fails the connection unless the message holding {@link #reserved} arrives whole by then (null: none). */
    private ScheduledFuture<?> receiveDeadline;
    private boolean waitingForRoom;
    private boolean failed;

    /**
     * @param maxFrameBytes largest accepted message length (the length field counts itself, not the type byte)
     * @param frontend      true to accept only frontend message types
     */
    public PgFrameDecoder(int maxFrameBytes, boolean frontend) {
        this(maxFrameBytes, frontend, NO_RUNS);
    }

    public PgFrameDecoder(int maxFrameBytes, boolean frontend, RunFilter runs) {
        this(maxFrameBytes, frontend, runs, null, null);
    }

    /** A frontend decoder whose large messages count against {@code budget}; {@code readHold} pauses the client. */
    public PgFrameDecoder(int maxFrameBytes, FrameBudget budget, ReadHold readHold) {
        this(maxFrameBytes, true, NO_RUNS, budget, readHold);
    }

    private PgFrameDecoder(int maxFrameBytes, boolean frontend, RunFilter runs, FrameBudget budget, ReadHold readHold) {
        this.maxFrameBytes = maxFrameBytes;
        this.frontend = frontend;
        this.runs = runs;
        this.budget = budget;
        this.readHold = readHold;
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
                if (budget != null && reserved == 0 && length > FrameBudget.SMALL && reserve(ctx, length)) {
                    // Room for the whole message at once: growing step by step would copy it, and hold two copies.
                    long missing = position + length + 1 - end;
                    if (in.refCnt() == 1 && missing <= in.maxWritableBytes()) { // not while slices of it are out
                        in.ensureWritable((int) missing);
                    }
                }
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
            giveBack();
        }
        if (runStart >= 0) {
            out.add(in.retainedSlice(runStart, position - runStart));
        }
        in.readerIndex(position);
    }

    /** Reserves room for the message being received, or stops reading until room is given back. */
    private boolean reserve(ChannelHandlerContext ctx, long bytes) {
        if (budget.tryReserve(bytes)) {
            reserved(ctx, bytes);
            return true;
        }
        if (!waitingForRoom) {
            waitingForRoom = true;
            readHold.hold();
            budget.awaitRoom(() -> ctx.executor().execute(() -> {
                if (waitingForRoom) {
                    waitingForRoom = false;
                    readHold.release(); // the next read tries again
                }
            }));
        }
        if (budget.tryReserve(bytes)) { // room given back between the first try and the wait
            reserved(ctx, bytes);
            waitingForRoom = false;
            readHold.release();
            return true;
        }
        return false;
    }

    private void reserved(ChannelHandlerContext ctx, long bytes) {
        reserved = bytes;
        receiveDeadline = ctx.executor().schedule(() -> {
            if (reserved > 0 && !failed) {
                fail(internalBuffer());
                ctx.fireExceptionCaught(new PgProtocolException("a message of " + bytes + " bytes did not arrive whole within "
                        + PgProtocol.plain(budget.receiveTimeout()) + " of its start"));
            }
        }, budget.receiveTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    private void giveBack() {
        if (reserved > 0) {
            budget.release(reserved);
            reserved = 0;
        }
        if (receiveDeadline != null) {
            receiveDeadline.cancel(false);
            receiveDeadline = null;
        }
    }

    /**
     * While waiting for room, also skips the decoder's own read request (ByteToMessageDecoder asks for another read
     * when a read produced no message and auto-read is off), which would read the connection on regardless.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (waitingForRoom) {
            ctx.fireChannelReadComplete();
        } else {
            super.channelReadComplete(ctx);
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        waitingForRoom = false;
        giveBack();
    }

    private void fail(ByteBuf in) {
        failed = true;
        in.skipBytes(in.readableBytes());
        giveBack();
    }
}
