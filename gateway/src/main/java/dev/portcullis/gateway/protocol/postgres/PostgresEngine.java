package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.contract.SecretSealer;
import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.masking.KeyedHash;
import dev.portcullis.gateway.policy.PolicyDecider;
import dev.portcullis.gateway.protocol.postgres.codec.FrameBudget;
import dev.portcullis.gateway.protocol.postgres.codec.StartupFrameDecoder;
import dev.portcullis.gateway.protocol.postgres.sql.AnalysisCache;
import dev.portcullis.gateway.protocol.postgres.sql.SqlAnalyzer;
import dev.portcullis.gateway.session.Engine;
import dev.portcullis.gateway.session.Sessions;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The PostgreSQL engine: its listener and the sessions' relay, on event loops of its own
 * ({@code portcullis.postgres.event-loops}, by default half the cores). Vert.x's loops stay for HTTP, the OIDC client and
 * the registry's pool: sized for those, they are twice the cores, which for a relay means more wake-ups per transaction
 * than work. A client connection is a {@link ClientSession}; everything that is not PostgreSQL (identity, decisions,
 * recording, kill) is the spine's.
 */
@ApplicationScoped
public class PostgresEngine implements Engine {
    private static final Logger LOG = Logger.getLogger(PostgresEngine.class);

    private final GatewayConfig config;
    private final PgDependencies deps;
    private final EventLoopGroup loops;
    private final int loopCount;
    private Channel serverChannel;
    /** Analysis of large SQL texts, which may take milliseconds, runs here rather than on an event loop. */
    private final ExecutorService analysisPool = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "portcullis-sql-analysis");
        t.setDaemon(true);
        return t;
    });

    PostgresEngine(GatewayConfig config, Vertx vertx, Sessions sessions, PolicyDecider policy, SecretSealer sealer) {
        this.config = config;
        this.loopCount = config.postgres().eventLoops().orElse(Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
        this.loops = Transports.group(loopCount, vertx.isNativeTransportEnabled(), "portcullis-pg-loop");
        TlsContexts tls = new TlsContexts(config.postgres());
        BackendConnector backends = new BackendConnector(tls, config.postgres().maxMessageBytes(), config.postgres().backendConnectTimeout());
        MaskPlanner masks = new MaskPlanner(policy, new KeyedHash(sealer.derive("portcullis masking hash v1")), backends, sealer,
                loops, config.postgres().backendConnectTimeout());
        this.deps = new PgDependencies(config.postgres(), tls, sessions, new AnalysisCache(new SqlAnalyzer()), analysisPool, backends,
                masks, new CancelKeys(), config.approval().noticeEvery(), new DefaultChannelGroup("postgres", GlobalEventExecutor.INSTANCE),
                frameBudget(config.postgres()),
                new ConnectionLimits(config.postgres().maxConnectionsPerSource(), config.postgres().maxConnectionsPerIdentity()));
    }

    private static FrameBudget frameBudget(GatewayConfig.Postgres pg) {
        if (pg.frameBudgetBytes() < pg.maxMessageBytes()) {
            throw new IllegalArgumentException("portcullis.postgres.frame-budget-bytes (" + pg.frameBudgetBytes()
                    + ") must be at least portcullis.postgres.max-message-bytes (" + pg.maxMessageBytes() + ")");
        }
        return new FrameBudget(pg.frameBudgetBytes(), pg.largeMessageTimeout());
    }

    @Override
    public String protocol() {
        return ClientSession.PROTOCOL;
    }

    void start(@Observes StartupEvent event) throws InterruptedException {
        GatewayConfig.Postgres pg = config.postgres();
        ServerBootstrap b = new ServerBootstrap().group(loops, loops).channel(Transports.serverChannel(loops))
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        deps.connections().add(ch);
                        ch.pipeline()
                                .addLast("startup", new StartupFrameDecoder())
                                .addLast("session", new ClientSession(deps));
                    }
                });
        serverChannel = b.bind(pg.host(), pg.port()).sync().channel();
        LOG.infof("PostgreSQL listener on %s:%d (%s, %d event loops)", pg.host(), pg.port(), Transports.name(loops), loopCount);
    }

    @Override
    public void stopAccepting() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
    }

    @Override
    public int openConnections() {
        return deps.connections().size();
    }

    @Override
    public void endAll(String message) {
        for (Channel ch : deps.connections()) {
            ClientSession client = ch.pipeline().get(ClientSession.class);
            if (client != null) {
                ch.eventLoop().execute(() -> client.shutdown(message));
            }
        }
    }

    void stop(@Observes ShutdownEvent event) {
        stopAccepting();
        analysisPool.shutdownNow();
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    }
}
