package dev.portcullis.gateway.protocol.postgres.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Whatever bytes a client or a backend sends, in whatever pieces they arrive, the decoders cut them into exactly the
 * frames the length fields say, refuse the rest with a {@link PgProtocolException} (08P01 for the client, never an
 * internal error), and hold no more memory than the bytes not yet framed: a length field alone allocates nothing.
 * Messages the gateway writes read back as what was written. Replayed from the corpus in every test run; fuzzed by the
 * fuzz profile (gateway/pom.xml).
 */
class FrameDecoderFuzzTest {
    private static final int MAX_FRAME = 1 << 16;

    /** The untyped startup packets: SSLRequest, CancelRequest, StartupMessage. */
    @FuzzTest(maxExecutions = 15_000)
    void startupPackets(FuzzedDataProvider data) {
        StartupFrameDecoder decoder = new StartupFrameDecoder();
        Framed framed = frame(decoder, data);
        for (ByteBuf packet : framed.frames) {
            long length = packet.getUnsignedInt(0);
            assertEquals(packet.readableBytes(), length, "a packet is as long as its length field says");
            assertTrue(length >= 8 && length <= PgProtocol.MAX_STARTUP_PACKET, "a packet's length is within the protocol's bounds");
            StartupMessage message;
            try {
                message = StartupMessage.decode(packet);
            } catch (PgProtocolException e) {
                continue;
            }
            // what the gateway would send on to the backend reads back as the same message
            ByteBuf encoded = message.encode(UnpooledByteBufAllocator.DEFAULT);
            assertEquals(message, StartupMessage.decode(encoded));
            encoded.release();
        }
        framed.release();
    }

    /** Frontend frames, and the fields the gateway reads from them. */
    @FuzzTest(maxExecutions = 40_000)
    void frontendFrames(FuzzedDataProvider data) {
        boolean runs = data.consumeBoolean();
        PgFrameDecoder decoder = new PgFrameDecoder(MAX_FRAME, true, runs ? type -> type == PgProtocol.COPY_DATA : type -> false);
        Framed framed = frame(decoder, data);
        for (ByteBuf slice : framed.frames) {
            for (ByteBuf frame : split(slice, runs ? PgProtocol.COPY_DATA : 0)) {
                assertTrue(PgProtocol.isFrontendType(frame.getByte(0)), "only frontend message types pass");
                readFrontend(frame);
            }
        }
        framed.release();
    }

    /** Backend frames, and what the gateway reads from them: RowDescription, errors, authentication requests. */
    @FuzzTest(maxExecutions = 40_000)
    void backendFrames(FuzzedDataProvider data) {
        PgFrameDecoder decoder = new PgFrameDecoder(MAX_FRAME, false,
                type -> type == PgProtocol.DATA_ROW || type == PgProtocol.COPY_DATA);
        Framed framed = frame(decoder, data);
        for (ByteBuf slice : framed.frames) {
            for (ByteBuf frame : split(slice, (byte) 0)) {
                readBackend(frame);
            }
        }
        framed.release();
    }

    // ---- what is read from a frame -------------------------------------------------------------------------------

    private static void readFrontend(ByteBuf frame) {
        try {
            switch (frame.getByte(0)) {
                case PgProtocol.QUERY -> {
                    FrontendMessage.Query q = FrontendMessage.Query.decode(frame);
                    assertRoundTrip(FrontendMessages.query(UnpooledByteBufAllocator.DEFAULT, q.text()), q,
                            FrontendMessage.Query::decode);
                }
                case PgProtocol.PARSE -> {
                    FrontendMessage.Parse p = FrontendMessage.Parse.decode(frame);
                    assertRoundTrip(FrontendMessages.parse(UnpooledByteBufAllocator.DEFAULT, p.statement(), p.text()), p,
                            FrontendMessage.Parse::decode);
                }
                case PgProtocol.BIND -> FrontendMessage.Bind.decode(frame);
                case PgProtocol.DESCRIBE -> FrontendMessage.Describe.decode(frame);
                case PgProtocol.EXECUTE -> FrontendMessage.Execute.decode(frame);
                case PgProtocol.CLOSE -> FrontendMessage.Close.decode(frame);
                case PgProtocol.FUNCTION_CALL -> FrontendMessage.FunctionCall.decode(frame);
                case PgProtocol.PASSWORD -> FrontendMessages.password(frame);
                default -> {
                }
            }
        } catch (PgProtocolException e) {
            // a malformed message: the session ends with 08P01
        }
    }

    private static void readBackend(ByteBuf frame) {
        try {
            switch (frame.getByte(0)) {
                case PgProtocol.ROW_DESCRIPTION -> {
                    RowDescription d = RowDescription.decode(frame);
                    assertEquals(frame.getUnsignedShort(5), d.fields().size(), "as many columns as announced");
                    assertEquals(d.fields().size(), d.formats().length);
                }
                case PgProtocol.ERROR_RESPONSE, PgProtocol.NOTICE_RESPONSE -> {
                    ErrorResponse e = ErrorResponse.decode(frame);
                    if (e.message() != null && e.sqlState() != null && e.severity() != null) {
                        ErrorResponse again = new ErrorResponse(e.severity(), e.sqlState(), e.message(), e.detail(), e.hint());
                        assertRoundTrip(again.encode(UnpooledByteBufAllocator.DEFAULT), again, ErrorResponse::decode);
                    }
                }
                case PgProtocol.AUTHENTICATION -> {
                    int code = BackendMessages.authenticationCode(frame);
                    assertRoundTrip(BackendMessages.authentication(UnpooledByteBufAllocator.DEFAULT, code), code,
                            BackendMessages::authenticationCode);
                }
                case PgProtocol.PARAMETER_STATUS -> {
                    ByteBuf b = frame.duplicate().skipBytes(5);
                    String name = PgStrings.read(b);
                    String value = PgStrings.read(b);
                    ByteBuf written = BackendMessages.parameterStatus(UnpooledByteBufAllocator.DEFAULT, name, value);
                    ByteBuf back = written.duplicate().skipBytes(5);
                    assertEquals(List.of(name, value), List.of(PgStrings.read(back), PgStrings.read(back)));
                    assertEquals(written.readableBytes() - 1, written.getInt(1), "the length field counts the body");
                    written.release();
                }
                default -> {
                }
            }
        } catch (PgProtocolException e) {
            // an unreadable backend message: the gateway withholds the result or ends the session
        }
    }

    private static <T> void assertRoundTrip(ByteBuf encoded, T expected, java.util.function.Function<ByteBuf, T> decode) {
        try {
            assertEquals(encoded.readableBytes() - 1, encoded.getInt(1), "the length field counts the body");
            T back = decode.apply(encoded);
            assertEquals(expected, back, "a message the gateway writes reads back as written");
        } finally {
            encoded.release();
        }
    }

    // ---- framing -------------------------------------------------------------------------------------------------

    /** What a decoder made of the input: its frames, and whether it refused the input. */
    private record Framed(List<ByteBuf> frames, boolean refused) {
        void release() {
            frames.forEach(ByteBuf::release);
        }
    }

    /**
     * Feeds the input to the decoder in the pieces the fuzzer chooses and checks the framing: the frames (and runs of
     * frames) are the input's bytes in order, and what is held back is less than one frame, in a buffer no larger than
     * the bytes received.
     */
    private static Framed frame(ChannelHandler decoder, FuzzedDataProvider data) {
        UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false);
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setAllocator(alloc);
        channel.pipeline().addLast(decoder);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        boolean refused = false;
        int pieces = data.consumeInt(1, 8);
        for (int i = 0; i < pieces && !refused; i++) {
            byte[] piece = i == pieces - 1 ? data.consumeRemainingAsBytes() : data.consumeBytes(data.consumeInt(0, 64));
            sent.writeBytes(piece);
            try {
                channel.writeInbound(Unpooled.wrappedBuffer(piece));
            } catch (PgProtocolException e) {
                refused = true;
            }
            long held = alloc.metric().usedHeapMemory();
            assertTrue(held <= 2L * sent.size() + 1024, () -> "the decoder holds " + held + " bytes after receiving " + sent.size());
        }
        List<ByteBuf> frames = new ArrayList<>();
        for (Object o; (o = channel.readInbound()) != null;) {
            frames.add((ByteBuf) o);
        }
        ByteArrayOutputStream framed = new ByteArrayOutputStream();
        frames.forEach(f -> framed.writeBytes(ByteBufUtil.getBytes(f)));
        byte[] all = sent.toByteArray();
        byte[] prefix = java.util.Arrays.copyOf(all, Math.min(framed.size(), all.length));
        assertArrayEquals(prefix, framed.toByteArray(), "the frames are the received bytes, in order, unchanged");
        if (!refused) {
            assertNotAFrame(decoder, all, framed.size());
        }
        channel.finishAndReleaseAll();
        return new Framed(frames, refused);
    }

    /** The bytes left over after the last frame do not yet hold a whole one. */
    private static void assertNotAFrame(ChannelHandler decoder, byte[] all, int framedBytes) {
        int left = all.length - framedBytes;
        ByteBuf rest = Unpooled.wrappedBuffer(all, framedBytes, left);
        if (decoder instanceof StartupFrameDecoder) {
            assertTrue(left < 4 || rest.getUnsignedInt(0) > left, "a whole startup packet was left unframed");
        } else {
            assertTrue(left < 5 || rest.getUnsignedInt(1) + 1 > left, "a whole frame was left unframed");
        }
    }

    /** The frames of a slice that may be a run of several; a run holds only the run type's frames. */
    private static List<ByteBuf> split(ByteBuf slice, byte runType) {
        List<ByteBuf> frames = new ArrayList<>();
        int pos = slice.readerIndex();
        while (pos < slice.writerIndex()) {
            long length = slice.getUnsignedInt(pos + 1);
            assertTrue(length >= 4 && length <= MAX_FRAME, "every frame's length is within bounds");
            assertTrue(pos + 1 + length <= slice.writerIndex(), "a slice holds whole frames only");
            frames.add(slice.slice(pos, (int) length + 1));
            pos += (int) length + 1;
        }
        if (frames.size() > 1 && runType != 0) {
            frames.forEach(f -> assertEquals(runType, f.getByte(0), "a run holds only frames of the run type"));
        }
        return frames;
    }
}
