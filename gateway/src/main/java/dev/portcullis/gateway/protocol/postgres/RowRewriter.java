package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.protocol.postgres.codec.ErrorResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Rewrites a run of backend frames on its way to the client without copying what stays the same: frames before
 * the first change travel as a slice of the run; from there on the run is copied into a new buffer, with changed
 * frames written in place of the old ones (masked rows, a withheld result's error) and dropped ones left out. One
 * run at a time; confined to the session's event loop.
 */
final class RowRewriter {
    private final ByteBufAllocator alloc;
    private ByteBuf in;
    private ByteBuf out;
    private int copiedUpTo;

    RowRewriter(ByteBufAllocator alloc) {
        this.alloc = alloc;
    }

    /** Starts on a run; until {@link #finish}, frames are addressed by their position in it. */
    void begin(ByteBuf run) {
        in = run;
        out = null;
        copiedUpTo = run.readerIndex();
    }

    ByteBuf in() {
        return in;
    }

    /** The output with everything before {@code pos} in it, so that what follows can be changed. */
    ByteBuf cut(int pos) {
        if (out == null) {
            out = alloc.buffer(Math.max(256, in.writerIndex() - copiedUpTo + 64));
        }
        out.writeBytes(in, copiedUpTo, pos - copiedUpTo);
        copiedUpTo = pos;
        return out;
    }

    /** The frame at {@code pos} was written to {@link #cut}'s output in a new form, or is left out. */
    void replaced(int pos, int len) {
        copiedUpTo = pos + len;
    }

    /** Leaves the frame at {@code pos} out. */
    void drop(int pos, int len) {
        cut(pos);
        replaced(pos, len);
    }

    /** Writes {@code error} in place of the frame at {@code pos}. */
    void replaceWithError(int pos, int len, ErrorResponse error) {
        ByteBuf o = cut(pos);
        ByteBuf encoded = error.encode(alloc);
        o.writeBytes(encoded);
        encoded.release();
        replaced(pos, len);
    }

    /**
     * The run up to {@code end} as it goes to the client, with whatever was rewritten in it; null when nothing of
     * it is left. The run itself is released (or handed on as the result).
     */
    ByteBuf finish(int end) {
        ByteBuf run = in;
        in = null;
        if (out == null) {
            if (end == run.writerIndex() && copiedUpTo == run.readerIndex()) {
                return run;
            }
            ByteBuf part = run.retainedSlice(copiedUpTo, end - copiedUpTo);
            run.release();
            if (part.isReadable()) {
                return part;
            }
            part.release();
            return null;
        }
        out.writeBytes(run, copiedUpTo, end - copiedUpTo);
        run.release();
        ByteBuf done = out;
        out = null;
        if (!done.isReadable()) { // every frame dropped or refused after the first change
            done.release();
            return null;
        }
        return done;
    }
}
