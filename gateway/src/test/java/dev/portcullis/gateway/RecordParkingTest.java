package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.PolicyTargets;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;

/**
 * A record the broker refuses for good (here: larger than the topic's max.message.bytes) is parked in the journal's
 * dead-letter segment, and the recording goes on: the sessions behind it are delivered, and the recording health
 * check says what is parked and why. Before, the gateway resent that one record forever and every later event waited.
 */
@QuarkusTest
@TestProfile(RecordParkingTest.SmallTopic.class)
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class RecordParkingTest {
    static final String TOPIC = "portcullis.session-events.parking-test";

    public static class SmallTopic implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("portcullis.recording.topic", TOPIC,
                    "portcullis.recording.journal-dir", "target/event-journal-parking-" + UUID.randomUUID());
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(SmallTopicResource.class));
        }
    }

    /** A fresh topic that takes messages of at most 4 KiB, made before the gateway starts. */
    public static class SmallTopicResource implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", TestStack.get("KAFKA_BOOTSTRAP")))) {
                try {
                    admin.deleteTopics(List.of(TOPIC)).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                        throw e;
                    }
                }
                for (int attempt = 0; ; attempt++) {
                    try {
                        admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1).configs(Map.of("max.message.bytes", "4096"))))
                                .all().get(30, TimeUnit.SECONDS);
                        return Map.of();
                    } catch (ExecutionException e) {
                        if (attempt > 50) {
                            throw e;
                        }
                        Thread.sleep(200); // the deleted topic is still going away
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException("cannot make the test topic " + TOPIC, e);
            }
        }

        @Override
        public void stop() {
        }
    }

    @Test
    void a_record_the_broker_refuses_is_parked_and_the_sessions_behind_it_are_delivered() throws Exception {
        PolicyTargets.ensure();
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark(TOPIC);
        String big = "big-" + UUID.randomUUID();
        byte[] noise = new byte[16_000];
        new java.security.SecureRandom().nextBytes(noise); // so that compression does not make the record small
        Cli.Result first = Cli.psql(TestStack.token("bob"), PolicyTargets.DEV,
                "SELECT '" + big + "' AS m /* " + java.util.Base64.getEncoder().encodeToString(noise) + " */;\n");
        assertEquals(0, first.exitCode(), first.all());
        String small = "small-" + UUID.randomUUID();
        Cli.Result second = Cli.psql(TestStack.token("bob"), PolicyTargets.DEV, "SELECT '" + small + "' AS m;\n");
        assertTrue(second.stdout().contains(small), second.all());

        TreeMap<Long, JsonNode> delivered = SessionEventsTopic.events(TOPIC, mark, e -> e.path("text").asText().contains(small),
                SessionEventsTopic::ended, Duration.ofSeconds(60));
        assertEquals("session.ended", delivered.lastEntry().getValue().get("type").asText(), "the session behind the refused record");

        JsonNode check = wellness();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (check.get("data").get("parked_records").asLong() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            check = wellness();
        }
        assertTrue(check.get("data").get("parked_records").asLong() >= 1, check.toString());
        assertEquals("DOWN", check.get("status").asText(), check.toString());
        assertTrue(check.get("data").get("problem").asText().contains("max.message.bytes"), check.toString());
        assertEquals(0, check.get("data").get("journal_bytes").asLong(), "nothing waits in the journal: " + check);
        assertThrows(AssertionError.class, () -> SessionEventsTopic.events(TOPIC, mark, e -> e.path("text").asText().contains(big),
                s -> true, Duration.ofSeconds(3)), "the refused record is parked, not on the topic");
    }

    private static JsonNode wellness() throws Exception {
        String body = RestAssured.get("/q/health/well").asString();
        for (JsonNode check : new ObjectMapper().readTree(body).get("checks")) {
            if (check.get("name").asText().equals("session recording")) {
                return check;
            }
        }
        throw new AssertionError("no session recording check in " + body);
    }
}
