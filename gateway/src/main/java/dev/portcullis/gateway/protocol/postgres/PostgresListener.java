package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.contract.SecretSealer;
import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.connection.ConnectionRegistry;
import dev.portcullis.gateway.identity.TokenVerifier;
import dev.portcullis.gateway.policy.PolicyDecider;
import dev.portcullis.gateway.sql.AnalysisCache;
import dev.portcullis.gateway.sql.SqlAnalyzer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import dev.portcullis.gateway.session.SessionRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import dev.portcullis.gateway.masking.KeyedHash;
import dev.portcullis.gateway.recording.SessionRecorder;
import io.netty.handler.timeout.IdleStateHandler;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The PostgreSQL listener. Runs on Vert.x's event loops, so the protocol relay, the OIDC client and the
 * registry's database pool share the same few threads instead of competing for two cores.
 */
@ApplicationScoped
public class PostgresListener {
    private static final Logger LOG = Logger.getLogger(PostgresListener.class);

    private final GatewayConfig config;
    private final SessionDependencies deps;
    private final EventLoopGroup loops;
    private Channel serverChannel;
    /** Analysis of large SQL texts, which may take milliseconds, runs here rather than on an event loop. */
    private final ExecutorService analysisPool = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "portcullis-sql-analysis");
        t.setDaemon(true);
        return t;
    });

    PostgresListener(GatewayConfig config, Vertx vertx, TokenVerifier tokens, ConnectionRegistry connections,
            SessionRegistry sessions, PolicyDecider policy, SessionRecorder recorder) {
        this.config = config;
        this.loops = vertx.nettyEventLoopGroup();
        TlsContexts tls = new TlsContexts(config.postgres());
        SecretSealer sealer = SecretSealer.fromBase64Key(config.secretKey());
        BackendConnector backends = new BackendConnector(tls, config.postgres().maxMessageBytes(), config.postgres().backendConnectTimeout());
        MaskPlanner masks = new MaskPlanner(policy, new KeyedHash(sealer.derive("portcullis masking hash v1")), backends, sealer,
                loops, config.postgres().backendConnectTimeout());
        this.deps = new SessionDependencies(config.postgres(), tls, tokens, connections, sessions, policy,
                new AnalysisCache(new SqlAnalyzer()), analysisPool, sealer, backends, masks, recorder, gatewayId(config));
    }

    /** This gateway in recordings: the host name and the listener's port. */
    private static String gatewayId(GatewayConfig config) {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException e) {
                host = "gateway";
            }
        }
        return host + ":" + config.postgres().port();
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
                        ch.pipeline()
                                .addLast("startup-timeout", new IdleStateHandler(0, 0, pg.startupTimeout().toMillis(), TimeUnit.MILLISECONDS))
                                .addLast("startup", new StartupFrameDecoder())
                                .addLast("session", new ClientSession(deps));
                    }
                });
        serverChannel = b.bind(pg.host(), pg.port()).sync().channel();
        LOG.infof("PostgreSQL listener on %s:%d (%s)", pg.host(), pg.port(), Transports.name(loops));
    }

    void stop(@Observes ShutdownEvent event) {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        analysisPool.shutdownNow();
    }
}
