package dev.portcullis.recorder.storage;

import dev.portcullis.contract.RecordingBucket;
import dev.portcullis.recorder.RecorderConfig;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import software.amazon.awssdk.services.s3.S3Client;

/** The one S3 client of the recorder, for the {@link RecordingBucket}. */
public class S3ClientProducer {

    // @Startup: building the client loads hundreds of classes; doing that lazily would block the event loop
    // on the first readiness probe.
    @Produces
    @Startup
    @Singleton
    S3Client s3Client(RecordingBucket bucket, RecorderConfig config) {
        return bucket.client(config.readinessTimeout(), config.readinessTimeout().multipliedBy(10));
    }

    void close(@Disposes S3Client client) {
        client.close();
    }
}
