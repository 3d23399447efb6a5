package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.recording.SessionRecorder;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.MaskingTargets;
import dev.portcullis.gateway.testing.PolicyTargets;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import net.jpountz.lz4.LZ4Factory;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/**
 * Every session is recorded to the real Kafka, in order and complete: what ran, what was denied and why, and
 * which columns were masked by which rule (never their values). Kafka stopped mid-session loses nothing.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class RecordingTest {

    @Inject
    SessionRecorder recorder;

    @BeforeEach
    void seeded() throws Exception {
        MaskingTargets.ensure();
    }

    @Test
    void kafka_batches_are_compressed_by_the_native_lz4() {
        assertTrue(recorder.accepting());
        // lz4-java looks for its native code only when it is loaded already or comes from the system class loader;
        // under Quarkus's class loader Kafka's producer would otherwise compress in Java, at several times the CPU
        assertEquals("LZ4Factory:JNI", LZ4Factory.fastestInstance().toString());
    }

    private static List<String> types(TreeMap<Long, JsonNode> events) {
        return events.values().stream().map(e -> e.get("type").asText()).toList();
    }

    @Test
    void a_psql_session_is_recorded_in_order_with_decisions_results_and_masking() throws Exception {
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        String marker = "marker-" + UUID.randomUUID();
        Cli.Result r = Cli.psql(TestStack.token("bob"), PolicyTargets.DEV,
                "SELECT '" + marker + "' AS m;\nSELECT id, email FROM users ORDER BY id;\nDROP TABLE users;\n");
        assertTrue(r.stdout().contains("j***@example.com"), r.all());
        assertTrue(r.all().contains("Portcullis denied this statement"), r.all());

        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark,
                e -> e.path("text").asText().contains(marker), SessionEventsTopic::ended, Duration.ofSeconds(30));
        assertEquals(List.of("session.started", "request", "result", "request", "result", "request", "session.ended"), types(events));
        JsonNode started = events.get(1L);
        assertEquals("bob", started.get("identity").get("subject").asText());
        assertEquals(PolicyTargets.DEV, started.get("connection").get("name").asText());

        JsonNode select = events.get(4L);
        assertEquals("SELECT id, email FROM users ORDER BY id;", select.get("text").asText());
        assertEquals(2, select.get("v").asInt(), "written in contract version 2");
        assertEquals("postgres", select.get("protocol").asText());
        assertEquals("postgres", events.get(5L).get("protocol").asText());
        assertTrue(events.get(5L).get("ok").asBoolean());
        assertTrue(select.get("decision").get("allow").asBoolean());
        assertEquals("SELECT", select.get("details").get("statements").get(0).get("command").asText());
        JsonNode result = events.get(5L);
        assertEquals(4, result.get("request_seq").asLong());
        assertEquals(3, result.get("details").get("rows").asLong());
        assertEquals("SELECT 3", result.get("details").get("command_tag").asText());
        assertEquals("email", result.get("masked").get(0).get("source_column").asText());
        assertEquals("pii/email", result.get("masked").get(0).get("rule").asText());
        assertFalse(events.toString().contains("jane.doe@example.com"), "a masked value never reaches the recording");

        JsonNode drop = events.get(6L);
        assertFalse(drop.get("decision").get("allow").asBoolean());
        assertFalse(drop.get("decision").get("reasons").isEmpty());
        JsonNode ended = events.get(7L);
        assertEquals(3, ended.get("requests").asLong());
        assertEquals(1, ended.get("denials").asLong());
        assertEquals("client_terminate", ended.get("reason").asText());
    }

    @Test
    void nothing_is_lost_when_kafka_stops_mid_session_and_comes_back() throws Exception {
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        String sessionId;
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("alice")); Statement st = c.createStatement()) {
            sessionId = ((PGConnection) c).getParameterStatus("portcullis.session_id");
            for (int i = 0; i < 5; i++) {
                st.executeQuery("SELECT " + i).close();
            }
            stopKafka();
            try {
                for (int i = 5; i < 25; i++) {
                    try (ResultSet rs = st.executeQuery("SELECT " + i)) {
                        assertTrue(rs.next(), "requests keep running while the journal holds their events");
                    }
                }
            } finally {
                startKafka();
            }
        }
        String id = sessionId;
        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark, e -> e.get("session_id").asText().equals(id),
                SessionEventsTopic::ended, Duration.ofSeconds(90));
        List<String> selects = events.values().stream().filter(e -> e.get("type").asText().equals("request"))
                .map(e -> e.get("text").asText()).filter(sql -> sql.matches("SELECT [0-9]+")).toList();
        assertEquals(java.util.stream.IntStream.range(0, 25).mapToObj(i -> "SELECT " + i).toList(), selects,
                "every request, once and in order (the driver's own setup requests aside)");
        long results = events.values().stream().filter(e -> e.get("type").asText().equals("result")).count();
        long requests = events.values().stream().filter(e -> e.get("type").asText().equals("request")).count();
        assertEquals(requests, results, "each request's result too");
    }

    private static Path pidFile() {
        return TestStack.ROOT.resolve(".stack/run/kafka.pid");
    }

    private static void stopKafka() throws Exception {
        long pid = Long.parseLong(Files.readString(pidFile()).trim());
        ProcessHandle kafka = ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("kafka is not running"));
        kafka.destroy();
        kafka.onExit().get(60, TimeUnit.SECONDS);
    }

    private static void startKafka() throws Exception {
        Process p = new ProcessBuilder(TestStack.ROOT.resolve("dev-services/stack").toString(), "up", "--deps-only").inheritIO().start();
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("the stack's Kafka did not come back");
        }
    }
}
