package dev.portcullis.gateway.protocol.postgres;

import com.ongres.scram.client.ScramClient;
import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.protocol.postgres.codec.BackendMessages;
import dev.portcullis.gateway.protocol.postgres.codec.ErrorResponse;
import dev.portcullis.gateway.protocol.postgres.codec.FrontendMessages;
import dev.portcullis.gateway.protocol.postgres.codec.PgFrameDecoder;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocol;
import dev.portcullis.gateway.protocol.postgres.codec.PgStrings;
import dev.portcullis.gateway.protocol.postgres.codec.StartupMessage;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Opens and logs in a backend connection with the connection's stored credentials: optional TLS
 * ({@code disable}, {@code require}, {@code verify-full}), then startup and SCRAM-SHA-256, md5, cleartext or
 * trust authentication, until the backend's first ReadyForQuery. Runs on the client's event loop.
 */
final class BackendConnector {
    private static final Logger LOG = Logger.getLogger(BackendConnector.class);
    private final TlsContexts tls;
    private final int maxMessageBytes;
    private final Duration timeout;

    BackendConnector(TlsContexts tls, int maxMessageBytes, Duration timeout) {
        this.tls = tls;
        this.maxMessageBytes = maxMessageBytes;
        this.timeout = timeout;
    }

    /** A failure to open the backend: {@code clientMessage} is safe for the client; the cause is for the log. */
    static final class BackendLoginException extends RuntimeException {
        final String clientMessage;

        BackendLoginException(String clientMessage, String logDetail) {
            super(logDetail, null, false, false);
            this.clientMessage = clientMessage;
        }
    }

    CompletableFuture<BackendLink> connect(EventLoop loop, TargetConnection target, String password, Map<String, String> parameters) {
        CompletableFuture<BackendLink> result = new CompletableFuture<>();
        Map<String, String> startup = new java.util.LinkedHashMap<>(parameters);
        startup.put("user", target.username());
        startup.put("database", target.database());
        Login login = new Login(target, password, new StartupMessage(PgProtocol.PROTOCOL_3_0, startup), result);
        open(loop, target, login, result);
        var timer = loop.schedule(() -> result.completeExceptionally(new BackendLoginException(
                "timed out connecting to the backend", "no ReadyForQuery within " + timeout)), timeout.toMillis(), TimeUnit.MILLISECONDS);
        result.whenComplete((link, err) -> timer.cancel(false));
        return result;
    }

    /**
     * Sends a CancelRequest for the backend's key, over TLS when the connection uses TLS, and completes once PostgreSQL
     * has taken it: it closes the connection after signalling the backend, which is what libpq waits for too. Best
     * effort, like PostgreSQL's: completes (never exceptionally) after the connect timeout at the latest.
     */
    CompletableFuture<Void> cancel(EventLoop loop, TargetConnection target, int processId, int secretKey) {
        CompletableFuture<Void> taken = new CompletableFuture<>();
        ChannelFuture connect = open(loop, target, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                ctx.writeAndFlush(FrontendMessages.cancelRequest(ctx.alloc(), processId, secretKey));
            }
        }, taken);
        connect.channel().closeFuture().addListener(f -> taken.complete(null));
        var timer = loop.schedule(() -> taken.completeExceptionally(new BackendLoginException("timed out cancelling",
                "PostgreSQL did not take the CancelRequest within " + timeout)), timeout.toMillis(), TimeUnit.MILLISECONDS);
        return taken.handle((v, failure) -> {
            timer.cancel(false);
            if (failure != null) {
                LOG.warnf("cancelling the statement of backend %d on %s:%d failed: %s", processId, target.host(), target.port(),
                        failure.getMessage());
            }
            return null;
        });
    }

    private ChannelFuture open(EventLoop loop, TargetConnection target, ChannelInboundHandlerAdapter afterTls, CompletableFuture<?> result) {
        Bootstrap b = new Bootstrap().group(loop).channel(Transports.socketChannel(loop))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeout.toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (target.tlsMode() == TargetConnection.TlsMode.DISABLE) {
                            ch.pipeline().addLast("frames", new PgFrameDecoder(maxMessageBytes, false)).addLast("handler", afterTls);
                        } else {
                            ch.pipeline().addLast("tls-negotiation", new TlsNegotiation(target, afterTls, result));
                        }
                    }
                });
        ChannelFuture connect = b.connect(target.host(), target.port());
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new BackendLoginException("cannot reach the backend",
                        "connect to " + target.host() + ":" + target.port() + " failed: " + f.cause()));
            }
        });
        result.whenComplete((v, err) -> {
            if (err != null) {
                connect.channel().close();
            }
        });
        return connect;
    }

    /** SSLRequest, then a single 'S' or 'N' byte; on 'S' the TLS handshake, then the real handler. */
    private final class TlsNegotiation extends ChannelInboundHandlerAdapter {
        private final TargetConnection target;
        private final ChannelInboundHandlerAdapter afterTls;
        private final CompletableFuture<?> result;

        TlsNegotiation(TargetConnection target, ChannelInboundHandlerAdapter afterTls, CompletableFuture<?> result) {
            this.target = target;
            this.afterTls = afterTls;
            this.result = result;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(FrontendMessages.sslRequest(ctx.alloc()));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                if (in.readableBytes() != 1 || in.getByte(in.readerIndex()) != 'S') {
                    // More than one byte would mean data injected ahead of the handshake (CVE-2021-23222).
                    result.completeExceptionally(new BackendLoginException("the backend does not accept TLS",
                            "backend answered the SSLRequest with " + in.readableBytes() + " byte(s), not 'S'"));
                    ctx.close();
                    return;
                }
                SslHandler ssl = tls.backend(target).newHandler(ctx.alloc(), target.host(), target.port());
                ctx.pipeline().replace(this, "tls", ssl);
                ssl.handshakeFuture().addListener(f -> {
                    if (f.isSuccess()) {
                        ctx.pipeline().addLast("frames", new PgFrameDecoder(maxMessageBytes, false)).addLast("handler", afterTls);
                        afterTls.channelActive(ctx.pipeline().context(afterTls));
                    } else {
                        result.completeExceptionally(new BackendLoginException("TLS to the backend failed",
                                "TLS handshake with " + target.host() + " failed: " + f.cause()));
                    }
                });
            } finally {
                in.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(new BackendLoginException("TLS to the backend failed", String.valueOf(cause)));
            ctx.close();
        }
    }

    /** Startup and authentication with the stored credentials, until the first ReadyForQuery. */
    private final class Login extends ChannelInboundHandlerAdapter {
        private final TargetConnection target;
        private final String password;
        private final StartupMessage startup;
        private final CompletableFuture<BackendLink> result;
        private final List<ByteBuf> parameterStatus = new ArrayList<>();
        private ScramClient scram;
        private int processId;
        private int secretKey;

        Login(TargetConnection target, String password, StartupMessage startup, CompletableFuture<BackendLink> result) {
            this.target = target;
            this.password = password;
            this.startup = startup;
            this.result = result;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(startup.encode(ctx.alloc()));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            boolean keep = false;
            try {
                if (result.isDone()) {
                    return;
                }
                byte type = frame.getByte(frame.readerIndex());
                switch (type) {
                    case PgProtocol.AUTHENTICATION -> authenticate(ctx, frame);
                    case PgProtocol.PARAMETER_STATUS -> {
                        parameterStatus.add(frame);
                        keep = true;
                    }
                    case PgProtocol.BACKEND_KEY_DATA -> {
                        processId = frame.getInt(frame.readerIndex() + 5);
                        secretKey = frame.getInt(frame.readerIndex() + 9);
                    }
                    case PgProtocol.READY_FOR_QUERY -> {
                        ctx.pipeline().remove(this);
                        result.complete(new BackendLink(ctx.channel(), List.copyOf(parameterStatus), processId, secretKey,
                                frame.getByte(frame.readerIndex() + 5)));
                    }
                    case PgProtocol.ERROR_RESPONSE -> {
                        ErrorResponse e = ErrorResponse.decode(frame);
                        fail(ctx, "the backend refused the login (SQLSTATE " + e.sqlState() + ")",
                                "backend error during login: " + e.sqlState() + " " + e.message());
                    }
                    case PgProtocol.NOTICE_RESPONSE, PgProtocol.NEGOTIATE_PROTOCOL_VERSION -> {
                    }
                    default -> fail(ctx, "the backend broke the protocol during login",
                            "unexpected message " + PgProtocol.describeType(type) + " during login");
                }
            } catch (BackendLoginException e) {
                fail(ctx, e.clientMessage, e.getMessage());
            } catch (RuntimeException e) {
                fail(ctx, "the backend login failed", String.valueOf(e));
            } finally {
                if (!keep) {
                    ReferenceCountUtil.release(frame);
                }
            }
        }

        private void authenticate(ChannelHandlerContext ctx, ByteBuf frame) {
            int code = BackendMessages.authenticationCode(frame);
            switch (code) {
                case PgProtocol.AUTH_OK -> {
                }
                case PgProtocol.AUTH_CLEARTEXT -> ctx.writeAndFlush(FrontendMessages.password(ctx.alloc(), requirePassword()));
                case PgProtocol.AUTH_MD5 -> {
                    byte[] salt = new byte[4];
                    frame.getBytes(frame.readerIndex() + 9, salt);
                    ctx.writeAndFlush(FrontendMessages.password(ctx.alloc(), md5(requirePassword(), target.username(), salt)));
                }
                case PgProtocol.AUTH_SASL -> {
                    List<String> mechanisms = saslMechanisms(frame);
                    if (!mechanisms.contains("SCRAM-SHA-256")) {
                        throw new BackendLoginException("the backend offers no supported SASL mechanism", "mechanisms " + mechanisms);
                    }
                    scram = ScramClient.builder().advertisedMechanisms(List.of("SCRAM-SHA-256"))
                            .username("*").password(requirePassword().toCharArray()).build();
                    ctx.writeAndFlush(FrontendMessages.saslInitialResponse(ctx.alloc(), "SCRAM-SHA-256",
                            scram.clientFirstMessage().toString()));
                }
                case PgProtocol.AUTH_SASL_CONTINUE -> {
                    requireScram();
                    try {
                        scram.serverFirstMessage(saslData(frame));
                    } catch (Exception e) {
                        throw new BackendLoginException("the backend sent an invalid SCRAM message", String.valueOf(e));
                    }
                    ctx.writeAndFlush(FrontendMessages.saslResponse(ctx.alloc(), scram.clientFinalMessage().toString()));
                }
                case PgProtocol.AUTH_SASL_FINAL -> {
                    requireScram();
                    try {
                        scram.serverFinalMessage(saslData(frame));
                    } catch (Exception e) {
                        throw new BackendLoginException("the backend failed to prove it knows the password (SCRAM server signature)",
                                String.valueOf(e));
                    }
                }
                default -> throw new BackendLoginException("the backend asks for an authentication method the gateway does not support",
                        "authentication code " + code);
            }
        }

        private String requirePassword() {
            if (password == null) {
                throw new BackendLoginException("the backend asks for a password but the connection has none stored",
                        "no stored secret for " + target.name());
            }
            return password;
        }

        private void requireScram() {
            if (scram == null) {
                throw new BackendLoginException("the backend broke the SCRAM exchange", "SASL continue without a SASL start");
            }
        }

        private void fail(ChannelHandlerContext ctx, String clientMessage, String logDetail) {
            result.completeExceptionally(new BackendLoginException(clientMessage, logDetail));
            parameterStatus.forEach(ReferenceCountUtil::release);
            parameterStatus.clear();
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!result.isDone()) {
                fail(ctx, "the backend closed the connection during login", "backend closed during login");
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx, "the backend login failed", String.valueOf(cause));
        }
    }

    private static List<String> saslMechanisms(ByteBuf frame) {
        ByteBuf buf = frame.duplicate();
        buf.skipBytes(9);
        List<String> mechanisms = new ArrayList<>();
        while (buf.isReadable()) {
            String m = PgStrings.read(buf);
            if (m.isEmpty()) {
                break;
            }
            mechanisms.add(m);
        }
        return mechanisms;
    }

    private static String saslData(ByteBuf frame) {
        return frame.toString(frame.readerIndex() + 9, frame.readableBytes() - 9, StandardCharsets.UTF_8);
    }

    static String md5(String password, String user, byte[] salt) {
        try {
            MessageDigest md = MessageDigest.getInstance("MD5");
            md.update(password.getBytes(StandardCharsets.UTF_8));
            md.update(user.getBytes(StandardCharsets.UTF_8));
            byte[] inner = HexFormat.of().formatHex(md.digest()).getBytes(StandardCharsets.US_ASCII);
            md.update(inner);
            md.update(salt);
            return "md5" + HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
