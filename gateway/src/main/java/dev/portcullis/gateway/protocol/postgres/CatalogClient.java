package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.contract.SecretSealer;
import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.protocol.postgres.codec.ErrorResponse;
import dev.portcullis.gateway.protocol.postgres.codec.FrontendMessages;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One of the gateway's own connections to a target, for catalog lookups (a result column's table and type by OID);
 * never a client's connection, and never a query of the client's (those are described on the client's own
 * connection). Opened on first use with the connection's stored credentials, one request at a time, reopened after a
 * failure or when the registered connection changes. A lookup never waits on a lock for long ({@code lock_timeout}),
 * and one that times out takes the connection down with it, so the lookups queued behind it go on with a fresh one
 * instead of waiting for it. Confined to its event loop.
 */
final class CatalogClient {
    /** A request the backend refused; the message is the backend's. */
    static final class CatalogException extends RuntimeException {
        CatalogException(String message) {
            super(message, null, false, false);
        }
    }

    private record Request(List<ByteBuf> messages, CompletableFuture<Response> result) {
    }

    /** What came back for one request: its rows as text. */
    record Response(List<String[]> rows) {
    }

    /** A lookup waits at most this long for a lock (on the catalog tables, held by some DDL) before it fails. */
    private static final String SETTINGS = "-c lock_timeout=1000 -c statement_timeout=5000";
    /** Lookups queued on one connection at most; more are refused at once rather than waiting for long. */
    static final int MAX_QUEUED = 256;

    private final BackendConnector connector;
    private final SecretSealer sealer;
    private final EventLoop loop;
    private final Duration timeout;
    private final ArrayDeque<Request> queue = new ArrayDeque<>();
    private final AtomicInteger pending = new AtomicInteger();
    private TargetConnection target;
    private Channel channel;
    private boolean connecting;
    private Request running;

    CatalogClient(BackendConnector connector, SecretSealer sealer, EventLoop loop, Duration timeout) {
        this.connector = connector;
        this.sealer = sealer;
        this.loop = loop;
        this.timeout = timeout;
    }

    /** A read-only catalog query; its rows in text format. */
    CompletableFuture<List<String[]>> query(TargetConnection target, String sql) {
        return submit(target, alloc -> List.of(FrontendMessages.query(alloc, sql))).thenApply(Response::rows);
    }

    /** Requests not answered yet: how busy this connection is (read from any thread). */
    int load() {
        return pending.get();
    }

    private interface Messages {
        List<ByteBuf> build(io.netty.buffer.ByteBufAllocator alloc);
    }

    private CompletableFuture<Response> submit(TargetConnection newTarget, Messages messages) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        pending.incrementAndGet();
        result.whenComplete((r, e) -> pending.decrementAndGet());
        loop.execute(() -> {
            if (target != null && !sameEndpoint(target, newTarget)) {
                closeChannel("the registered connection changed");
            }
            target = newTarget;
            if (queue.size() >= MAX_QUEUED) {
                result.completeExceptionally(new CatalogException("the catalog connection is busy (" + MAX_QUEUED + " lookups waiting)"));
                return;
            }
            Request request = new Request(messages.build(io.netty.buffer.ByteBufAllocator.DEFAULT), result);
            queue.add(request);
            pump();
            loop.schedule(() -> timedOut(request), timeout.toMillis(), TimeUnit.MILLISECONDS);
        });
        return result;
    }

    /** A lookup that took too long fails alone; if it is the one running, its connection goes and the rest go on. */
    private void timedOut(Request request) {
        if (request.result().isDone()) {
            return;
        }
        request.result().completeExceptionally(new CatalogException("the catalog lookup timed out after " + timeout));
        if (running == request) {
            running = null;
            if (channel != null) {
                Channel stuck = channel;
                channel = null;
                stuck.close();
            }
            pump();
        } else if (queue.remove(request)) {
            request.messages().forEach(ReferenceCountUtil::release);
        }
    }

    private void pump() {
        if (running != null || queue.isEmpty()) {
            return;
        }
        if (channel == null || !channel.isActive()) {
            if (!connecting) {
                open();
            }
            return;
        }
        running = queue.poll();
        for (ByteBuf m : running.messages()) {
            channel.write(m);
        }
        channel.flush();
    }

    private void open() {
        connecting = true;
        String password;
        try {
            password = target.sealedSecret() == null ? null : sealer.open(target.name(), target.sealedSecret());
        } catch (RuntimeException e) {
            connecting = false;
            failAll(new CatalogException("the connection's stored credentials cannot be decrypted"));
            return;
        }
        connector.connect(loop, target, password, Map.of("application_name", "portcullis-catalog", "options", SETTINGS))
                .whenComplete((link, err) -> loop.execute(() -> {
                    connecting = false;
                    if (err != null) {
                        failAll(new CatalogException("cannot open the catalog connection: "
                                + (err.getCause() != null ? err.getCause().getMessage() : err.getMessage())));
                        return;
                    }
                    link.parameterStatus().forEach(ReferenceCountUtil::release);
                    channel = link.channel();
                    channel.pipeline().addLast("catalog", new Responses());
                    pump();
                }));
    }

    private void failAll(Throwable cause) {
        if (running != null) {
            running.result().completeExceptionally(cause);
            running = null;
        }
        Request r;
        while ((r = queue.poll()) != null) {
            r.messages().forEach(ReferenceCountUtil::release);
            r.result().completeExceptionally(cause);
        }
    }

    private void closeChannel(String why) {
        if (channel != null) {
            channel.close();
            channel = null;
        }
        failAll(new CatalogException(why));
    }

    /** Collects the responses of the running request until its ReadyForQuery. */
    private final class Responses extends ChannelInboundHandlerAdapter {
        private final List<String[]> rows = new ArrayList<>();
        private String error;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            if (ctx.channel() != channel) {
                frame.release(); // a connection taken down after a timeout: what it still says is for nobody
                return;
            }
            try {
                switch (frame.getByte(frame.readerIndex())) {
                    case PgProtocol.DATA_ROW -> rows.add(textRow(frame));
                    case PgProtocol.ERROR_RESPONSE -> error = ErrorResponse.decode(frame).message();
                    case PgProtocol.READY_FOR_QUERY -> finish();
                    default -> {
                    }
                }
            } finally {
                frame.release();
            }
        }

        private void finish() {
            Request done = running;
            running = null;
            if (done != null) {
                if (error != null) {
                    done.result().completeExceptionally(new CatalogException(error));
                } else {
                    done.result().complete(new Response(List.copyOf(rows)));
                }
            }
            rows.clear();
            error = null;
            pump();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (channel == ctx.channel()) {
                channel = null;
                failAll(new CatalogException("the catalog connection closed"));
            }
            // else: a connection taken down after a timeout; its requests were already answered
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static String[] textRow(ByteBuf frame) {
        int pos = frame.readerIndex() + 5;
        int count = frame.getUnsignedShort(pos);
        pos += 2;
        String[] row = new String[count];
        for (int i = 0; i < count; i++) {
            int len = frame.getInt(pos);
            pos += 4;
            if (len >= 0) {
                row[i] = frame.toString(pos, len, StandardCharsets.UTF_8);
                pos += len;
            }
        }
        return row;
    }

    private static boolean sameEndpoint(TargetConnection a, TargetConnection b) {
        return a.host().equals(b.host()) && a.port() == b.port() && a.database().equals(b.database())
                && a.username().equals(b.username()) && a.tlsMode() == b.tlsMode()
                && java.util.Objects.equals(a.tlsCaPem(), b.tlsCaPem()) && Arrays.equals(a.sealedSecret(), b.sealedSecret());
    }
}
