package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.contract.SecretSealer;
import dev.portcullis.gateway.protocol.postgres.codec.BackendMessages;
import dev.portcullis.gateway.protocol.postgres.codec.ErrorResponse;
import dev.portcullis.gateway.protocol.postgres.codec.FrontendMessages;
import dev.portcullis.gateway.protocol.postgres.codec.PgFrameDecoder;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocol;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocolException;
import dev.portcullis.gateway.protocol.postgres.codec.StartupFrameDecoder;
import dev.portcullis.gateway.protocol.postgres.codec.StartupMessage;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.SessionRefused;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * One PostgreSQL client connection, through named phases in order: startup (TLS, protocol version) → authenticate
 * (the access token as password; the spine opens the {@link Session}) → connect (the backend login with the
 * connection's credentials) → ready (the backend's parameters, the gateway's cancel key) → relay ({@link Relay}).
 * Every refusal reaches the client as a PostgreSQL ErrorResponse. All state is confined to the client channel's
 * event loop, which the backend channel shares.
 */
final class ClientSession extends ChannelInboundHandlerAdapter implements Relay.Owner {
    private static final Logger LOG = Logger.getLogger(ClientSession.class);
    /** An access token fits in far less; the full message limit applies from relay on. */
    private static final int MAX_AUTH_MESSAGE = 64 * 1024;
    /** Session parameters passed to the backend. Anything else (options, role, ...) could change who runs the queries. */
    private static final Set<String> FORWARDED_PARAMETERS = Set.of("application_name", "client_encoding", "DateStyle",
            "TimeZone", "IntervalStyle", "extra_float_digits", "search_path", "datestyle", "timezone", "intervalstyle");
    static final String SESSION_ID_PARAMETER = "portcullis.session_id";
    static final String PROTOCOL = "postgres";

    private enum Phase { STARTUP, AWAIT_PASSWORD, CONNECTING, RELAY, CLOSED }

    /** Why a session ended, as the recording says; the first reason given wins. */
    private static final String END_CLIENT_TERMINATE = "client_terminate";
    private static final String END_CLIENT_DISCONNECT = "client_disconnect";
    private static final String END_IDLE = "idle_timeout";
    private static final String END_BACKEND_CLOSED = "backend_closed";
    private static final String END_CONNECT_FAILED = "connect_failed";
    private static final String END_ERROR = "error";
    private static final String END_TOO_MANY_CONNECTIONS = "too_many_connections";

    private final PgDependencies deps;
    private Phase phase = Phase.STARTUP;
    private ChannelHandlerContext ctx;
    private StartupMessage startup;
    private Session session;
    private Channel backend;
    private BackendLink link;
    private CancelKeys.Key cancelKey;
    private Relay relay;
    private String endReason;
    /** The session is being ended from outside: what the backend runs is cancelled before its connection closes. */
    private boolean cancelBackendWork;
    private ScheduledFuture<?> idleCheck;
    /** Ends the connection unless it is relaying by then: a deadline from accept, not an idle timer a trickle resets. */
    private ScheduledFuture<?> startupDeadline;
    /** What this connection counts against in the {@link ConnectionLimits}, until it closes (null: nothing). */
    private String countedSource;
    private String countedIdentity;
    private boolean overSourceLimit;

    ClientSession(PgDependencies deps) {
        this.deps = deps;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        startupDeadline = ctx.executor().schedule(() -> fatal(PgProtocol.PROTOCOL_VIOLATION,
                "the session did not finish startup and authentication within " + PgProtocol.plain(deps.config().startupTimeout())),
                deps.config().startupTimeout().toNanos(), TimeUnit.NANOSECONDS);
        String source = sourceIp();
        if (source != null) {
            if (deps.limits().admitSource(source)) {
                countedSource = source;
            } else {
                overSourceLimit = true; // told so once it sends its startup message, as PostgreSQL does
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        switch (phase) {
            case RELAY -> relay.fromClient(buf);
            case STARTUP -> {
                try {
                    onStartupPacket(buf);
                } finally {
                    buf.release();
                }
            }
            case AWAIT_PASSWORD -> {
                try {
                    onPassword(buf);
                } finally {
                    buf.release();
                }
            }
            case CONNECTING -> {
                buf.release();
                fatal(PgProtocol.PROTOCOL_VIOLATION, "unexpected message while the session is being set up");
            }
            case CLOSED -> buf.release();
        }
    }

    // ---- startup -------------------------------------------------------------------------------------------

    private void onStartupPacket(ByteBuf packet) {
        int code = packet.getInt(packet.readerIndex() + 4);
        switch (code) {
            case PgProtocol.SSL_REQUEST -> {
                StartupFrameDecoder decoder = (StartupFrameDecoder) ctx.pipeline().get("startup");
                if (ctx.pipeline().get(SslHandler.class) != null) {
                    fatal(PgProtocol.PROTOCOL_VIOLATION, "SSLRequest received twice");
                } else if (decoder.hasPendingBytes()) {
                    fatal(PgProtocol.PROTOCOL_VIOLATION, "data received after SSLRequest before the TLS handshake");
                } else {
                    ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('S'));
                    ctx.pipeline().addFirst("tls", deps.tls().server().newHandler(ctx.alloc()));
                }
            }
            case PgProtocol.GSSENC_REQUEST -> ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'));
            case PgProtocol.CANCEL_REQUEST -> {
                if (packet.readableBytes() == 16) {
                    deps.cancelKeys().find(packet.getInt(packet.readerIndex() + 8), packet.getInt(packet.readerIndex() + 12))
                            .ifPresent(Session::cancel);
                }
                close();
            }
            default -> onStartupMessage(StartupMessage.decode(packet));
        }
    }

    private void onStartupMessage(StartupMessage message) {
        if (message.majorVersion() != 3) {
            fatal(PgProtocol.FEATURE_NOT_SUPPORTED, "unsupported frontend protocol " + message.majorVersion() + "."
                    + message.minorVersion() + ": Portcullis speaks protocol 3.0");
            return;
        }
        if (overSourceLimit) {
            fatal(PgProtocol.TOO_MANY_CONNECTIONS, "too many connections from " + sourceIp() + ": at most "
                    + deps.limits().perSource() + " at once from one address", "close some of this address's other connections");
            return;
        }
        List<String> unsupportedOptions = message.parameters().keySet().stream().filter(k -> k.startsWith("_pq_.")).toList();
        if (message.minorVersion() > 0 || !unsupportedOptions.isEmpty()) {
            ctx.write(BackendMessages.negotiateProtocolVersion(ctx.alloc(), 0, unsupportedOptions));
        }
        if (message.user() == null || message.user().isEmpty()) {
            fatal(PgProtocol.INVALID_AUTHORIZATION, "no user name given in the startup message");
            return;
        }
        if (message.parameters().containsKey("replication")) {
            fatal(PgProtocol.FEATURE_NOT_SUPPORTED, "replication connections are not supported through Portcullis");
            return;
        }
        if (ctx.pipeline().get(SslHandler.class) == null && !plaintextAllowed()) {
            fatal(PgProtocol.INVALID_AUTHORIZATION, "Portcullis requires TLS: the access token is only accepted over an encrypted connection",
                    "connect with sslmode=require (or verify-full)");
            return;
        }
        startup = message;
        phase = Phase.AWAIT_PASSWORD;
        // What came behind the startup message goes through the new decoder, never around it as raw bytes.
        ByteBuf pending = ((StartupFrameDecoder) ctx.pipeline().get("startup")).takePending();
        ctx.pipeline().replace("startup", "frames", new PgFrameDecoder(MAX_AUTH_MESSAGE, true));
        ctx.writeAndFlush(BackendMessages.authentication(ctx.alloc(), PgProtocol.AUTH_CLEARTEXT));
        if (pending != null) {
            ChannelHandlerContext tls = ctx.pipeline().context("tls");
            if (tls != null) {
                tls.fireChannelRead(pending);
            } else {
                ctx.pipeline().fireChannelRead(pending);
            }
        }
    }

    private String sourceIp() {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : null;
    }

    private boolean plaintextAllowed() {
        return deps.config().allowPlaintextOnLoopback()
                && ctx.channel().remoteAddress() instanceof InetSocketAddress a && a.getAddress().isLoopbackAddress();
    }

    // ---- authenticate → connect → ready -------------------------------------------------------------------

    private void onPassword(ByteBuf frame) {
        if (frame.getByte(frame.readerIndex()) != PgProtocol.PASSWORD) {
            fatal(PgProtocol.PROTOCOL_VIOLATION, "expected a password message, got " + PgProtocol.describeType(frame.getByte(frame.readerIndex())));
            return;
        }
        String token = FrontendMessages.password(frame);
        phase = Phase.CONNECTING;
        deps.sessions().open(token, startup.user(), startup.database(), PROTOCOL, sourceIp(), ctx.executor()).whenComplete((opened, refused) ->
                ctx.executor().execute(() -> {
                    if (refused != null) {
                        onRefused(unwrap(refused));
                    } else {
                        connect(opened);
                    }
                }));
    }

    private void connect(Session opened) {
        session = opened;
        if (phase == Phase.CLOSED) {
            session.end(endReason != null ? endReason : END_CLIENT_DISCONNECT);
            return;
        }
        String name = session.identity().name();
        if (!deps.limits().admitIdentity(name)) {
            LOG.infof("session %s: %s already holds %d sessions: refused", session.id(), name, deps.limits().perIdentity());
            endReason(END_TOO_MANY_CONNECTIONS);
            fatal(PgProtocol.TOO_MANY_CONNECTIONS, "too many connections for " + name + ": at most " + deps.limits().perIdentity()
                    + " sessions at once per identity", "close some of your other sessions");
            return;
        }
        countedIdentity = name;
        String password;
        try {
            password = session.unsealSecret();
        } catch (SecretSealer.SealedSecretException e) {
            LOG.errorf("session %s: %s", session.id(), e.getMessage());
            endReason(END_CONNECT_FAILED);
            fatal(PgProtocol.CONNECTION_FAILURE, "Portcullis could not open connection \"" + session.connection().name()
                    + "\": its stored credentials cannot be decrypted", "ask an administrator to set the connection's password again");
            return;
        }
        deps.backends().connect(ctx.channel().eventLoop(), session.connection(), password, forwardedParameters())
                .whenComplete((backendLink, failure) -> ctx.executor().execute(() -> {
                    if (failure == null) {
                        onBackendReady(backendLink);
                    } else if (unwrap(failure) instanceof BackendConnector.BackendLoginException login) {
                        LOG.warnf("session %s: backend login for connection %s failed: %s", session.id(), session.connection().name(),
                                login.getMessage());
                        endReason(END_CONNECT_FAILED);
                        fatal(PgProtocol.CONNECTION_FAILURE, "Portcullis could not open connection \"" + session.connection().name()
                                + "\": " + login.clientMessage, "ask an administrator to check the connection's address and stored credentials");
                    } else {
                        LOG.errorf(failure, "session %s: connecting the backend failed", session.id());
                        endReason(END_CONNECT_FAILED);
                        fatal(PgProtocol.CONNECTION_FAILURE, "Portcullis could not set up the session (internal error); try again later");
                    }
                }));
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    private Map<String, String> forwardedParameters() {
        Map<String, String> params = new LinkedHashMap<>();
        startup.parameters().forEach((k, v) -> {
            if (FORWARDED_PARAMETERS.contains(k)) {
                params.put(k, v);
            }
        });
        return params;
    }

    /** A refused session, in PostgreSQL's terms. */
    private void onRefused(Throwable failure) {
        if (!(failure instanceof SessionRefused refused)) {
            LOG.errorf(failure, "session setup failed");
            fatal(PgProtocol.CONNECTION_FAILURE, "Portcullis could not set up the session (internal error); try again later");
            return;
        }
        String sqlState = switch (refused.reason()) {
            case AUTHENTICATION -> PgProtocol.INVALID_PASSWORD;
            case UNKNOWN_CONNECTION, WRONG_PROTOCOL -> PgProtocol.INVALID_CATALOG_NAME;
            case DENIED, WRONG_USER -> PgProtocol.INVALID_AUTHORIZATION;
            case CREDENTIALS, UNAVAILABLE -> PgProtocol.CONNECTION_FAILURE;
        };
        String hint = refused.reason() == SessionRefused.Reason.UNKNOWN_CONNECTION
                ? "dbname names a registered connection; ask an administrator which ones you may use" : refused.hint();
        fatal(sqlState, refused.getMessage(), hint);
    }

    private void onBackendReady(BackendLink backendLink) {
        if (phase == Phase.CLOSED) {
            backendLink.parameterStatus().forEach(ReferenceCountUtil::release);
            backendLink.channel().close();
            return;
        }
        this.link = backendLink;
        this.backend = backendLink.channel();
        deps.connections().add(backend); // the drain waits for it to be stopped too
        this.cancelKey = deps.cancelKeys().issue(session);
        this.relay = Relay.wire(session, ctx, backend, backendLink.transactionStatus(), deps.sql(), deps.analysisPool(), deps.masks(),
                new Relay.Pids(backendLink.processId(), cancelKey.processId()), deps.config().maxMessageBytes(),
                deps.frameBudget(), deps.noticeEvery(), this);
        session.attach(new Session.Control() {
            @Override
            public void kill(String reason, String message) {
                stop(reason, PgProtocol.ADMIN_SHUTDOWN, message);
            }

            @Override
            public void cancel() {
                ctx.executor().execute(() -> {
                    if (phase == Phase.RELAY && !relay.withdrawHeld()) {
                        deps.backends().cancel(ctx.channel().eventLoop(), session.connection(), link.processId(), link.secretKey());
                    }
                });
            }
        });
        startupDeadline.cancel(false);
        watchIdle();

        ctx.write(BackendMessages.authentication(ctx.alloc(), PgProtocol.AUTH_OK));
        for (ByteBuf status : backendLink.parameterStatus()) {
            ctx.write(status);
        }
        ctx.write(BackendMessages.parameterStatus(ctx.alloc(), SESSION_ID_PARAMETER, session.id()));
        ctx.write(BackendMessages.backendKeyData(ctx.alloc(), cancelKey.processId(), cancelKey.secret()));
        ctx.writeAndFlush(BackendMessages.readyForQuery(ctx.alloc(), backendLink.transactionStatus()));
        phase = Phase.RELAY;
    }

    // ---- relay ---------------------------------------------------------------------------------------------

    /**
     * Ends the session after the idle timeout without traffic either way. A coarse periodic check rather than
     * an IdleStateHandler, which would allocate a promise and a listener for every relayed message.
     */
    private void watchIdle() {
        long timeout = deps.config().idleTimeout().toNanos();
        long period = Math.max(TimeUnit.SECONDS.toNanos(1), Math.min(timeout / 4, TimeUnit.MINUTES.toNanos(1)));
        idleCheck = ctx.executor().scheduleAtFixedRate(() -> {
            if (System.nanoTime() - relay.lastActivityNanos() > timeout) {
                stop(END_IDLE, PgProtocol.IDLE_SESSION_TIMEOUT, "terminating connection: the session was idle for longer than "
                        + PgProtocol.plain(deps.config().idleTimeout()));
            }
        }, period, period, TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (relay != null) {
            relay.clientReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (relay != null && phase == Phase.RELAY) {
            relay.clientWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void backendClosed() {
        if (phase == Phase.RELAY) {
            endReason(END_BACKEND_CLOSED);
            ctx.flush();
            close();
        }
    }

    @Override
    public void backendFailed(Throwable cause) {
        if (cause instanceof PgProtocolException) {
            LOG.warnf("session %s: backend broke the protocol: %s", session.id(), cause.getMessage());
            endReason(END_ERROR);
            fatal(PgProtocol.CONNECTION_FAILURE, "the backend sent an invalid message; the session was closed");
        } else if (cause instanceof IOException || cause.getCause() instanceof javax.net.ssl.SSLException) {
            LOG.debugf(cause, "session %s: backend connection error", session.id());
            close();
        } else {
            LOG.errorf(cause, "session %s: unexpected error relaying the backend's responses", session.id());
            endReason(END_ERROR);
            fatal(PgProtocol.INTERNAL_ERROR, "internal gateway error; the session was closed");
        }
    }

    @Override
    public void clientTerminated() {
        endReason(END_CLIENT_TERMINATE);
        close();
    }

    // ---- endings -------------------------------------------------------------------------------------------

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        String id = session == null ? "(not open)" : session.id();
        if (cause instanceof PgProtocolException) {
            LOG.infof("session %s: client broke the protocol: %s", id, cause.getMessage());
            endReason(END_ERROR);
            fatal(PgProtocol.PROTOCOL_VIOLATION, "invalid message from the client: " + cause.getMessage());
        } else if (cause instanceof IOException || cause.getCause() instanceof javax.net.ssl.SSLException) {
            LOG.debugf("session %s: connection error: %s", id, cause.getMessage());
            close();
        } else {
            LOG.errorf(cause, "session %s: unexpected error", id);
            endReason(END_ERROR);
            fatal(PgProtocol.INTERNAL_ERROR, "internal gateway error; the session was closed");
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        endReason(END_CLIENT_DISCONNECT);
        close();
    }

    /**
     * Ends the session from outside (a kill, the idle timeout, a shutdown): the client gets a FATAL error, and the
     * backend a CancelRequest before its connection closes, so a running statement stops at once and an open
     * transaction is rolled back rather than left to commit whatever was already sent.
     */
    private void stop(String reason, String sqlState, String message) {
        if (phase == Phase.CLOSED) {
            return;
        }
        endReason(reason);
        cancelBackendWork = true;
        closeBackend(); // now, not once the client has read its error: a client that stops reading must not delay it
        fatal(sqlState, message);
    }

    /** The gateway shuts down: the session ends as a kill would end it; a connection still starting up is told why. */
    void shutdown(String message) {
        if (phase == Phase.RELAY) {
            stop(Session.END_SHUTDOWN, PgProtocol.ADMIN_SHUTDOWN, message);
        } else {
            endReason(Session.END_SHUTDOWN);
            fatal(PgProtocol.ADMIN_SHUTDOWN, message);
        }
    }

    private void endReason(String reason) {
        if (endReason == null) {
            endReason = reason;
        }
    }

    private void fatal(String sqlState, String message) {
        fatal(sqlState, message, null);
    }

    private void fatal(String sqlState, String message, String hint) {
        if (phase == Phase.CLOSED) {
            return;
        }
        ErrorResponse error = ErrorResponse.fatal(sqlState, message).withHint(hint);
        ctx.writeAndFlush(error.encode(ctx.alloc())).addListener(f -> close());
        phase = Phase.CLOSED;
    }

    private void close() {
        phase = Phase.CLOSED;
        startupDeadline.cancel(false);
        if (countedSource != null) {
            deps.limits().leaveSource(countedSource);
            countedSource = null;
        }
        if (countedIdentity != null) {
            deps.limits().leaveIdentity(countedIdentity);
            countedIdentity = null;
        }
        if (idleCheck != null) {
            idleCheck.cancel(false);
        }
        if (relay != null) {
            relay.close();
        }
        if (session != null) {
            session.end(endReason != null ? endReason : END_CLIENT_DISCONNECT);
        }
        if (cancelKey != null) {
            deps.cancelKeys().forget(cancelKey, session);
        }
        closeBackend();
        ctx.close();
    }

    private void closeBackend() {
        if (backend == null) {
            return;
        }
        Channel b = backend;
        backend = null;
        if (!b.isActive()) {
            return;
        }
        if (cancelBackendWork) {
            b.config().setAutoRead(false); // what the backend answers now is no longer the client's
            deps.backends().cancel(ctx.channel().eventLoop(), session.connection(), link.processId(), link.secretKey())
                    .whenComplete((v, e) -> terminate(b));
        } else {
            terminate(b);
        }
    }

    /** Terminate, then close: PostgreSQL rolls back whatever transaction is still open. */
    private static void terminate(Channel backend) {
        backend.writeAndFlush(FrontendMessages.terminate(backend.alloc())).addListener(ChannelFutureListener.CLOSE);
    }
}
