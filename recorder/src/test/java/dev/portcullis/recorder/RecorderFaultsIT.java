package dev.portcullis.recorder;

import static dev.portcullis.recorder.testing.SessionStream.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.contract.events.HashChain;
import dev.portcullis.contract.events.SessionEnded;
import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import dev.portcullis.recorder.testing.ParkedRow;
import dev.portcullis.recorder.testing.PrivateServices;
import dev.portcullis.recorder.testing.PrivateServices.Service;
import dev.portcullis.recorder.testing.RecorderProcess;
import dev.portcullis.recorder.testing.SessionStream;
import dev.portcullis.recorder.testing.Stack;
import dev.portcullis.recorder.testing.StoredRecording;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The packaged recorder, run as its own process against a Kafka, an s3proxy and a PostgreSQL of this test's own
 * (dev-services/private-service, ports 29000-29099), loses and duplicates nothing across each fault of issue #6:
 * every published event is stored exactly once, in S3 and in the index, its session's chain verifies against S3
 * and ends at the hash computed from what was published, and the offsets are committed only once it is stored.
 */
class RecorderFaultsIT {
    private static final Duration CATCH_UP = Duration.ofSeconds(90);
    private static final String GROUP = RecorderProcess.GROUP;
    private static final String RETRIES = "portcullis_recorder_batch_retries";
    private static PrivateServices services;
    private static S3Client s3;
    private static String topic;
    private static String bucket;
    /** One recorder for the class (its start is the slow part); a test that kills it starts the next one. */
    private static RecorderProcess recorder;
    private static int recorderStarts;

    @BeforeAll
    static void startServices() throws Exception {
        services = PrivateServices.start(Path.of("target/faults"), RecorderProcess.HTTP_PORT);
        s3 = Stack.s3(PrivateServices.s3Endpoint());
        topic = RecorderProcess.TOPIC;
        bucket = Stack.get("S3_BUCKET");
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 6, (short) 1))).all().get();
        }
    }

    @AfterAll
    static void stopServices() throws InterruptedException {
        try {
            if (recorder != null) {
                recorder.close();
            }
        } finally {
            if (s3 != null) {
                s3.close();
            }
            if (services != null) {
                services.close();
            }
        }
    }

    /** A running recorder that has its partitions and stores: one session goes through first. */
    @BeforeEach
    void recorderWorks() throws Exception {
        if (recorder == null || !recorder.alive()) {
            startRecorder();
        }
        try (SessionStream stream = new SessionStream(PrivateServices.kafkaBootstrap(), topic, 1, 1)) {
            stream.awaitPublished(CATCH_UP);
            await("a warm-up session stored", CATCH_UP, () -> stored(stream.sessions().keySet()) == stream.size());
        }
    }

    @Test
    void the_recorder_killed_mid_stream_and_restarted_stores_every_event_once() throws Exception {
        try (SessionStream stream = midStream()) {
            recorder.kill();
            long storedAtKill = stored(stream.sessions().keySet());
            assertTrue(storedAtKill < stream.size(), "precondition: events are left to store after the kill");

            startRecorder();
            stream.awaitPublished(CATCH_UP);
            await("every event stored after the restart", CATCH_UP, () -> stored(stream.sessions().keySet()) == stream.size());
            assertStoredOnceAndChained(stream.sessions());
            awaitAllCommitted();
            await("the recorder to report no lag", CATCH_UP, () -> recorder.gauge("portcullis_recorder_consumer_lag") == 0);
            System.out.printf("recorder killed with %d of %d events stored; after the restart it skipped %.0f redelivered%n",
                    storedAtKill, stream.size(), recorder.counter("portcullis_recorder_events_duplicates"));
        }
    }

    @Test
    void while_s3_is_unavailable_nothing_is_indexed_or_committed_and_the_recorder_catches_up() throws Exception {
        awaitAllCommitted();
        double retriesBefore = recorder.counter(RETRIES);
        services.kill(Service.S3PROXY);
        Map<TopicPartition, Long> committedBefore = committed();
        try (SessionStream stream = new SessionStream(PrivateServices.kafkaBootstrap(), topic, 100, 30)) { // 5,200 events
            stream.awaitPublished(CATCH_UP);
            await("the recorder to fail to store and retry", CATCH_UP, () -> recorder.counter(RETRIES) >= retriesBefore + 2);
            assertEquals(0, stored(stream.sessions().keySet()), "no index row without its chunk in S3");
            assertEquals(committedBefore, committed(), "no offset is committed for events that are not stored");
            assertTrue(recorder.alive(), "the recorder waits for S3; it does not exit");
            await("readiness to say that the recorder stores nothing while events wait", CATCH_UP,
                    () -> recorder.health("ready").contains("nothing was stored for"));

            services.start(Service.S3PROXY);
            await("every event stored once S3 is back", CATCH_UP, () -> stored(stream.sessions().keySet()) == stream.size());
            await("the recorder ready again", CATCH_UP, recorder::ready);
            assertStoredOnceAndChained(stream.sessions());
            awaitAllCommitted();
        }
    }

    @Test
    void kafka_stopped_and_restarted_mid_stream_the_recorder_reconnects_and_catches_up() throws Exception {
        int startsBefore = recorderStarts;
        try (SessionStream stream = midStream()) {
            services.stop(Service.KAFKA);
            services.start(Service.KAFKA);
            stream.awaitPublished(CATCH_UP);
            await("every event stored after Kafka's restart", CATCH_UP, () -> stored(stream.sessions().keySet()) == stream.size());
            assertTrue(recorder.alive() && recorderStarts == startsBefore, "the same recorder process reconnected");
            assertStoredOnceAndChained(stream.sessions());
            awaitAllCommitted();
        }
    }

    @Test
    void postgresql_restarted_mid_stream_the_recorder_retries_and_catches_up() throws Exception {
        int startsBefore = recorderStarts;
        try (SessionStream stream = midStream()) {
            double retriesBefore = recorder.counter(RETRIES);
            services.stop(Service.POSTGRES);
            await("the recorder to fail to index and retry", CATCH_UP, () -> recorder.counter(RETRIES) > retriesBefore);
            services.start(Service.POSTGRES);
            stream.awaitPublished(CATCH_UP);
            await("every event stored after PostgreSQL's restart", CATCH_UP, () -> stored(stream.sessions().keySet()) == stream.size());
            assertTrue(recorder.alive() && recorderStarts == startsBefore, "the same recorder process reconnected");
            assertStoredOnceAndChained(stream.sessions());
            awaitAllCommitted();
        }
    }

    /**
     * Sustained load: 200 sessions of 100 statements (33,800 events), a round (an event of every session) every 25 ms,
     * about 8,000 events/s for 4 s. The first third published and stored, then the rest on its way; the caller strikes
     * while it is being published.
     */
    private static SessionStream midStream() throws Exception {
        SessionStream stream = new SessionStream(PrivateServices.kafkaBootstrap(), topic, 200, 100, Duration.ofMillis(25), 56);
        await("the first third stored", CATCH_UP, () -> stored(stream.sessions().keySet()) == stream.held());
        stream.release();
        assertTrue(stream.publishing(), "precondition: the fault strikes while events are being published");
        return stream;
    }

    private static void startRecorder() throws Exception {
        recorder = RecorderProcess.start(services.dir().resolve("recorder-" + ++recorderStarts + ".log"));
    }

    private void assertStoredOnceAndChained(Map<UUID, List<SessionEvent>> sessions) throws Exception {
        for (var session : sessions.entrySet()) {
            UUID id = session.getKey();
            List<SessionEvent> published = session.getValue();
            StoredRecording stored = StoredRecording.read(() -> Stack.portcullisDb(PrivateServices.PG_PORT), id);
            assertNotNull(stored, "session " + id + " is indexed");
            assertEquals(published.size(), stored.links().size(), "index rows of session " + id);
            for (int i = 0; i < published.size(); i++) {
                assertEquals(i + 1, stored.links().get(i).seq(), "session " + id + ": seqs run 1..n without gaps");
            }
            byte[] expected = HashChain.start();
            List<String> publishedLines = new ArrayList<>();
            for (SessionEvent e : published) {
                byte[] json = SessionEvents.toJson(e);
                expected = HashChain.next(expected, json);
                publishedLines.add(new String(json, StandardCharsets.UTF_8));
            }
            assertEquals(published.size(), stored.lastSeq());
            assertArrayEquals(expected, stored.lastHash(), "session " + id + ": the chain ends at the hash of what was published");
            List<byte[]> lines = new ArrayList<>();
            var outcome = stored.verify(s3, bucket, lines);
            assertTrue(outcome.ok(), "session " + id + ": " + outcome);
            assertEquals(published.size(), outcome.verified());
            List<String> inS3 = lines.stream().map(l -> new String(l, StandardCharsets.UTF_8)).sorted().toList();
            assertEquals(publishedLines.stream().sorted().toList(), inS3, "session " + id + ": S3 holds each event once");
            SessionEnded end = (SessionEnded) published.get(published.size() - 1).body();
            assertEquals(end.requests(), stored.requests(), "session " + id + ": requests counted once");
            assertEquals(end.denials(), stored.denials(), "session " + id + ": denials counted once");
        }
        assertEquals(List.of(), ParkedRow.ofTopic(() -> Stack.portcullisDb(PrivateServices.PG_PORT), topic), "nothing is parked");
    }

    /** Index rows of these sessions in the test's PostgreSQL; -1 while it is unreachable. */
    private static long stored(Collection<UUID> sessionIds) {
        try (Connection db = Stack.portcullisDb(PrivateServices.PG_PORT);
                PreparedStatement s = db.prepareStatement("SELECT count(*) FROM session_events WHERE session_id = ANY (?)")) {
            s.setArray(1, db.createArrayOf("uuid", sessionIds.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            return -1;
        }
    }

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, PrivateServices.kafkaBootstrap(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000));
    }

    /** The recorder group's committed offset of each partition of the topic (0 where none). */
    private static Map<TopicPartition, Long> committed() throws Exception {
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(GROUP)
                    .partitionsToOffsetAndMetadata().get();
            return endOffsets(admin).keySet().stream().collect(Collectors.toMap(tp -> tp,
                    tp -> offsets.get(tp) == null ? 0L : offsets.get(tp).offset()));
        }
    }

    private static Map<TopicPartition, Long> endOffsets(Admin admin) throws Exception {
        int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        return admin.listOffsets(latest).all().get().entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    }

    /** Everything published is stored, so the group must come to commit up to the end of every partition. */
    private static void awaitAllCommitted() throws Exception {
        await("the recorder to commit every stored event's offset", CATCH_UP, () -> {
            try (Admin admin = admin()) {
                return committed().equals(endOffsets(admin));
            }
        });
    }
}
