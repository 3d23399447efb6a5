package dev.portcullis.gateway;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Every gateway option, declared once. Defaults suit production; the dev and test profiles relax a few. */
@ConfigMapping(prefix = "portcullis")
public interface GatewayConfig {

    /** The OIDC issuer whose access tokens the gateway accepts as passwords. */
    String oidcIssuer();

    /** The audience an access token must carry. */
    @WithDefault("portcullis")
    String oidcAudience();

    /** Base64 of the 32-byte AES key that seals connection secrets at rest ({@code openssl rand -base64 32}). */
    String secretKey();

    Postgres postgres();

    Opa opa();

    interface Postgres {
        /** Address the PostgreSQL listener binds to. */
        @WithDefault("127.0.0.1")
        String host();

        /** Port of the PostgreSQL listener. */
        @WithDefault("15432")
        int port();

        /** PEM certificate chain offered to clients that ask for TLS. */
        Optional<Path> tlsCert();

        /** PEM private key (PKCS#8) for {@link #tlsCert()}. */
        Optional<Path> tlsKey();

        /** Without a configured certificate, generate a self-signed one at startup (dev and test only). */
        @WithDefault("false")
        boolean tlsSelfSigned();

        /**
         * Accept the access token over an unencrypted connection when the client is on loopback. For local
         * development only: everywhere else a token only ever travels inside TLS.
         */
        @WithDefault("false")
        boolean allowPlaintextOnLoopback();

        /** Largest protocol message accepted from a client or a backend, in bytes. */
        @WithDefault("67108864")
        int maxMessageBytes();

        /** Time a client has to finish TLS, startup and authentication. */
        @WithDefault("15s")
        Duration startupTimeout();

        /** A session with no traffic in either direction for this long is closed. */
        @WithDefault("1h")
        Duration idleTimeout();

        /** Time allowed to connect and log in to a backend. */
        @WithDefault("10s")
        Duration backendConnectTimeout();
    }

    interface Opa {
        /** Base URL of the OPA sidecar. */
        String url();

        /** Timeout of a readiness probe against OPA's /health. */
        @WithDefault("1s")
        Duration healthTimeout();
    }
}
