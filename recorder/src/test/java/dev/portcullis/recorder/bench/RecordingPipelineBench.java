package dev.portcullis.recorder.bench;

import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import dev.portcullis.recorder.testing.RecorderProcess;
import dev.portcullis.recorder.testing.SessionScript;
import dev.portcullis.recorder.testing.Stack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The recording pipeline under load (dev-services/bench-recording): the packaged recorder on the shared stack,
 * reading a topic and group of this run's own; N session events (many sessions, their requests and results
 * interleaved, each stamped {@code at} when it is sent) published at full speed through an idempotent acks=all
 * producer. Measured from what the recorder stored: events/s into PostgreSQL and S3, and the lag from each event's
 * {@code at} to its {@code session_events.stored_at}. The run's recordings are deleted at the end.
 */
public final class RecordingPipelineBench {
    private static final int PARTITIONS = 6;
    private static final int STATEMENTS = 60; // 2 + 60 + 40 = 102 events per session
    private static final int HTTP_PORT = 29090;

    public static void main(String[] args) throws Exception {
        int target = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        String run = Long.toString(System.currentTimeMillis(), 36);
        String topic = "portcullis.session-events.bench-" + run;
        String group = "portcullis-recorder-bench-" + run;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", Stack.get("KAFKA_BOOTSTRAP")))) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
        }
        List<List<SessionEvent>> sessions = new ArrayList<>();
        int total = 0;
        while (total < target) {
            List<SessionEvent> s = SessionScript.session(UUID.randomUUID(), Instant.EPOCH, STATEMENTS);
            sessions.add(s);
            total += s.size();
        }
        UUID[] ids = sessions.stream().map(s -> s.get(0).sessionId()).toArray(UUID[]::new);
        Path log = Files.createTempFile("recorder-bench-", ".log");
        RecorderProcess recorder = RecorderProcess.start(log, HTTP_PORT, List.of("-Dquarkus.http.port=" + HTTP_PORT,
                "-Dportcullis.recorder.kafka.topic=" + topic, "-Dportcullis.recorder.kafka.group-id=" + group));
        try {
            long t0 = System.nanoTime();
            publish(topic, sessions);
            double publishSeconds = (System.nanoTime() - t0) / 1e9;
            long deadline = System.nanoTime() + 600_000_000_000L;
            while (stored(ids) < total) {
                if (System.nanoTime() > deadline || !recorder.alive()) {
                    throw new IllegalStateException("the recorder stored " + stored(ids) + " of " + total
                            + " events in 10 minutes; its log: " + log);
                }
                Thread.sleep(250);
            }
            double endToEnd = (System.nanoTime() - t0) / 1e9;
            report(ids, total, publishSeconds, endToEnd);
        } finally {
            recorder.close();
            cleanUp(ids, topic);
        }
    }

    /** Round-robin over the sessions, as concurrent sessions of several gateways would interleave. */
    private static void publish(String topic, List<List<SessionEvent>> sessions) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Stack.get("KAFKA_BOOTSTRAP"));
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            int rounds = sessions.get(0).size();
            for (int round = 0; round < rounds; round++) {
                for (List<SessionEvent> s : sessions) {
                    SessionEvent e = s.get(round);
                    SessionEvent now = new SessionEvent(e.sessionId(), e.seq(), Instant.now(), e.body());
                    producer.send(new ProducerRecord<>(topic, e.sessionId().toString(), SessionEvents.toJson(now)));
                }
            }
            producer.flush();
        }
    }

    private static long stored(UUID[] ids) throws Exception {
        try (Connection db = Stack.portcullisDb();
                PreparedStatement s = db.prepareStatement("SELECT count(*) FROM session_events WHERE session_id = ANY (?)")) {
            s.setArray(1, db.createArrayOf("uuid", ids));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static void report(UUID[] ids, int total, double publishSeconds, double endToEnd) throws Exception {
        try (Connection db = Stack.portcullisDb(); PreparedStatement s = db.prepareStatement("""
                SELECT count(*), count(DISTINCT (session_id, chunk_seq)),
                       extract(epoch FROM max(stored_at) - min(stored_at)),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - at)),
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - at)),
                       extract(epoch FROM max(stored_at - at))
                FROM session_events WHERE session_id = ANY (?)""")) {
            s.setArray(1, db.createArrayOf("uuid", ids));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                long rows = rs.getLong(1);
                double busy = rs.getDouble(3);
                System.out.printf("published %d events of %d sessions (%d partitions) in %.1f s: %.0f events/s%n",
                        total, ids.length, PARTITIONS, publishSeconds, total / publishSeconds);
                System.out.printf("stored    %d index rows in %d S3 chunks; %.0f events/s sustained (first to last write, %.1f s),"
                        + " %.0f events/s from the first send%n", rows, rs.getLong(2), rows / busy, busy, rows / endToEnd);
                System.out.printf("lag       event at -> stored_at: p50 %.0f ms, p99 %.0f ms, max %.0f ms%n",
                        rs.getDouble(4) * 1000, rs.getDouble(5) * 1000, rs.getDouble(6) * 1000);
            }
        }
    }

    /** The run's rows, objects and topic: a benchmark leaves no recordings behind. */
    private static void cleanUp(UUID[] ids, String topic) throws Exception {
        List<String> prefixes = new ArrayList<>();
        try (Connection db = Stack.portcullisDb()) {
            try (PreparedStatement s = db.prepareStatement("SELECT object_prefix FROM sessions WHERE id = ANY (?)")) {
                s.setArray(1, db.createArrayOf("uuid", ids));
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        prefixes.add(rs.getString(1));
                    }
                }
            }
            try (PreparedStatement s = db.prepareStatement("DELETE FROM sessions WHERE id = ANY (?)")) {
                s.setArray(1, db.createArrayOf("uuid", ids));
                s.executeUpdate();
            }
        }
        String bucket = Stack.get("S3_BUCKET");
        try (S3Client s3 = Stack.s3(Stack.get("S3_ENDPOINT"))) {
            for (String prefix : prefixes) {
                for (S3Object o : s3.listObjectsV2(b -> b.bucket(bucket).prefix(prefix)).contents()) {
                    s3.deleteObject(b -> b.bucket(bucket).key(o.key()));
                }
            }
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", Stack.get("KAFKA_BOOTSTRAP")))) {
            admin.deleteTopics(List.of(topic)).all().get();
        }
    }
}
