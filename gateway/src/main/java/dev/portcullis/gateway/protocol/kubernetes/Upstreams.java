package dev.portcullis.gateway.protocol.kubernetes;

import dev.portcullis.gateway.connection.TargetConnection;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The HTTP and WebSocket clients towards each registered cluster's API server: TLS that verifies the connection's CA
 * (tls_ca_pem, else the JVM's trust store) and the server's name, and the gateway's own credential from the
 * connection's sealed secret. The secret is either a bearer token (a ServiceAccount token) or a PEM client certificate
 * with its private key; a client certificate lives on in the TLS options of its clients, a token is unsealed for each
 * request. Clients are kept per connection and credential, at most {@value #MAX_CLUSTERS}; the least recently used
 * goes first, and is closed once nothing uses it any more: every call and stream holds a {@link Lease} on its clients,
 * so an eviction never cuts a watch, a {@code logs -f}, an exec or a port-forward that is still running.
 */
final class Upstreams {
    static final int MAX_CLUSTERS = 64;
    /** The connection's setting that says whether the gateway impersonates the identity (the admin API stores it). */
    static final String IMPERSONATE_SETTING = "impersonate";
    private static final Pattern PEM_BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----[A-Za-z0-9+/=\\s]+-----END \\1-----");

    /** What one cluster is reached with; {@code bearer} is true when each request carries the unsealed token. */
    record Clients(HttpClient http, WebSocketClient webSockets, boolean bearer) {
        void close() {
            http.close();
            webSockets.close();
        }
    }

    /** The clients of one cluster and how many calls and streams use them; guarded by the {@link Upstreams}. */
    private static final class Entry {
        final Clients clients;
        int leases;
        boolean evicted;

        Entry(Clients clients) {
            this.clients = clients;
        }
    }

    /** One call's or stream's use of a cluster's clients; {@link #release} it once, when the call or stream has ended. */
    final class Lease {
        private final Entry entry;
        private boolean released;

        private Lease(Entry entry) {
            this.entry = entry;
        }

        Clients clients() {
            return entry.clients;
        }

        /** Idempotent; the last lease of an evicted cluster closes its clients. */
        void release() {
            synchronized (Upstreams.this) {
                if (released) {
                    return;
                }
                released = true;
                entry.leases--;
                if (entry.evicted && entry.leases == 0) {
                    entry.clients.close();
                }
            }
        }
    }

    /** The connection's credential cannot be used; the message names the connection, never the secret. */
    static final class BadCredential extends RuntimeException {
        BadCredential(String message) {
            super(message, null, false, false);
        }
    }

    private final Vertx vertx;
    private final Duration connectTimeout;
    private final int maxFrameBytes;
    private final Map<String, Entry> byKey = new LinkedHashMap<>(16, 0.75f, true);

    Upstreams(Vertx vertx, Duration connectTimeout, int maxFrameBytes) {
        this.vertx = vertx;
        this.connectTimeout = connectTimeout;
        this.maxFrameBytes = maxFrameBytes;
    }

    /**
     * The clients for this connection, leased until the caller releases them.
     *
     * @param secret the unsealed credential (never kept by this class but inside a client certificate's TLS options)
     */
    synchronized Lease lease(TargetConnection connection, String secret) {
        String key = key(connection);
        Entry found = byKey.get(key);
        if (found == null) {
            found = new Entry(create(connection, secret));
            byKey.put(key, found);
            evictBeyondCap();
        }
        found.leases++;
        return new Lease(found);
    }

    /** The least recently used clusters beyond {@value #MAX_CLUSTERS} leave the cache; each closes once unused. */
    private void evictBeyondCap() {
        var eldest = byKey.values().iterator();
        while (byKey.size() > MAX_CLUSTERS) {
            Entry e = eldest.next();
            eldest.remove();
            e.evicted = true;
            if (e.leases == 0) {
                e.clients.close();
            }
        }
    }

    private Clients create(TargetConnection connection, String secret) {
        if (connection.tlsMode() == TargetConnection.TlsMode.DISABLE) {
            throw new BadCredential("connection \"" + connection.name() + "\" has tls_mode disable; the gateway reaches a Kubernetes"
                    + " API server only over TLS");
        }
        if (secret == null || secret.isBlank()) {
            throw new BadCredential("connection \"" + connection.name() + "\" has no credential for the API server");
        }
        boolean certificate = secret.contains("-----BEGIN");
        HttpClientOptions http = new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_1_1).setSsl(true)
                .setVerifyHost(connection.tlsMode() == TargetConnection.TlsMode.VERIFY_FULL)
                .setTrustAll(connection.tlsMode() != TargetConnection.TlsMode.VERIFY_FULL)
                .setConnectTimeout((int) connectTimeout.toMillis()).setMaxPoolSize(64).setKeepAlive(true)
                .setDefaultHost(connection.host()).setDefaultPort(connection.port());
        WebSocketClientOptions ws = new WebSocketClientOptions().setSsl(true)
                .setVerifyHost(connection.tlsMode() == TargetConnection.TlsMode.VERIFY_FULL)
                .setTrustAll(connection.tlsMode() != TargetConnection.TlsMode.VERIFY_FULL)
                .setConnectTimeout((int) connectTimeout.toMillis()).setMaxFrameSize(maxFrameBytes).setMaxMessageSize(maxFrameBytes)
                .setDefaultHost(connection.host()).setDefaultPort(connection.port());
        if (connection.tlsMode() == TargetConnection.TlsMode.VERIFY_FULL && connection.tlsCaPem() != null
                && !connection.tlsCaPem().isBlank()) {
            PemTrustOptions trust = new PemTrustOptions().addCertValue(Buffer.buffer(connection.tlsCaPem()));
            http.setTrustOptions(trust);
            ws.setTrustOptions(trust);
        }
        if (certificate) {
            PemKeyCertOptions keyCert = keyCert(connection.name(), secret);
            http.setKeyCertOptions(keyCert);
            ws.setKeyCertOptions(keyCert);
        }
        return new Clients(vertx.createHttpClient(http), vertx.createWebSocketClient(ws), !certificate);
    }

    /**
     * Whether calls to this cluster carry {@code Impersonate-User} and {@code Impersonate-Group} for the identity. Only an
     * explicit {@code false} turns it off: a connection without the setting, or with anything else in it, impersonates,
     * which never gives the caller more than the credential's own rights.
     */
    static boolean impersonates(TargetConnection connection) {
        return !Boolean.FALSE.equals(connection.settings().get(IMPERSONATE_SETTING));
    }

    /** The certificates and the one private key of a PEM client credential. */
    private static PemKeyCertOptions keyCert(String connection, String pem) {
        StringBuilder certs = new StringBuilder();
        String key = null;
        Matcher m = PEM_BLOCK.matcher(pem);
        while (m.find()) {
            if (m.group(1).equals("CERTIFICATE")) {
                certs.append(m.group()).append('\n');
            } else if (m.group(1).endsWith("PRIVATE KEY")) {
                if (key != null) {
                    throw new BadCredential("the client credential of connection \"" + connection + "\" holds more than one private key");
                }
                key = m.group();
            }
        }
        if (certs.isEmpty() || key == null) {
            throw new BadCredential("the client credential of connection \"" + connection + "\" must hold a PEM CERTIFICATE and"
                    + " its PRIVATE KEY");
        }
        return new PemKeyCertOptions().addCertValue(Buffer.buffer(certs.toString())).addKeyValue(Buffer.buffer(key));
    }

    /** Changes whenever the cluster's address, CA or sealed credential does, so a changed connection gets new clients. */
    private static String key(TargetConnection c) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((c.name() + "\n" + c.host() + "\n" + c.port() + "\n" + c.tlsMode() + "\n" + c.tlsCaPem() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            if (c.sealedSecret() != null) {
                sha.update(c.sealedSecret());
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** At shutdown: every cached cluster's clients, used or not (evicted ones close with their last lease). */
    synchronized void closeAll() {
        byKey.values().forEach(e -> e.clients.close());
        byKey.clear();
    }
}
