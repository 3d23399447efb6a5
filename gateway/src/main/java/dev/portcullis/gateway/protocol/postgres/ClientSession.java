package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.identity.Identity;
import dev.portcullis.gateway.identity.TokenRejectedException;
import dev.portcullis.gateway.policy.DecisionInput;
import dev.portcullis.gateway.recording.SessionRecording;
import dev.portcullis.gateway.session.SessionRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * One client connection, through named phases in order: startup (TLS, protocol version) → authenticate (the
 * access token as password) → connect (registered connection, stored credentials) → ready (the backend's
 * parameters, the gateway's cancel key) → relay. Every denial reaches the client as a PostgreSQL ErrorResponse.
 * All state is confined to the client channel's event loop, which the backend channel shares.
 */
final class ClientSession extends ChannelInboundHandlerAdapter implements SessionRegistry.LiveSession {
    /** Only ReadyForQuery and ErrorResponse matter to the relay (ResponseSequencer); everything else travels in runs. */
    static final PgFrameDecoder.RunFilter BACKEND_RUNS =
            type -> type != PgProtocol.READY_FOR_QUERY && type != PgProtocol.ERROR_RESPONSE;

    private static final Logger LOG = Logger.getLogger(ClientSession.class);
    /** An access token fits in far less; the full message limit applies from relay on. */
    private static final int MAX_AUTH_MESSAGE = 64 * 1024;
    /** Session parameters passed to the backend. Anything else (options, role, ...) could change who runs the queries. */
    private static final Set<String> FORWARDED_PARAMETERS = Set.of("application_name", "client_encoding", "DateStyle",
            "TimeZone", "IntervalStyle", "extra_float_digits", "search_path", "datestyle", "timezone", "intervalstyle");
    static final String SESSION_ID_PARAMETER = "portcullis.session_id";

    private enum Phase { STARTUP, AWAIT_PASSWORD, CONNECTING, RELAY, CLOSED }

    private final SessionDependencies deps;
    private final String id = UUID.randomUUID().toString();
    private Phase phase = Phase.STARTUP;
    private ChannelHandlerContext ctx;
    private StartupMessage startup;
    private Identity identity;
    private TargetConnection target;
    private Channel backend;
    private BackendLink link;
    private SessionRegistry.CancelKey cancelKey;

    private RequestGate gate;
    private SessionRecording recording;
    /** Why the session ended, for the recording; the first reason given wins. */
    private String endReason;
    private static final String END_CLIENT_TERMINATE = "client_terminate";
    private static final String END_CLIENT_DISCONNECT = "client_disconnect";
    private static final String END_KILLED = "killed";
    private static final String END_IDLE = "idle_timeout";
    private static final String END_BACKEND_CLOSED = "backend_closed";
    private static final String END_ERROR = "error";
    private DecisionInput.SessionContext policyContext;
    private long lastActivityNanos;
    private ScheduledFuture<?> idleCheck;

    ClientSession(SessionDependencies deps) {
        this.deps = deps;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        switch (phase) {
            case RELAY -> relay(buf);
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
                    deps.sessions().byCancelKey(packet.getInt(packet.readerIndex() + 8), packet.getInt(packet.readerIndex() + 12))
                            .ifPresent(SessionRegistry.LiveSession::cancel);
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
        ctx.pipeline().replace("startup", "frames", new PgFrameDecoder(MAX_AUTH_MESSAGE, true));
        phase = Phase.AWAIT_PASSWORD;
        ctx.writeAndFlush(BackendMessages.authentication(ctx.alloc(), PgProtocol.AUTH_CLEARTEXT));
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
        deps.tokens().verify(token)
                .thenCompose(verified -> {
                    identity = verified;
                    return deps.connections().find(startup.database());
                })
                .thenCompose(found -> {
                    target = found.orElseThrow(() -> new SetupFailure(PgProtocol.INVALID_CATALOG_NAME,
                            "connection \"" + startup.database() + "\" is not registered with Portcullis",
                            "dbname names a registered connection; ask an administrator which ones you may use"));
                    if (!"postgres".equals(target.type())) {
                        throw new SetupFailure(PgProtocol.INVALID_CATALOG_NAME, "connection \"" + target.name() + "\" is not a PostgreSQL connection", null);
                    }
                    policyContext = DecisionInput.SessionContext.of(identity, target, id, sourceIp());
                    return deps.policy().decide("session", policyContext.with(null));
                })
                .thenCompose(decision -> {
                    if (!decision.allow()) {
                        LOG.infof("session %s: %s denied a session on %s [decision %s, policy %s]: %s", id, identity.name(),
                                target.name(), decision.decisionId(), decision.policy(), decision.reasons());
                        throw new SetupFailure(PgProtocol.INVALID_AUTHORIZATION, decision.denialMessage("this session"), null);
                    }
                    String password = target.sealedSecret() == null ? null : deps.sealer().open(target.name(), target.sealedSecret());
                    return deps.backends().connect(ctx.channel().eventLoop(), target, password, forwardedParameters());
                })
                .whenComplete((backendLink, failure) -> ctx.executor().execute(() -> {
                    if (failure != null) {
                        onSetupFailure(failure);
                    } else {
                        onBackendReady(backendLink);
                    }
                }));
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

    private void onSetupFailure(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof TokenRejectedException rejected) {
            LOG.infof("session %s: access token rejected for user %s: %s", id, startup.user(), rejected.getMessage());
            fatal(PgProtocol.INVALID_PASSWORD, "Portcullis authentication failed: " + rejected.getMessage(),
                    "get a fresh access token from your OIDC issuer and pass it as the password");
        } else if (cause instanceof SetupFailure setup) {
            fatal(setup.sqlState, setup.getMessage(), setup.hint);
        } else if (cause instanceof dev.portcullis.contract.SecretSealer.SealedSecretException sealed) {
            LOG.errorf("session %s: %s", id, sealed.getMessage());
            fatal(PgProtocol.CONNECTION_FAILURE, "Portcullis could not open connection \"" + target.name()
                    + "\": its stored credentials cannot be decrypted", "ask an administrator to set the connection's password again");
        } else if (cause instanceof BackendConnector.BackendLoginException login) {
            LOG.warnf("session %s: backend login for connection %s failed: %s", id, target == null ? "?" : target.name(), login.getMessage());
            fatal(PgProtocol.CONNECTION_FAILURE, "Portcullis could not open connection \"" + target.name() + "\": " + login.clientMessage,
                    "ask an administrator to check the connection's address and stored credentials");
        } else {
            LOG.errorf(cause, "session %s: setup failed", id);
            fatal(PgProtocol.CONNECTION_FAILURE, "Portcullis could not set up the session (internal error); try again later");
        }
    }

    private void onBackendReady(BackendLink backendLink) {
        if (phase == Phase.CLOSED) {
            backendLink.parameterStatus().forEach(ReferenceCountUtil::release);
            backendLink.channel().close();
            return;
        }
        this.link = backendLink;
        this.backend = backendLink.channel();
        this.cancelKey = deps.sessions().newCancelKey();
        // Pass-through mode (benchmarks of the bare relay) neither masks nor records.
        this.recording = deps.masks().enabled()
                ? SessionRecording.start(deps.recorder(), UUID.fromString(id), policyContext, deps.gatewayId()) : null;
        this.gate = new RequestGate(deps, id, ctx, backend, new PgRequests(deps.sql(), policyContext),
                backendLink.transactionStatus(), () -> close(END_CLIENT_TERMINATE), recording, sequencer -> deps.masks().enabled()
                        ? new ResultMasking(deps.masks(), target, policyContext, id, ctx, backend, sequencer, recording) : null);
        deps.sessions().register(this, cancelKey);
        backend.pipeline().replace("frames", "frames", new PgFrameDecoder(deps.config().maxMessageBytes(), false, BACKEND_RUNS));
        backend.pipeline().addLast("relay", new BackendRelay());
        ctx.pipeline().replace("frames", "frames", new PgFrameDecoder(deps.config().maxMessageBytes(), true));
        ctx.pipeline().remove("startup-timeout");
        watchIdle();

        ctx.write(BackendMessages.authentication(ctx.alloc(), PgProtocol.AUTH_OK));
        for (ByteBuf status : backendLink.parameterStatus()) {
            ctx.write(status);
        }
        ctx.write(BackendMessages.parameterStatus(ctx.alloc(), SESSION_ID_PARAMETER, id));
        ctx.write(BackendMessages.backendKeyData(ctx.alloc(), cancelKey.processId(), cancelKey.secret()));
        ctx.writeAndFlush(BackendMessages.readyForQuery(ctx.alloc(), backendLink.transactionStatus()));
        phase = Phase.RELAY;
        LOG.infof("session %s: %s (%s, groups %s) connected to %s", id, identity.name(), identity.kind(), identity.groups(), target.name());
    }

    // ---- relay ---------------------------------------------------------------------------------------------

    /**
     * Ends the session after the idle timeout without traffic either way. A coarse periodic check rather than
     * an IdleStateHandler, which would allocate a promise and a listener for every relayed message.
     */
    private void watchIdle() {
        long timeout = deps.config().idleTimeout().toNanos();
        long period = Math.max(TimeUnit.SECONDS.toNanos(1), Math.min(timeout / 4, TimeUnit.MINUTES.toNanos(1)));
        lastActivityNanos = System.nanoTime();
        idleCheck = ctx.executor().scheduleAtFixedRate(() -> {
            if (System.nanoTime() - lastActivityNanos > timeout) {
                endReason(END_IDLE);
                fatal(PgProtocol.IDLE_SESSION_TIMEOUT, "terminating connection: the session was idle for longer than " + deps.config().idleTimeout());
            }
        }, period, period, TimeUnit.NANOSECONDS);
    }

    private void relay(ByteBuf frame) {
        lastActivityNanos = System.nanoTime();
        if (gate == null) {
            frame.release();
            return;
        }
        gate.fromClient(frame);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (backend != null) {
            backend.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (gate != null && phase == Phase.RELAY) {
            gate.updateBackendAutoRead();
        }
        ctx.fireChannelWritabilityChanged();
    }

    /** Relays backend frames to the client unchanged, flushing once per read batch. */
    private final class BackendRelay extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext bctx, Object msg) {
            if (phase != Phase.RELAY || backend == null) {
                ReferenceCountUtil.release(msg);
                return;
            }
            lastActivityNanos = System.nanoTime();
            gate.fromBackend((ByteBuf) msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext bctx) {
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext bctx) {
            gate.updateAutoRead();
            bctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext bctx) {
            if (phase == Phase.RELAY) {
                endReason(END_BACKEND_CLOSED);
                ctx.flush();
                close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext bctx, Throwable cause) {
            if (cause instanceof PgProtocolException) {
                LOG.warnf("session %s: backend broke the protocol: %s", id, cause.getMessage());
                endReason(END_ERROR);
                fatal(PgProtocol.CONNECTION_FAILURE, "the backend sent an invalid message; the session was closed");
            } else if (cause instanceof IOException || cause.getCause() instanceof javax.net.ssl.SSLException) {
                LOG.debugf(cause, "session %s: backend connection error", id);
                close();
            } else {
                LOG.errorf(cause, "session %s: unexpected error relaying the backend's responses", id);
                endReason(END_ERROR);
                fatal(PgProtocol.INTERNAL_ERROR, "internal gateway error; the session was closed");
            }
        }
    }

    // ---- control from outside (any thread) -----------------------------------------------------------------

    @Override
    public void kill() {
        ctx.executor().execute(() -> {
            endReason(END_KILLED);
            fatal(PgProtocol.ADMIN_SHUTDOWN, "terminating connection: an administrator ended this session through Portcullis");
        });
    }

    @Override
    public void cancel() {
        if (link != null) {
            deps.backends().cancel(ctx.channel().eventLoop(), target, link.processId(), link.secretKey());
        }
    }

    // ---- endings -------------------------------------------------------------------------------------------

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            fatal(PgProtocol.PROTOCOL_VIOLATION, "the session did not finish startup and authentication within "
                    + deps.config().startupTimeout());
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
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
        close(END_CLIENT_DISCONNECT);
    }

    private void endReason(String reason) {
        if (endReason == null) {
            endReason = reason;
        }
    }

    private void close(String reason) {
        endReason(reason);
        close();
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
        if (recording != null) {
            recording.ended(endReason != null ? endReason : END_CLIENT_DISCONNECT);
        }
        if (idleCheck != null) {
            idleCheck.cancel(false);
        }
        if (gate != null) {
            gate.close();
        }
        if (backend != null) {
            deps.sessions().unregister(this, cancelKey);
            Channel b = backend;
            backend = null;
            b.config().setAutoRead(false);
            if (b.isActive()) {
                b.writeAndFlush(FrontendMessages.terminate(b.alloc())).addListener(ChannelFutureListener.CLOSE);
            }
        }
        ctx.close();
    }

    /** A setup step refused the session; the message is for the client. */
    private static final class SetupFailure extends RuntimeException {
        final String sqlState;
        final String hint;

        SetupFailure(String sqlState, String message, String hint) {
            super(message, null, false, false);
            this.sqlState = sqlState;
            this.hint = hint;
        }
    }
}
