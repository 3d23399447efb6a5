package dev.portcullis.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.contract.events.SessionEvents;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads the session events the gateway under test published to the stack's real Kafka. */
public final class SessionEventsTopic {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SessionEventsTopic() {
    }

    private static KafkaConsumer<String, byte[]> consumer() {
        Properties p = new Properties();
        p.put("bootstrap.servers", TestStack.get("KAFKA_BOOTSTRAP"));
        p.put("enable.auto.commit", "false");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
        return c.partitionsFor(topic, Duration.ofSeconds(10)).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
    }

    /** The end of every partition now: read events published after this point. */
    public static Map<TopicPartition, Long> mark() {
        return mark(TestStack.get("SESSION_EVENTS_TOPIC"));
    }

    public static Map<TopicPartition, Long> mark(String topic) {
        try (KafkaConsumer<String, byte[]> c = consumer()) {
            return new HashMap<>(c.endOffsets(partitions(c, topic)));
        }
    }

    /**
     * Events published since {@code mark} whose session matches, by seq (a redelivered event counts once), once
     * {@code complete} holds for them or the timeout passes.
     */
    public static TreeMap<Long, JsonNode> events(Map<TopicPartition, Long> mark, Predicate<JsonNode> session,
            Predicate<TreeMap<Long, JsonNode>> complete, Duration timeout) throws Exception {
        return events(TestStack.get("SESSION_EVENTS_TOPIC"), mark, session, complete, timeout);
    }

    public static TreeMap<Long, JsonNode> events(String topic, Map<TopicPartition, Long> mark, Predicate<JsonNode> session,
            Predicate<TreeMap<Long, JsonNode>> complete, Duration timeout) throws Exception {
        Map<String, TreeMap<Long, JsonNode>> bySession = new HashMap<>();
        List<String> matching = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<String, byte[]> c = consumer()) {
            List<TopicPartition> parts = partitions(c, topic);
            c.assign(parts);
            for (TopicPartition tp : parts) {
                c.seek(tp, mark.getOrDefault(tp, 0L));
            }
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    long previous = 0;
                    for (byte[] line : SessionEvents.lines(r.value())) { // a record holds one or more events
                        JsonNode e = JSON.readTree(line);
                        if (!r.key().equals(e.get("session_id").asText())) {
                            throw new AssertionError("event keyed " + r.key() + " belongs to session " + e.get("session_id"));
                        }
                        if (e.get("seq").asLong() <= previous) {
                            throw new AssertionError("events of record " + r.offset() + " out of order: " + e.get("seq") + " after " + previous);
                        }
                        previous = e.get("seq").asLong();
                        bySession.computeIfAbsent(r.key(), k -> new TreeMap<>()).putIfAbsent(previous, e);
                        if (session.test(e) && !matching.contains(r.key())) {
                            matching.add(r.key());
                        }
                    }
                }
                for (String id : matching) {
                    if (complete.test(bySession.get(id))) {
                        return bySession.get(id);
                    }
                }
            }
        }
        throw new AssertionError("no complete recording within " + timeout + "; sessions seen matching: "
                + matching.stream().map(bySession::get).toList());
    }

    /** Complete: seq 1..n without a gap, ending with session.ended. */
    public static boolean ended(TreeMap<Long, JsonNode> events) {
        return events != null && !events.isEmpty() && events.firstKey() == 1 && events.lastKey() == events.size()
                && "session.ended".equals(events.lastEntry().getValue().get("type").asText());
    }
}
