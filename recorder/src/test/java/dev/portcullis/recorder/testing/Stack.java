package dev.portcullis.recorder.testing;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** The real local stack (dev-services/stack) as the tests see it: its env file, its secrets, its services. */
public final class Stack {
    public static final Path ENV_FILE = Path.of(System.getProperty("stack.properties.file", "../dev-services/stack.properties"));
    public static final Path SECRETS_FILE = Path.of(System.getProperty("stack.secrets.file", "../.stack/secrets.properties"));
    public static final Path ROOT = ENV_FILE.toAbsolutePath().getParent().getParent();
    private static final Map<String, String> VALUES = new HashMap<>();
    private static boolean up;

    static {
        load(ENV_FILE);
        if (Files.exists(SECRETS_FILE)) {
            load(SECRETS_FILE);
        }
    }

    private Stack() {
    }

    private static void load(Path file) {
        try {
            for (String line : Files.readAllLines(file)) {
                int eq = line.indexOf('=');
                if (!line.isBlank() && !line.trim().startsWith("#") && eq > 0) {
                    VALUES.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file + "; start the stack with: dev-services/stack up --deps-only", e);
        }
    }

    public static String get(String key) {
        String value = VALUES.get(key);
        if (value == null) {
            throw new IllegalStateException(key + " is not set in " + ENV_FILE + " or " + SECRETS_FILE
                    + "; start the stack with: dev-services/stack up --deps-only");
        }
        return value;
    }

    /** Starts the dependencies when they are not all healthy (idempotent; never stops anything). */
    public static synchronized void ensureUp() {
        if (up) {
            return;
        }
        if (run("status") != 0 && run("up", "--deps-only") != 0) {
            throw new IllegalStateException("the local stack did not start; see .stack/logs/ and run dev-services/stack up --deps-only");
        }
        VALUES.clear();
        load(ENV_FILE);
        load(SECRETS_FILE);
        up = true;
    }

    private static int run(String... args) {
        String[] command = new String[args.length + 1];
        command[0] = ROOT.resolve("dev-services/stack").toString();
        System.arraycopy(args, 0, command, 1, args.length);
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
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

    /** The Portcullis metadata database, as the apps' own user. */
    public static Connection portcullisDb() throws SQLException {
        return portcullisDb(Integer.parseInt(get("PG_PORT")));
    }

    /** The Portcullis metadata database of the PostgreSQL on that port (the stack's, or a test's own). */
    public static Connection portcullisDb(int port) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://" + get("STACK_HOST") + ":" + port + "/"
                + get("PORTCULLIS_DB"), get("PORTCULLIS_DB_USER"), get("PORTCULLIS_DB_PASSWORD"));
    }

    /** An S3 client with the stack's credentials, for the given endpoint (the stack's or a test's own s3proxy). */
    public static S3Client s3(String endpoint) {
        return S3Client.builder()
                .endpointOverride(URI.create(endpoint))
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(get("S3_ACCESS_KEY"), get("S3_SECRET_KEY"))))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }
}
