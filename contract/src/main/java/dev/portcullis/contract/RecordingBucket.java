package dev.portcullis.contract;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The S3 bucket that holds the recordings: the recorder writes it, the admin API reads it. Declared once, as
 * {@code portcullis.recordings.s3.*} (environment: {@code PORTCULLIS_RECORDINGS_S3_BUCKET} and so on), defaulting to the
 * local stack's {@code S3_*} values. Each app's own key may differ: the admin API needs read access only.
 *
 * <p>Objects: {@code recordings/<yyyy>/<mm>/<dd>/<random>.jsonl.gz}, one per stored batch, and parked events under
 * {@code parked/}. The AWS SDK and SmallRye Config are optional dependencies of the contract: only the apps that use
 * this class (recorder, admin API) carry them.
 */
@ConfigMapping(prefix = "portcullis.recordings.s3")
public interface RecordingBucket {
    /** S3 API endpoint. Requests use path-style addressing, which s3proxy and MinIO need. */
    @WithDefault("${S3_ENDPOINT}")
    URI endpoint();

    @WithDefault("${S3_BUCKET}")
    String bucket();

    /** Signing region; S3-compatible stores accept any, AWS needs the bucket's. */
    @WithDefault("us-east-1")
    String region();

    /** Access key id. Without it and the secret key, requests are anonymous and the store refuses them. */
    @WithDefault("${S3_ACCESS_KEY:}")
    Optional<String> accessKey();

    /** Secret access key. Never logged. */
    @WithDefault("${S3_SECRET_KEY:}")
    Optional<String> secretKey();

    default boolean hasCredentials() {
        return accessKey().isPresent() && secretKey().isPresent();
    }

    /**
     * Attempts per S3 call, the first included. A connection that the store drops mid-request ("Error writing request
     * body to server") is retried by the client itself, with jittered exponential backoff from 100 ms, so that a blip
     * of about a second never reaches the caller. The SDK's default is 3.
     */
    int ATTEMPTS = 6;

    /**
     * A client for this bucket, on the blocking URL-connection HTTP client (no second Netty beside Quarkus's). Call it
     * once per app and close it at shutdown.
     */
    default S3Client client(Duration connectTimeout, Duration socketTimeout) {
        AwsCredentialsProvider credentials = hasCredentials()
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey().get(), secretKey().get()))
                : AnonymousCredentialsProvider.create();
        return S3Client.builder()
                .endpointOverride(endpoint())
                .region(Region.of(region()))
                .forcePathStyle(true)
                .credentialsProvider(credentials)
                // S3-compatible stores do not all understand the SDK's default CRC trailers
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                        .maxAttempts(ATTEMPTS).build()))
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(connectTimeout)
                        .socketTimeout(socketTimeout)
                        .build())
                .build();
    }
}
