package dev.portcullis.recorder.storage;

import dev.portcullis.recorder.RecorderConfig;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** The one S3 client of the recorder, configured from {@link RecorderConfig.S3}. */
public class S3ClientProducer {

    // @Startup: building the client loads hundreds of classes; doing that lazily would block the event loop
    // on the first readiness probe.
    @Produces
    @Startup
    @Singleton
    S3Client s3Client(RecorderConfig config) {
        RecorderConfig.S3 s3 = config.s3();
        return S3Client.builder()
                .endpointOverride(s3.endpoint())
                .region(Region.of(s3.region()))
                .forcePathStyle(true)
                .credentialsProvider(credentials(s3))
                // S3-compatible stores do not all understand the SDK's default CRC trailers
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(config.readinessTimeout())
                        .socketTimeout(config.readinessTimeout().multipliedBy(10))
                        .build())
                .build();
    }

    void close(@Disposes S3Client client) {
        client.close();
    }

    private static AwsCredentialsProvider credentials(RecorderConfig.S3 s3) {
        if (s3.accessKey().isEmpty() || s3.secretKey().isEmpty()) {
            // the readiness check reports the missing keys; anonymous requests are then refused by the store
            return AnonymousCredentialsProvider.create();
        }
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKey().get(), s3.secretKey().get()));
    }
}
