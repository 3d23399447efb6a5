package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.masking.MaskPlan;
import dev.portcullis.gateway.policy.Decision;
import dev.portcullis.gateway.policy.DecisionInput;
import dev.portcullis.gateway.protocol.postgres.codec.PgFrameDecoder;
import dev.portcullis.gateway.protocol.postgres.sql.Analysis;
import dev.portcullis.gateway.protocol.postgres.sql.AnalysisCache;
import dev.portcullis.gateway.session.DecisionMemo;
import dev.portcullis.gateway.session.Session;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The package-private parts of a PostgreSQL session, opened to the JMH benchmarks in {@code dev.portcullis.gateway.bench}
 * (test code: main code keeps its visibility). Everything here calls the real classes; nothing is reimplemented.
 */
public final class SessionInternals {
    private SessionInternals() {
    }

    /** What a session makes of a query text: the session memo's key and the shared cache's input. */
    public record Request(Object memoKey, DecisionInput input, boolean memoizable) {
    }

    /** A Query's text as a session turns it into its policy request (analysis included). */
    public static Request query(AnalysisCache sql, DecisionInput.SessionContext context, String text) {
        Analysis analysis = sql.analyze(text, null);
        PgRequest request = PgRequest.sql(PgRequest.QUERY, "", text, analysis, PredicateColumns.of(analysis, null).join(), null);
        return new Request(request.input(), context.with(request.input(), List.of()), request.memoizable());
    }

    /** A DataRow masked as a session masks it ({@link DataRows}). */
    public static void maskDataRow(MaskPlan plan, ByteBuf in, int start, int length, boolean[] binary, ByteBuf out,
            Set<Detectors.Kind> fired) {
        DataRows.append(plan, in, start, length, binary, out, fired);
    }

    /** A session's {@link DecisionMemo}. */
    public static final class Memo {
        private final DecisionMemo memo;

        public Memo(Duration maxTtl) {
            memo = new DecisionMemo(maxTtl);
        }

        public Decision get(Object request, String revision) {
            DecisionMemo.Hit hit = memo.get(request, revision);
            return hit == null ? null : hit.decision();
        }

        public void put(Object request, Decision decision) {
            memo.put(request, request, decision);
        }
    }

    /**
     * The relay of a logged-in session, wired by the gateway's own {@link dev.portcullis.gateway.protocol.postgres.Relay#wire}
     * between two EmbeddedChannels, for the given session (its decisions from its decider; not recorded, so results are
     * not masked). The client's handler does what ClientSession's does per frame and per read.
     */
    public static final class Relay implements AutoCloseable {
        private final EmbeddedChannel client = new EmbeddedChannel();
        private final EmbeddedChannel backend = new EmbeddedChannel();
        private final dev.portcullis.gateway.protocol.postgres.Relay relay;

        public Relay(Session session, AnalysisCache sql, ByteBufAllocator alloc, int maxMessageBytes) {
            client.config().setAllocator(alloc);
            backend.config().setAllocator(alloc);
            client.pipeline().addLast("frames", new PgFrameDecoder(maxMessageBytes, true)).addLast("session", new FromClient());
            backend.pipeline().addLast("frames", new PgFrameDecoder(maxMessageBytes, false));
            relay = dev.portcullis.gateway.protocol.postgres.Relay.wire(session, client.pipeline().context("session"), backend, (byte) 'I',
                    sql, Runnable::run, null, new dev.portcullis.gateway.protocol.postgres.Relay.Pids(0, 0), maxMessageBytes, null, Duration.ofSeconds(15),
                    new dev.portcullis.gateway.protocol.postgres.Relay.Owner() {
                        @Override
                        public void backendClosed() {
                        }

                        @Override
                        public void backendFailed(Throwable cause) {
                            throw new IllegalStateException(cause);
                        }

                        @Override
                        public void clientTerminated() {
                        }
                    });
        }

        /**
         * One read from the client's socket; takes ownership of {@code bytes}, which must be a buffer of its own (not a
         * retained slice of a longer one: the decoder may keep it and write the next read into it). Throws what the
         * pipeline raised, which an EmbeddedChannel would otherwise keep to itself.
         */
        public void clientRead(ByteBuf bytes) {
            client.pipeline().fireChannelRead(bytes).fireChannelReadComplete();
            client.checkException();
            backend.checkException();
        }

        /** One read from the backend's socket, as {@link #clientRead}. */
        public void backendRead(ByteBuf bytes) {
            backend.pipeline().fireChannelRead(bytes).fireChannelReadComplete();
            backend.checkException();
            client.checkException();
        }

        /** Releases what was flushed to the backend; returns how many bytes. */
        public long drainToBackend() {
            return drain(backend, null);
        }

        /** Releases what was flushed to the client; returns how many bytes. */
        public long drainToClient() {
            return drain(client, null);
        }

        /** What was flushed to the backend, as bytes (for checks, not for measuring). */
        public byte[] takeToBackend() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            drain(backend, out);
            return out.toByteArray();
        }

        /** What was flushed to the client, as bytes (for checks, not for measuring). */
        public byte[] takeToClient() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            drain(client, out);
            return out.toByteArray();
        }

        private static long drain(EmbeddedChannel channel, ByteArrayOutputStream copy) {
            long bytes = 0;
            Object m;
            while ((m = channel.readOutbound()) != null) {
                ByteBuf buf = (ByteBuf) m;
                bytes += buf.readableBytes();
                if (copy != null) {
                    byte[] b = new byte[buf.readableBytes()];
                    buf.getBytes(buf.readerIndex(), b);
                    copy.writeBytes(b);
                }
                ReferenceCountUtil.release(m);
            }
            return bytes;
        }

        @Override
        public void close() {
            relay.close();
            drain(client, null);
            drain(backend, null);
            client.finishAndReleaseAll();
            backend.finishAndReleaseAll();
        }

        private final class FromClient extends ChannelInboundHandlerAdapter {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                relay.fromClient((ByteBuf) msg);
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                relay.clientReadComplete();
            }
        }
    }
}
