package dev.portcullis.gateway.testing;

import dev.portcullis.contract.SecretSealer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The stack's real Kubernetes control plane as a gateway target: the connections {@value #PROD} and {@value #DEV}
 * (the same cluster, tagged prod and dev), reached with the gateway's client certificate (.stack/kube/gateway.crt,
 * which may only impersonate), and the real kubectl run through the gateway under test with a kubeconfig written by
 * {@code dev-services/stack kube-login}.
 */
public final class KubeTargets {
    public static final String PROD = "demo-k8s-prod";
    public static final String DEV = "demo-k8s-dev";
    public static final Path KUBE_DIR = TestStack.ROOT.resolve(".stack/kube");
    public static final Path KUBECTL = TestStack.ROOT.resolve(".tools/kube/bin/kubectl");
    private static boolean registered;

    private KubeTargets() {
    }

    public static synchronized void ensure() throws SQLException, IOException {
        if (registered) {
            return;
        }
        String credential = Files.readString(KUBE_DIR.resolve("gateway.crt")) + Files.readString(KUBE_DIR.resolve("gateway.key"));
        String ca = Files.readString(KUBE_DIR.resolve("pki/ca.crt"));
        register(PROD, credential, ca, "{\"env\":\"prod\"}");
        register(DEV, credential, ca, "{\"env\":\"dev\"}");
        registered = true;
    }

    /** Registers (or replaces) a kubernetes connection as the admin API would: the credential sealed with the shared key. */
    public static void register(String name, String credential, String caPem, String tagsJson) throws SQLException {
        register(name, credential, caPem, tagsJson, "{\"impersonate\": true}");
    }

    /** As {@link #register(String, String, String, String)}, with the connection's settings (its {@code impersonate}). */
    public static void register(String name, String credential, String caPem, String tagsJson, String settingsJson)
            throws SQLException {
        byte[] sealed = SecretSealer.fromBase64Key(TestStack.get("PORTCULLIS_SECRET_KEY")).seal(name, credential);
        try (Connection c = TestStack.superuser(TestStack.get("PORTCULLIS_DB"));
                PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO connections (name, type, host, port, secret, tls_mode, tls_ca_pem, tags, settings)
                        VALUES (?, 'kubernetes', ?, ?, ?, 'verify-full', ?, ?::jsonb, ?::jsonb)
                        ON CONFLICT (name) DO UPDATE SET type = excluded.type, host = excluded.host, port = excluded.port,
                          database = NULL, username = NULL, secret = excluded.secret, tls_mode = excluded.tls_mode,
                          tls_ca_pem = excluded.tls_ca_pem, tags = excluded.tags, settings = excluded.settings,
                          updated_at = now()""")) {
            ps.setString(1, name);
            ps.setString(2, TestStack.host());
            ps.setInt(3, TestStack.port("KUBE_APISERVER_PORT"));
            ps.setBytes(4, sealed);
            ps.setString(5, caPem);
            ps.setString(6, tagsJson);
            ps.setString(7, settingsJson);
            ps.executeUpdate();
        }
    }

    public static int gatewayPort() {
        return TestStack.port("GATEWAY_TEST_KUBE_PORT");
    }

    /** A kubeconfig for {@code identity} through the gateway under test, written by {@code dev-services/stack kube-login}. */
    public static Path login(String identity) throws Exception {
        Path out = KUBE_DIR.resolve("test-login-" + identity + ".kubeconfig");
        Cli.Result r = Cli.run(Map.of(), null, 60, TestStack.ROOT.resolve("dev-services/stack").toString(), "kube-login", identity,
                "--gateway-port", String.valueOf(gatewayPort()), "--output", out.toString());
        if (r.exitCode() != 0) {
            throw new AssertionError("kube-login failed: " + r.all());
        }
        return out;
    }

    /** kubectl through the gateway as {@code identity}, on {@code connection}. */
    public static Cli.Result kubectl(String identity, String connection, String... args) throws Exception {
        return kubectl(Map.of(), identity, connection, args);
    }

    /** The same, with {@code env} added to kubectl's environment. */
    public static Cli.Result kubectl(Map<String, String> env, String identity, String connection, String... args) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("KUBECACHEDIR", KUBE_DIR.resolve("test-cache").toString());
        return Cli.run(all, null, 60, command(identity, connection, "--request-timeout=30s", args));
    }

    /** A kubectl that keeps running (port-forward, logs -f), started through the gateway; the caller ends it. */
    public static Process start(String identity, String connection, String... args) throws Exception {
        return Cli.start(Map.of("KUBECACHEDIR", KUBE_DIR.resolve("test-cache").toString()), command(identity, connection, null, args));
    }

    private static String[] command(String identity, String connection, String timeout, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(KUBECTL.toString(), "--kubeconfig", login(identity).toString(), "--context",
                connection));
        if (timeout != null) {
            cmd.add(timeout);
        }
        cmd.addAll(List.of(args));
        return cmd.toArray(String[]::new);
    }

    /** kubectl through the gateway as {@code identity}, on a connection that {@link #login} has no context for. */
    public static Cli.Result kubectlOn(String identity, String connection, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(KUBECTL.toString(), "--kubeconfig", login(identity).toString(), "--context", DEV,
                "--server", "https://127.0.0.1:" + gatewayPort() + "/k8s/" + connection, "--request-timeout=30s"));
        cmd.addAll(List.of(args));
        return Cli.run(Map.of("KUBECACHEDIR", KUBE_DIR.resolve("test-cache").toString()), null, 60, cmd.toArray(String[]::new));
    }

    /** kubectl as the cluster's administrator, straight to the API server (to set up and to check). */
    public static Cli.Result admin(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(KUBECTL.toString(), "--kubeconfig", KUBE_DIR.resolve("admin.kubeconfig").toString()));
        cmd.addAll(List.of(args));
        return Cli.run(Map.of("KUBECACHEDIR", KUBE_DIR.resolve("cache").toString()), null, 60, cmd.toArray(String[]::new));
    }

    /** The name of a Running pod of the demo Deployment in {@code namespace}. */
    public static String webPod(String namespace) throws Exception {
        Cli.Result r = admin("get", "pods", "-n", namespace, "-l", "app=web", "--field-selector=status.phase=Running", "-o",
                "jsonpath={.items[0].metadata.name}");
        if (r.exitCode() != 0 || r.stdout().isBlank()) {
            throw new AssertionError("no Running web pod in " + namespace + ": " + r.all());
        }
        return r.stdout().trim();
    }
}
