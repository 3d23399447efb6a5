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
 * The stack's real sshd (Debian's OpenSSH, started by {@code dev-services/stack up}) as a gateway target: the
 * connections {@value #DEV} and {@value #PROD}, reached with the gateway's login key (.stack/ssh/gateway_login_ed25519,
 * sealed) and checked against the target's host key; and the real OpenSSH client run through the gateway under test
 * with the key, certificate and ssh_config written by {@code dev-services/stack ssh-login}.
 */
public final class SshTargets {
    public static final String DEV = "demo-box";
    public static final String PROD = "demo-box-prod";
    public static final Path SSH_DIR = TestStack.ROOT.resolve(".stack/ssh");
    private static boolean registered;

    private SshTargets() {
    }

    public static synchronized void ensure() throws Exception {
        if (registered) {
            return;
        }
        register(DEV, "{\"env\":\"dev\"}", targetHostKey());
        register(PROD, "{\"env\":\"prod\"}", targetHostKey());
        registered = true;
    }

    /** The target sshd's host key, as an OpenSSH public key line (type and base64, without the comment). */
    public static String targetHostKey() throws IOException {
        String[] parts = Files.readString(SSH_DIR.resolve("target_host_ed25519_key.pub")).trim().split(" ");
        return parts[0] + " " + parts[1];
    }

    /** Registers (or replaces) an ssh connection to the stack's sshd, as the admin API would: the key sealed with the shared key. */
    public static void register(String name, String tagsJson, String hostKey) throws SQLException, IOException {
        register(name, tagsJson, hostKey, List.of());
    }

    /** As {@link #register(String, String, String)}, with the other logins a client may name ({@code settings.logins}). */
    public static void register(String name, String tagsJson, String hostKey, List<String> logins) throws SQLException, IOException {
        String key = Files.readString(SSH_DIR.resolve("gateway_login_ed25519"));
        byte[] sealed = SecretSealer.fromBase64Key(TestStack.get("PORTCULLIS_SECRET_KEY")).seal(name, key);
        try (Connection c = TestStack.superuser(TestStack.get("PORTCULLIS_DB"));
                PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO connections (name, type, host, port, username, secret, tls_mode, tags, settings)
                        VALUES (?, 'ssh', ?, ?, ?, ?, 'disable', ?::jsonb, jsonb_build_object('host_key', ?::text)
                          || CASE WHEN cardinality(?::text[]) = 0 THEN '{}'::jsonb
                                  ELSE jsonb_build_object('logins', to_jsonb(?::text[])) END)
                        ON CONFLICT (name) DO UPDATE SET type = excluded.type, host = excluded.host, port = excluded.port,
                          database = NULL, username = excluded.username, secret = excluded.secret, tls_mode = excluded.tls_mode,
                          tls_ca_pem = NULL, tags = excluded.tags, settings = excluded.settings, updated_at = now()""")) {
            ps.setString(1, name);
            ps.setString(2, TestStack.host());
            ps.setInt(3, TestStack.port("SSH_TARGET_PORT"));
            ps.setString(4, System.getProperty("user.name"));
            ps.setBytes(5, sealed);
            ps.setString(6, tagsJson);
            ps.setString(7, hostKey);
            java.sql.Array array = c.createArrayOf("text", logins.toArray());
            ps.setArray(8, array);
            ps.setArray(9, array);
            ps.executeUpdate();
        }
    }

    public static int gatewayPort() {
        return TestStack.port("GATEWAY_TEST_SSH_PORT");
    }

    /** An ssh_config for {@code identity} through the gateway under test, written by {@code dev-services/stack ssh-login}. */
    public static Path login(String identity) throws Exception {
        Path out = SSH_DIR.resolve("test-login-" + identity).resolve("ssh_config");
        Cli.Result r = Cli.run(Map.of(), null, 60, TestStack.ROOT.resolve("dev-services/stack").toString(), "ssh-login", identity,
                "--gateway-port", String.valueOf(gatewayPort()), "--gateway-http-port", TestStack.get("GATEWAY_TEST_HTTP_PORT"),
                "--output", out.toString());
        if (r.exitCode() != 0) {
            throw new AssertionError("ssh-login failed: " + r.all());
        }
        return out;
    }

    /**
     * The real ssh client with {@code config}, in batch mode: {@code args} are what follows on its command line (options,
     * then the connection, then the command).
     */
    public static Cli.Result ssh(Path config, String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ssh", "-F", config.toString(), "-o", "BatchMode=yes", "-o", "ConnectTimeout=20"));
        cmd.addAll(List.of(args));
        return Cli.run(Map.of(), stdin, 60, cmd.toArray(String[]::new));
    }
}
