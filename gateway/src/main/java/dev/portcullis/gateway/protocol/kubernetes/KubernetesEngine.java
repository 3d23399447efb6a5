package dev.portcullis.gateway.protocol.kubernetes;

import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.session.Engine;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.Sessions;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SelfSignedCertificate;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The Kubernetes engine: an HTTPS listener on Vert.x where kubectl finds each registered cluster at
 * {@code /k8s/<connection>} ({@link ApiProxy}), its exec and port-forward relays ({@link ExecRelay},
 * {@link PortForwardRelay}) and its clients towards the API servers ({@link Upstreams}). Identity, decisions, approvals,
 * recording and kill are the spine's ({@link Sessions}).
 */
@ApplicationScoped
public class KubernetesEngine implements Engine {
    private static final Logger LOG = Logger.getLogger(KubernetesEngine.class);
    /** An HTTP/2 stream's and connection's flow-control window: what a client may send before the gateway reads it. */
    static final int HTTP2_WINDOW_BYTES = 65_536;

    private final GatewayConfig.Kubernetes config;
    private final Vertx vertx;
    private final Sessions sessions;
    private final Upstreams upstreams;
    private final ApiProxy proxy;
    private final Map<io.vertx.core.http.HttpConnection, ClientConnection> connections = new ConcurrentHashMap<>();
    private HttpServer server;
    /** Set by the drain: new connections are closed at once (closing the server would end the live ones too). */
    private volatile boolean draining;

    KubernetesEngine(GatewayConfig config, Vertx vertx, Sessions sessions) {
        this.config = config.kubernetes();
        this.vertx = vertx;
        this.sessions = sessions;
        this.upstreams = new Upstreams(vertx, this.config.upstreamConnectTimeout(), this.config.maxWebSocketFrameBytes());
        this.proxy = new ApiProxy(upstreams, this.config, config.approval().noticeEvery());
    }

    @Override
    public String protocol() {
        return ApiRequest.PROTOCOL;
    }

    void start(@Observes StartupEvent event) throws Exception {
        if (!config.enabled()) {
            LOG.info("Kubernetes API listener off (portcullis.kubernetes.enabled=false)");
            return;
        }
        HttpServerOptions options = new HttpServerOptions().setHost(config.host()).setPort(config.port()).setSsl(true)
                .setKeyCertOptions(keyCert()).setMaxHeaderSize(config.maxHeaderBytes())
                .setMaxInitialLineLength(ApiRequest.MAX_URI_CHARS + 64)
                .setWebSocketSubProtocols(webSocketSubProtocols())
                .setMaxWebSocketFrameSize(config.maxWebSocketFrameBytes())
                .setMaxWebSocketMessageSize(config.maxWebSocketFrameBytes());
        if (config.http2()) {
            options.setUseAlpn(true).setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1))
                    .setInitialSettings(new Http2Settings().setMaxConcurrentStreams(config.maxHttp2Streams())
                            .setMaxHeaderListSize(config.maxHeaderBytes()).setInitialWindowSize(HTTP2_WINDOW_BYTES))
                    .setHttp2ConnectionWindowSize(HTTP2_WINDOW_BYTES);
        }
        server = vertx.createHttpServer(options);
        server.connectionHandler(connection -> {
            if (draining) {
                connection.close();
                return;
            }
            ClientConnection client = new ClientConnection(connection, vertx.getOrCreateContext(), sessions);
            connections.put(connection, client);
            connection.closeHandler(v -> {
                connections.remove(connection);
                client.closed();
            });
        });
        server.requestHandler(req -> {
            ClientConnection client = connections.get(req.connection());
            if (client == null) {
                req.connection().close(); // closing already
                return;
            }
            proxy.handle(req, client);
        });
        server.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        LOG.infof("Kubernetes API listener on https://%s:%d/k8s/<connection> (%s)", config.host(), server.actualPort(),
                config.http2() ? "HTTP/2 and HTTP/1.1" : "HTTP/1.1");
    }

    /** What the listener's WebSocket upgrades may speak: exec's channel protocols and port-forward's tunnelled SPDY. */
    private static List<String> webSocketSubProtocols() {
        List<String> all = new ArrayList<>(ExecRelay.SUBPROTOCOLS);
        all.add(PortForwardRelay.SUBPROTOCOL);
        return all;
    }

    private PemKeyCertOptions keyCert() {
        if (config.tlsCert().isPresent() && config.tlsKey().isPresent()) {
            return new PemKeyCertOptions().setCertPath(config.tlsCert().get().toString()).setKeyPath(config.tlsKey().get().toString());
        }
        if (config.tlsSelfSigned()) {
            return SelfSignedCertificate.create("localhost").keyCertOptions();
        }
        throw new IllegalStateException("the Kubernetes listener needs portcullis.kubernetes.tls-cert and tls-key (kubectl speaks"
                + " only HTTPS to it), or portcullis.kubernetes.enabled=false");
    }

    @Override
    public void stopAccepting() {
        draining = true;
    }

    @Override
    public int openConnections() {
        return connections.size();
    }

    @Override
    public void endAll(String message) {
        connections.values().forEach(c -> c.context().runOnContext(v -> c.kill(Session.END_SHUTDOWN, message)));
    }

    void stop(@Observes ShutdownEvent event) {
        draining = true;
        if (server != null) {
            server.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null).join();
        }
        upstreams.closeAll();
    }
}
