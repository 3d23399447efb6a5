package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.contract.SecretSealer;
import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.protocol.postgres.codec.ErrorResponse;
import dev.portcullis.gateway.protocol.postgres.codec.FrontendMessages;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocol;
import dev.portcullis.gateway.protocol.postgres.codec.RowDescription;
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

/**
 * The gateway's own connection to one target, for catalog lookups and for describing a query without running
 * it; never a client's connection. Opened on first use with the connection's stored credentials, one request
 * at a time, reopened after a failure or when the registered connection changes. Confined to its event loop.
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

    /** What came back for one request: its RowDescription (if any) and its rows as text. */
    record Response(RowDescription description, List<String[]> rows) {
    }

    private final BackendConnector connector;
    private final SecretSealer sealer;
    private final EventLoop loop;
    private final Duration timeout;
    private final ArrayDeque<Request> queue = new ArrayDeque<>();
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

    /** The columns a query would return, from Parse and Describe: the query is never executed. */
    CompletableFuture<RowDescription> describe(TargetConnection target, String sql) {
        return submit(target, alloc -> List.of(FrontendMessages.parse(alloc, sql),
                FrontendMessages.describe(alloc, 'S', ""), FrontendMessages.sync(alloc))).thenApply(Response::description);
    }

    private interface Messages {
        List<ByteBuf> build(io.netty.buffer.ByteBufAllocator alloc);
    }

    private CompletableFuture<Response> submit(TargetConnection newTarget, Messages messages) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        loop.execute(() -> {
            if (target != null && !sameEndpoint(target, newTarget)) {
                closeChannel("the registered connection changed");
            }
            target = newTarget;
            queue.add(new Request(messages.build(io.netty.buffer.ByteBufAllocator.DEFAULT), result));
            pump();
        });
        loop.schedule(() -> result.completeExceptionally(new CatalogException("the catalog lookup timed out after " + timeout)),
                timeout.toMillis(), TimeUnit.MILLISECONDS);
        return result;
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
        connector.connect(loop, target, password, Map.of("application_name", "portcullis-catalog"))
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
        private RowDescription description;
        private final List<String[]> rows = new ArrayList<>();
        private String error;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            try {
                switch (frame.getByte(frame.readerIndex())) {
                    case PgProtocol.ROW_DESCRIPTION -> description = RowDescription.decode(frame);
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
                    done.result().complete(new Response(description, List.copyOf(rows)));
                }
            }
            description = null;
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
