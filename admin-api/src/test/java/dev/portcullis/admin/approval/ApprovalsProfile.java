package dev.portcullis.admin.approval;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;

/**
 * The admin API with its approval webhook pointed at a receiver the tests run (a free port chosen once per test JVM,
 * kept in system properties so that every class loader sees the same), fast retries and a fast expiry sweep. Every
 * approval test shares it, so the app starts once for all of them.
 */
public class ApprovalsProfile implements QuarkusTestProfile {
    private static final String PORT = "portcullis.test.webhook-port";
    private static final String SECRET = "portcullis.test.webhook-secret";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "portcullis.admin.approvals.webhook.url", "http://127.0.0.1:" + webhookPort() + "/hooks/portcullis",
                "portcullis.admin.approvals.webhook.secret", webhookSecret(),
                "portcullis.admin.approvals.webhook.initial-backoff", "200ms",
                "portcullis.admin.approvals.webhook.max-backoff", "1s",
                "portcullis.admin.approvals.webhook.poll-interval", "1s",
                "portcullis.admin.approvals.webhook.timeout", "2s",
                "portcullis.admin.approvals.webhook.max-attempts", "1000",
                "portcullis.admin.approvals.sweep-interval", "1s");
    }

    public static synchronized int webhookPort() {
        String port = System.getProperty(PORT);
        if (port == null) {
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = Integer.toString(socket.getLocalPort());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            System.setProperty(PORT, port);
        }
        return Integer.parseInt(port);
    }

    public static synchronized String webhookSecret() {
        String secret = System.getProperty(SECRET);
        if (secret == null) {
            byte[] bytes = new byte[32];
            new SecureRandom().nextBytes(bytes);
            secret = HexFormat.of().formatHex(bytes);
            System.setProperty(SECRET, secret);
        }
        return secret;
    }
}
