package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.connection.TargetConnection;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;
import org.jboss.logging.Logger;

/**
 * TLS towards clients (the gateway's certificate) and towards backends (per connection's tls_mode). Clients are served
 * through BoringSSL (netty-tcnative) when it loads on this platform, the JDK's TLS otherwise: per record the JDK's
 * engine cost the gateway about a third of its CPU on short queries. Backends use the JDK's, whose hostname check
 * {@code verify-full} relies on.
 */
final class TlsContexts {
    private static final Logger LOG = Logger.getLogger(TlsContexts.class);

    private final SslContext server;
    private final SslContext backendNoVerify;
    private final Map<String, SslContext> backendVerifying = new ConcurrentHashMap<>();

    TlsContexts(GatewayConfig.Postgres config) {
        this.server = serverContext(config);
        try {
            this.backendNoVerify = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the backend TLS context", e);
        }
    }

    SslContext server() {
        return server;
    }

    /** For {@code require}: encrypt, trust any certificate. For {@code verify-full}: the connection's CA, or the JVM's. */
    SslContext backend(TargetConnection connection) {
        if (connection.tlsMode() != TargetConnection.TlsMode.VERIFY_FULL) {
            return backendNoVerify;
        }
        String ca = connection.tlsCaPem() == null ? "" : connection.tlsCaPem();
        return backendVerifying.computeIfAbsent(ca, pem -> {
            try {
                SslContextBuilder b = SslContextBuilder.forClient().endpointIdentificationAlgorithm("HTTPS");
                if (!pem.isBlank()) {
                    b.trustManager(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
                }
                return b.build();
            } catch (SSLException | IllegalArgumentException e) {
                throw new IllegalStateException("the CA certificate of connection '" + connection.name() + "' is not valid PEM", e);
            }
        });
    }

    private static SslContext serverContext(GatewayConfig.Postgres config) {
        SslProvider provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        if (provider == SslProvider.OPENSSL) {
            LOG.infof("client TLS: %s (netty-tcnative)", OpenSsl.versionString());
        } else {
            LOG.infof("client TLS: the JDK's (netty-tcnative does not load here: %s)", String.valueOf(OpenSsl.unavailabilityCause()));
        }
        try {
            if (config.tlsCert().isPresent() && config.tlsKey().isPresent()) {
                return SslContextBuilder.forServer(config.tlsCert().get().toFile(), config.tlsKey().get().toFile())
                        .sslProvider(provider).build();
            }
            if (config.tlsSelfSigned()) {
                SelfSignedCertificate cert = new SelfSignedCertificate("localhost");
                return SslContextBuilder.forServer(cert.certificate(), cert.privateKey()).sslProvider(provider).build();
            }
        } catch (SSLException | CertificateException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot load the gateway TLS certificate: " + e.getMessage()
                    + " (check portcullis.postgres.tls-cert and tls-key: PEM certificate chain and PKCS#8 key)", e);
        }
        throw new IllegalStateException("no TLS certificate for the PostgreSQL listener: set portcullis.postgres.tls-cert "
                + "and portcullis.postgres.tls-key (PEM), or portcullis.postgres.tls-self-signed=true for development");
    }
}
