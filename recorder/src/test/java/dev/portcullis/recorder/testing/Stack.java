package dev.portcullis.recorder.testing;

import dev.portcullis.contract.testing.StackEnv;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** The real local stack as the recorder's tests see it: {@link StackEnv}, plus an S3 client with its credentials. */
public final class Stack {
    public static final Path ENV_FILE = StackEnv.ENV_FILE;
    public static final Path SECRETS_FILE = StackEnv.SECRETS_FILE;
    public static final Path ROOT = StackEnv.ROOT;

    private Stack() {
    }

    public static String get(String key) {
        return StackEnv.get(key);
    }

    /** Starts the dependencies when they are not all healthy (idempotent; never stops anything). */
    public static void ensureUp() {
        StackEnv.ensureUp();
    }

    /** The Portcullis metadata database, as the apps' own user. */
    public static Connection portcullisDb() throws SQLException {
        return StackEnv.portcullisDb(StackEnv.port("PG_PORT"));
    }

    /** The Portcullis metadata database of the PostgreSQL on that port (the stack's, or a test's own). */
    public static Connection portcullisDb(int port) throws SQLException {
        return StackEnv.portcullisDb(port);
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
