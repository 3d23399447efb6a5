package dev.portcullis.contract.testing;

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
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real local stack (dev-services/stack) as every module's tests see it: its env file
 * (dev-services/stack.properties), its generated secrets (.stack/secrets.properties), tokens from its real OIDC
 * issuer, and its PostgreSQL. The one loader of those files for tests; shared as this module's test jar.
 */
public final class StackEnv {
    public static final Path ENV_FILE = Path.of(System.getProperty("stack.properties.file", "../dev-services/stack.properties"));
    public static final Path SECRETS_FILE = Path.of(System.getProperty("stack.secrets.file", "../.stack/secrets.properties"));
    /** The repository's root. */
    public static final Path ROOT = ENV_FILE.toAbsolutePath().getParent().getParent();
    private static final String START_IT = "; start the stack with: dev-services/stack up --deps-only";
    private static final Map<String, String> VALUES = new HashMap<>();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static boolean up;

    static {
        reload();
    }

    private StackEnv() {
    }

    private static synchronized void reload() {
        VALUES.clear();
        load(ENV_FILE);
        if (Files.exists(SECRETS_FILE)) {
            load(SECRETS_FILE);
        }
    }

    private static void load(Path file) {
        try {
            for (String line : Files.readAllLines(file)) {
                line = line.trim();
                int eq = line.indexOf('=');
                if (line.isEmpty() || line.startsWith("#") || eq <= 0) {
                    continue;
                }
                String value = line.substring(eq + 1).trim();
                if (value.length() >= 2 && (value.startsWith("\"") || value.startsWith("'"))) {
                    value = value.substring(1, value.length() - 1);
                }
                VALUES.put(line.substring(0, eq).trim(), value);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file + START_IT, e);
        }
    }

    public static synchronized String get(String key) {
        String value = VALUES.get(key);
        if (value == null) {
            throw new IllegalStateException(key + " is not set in " + ENV_FILE + " or " + SECRETS_FILE + START_IT);
        }
        return value;
    }

    public static int port(String key) {
        return Integer.parseInt(get(key));
    }

    public static String host() {
        return get("STACK_HOST");
    }

    /** Starts the dependencies when they are not all healthy (idempotent; never stops anything), then rereads the files. */
    public static synchronized void ensureUp() {
        if (up) {
            return;
        }
        if (stack("status") != 0 && stack("up", "--deps-only") != 0) {
            throw new IllegalStateException("the local stack did not start; see .stack/logs/ and run dev-services/stack up --deps-only");
        }
        reload();
        up = true;
    }

    /** Runs dev-services/stack with these arguments, its output discarded; its exit status, or -1 after 10 minutes. */
    public static int stack(String... args) {
        String[] command = new String[args.length + 1];
        command[0] = ROOT.resolve("dev-services/stack").toString();
        System.arraycopy(args, 0, command, 1, args.length);
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command[0], e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * A fresh access token from the stack's real OIDC issuer (mock-oauth2-server, MOCK_OIDC_ISSUER) by the
     * client-credentials grant. Its config (dev-services/oidc) maps each client id to a demo identity's claims.
     */
    public static String token(String clientId) {
        String form = "grant_type=client_credentials&scope=openid&client_secret=unused-by-the-issuer&client_id="
                + URLEncoder.encode(clientId, StandardCharsets.UTF_8);
        String issuer = get("MOCK_OIDC_ISSUER");
        HttpRequest request = HttpRequest.newBuilder(URI.create(issuer + "/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build();
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("token request for " + clientId + " failed: " + response.statusCode() + " " + response.body());
            }
            return JSON.readTree(response.body()).get("access_token").asText();
        } catch (IOException e) {
            throw new IllegalStateException("cannot get a token for " + clientId + " from " + issuer + START_IT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
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

    /** A JDBC connection to the stack's PostgreSQL as its superuser, bypassing the gateway. */
    public static Connection superuser(String database) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://" + host() + ":" + get("PG_PORT") + "/" + database,
                get("PG_SUPERUSER"), get("PG_SUPERUSER_PASSWORD"));
    }

    /** The Portcullis metadata database of the PostgreSQL on that port (the stack's, or a test's own), as the apps' user. */
    public static Connection portcullisDb(int port) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://" + host() + ":" + port + "/" + get("PORTCULLIS_DB"),
                get("PORTCULLIS_DB_USER"), get("PORTCULLIS_DB_PASSWORD"));
    }

    /**
     * Registers the stack's demo database {@code database} (as its owner, over TLS) as connection {@code name} with tag
     * {@code env}, its password sealed as the admin API seals it. In SQL, as a test's setup: the database audits it.
     */
    public static void registerDemoConnection(String name, String database, String env) throws SQLException {
        byte[] sealed = SecretSealer.fromBase64Key(get("PORTCULLIS_SECRET_KEY")).seal(name, get("DEMO_DB_PASSWORD"));
        try (Connection c = portcullisDb(port("PG_PORT")); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO connections (name, type, host, port, database, username, secret, tls_mode, tags)"
                        + " VALUES (?, 'postgres', ?, ?, ?, ?, ?, 'require', jsonb_build_object('env', ?::text))")) {
            ps.setString(1, name);
            ps.setString(2, host());
            ps.setInt(3, port("PG_PORT"));
            ps.setString(4, database);
            ps.setString(5, get("DEMO_DB_USER"));
            ps.setBytes(6, sealed);
            ps.setString(7, env);
            ps.executeUpdate();
        }
    }

    /** Removes a connection {@link #registerDemoConnection} registered. */
    public static void removeConnection(String name) throws SQLException {
        try (Connection c = portcullisDb(port("PG_PORT"));
                PreparedStatement ps = c.prepareStatement("DELETE FROM connections WHERE name = ?")) {
            ps.setString(1, name);
            ps.executeUpdate();
        }
    }
}
