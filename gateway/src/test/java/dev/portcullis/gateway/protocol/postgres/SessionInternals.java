package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.policy.Decision;
import dev.portcullis.gateway.policy.DecisionInput;
import dev.portcullis.gateway.policy.PolicyDecider;
import dev.portcullis.gateway.sql.AnalysisCache;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.time.Duration;

/**
 * The package-private parts of a PostgreSQL session, opened to the JMH benchmarks in {@code dev.portcullis.gateway.bench}
 * (test code: main code keeps its visibility). Everything here calls the real classes; nothing is reimplemented.
 */
public final class SessionInternals {
    private SessionInternals() {
    }

    /** What {@link PgRequests} makes of a query text: the session memo's key and the shared cache's input. */
    public record Request(Object memoKey, DecisionInput input, boolean memoizable) {
    }

    /** A Query's text as a session turns it into its policy request (analysis included). */
    public static Request query(AnalysisCache sql, DecisionInput.SessionContext context, String text) {
        PgRequests.Pending pending = new PgRequests(sql, context).sql(PgProtocol.QUERY, text);
        return new Request(pending.request(), pending.input(), pending.memoizable());
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
            memo.put(request, decision);
        }
    }

    /**
     * The relay of a logged-in session as {@code ClientSession.onBackendReady} sets it up, between two
     * EmbeddedChannels: the frame decoders it installs on both sides, and a {@link RequestGate} with enforcement
     * (decisions from the given decider), without masking and without recording. The handlers at the end of each
     * pipeline do what ClientSession's do per frame and per read: note the activity time, hand the frame to the gate,
     * flush the other side when the read is done.
     */
    public static final class Relay implements AutoCloseable {
        private final EmbeddedChannel client = new EmbeddedChannel();
        private final EmbeddedChannel backend = new EmbeddedChannel();
        private final RequestGate gate;
        private final ChannelHandlerContext clientContext;
        private long lastActivityNanos;

        public Relay(PolicyDecider policy, AnalysisCache sql, DecisionInput.SessionContext context, String sessionId,
                ByteBufAllocator alloc, int maxMessageBytes) {
            client.config().setAllocator(alloc);
            backend.config().setAllocator(alloc);
            client.pipeline().addLast("frames", new PgFrameDecoder(maxMessageBytes, true)).addLast("session", new FromClient());
            backend.pipeline().addLast("frames", new PgFrameDecoder(maxMessageBytes, false, ClientSession.BACKEND_RUNS))
                    .addLast("relay", new FromBackend());
            SessionDependencies deps = new SessionDependencies(null, null, null, null, null, policy, sql, Runnable::run,
                    null, null, null, null, "bench");
            clientContext = client.pipeline().context("session");
            gate = new RequestGate(deps, sessionId, clientContext, backend,
                    new PgRequests(sql, context), (byte) 'I', () -> { }, null, sequencer -> null);
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
            gate.close();
            drain(client, null);
            drain(backend, null);
            client.finishAndReleaseAll();
            backend.finishAndReleaseAll();
        }

        private final class FromClient extends ChannelInboundHandlerAdapter {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                lastActivityNanos = System.nanoTime();
                gate.fromClient((ByteBuf) msg);
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                backend.flush();
            }
        }

        private final class FromBackend extends ChannelInboundHandlerAdapter {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                lastActivityNanos = System.nanoTime();
                gate.fromBackend((ByteBuf) msg);
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                clientContext.flush();
            }
        }
    }
}
