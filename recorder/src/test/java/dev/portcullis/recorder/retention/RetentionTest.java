package dev.portcullis.recorder.retention;

import static dev.portcullis.recorder.testing.StoredRecording.await;
import static dev.portcullis.recorder.testing.StoredRecording.reaches;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.recorder.RecorderConfig;
import dev.portcullis.recorder.testing.EventTopic;
import dev.portcullis.recorder.testing.SessionScript;
import dev.portcullis.recorder.testing.StoredRecording;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/** Retention deletes a recording's PostgreSQL rows and S3 objects together, and only recordings past the period. */
@QuarkusTest
@QuarkusTestResource(EventTopic.class)
class RetentionTest {
    @Inject
    RetentionJob retention;

    @Inject
    S3Client s3;

    @ConfigProperty(name = "portcullis.recorder.s3.bucket")
    String bucket;

    @Inject
    RecorderConfig config;

    @Test
    void a_recording_past_the_period_is_deleted_on_both_sides_and_a_recent_one_is_kept() throws Exception {
        UUID old = UUID.randomUUID();
        UUID recent = UUID.randomUUID();
        List<SessionEvent> oldEvents = SessionScript.session(old, Instant.now().minus(config.retention().period()).minus(Duration.ofDays(2)), 3);
        List<SessionEvent> recentEvents = SessionScript.session(recent, Instant.now().minus(Duration.ofDays(1)), 3);
        EventTopic.publish(oldEvents);
        EventTopic.publish(recentEvents);
        await("both sessions", 30_000, () -> reaches(old, oldEvents.size()).getAsBoolean()
                && reaches(recent, recentEvents.size()).getAsBoolean());
        String oldPrefix = StoredRecording.read(old).objectPrefix();
        assertTrue(objects(oldPrefix) > 0);

        assertTrue(retention.deleteExpired() >= 1);

        assertNull(StoredRecording.read(old), "the old session's rows are gone");
        assertEquals(0, objects(oldPrefix), "the old session's objects are gone");
        StoredRecording kept = StoredRecording.read(recent);
        assertNotNull(kept, "the recent session is kept");
        assertTrue(kept.verify(s3, bucket).ok(), "and still whole");
    }

    private int objects(String prefix) {
        return s3.listObjectsV2(b -> b.bucket(bucket).prefix(prefix)).contents().size();
    }
}
