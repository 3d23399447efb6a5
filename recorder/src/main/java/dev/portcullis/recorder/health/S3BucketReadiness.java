package dev.portcullis.recorder.health;

import dev.portcullis.contract.RecordingBucket;
import dev.portcullis.recorder.RecorderConfig;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** Ready only if the recordings bucket answers a HEAD with our credentials: recordings would be lost otherwise. */
@Readiness
@ApplicationScoped
public class S3BucketReadiness implements AsyncHealthCheck {
    static final String NAME = "S3 recordings bucket";

    private final S3Client s3;
    private final RecordingBucket bucket;
    private final java.time.Duration timeout;

    S3BucketReadiness(S3Client s3, RecordingBucket bucket, RecorderConfig config) {
        this.s3 = s3;
        this.bucket = bucket;
        this.timeout = config.readinessTimeout();
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        // the SDK client blocks: keep it off the event loop
        return Uni.createFrom().item(this::headBucket)
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .ifNoItem().after(timeout.plusSeconds(1)).recoverWithItem(() -> down()
                        .withData("error", "no answer within " + timeout.toSeconds() + "s").build());
    }

    private HealthCheckResponse headBucket() {
        if (!bucket.hasCredentials()) {
            return down().withData("error", "no credentials: set portcullis.recordings.s3.access-key and secret-key"
                    + " (S3_ACCESS_KEY / S3_SECRET_KEY)").build();
        }
        try {
            s3.headBucket(HeadBucketRequest.builder().bucket(bucket.bucket()).build());
            return base().up().build();
        } catch (NoSuchBucketException e) {
            return down().withData("error", "bucket does not exist; create it (dev-services/stack up does)").build();
        } catch (S3Exception e) {
            String why = e.statusCode() == 403 ? "access denied: check the access and secret keys"
                    : e.statusCode() == 404 ? "bucket does not exist; create it (dev-services/stack up does)"
                    : "S3 answered HTTP " + e.statusCode();
            return down().withData("error", why).build();
        } catch (SdkClientException e) {
            return down().withData("error", "unreachable: " + e.getMessage()).build();
        }
    }

    private HealthCheckResponseBuilder base() {
        return HealthCheckResponse.named(NAME)
                .withData("endpoint", bucket.endpoint().toString())
                .withData("bucket", bucket.bucket());
    }

    private HealthCheckResponseBuilder down() {
        return base().down();
    }
}
