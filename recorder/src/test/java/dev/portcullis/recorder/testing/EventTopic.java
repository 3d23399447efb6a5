package dev.portcullis.recorder.testing;

import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A session-events topic of the tests' own on the stack's real Kafka (3 partitions, like a small production topic),
 * with its own consumer group, so that what others publish to the shared topic cannot disturb the assertions.
 * Deleted at the end.
 */
public class EventTopic implements QuarkusTestResourceLifecycleManager {
    private static String topic;
    private static String groupId;

    @Override
    public Map<String, String> start() {
        Stack.ensureUp();
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        create("portcullis.session-events.test-" + suffix, "portcullis-recorder-test-" + suffix);
        return Map.of("portcullis.recorder.kafka.topic", topic, "portcullis.recorder.kafka.group-id", groupId);
    }

    @Override
    public void stop() {
        delete(topic);
    }

    public static void create(String name, String group) {
        topic = name;
        groupId = group;
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, 3, (short) 1))).all().get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot create topic " + name, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Deletes the topic, and what the recorder parked from it (a test's parked runs are not for replay). */
    public static void delete(String name) {
        try (Admin admin = admin()) {
            admin.deleteTopics(List.of(name)).all().get();
        } catch (ExecutionException | InterruptedException e) {
            // a leftover test topic disturbs nothing
        }
        try (java.sql.Connection db = Stack.portcullisDb();
                java.sql.PreparedStatement s = db.prepareStatement("DELETE FROM parked_runs WHERE topic = ? RETURNING object_key");
                software.amazon.awssdk.services.s3.S3Client s3 = Stack.s3(Stack.get("S3_ENDPOINT"))) {
            s.setString(1, name);
            try (java.sql.ResultSet keys = s.executeQuery()) {
                while (keys.next()) {
                    String key = keys.getString(1);
                    s3.deleteObject(b -> b.bucket(Stack.get("S3_BUCKET")).key(key));
                }
            }
        } catch (java.sql.SQLException | RuntimeException e) {
            // left parked: listed by GET /recordings/parked, harmless
        }
    }

    public static String topic() {
        return topic;
    }

    public static String groupId() {
        return groupId;
    }

    public static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, Stack.get("KAFKA_BOOTSTRAP")));
    }

    /** A real producer, configured as the gateway's would be: idempotent, acks=all, keyed by session id. */
    public static KafkaProducer<String, byte[]> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Stack.get("KAFKA_BOOTSTRAP"));
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /** Publishes the events in order and waits until Kafka has them all. */
    public static void publish(List<SessionEvent> events) {
        try (KafkaProducer<String, byte[]> producer = producer()) {
            for (SessionEvent event : events) {
                producer.send(new ProducerRecord<>(topic, event.sessionId().toString(), SessionEvents.toJson(event)));
            }
            producer.flush();
        }
    }

    public static void publishRaw(String key, byte[] value) {
        try (KafkaProducer<String, byte[]> producer = producer()) {
            producer.send(new ProducerRecord<>(topic, key, value));
            producer.flush();
        }
    }
}
