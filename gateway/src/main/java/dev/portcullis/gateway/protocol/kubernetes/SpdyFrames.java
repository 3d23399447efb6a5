package dev.portcullis.gateway.protocol.kubernetes;

import io.vertx.core.buffer.Buffer;

/**
 * One direction of a SPDY/3.1 connection read frame by frame from the pieces it arrives in (WebSocket messages, which
 * need not end where a frame does). A control frame comes out whole, at most {@code maxControlBytes} long, checked
 * before it is held; a data frame comes out as it arrives, in pieces that the caller passes on without holding them,
 * so a data frame of 16 MiB costs no more memory than one of 16 bytes. Held between calls: at most one unfinished
 * control frame and the rest of the last piece added.
 */
final class SpdyFrames {
    static final int VERSION = 3;
    static final int HEADER_BYTES = 8;
    static final int SYN_STREAM = 1;
    static final int SYN_REPLY = 2;
    static final int RST_STREAM = 3;
    static final int SETTINGS = 4;
    static final int PING = 6;
    static final int GOAWAY = 7;
    static final int HEADERS = 8;
    static final int WINDOW_UPDATE = 9;
    static final int FLAG_FIN = 0x01;
    /** RST_STREAM status: the stream was refused before any of it was processed. */
    static final int REFUSED_STREAM = 3;

    /** What {@link #next} returns: a whole control frame, or a piece of a data frame's payload. */
    sealed interface Item {
    }

    /** A control frame; {@code body} is what follows its 8-byte header. */
    record Control(int type, int flags, Buffer body) implements Item {
        /** The stream a SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS or WINDOW_UPDATE is about (its first 31 bits). */
        int streamId() {
            return body.length() < 4 ? 0 : body.getInt(0) & 0x7fffffff;
        }
    }

    /**
     * A piece of a data frame: {@code first} when it starts the frame (whose header the caller writes from
     * {@code streamId}, {@code flags} and {@code length}), {@code last} when it ends it; an empty frame is one piece that
     * is both.
     */
    record Data(int streamId, int flags, int length, Buffer piece, boolean first, boolean last) implements Item {
        boolean fin() {
            return (flags & FLAG_FIN) != 0;
        }
    }

    private final int maxControlBytes;
    private Buffer input = Buffer.buffer();
    private int pos;
    /** Inside a data frame: its header fields and the bytes of its payload still to come. */
    private int dataStream = -1;
    private int dataFlags;
    private int dataLength;
    private int dataLeft;

    SpdyFrames(int maxControlBytes) {
        this.maxControlBytes = maxControlBytes;
    }

    void add(Buffer piece) {
        if (pos >= input.length()) {
            input = piece;
        } else {
            input = input.getBuffer(pos, input.length()).appendBuffer(piece);
        }
        pos = 0;
    }

    /** Whether the bytes passed on so far end at a frame boundary: a frame of the gateway's own may be written now. */
    boolean atBoundary() {
        return dataStream < 0;
    }

    /** The next frame or piece, or null when the input added so far has no more. */
    Item next() throws SpdyHeaderBlock.Malformed {
        int available = input.length() - pos;
        if (dataStream >= 0) {
            if (available == 0) {
                return null;
            }
            int n = Math.min(available, dataLeft);
            Buffer piece = input.getBuffer(pos, pos + n);
            pos += n;
            dataLeft -= n;
            return dataPiece(piece, false);
        }
        if (available < HEADER_BYTES) {
            return null;
        }
        int word = input.getInt(pos);
        int flags = input.getUnsignedByte(pos + 4);
        int length = input.getUnsignedMedium(pos + 5);
        if (word < 0) {
            int version = (word >>> 16) & 0x7fff;
            int type = word & 0xffff;
            if (version != VERSION) {
                throw new SpdyHeaderBlock.Malformed("a SPDY control frame of version " + version + "; only SPDY/3.1 is relayed");
            }
            if (length > maxControlBytes) {
                throw new SpdyHeaderBlock.Malformed("a SPDY control frame of " + length + " bytes, more than the " + maxControlBytes
                        + " the gateway reads");
            }
            if (available < HEADER_BYTES + length) {
                return null;
            }
            Buffer body = input.getBuffer(pos + HEADER_BYTES, pos + HEADER_BYTES + length);
            pos += HEADER_BYTES + length;
            return new Control(type, flags, body);
        }
        if (word == 0) {
            throw new SpdyHeaderBlock.Malformed("a SPDY data frame on stream 0");
        }
        pos += HEADER_BYTES;
        dataStream = word;
        dataFlags = flags;
        dataLength = length;
        dataLeft = length;
        if (length == 0) {
            return dataPiece(Buffer.buffer(), true);
        }
        int n = Math.min(input.length() - pos, dataLeft);
        Buffer piece = input.getBuffer(pos, pos + n);
        pos += n;
        dataLeft -= n;
        return dataPiece(piece, true);
    }

    private Data dataPiece(Buffer piece, boolean first) {
        Data d = new Data(dataStream, dataFlags, dataLength, piece, first, dataLeft == 0);
        if (dataLeft == 0) {
            dataStream = -1;
        }
        return d;
    }

    /** A data frame's header. */
    static Buffer dataHeader(int streamId, int flags, int length) {
        return Buffer.buffer(HEADER_BYTES).appendInt(streamId & 0x7fffffff).appendByte((byte) flags).appendMedium(length);
    }

    /** A control frame: its header, then {@code body}. */
    static Buffer control(int type, int flags, Buffer body) {
        return Buffer.buffer(HEADER_BYTES + body.length()).appendInt(0x80000000 | (VERSION << 16) | type).appendByte((byte) flags)
                .appendMedium(body.length()).appendBuffer(body);
    }
}
