package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.protocol.postgres.codec.FrameBudget;
import dev.portcullis.gateway.protocol.postgres.codec.PgFrameDecoder;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocol;
import dev.portcullis.gateway.protocol.postgres.sql.AnalysisCache;
import dev.portcullis.gateway.session.Session;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.Executor;

/**
 * The relay of a logged-in session, wired in one place for the gateway and for its tests and benchmarks alike:
 * the frame decoders on both channels, the {@link RequestGate} (client to backend), the {@link ResultRelay} (backend
 * to client, when results are masked), the {@link ExtendedProtocol} tracker they share, the
 * {@link ResponseSequencer} and the {@link Flow} that owns backpressure. Confined to the client channel's event
 * loop, which the backend channel shares.
 */
final class Relay {
    /** Only ReadyForQuery and ErrorResponse matter to the sequencer; everything else travels in runs. */
    static final PgFrameDecoder.RunFilter BACKEND_RUNS =
            type -> type != PgProtocol.READY_FOR_QUERY && type != PgProtocol.ERROR_RESPONSE;

    /** The backend's real process id, and the one the client was given instead (its cancel key's). */
    record Pids(int backend, int client) {
    }

    /** What the connection that owns the relay hears of the backend's channel. */
    interface Owner {
        /** The backend closed its connection. */
        void backendClosed();

        /** Reading from the backend failed (a broken message, a connection error). */
        void backendFailed(Throwable cause);

        /** The client sent Terminate: the session ends as the client asked. */
        void clientTerminated();
    }

    private final ChannelHandlerContext client;
    private final Channel backend;
    private final Flow flow;
    private final ResponseSequencer sequencer;
    private final RequestGate gate;
    /** Null when results are relayed as they are (pass-through mode). */
    private final ResultRelay results;
    private long lastActivityNanos = System.nanoTime();

    private Relay(Session session, ChannelHandlerContext client, Channel backend, byte transactionStatus, AnalysisCache sql,
            Executor analysisPool, MaskPlanner masks, Pids pids, java.time.Duration noticeEvery, Owner owner) {
        this.client = client;
        this.backend = backend;
        this.flow = new Flow(client.channel(), backend);
        this.sequencer = new ResponseSequencer(transactionStatus);
        ExtendedProtocol protocol = new ExtendedProtocol(backend, sql);
        this.results = session.enforced() && masks != null ? new ResultRelay(masks, session, client, protocol, sequencer, flow,
                pids.backend(), pids.client()) : null;
        this.gate = new RequestGate(session, client, backend, sql, analysisPool, protocol, sequencer, flow, results,
                owner::clientTerminated, noticeEvery);
    }

    /**
     * Wires the relay between a client whose handler context is {@code client} and a logged-in backend channel:
     * replaces both channels' frame decoders with the relay's and puts the relay's handler at the end of the
     * backend's pipeline. The client's handler hands its frames to {@link #fromClient}. Results are masked and
     * recorded when the session is enforced and a {@code masks} planner is given (benchmarks of the bare relay give
     * none). Large client messages count against {@code budget} when one is given.
     */
    static Relay wire(Session session, ChannelHandlerContext client, Channel backend, byte transactionStatus, AnalysisCache sql,
            Executor analysisPool, MaskPlanner masks, Pids pids, int maxMessageBytes, FrameBudget budget, java.time.Duration noticeEvery,
            Owner owner) {
        Relay relay = new Relay(session, client, backend, transactionStatus, sql, analysisPool, masks, pids, noticeEvery, owner);
        backend.pipeline().replace("frames", "frames", new PgFrameDecoder(maxMessageBytes, false, BACKEND_RUNS));
        backend.pipeline().addLast("relay", relay.new FromBackend(owner));
        Flow flow = relay.flow;
        client.pipeline().replace("frames", "frames", budget == null ? new PgFrameDecoder(maxMessageBytes, true)
                : new PgFrameDecoder(maxMessageBytes, budget, new PgFrameDecoder.ReadHold() {
                    @Override
                    public void hold() {
                        flow.hold(Flow.ClientHold.MEMORY);
                    }

                    @Override
                    public void release() {
                        flow.release(Flow.ClientHold.MEMORY);
                    }
                }));
        return relay;
    }

    /** A client frame, in order. */
    void fromClient(ByteBuf frame) {
        lastActivityNanos = System.nanoTime();
        gate.fromClient(frame);
    }

    /** The client's read batch is done: what it sent goes to the backend in one flush. */
    void clientReadComplete() {
        backend.flush();
    }

    void clientWritabilityChanged() {
        flow.clientWritability();
    }

    /** The client cancelled: a request held for approval is withdrawn. @return whether there was one */
    boolean withdrawHeld() {
        return gate.withdrawHeld();
    }

    /** When either side last sent something. */
    long lastActivityNanos() {
        return lastActivityNanos;
    }

    /** Stops relaying: nothing more is read, held frames are released. */
    void close() {
        flow.stop();
        gate.close();
        if (results != null) {
            results.close();
        }
    }

    /** Relays the backend's frames to the client, flushing once per read batch. */
    private final class FromBackend extends ChannelInboundHandlerAdapter {
        private final Owner owner;

        FromBackend(Owner owner) {
            this.owner = owner;
        }

        @Override
        public void channelRead(ChannelHandlerContext bctx, Object msg) {
            lastActivityNanos = System.nanoTime();
            if (results != null) {
                results.fromBackend((ByteBuf) msg);
            } else {
                sequencer.relay(client, (ByteBuf) msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext bctx) {
            client.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext bctx) {
            flow.backendWritability();
            bctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext bctx) {
            owner.backendClosed();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext bctx, Throwable cause) {
            owner.backendFailed(cause);
        }
    }
}
