package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.contract.events.Request;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.PolicyTargets;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * Statements of 1, 16 and 60 MiB run through psql and are recorded: each event keeps the text's first 32 KiB, its
 * length and its SHA-256 (contract/EVENTS.md), so no event is too large for Kafka, the events behind them arrive,
 * and the journal drains. Before the bound, one 1 MiB statement wedged every later event of every session.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class LargeStatementRecordingTest {
    private static final int MIB = 1024 * 1024;

    /** {@code SELECT n /* xxx... *\/;} of exactly {@code bytes} bytes, as psql sends it. */
    private static String statement(int n, int bytes) {
        String head = "SELECT " + n + " /* ";
        String tail = " */;";
        return head + "x".repeat(bytes - head.length() - tail.length()) + tail;
    }

    private static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void statements_of_1_16_and_60_mib_are_recorded_bounded_and_everything_behind_them_arrives() throws Exception {
        PolicyTargets.ensure();
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        String marker = "after-the-large-ones-" + UUID.randomUUID();
        List<Integer> sizes = List.of(MIB, 16 * MIB, 60 * MIB);
        Path script = Files.createTempFile(Path.of("target"), "large-statements-", ".sql");
        try {
            try (BufferedWriter w = Files.newBufferedWriter(script, StandardCharsets.UTF_8)) {
                for (int i = 0; i < sizes.size(); i++) {
                    w.write(statement(i + 1, sizes.get(i)));
                    w.write('\n');
                }
                w.write("SELECT '" + marker + "' AS m;\n");
            }
            Cli.Result r = Cli.run(Cli.gatewayEnv(TestStack.token("bob"), PolicyTargets.DEV), null, 180,
                    "psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-f", script.toString());
            assertEquals(0, r.exitCode(), r.all());
            assertEquals(List.of("1", "2", "3", marker), r.stdout().lines().toList(), "every statement ran");
        } finally {
            Files.deleteIfExists(script);
        }

        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark, e -> e.path("text").asText().contains(marker),
                SessionEventsTopic::ended, Duration.ofSeconds(60));
        List<JsonNode> requests = events.values().stream().filter(e -> e.get("type").asText().equals("request")).toList();
        assertEquals(4, requests.size(), "the three large statements and the one behind them: " + events.keySet());
        for (int i = 0; i < sizes.size(); i++) {
            String sent = statement(i + 1, sizes.get(i));
            JsonNode request = requests.get(i);
            assertTrue(request.get("decision").get("allow").asBoolean());
            JsonNode cut = request.get("truncated").get("text");
            assertEquals(sizes.get(i), cut.get("bytes").asInt(), "the whole text's length");
            assertEquals(sha256(sent), cut.get("sha256").asText(), "the whole text's hash proves which text ran");
            assertEquals(Request.MAX_TEXT_BYTES, cut.get("kept_bytes").asInt());
            assertEquals(sent.substring(0, Request.MAX_TEXT_BYTES), request.get("text").asText());
            assertTrue(request.toString().length() < 128 * 1024, "the event stays small: " + request.toString().length());
            JsonNode result = events.get(request.get("seq").asLong() + 1);
            assertEquals("result", result.get("type").asText());
            assertEquals("SELECT 1", result.get("details").get("command_tag").asText());
        }
        assertTrue(requests.get(3).get("truncated").isNull(), "a short statement is recorded whole");

        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        JsonNode recording;
        do {
            recording = wellness();
        } while (recording.get("data").get("journal_bytes").asLong() > 0 && System.nanoTime() < deadline && sleep());
        assertEquals(0, recording.get("data").get("journal_bytes").asLong(), "the journal drains: " + recording);
        assertEquals(0, recording.get("data").get("parked_records").asLong(), recording.toString());
        assertEquals("UP", recording.get("status").asText(), recording.toString());
    }

    private static JsonNode wellness() throws Exception {
        String body = RestAssured.get("/q/health/well").asString();
        for (JsonNode check : new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).get("checks")) {
            if (check.get("name").asText().equals("session recording")) {
                return check;
            }
        }
        throw new AssertionError("no session recording check in " + body);
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(200);
        return true;
    }
}
