package dev.portcullis.gateway.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.contract.SecretSealer;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * The real local stack (dev-services/stack) as the tests see it: its env file, its generated secrets, tokens
 * from its real OIDC issuer, and direct access to its PostgreSQL.
 */
public final class TestStack {
    public static final Path ENV_FILE = Path.of(System.getProperty("stack.properties.file", "../dev-services/stack.properties"));
    public static final Path SECRETS_FILE = Path.of(System.getProperty("stack.secrets.file", "../.stack/secrets.properties"));
    public static final Path ROOT = ENV_FILE.toAbsolutePath().getParent().getParent();
    private static final Map<String, String> VALUES = new HashMap<>();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        load(ENV_FILE);
        if (Files.exists(SECRETS_FILE)) {
            load(SECRETS_FILE);
        }
    }

    private TestStack() {
    }

    private static void load(Path file) {
        try {
            for (String line : Files.readAllLines(file)) {
                line = line.trim();
                int eq = line.indexOf('=');
                if (line.isEmpty() || line.startsWith("#") || eq < 0) {
                    continue;
                }
                String value = line.substring(eq + 1).trim();
                if (value.length() >= 2 && (value.startsWith("\"") || value.startsWith("'"))) {
                    value = value.substring(1, value.length() - 1);
                }
                VALUES.put(line.substring(0, eq).trim(), value);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file + "; start the stack with: dev-services/stack up --deps-only", e);
        }
    }

    public static String get(String key) {
        String v = VALUES.get(key);
        if (v == null) {
            throw new IllegalStateException(key + " is not set in " + ENV_FILE + " or " + SECRETS_FILE
                    + "; start the stack with: dev-services/stack up --deps-only");
        }
        return v;
    }

    public static int port(String key) {
        return Integer.parseInt(get(key));
    }

    public static String host() {
        return get("STACK_HOST");
    }

    /** The gateway under test (the @QuarkusTest instance, not a stack-started one). */
    public static int gatewayPort() {
        return Integer.getInteger("portcullis.test.gateway-port", port("GATEWAY_TEST_PG_PORT"));
    }

    /** A fresh access token from the stack's real OIDC issuer, via the client-credentials grant. */
    public static String token(String clientId) {
        String form = "grant_type=client_credentials&client_id=" + URLEncoder.encode(clientId, StandardCharsets.UTF_8)
                + "&client_secret=test-secret&scope=openid";
        HttpRequest request = HttpRequest.newBuilder(URI.create(get("MOCK_OIDC_ISSUER") + "/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build();
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("token request for " + clientId + " failed: " + response.statusCode() + " " + response.body());
            }
            return JSON.readTree(response.body()).get("access_token").asText();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("cannot reach the OIDC issuer " + get("MOCK_OIDC_ISSUER"), e);
        }
    }

    /**
     * The user name a client logs in with when it holds {@code token}: the name of the token's identity (its
     * {@code preferred_username}, else its {@code client_id}), which the gateway requires. A token that is no JWT
     * (the gateway refuses it before it looks at the user name) gets {@code "agent"}.
     */
    public static String userOf(String token) {
        try {
            var claims = JSON.readTree(java.util.Base64.getUrlDecoder().decode(token.split("\\.")[1]));
            return claims.hasNonNull("preferred_username") ? claims.get("preferred_username").asText() : claims.get("client_id").asText();
        } catch (IOException | RuntimeException notAJwt) {
            return "agent";
        }
    }

    /** A JDBC connection to the stack's PostgreSQL as superuser, bypassing the gateway. */
    public static Connection superuser(String database) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://" + host() + ":" + get("PG_PORT") + "/" + database,
                get("PG_SUPERUSER"), get("PG_SUPERUSER_PASSWORD"));
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
