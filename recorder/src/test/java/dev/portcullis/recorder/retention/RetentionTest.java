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
import dev.portcullis.recorder.testing.Stack;
import dev.portcullis.recorder.testing.StoredRecording;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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

    @ConfigProperty(name = "portcullis.recordings.s3.bucket")
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
        await("the old session", 30_000, reaches(old, oldEvents.size()));
        EventTopic.publish(recentEvents);
        await("the recent session", 30_000, reaches(recent, recentEvents.size()));
        List<String> oldObjects = StoredRecording.read(old).chunks().values().stream().map(c -> c.objectKey()).distinct().toList();
        assertTrue(oldObjects.stream().allMatch(this::exists));

        assertTrue(retention.deleteExpired() >= 1);

        assertNull(StoredRecording.read(old), "the old session's rows are gone");
        assertEquals(0, eventRows(old), "and so are its event rows");
        assertEquals(recentEvents.size(), eventRows(recent), "the recent session's event rows are kept");
        for (String key : oldObjects) {
            // an object is shared by the sessions of one batch: it goes once no recording points at it
            assertEquals(referenced(key), exists(key), key + " is kept exactly while a recording points at it");
        }
        StoredRecording kept = StoredRecording.read(recent);
        assertNotNull(kept, "the recent session is kept");
        assertTrue(kept.verify(s3, bucket).ok(), "and still whole");
    }

    @Test
    void an_object_queued_for_deletion_is_deleted_only_once_nothing_points_at_it() throws Exception {
        UUID id = UUID.randomUUID();
        List<SessionEvent> events = SessionScript.session(id, Instant.now(), 2);
        EventTopic.publish(events);
        await("the session", 30_000, reaches(id, events.size()));
        String key = StoredRecording.read(id).chunks().values().iterator().next().objectKey();
        try (Connection db = Stack.portcullisDb(); PreparedStatement s = db.prepareStatement(
                "INSERT INTO recording_deletions (object_key) VALUES (?) ON CONFLICT DO NOTHING")) {
            s.setString(1, key);
            s.executeUpdate();
        }
        retention.deleteQueuedObjects();
        assertTrue(exists(key), "a recording still points at it");
        assertTrue(StoredRecording.read(id).verify(s3, bucket).ok());
    }

    private boolean exists(String key) {
        return !s3.listObjectsV2(b -> b.bucket(bucket).prefix(key)).contents().isEmpty();
    }

    private static long eventRows(UUID sessionId) throws Exception {
        try (Connection db = Stack.portcullisDb(); PreparedStatement s = db.prepareStatement(
                "SELECT count(*) FROM session_events WHERE session_id = ?")) {
            s.setObject(1, sessionId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static boolean referenced(String key) throws Exception {
        try (Connection db = Stack.portcullisDb(); PreparedStatement s = db.prepareStatement(
                "SELECT count(*) FROM session_chunks WHERE object_key = ?")) {
            s.setString(1, key);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }
}
