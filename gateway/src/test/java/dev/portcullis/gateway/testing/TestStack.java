package dev.portcullis.gateway.testing;

import dev.portcullis.contract.SecretSealer;
import dev.portcullis.contract.testing.StackEnv;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * The real local stack as the gateway's tests see it: {@link StackEnv} (its settings, secrets, tokens and
 * PostgreSQL) plus what only the gateway's tests need: the gateway under test and connections registered directly.
 */
public final class TestStack {
    public static final Path ENV_FILE = StackEnv.ENV_FILE;
    public static final Path SECRETS_FILE = StackEnv.SECRETS_FILE;
    public static final Path ROOT = StackEnv.ROOT;

    private TestStack() {
    }

    public static String get(String key) {
        return StackEnv.get(key);
    }

    public static int port(String key) {
        return StackEnv.port(key);
    }

    public static String host() {
        return StackEnv.host();
    }

    /** The gateway under test (the @QuarkusTest instance, not a stack-started one). */
    public static int gatewayPort() {
        return Integer.getInteger("portcullis.test.gateway-port", port("GATEWAY_TEST_PG_PORT"));
    }

    /** A fresh access token from the stack's real OIDC issuer, via the client-credentials grant. */
    public static String token(String clientId) {
        return StackEnv.token(clientId);
    }

    /** The user name a client logs in with when it holds {@code token}: see {@link StackEnv#userOf}. */
    public static String userOf(String token) {
        return StackEnv.userOf(token);
    }

    /** A JDBC connection to the stack's PostgreSQL as superuser, bypassing the gateway. */
    public static Connection superuser(String database) throws SQLException {
        return StackEnv.superuser(database);
    }

    /** Registers (or replaces) a connection the way the admin API does: password sealed with the shared key. */
    public static void registerConnection(String name, String database, String user, String password, String tlsMode,
            String caPem, String tagsJson) throws SQLException {
        byte[] sealed = password == null ? null : SecretSealer.fromBase64Key(get("PORTCULLIS_SECRET_KEY")).seal(name, password);
        try (Connection c = superuser(get("PORTCULLIS_DB"));
                PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO connections (name, type, host, port, database, username, secret, tls_mode, tls_ca_pem, tags)
                        VALUES (?, 'postgres', ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
                        ON CONFLICT (name) DO UPDATE SET host = excluded.host, port = excluded.port, database = excluded.database,
                          username = excluded.username, secret = excluded.secret, tls_mode = excluded.tls_mode,
                          tls_ca_pem = excluded.tls_ca_pem, tags = excluded.tags, updated_at = now()""")) {
            ps.setString(1, name);
            ps.setString(2, host());
            ps.setInt(3, port("PG_PORT"));
            ps.setString(4, database);
            ps.setString(5, user);
            ps.setBytes(6, sealed);
            ps.setString(7, tlsMode);
            ps.setString(8, caPem);
            ps.setString(9, tagsJson);
            ps.executeUpdate();
        }
    }

    public static void execute(String database, String... statements) throws SQLException {
        try (Connection c = superuser(database); var st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
    }
}
