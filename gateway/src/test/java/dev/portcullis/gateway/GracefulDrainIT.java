package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.contract.testing.AppProcess;
import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/**
 * SIGTERM to the packaged gateway, run as its own process with a 5 s grace period: it is not ready and takes no new
 * session at once; the live sessions go on working through the grace period; a session that ends meanwhile ends as
 * usual; then the rest end with FATAL 57P01 and a reason, their backend statements are cancelled, their
 * {@code session.ended} is recorded, and the process exits without logging an error. Prints the drain's timeline.
 */
class GracefulDrainIT {
    private static final int PG_PORT = TestStack.port("GATEWAY_PG_PORT");
    private static final int HTTP_PORT = TestStack.port("GATEWAY_HTTP_PORT");
    private static final long GRACE_MS = 5_000;
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static AppProcess gateway;

    @BeforeAll
    static void start() throws Exception {
        new StackResource().start();
        TargetDatabases.ensure();
        Path tls = TestStack.ROOT.resolve(".stack/tls");
        gateway = AppProcess.start("gateway", HTTP_PORT, Files.createTempFile("gateway-drain-it", ".log"), List.of(
                "-Dportcullis.postgres.tls-cert=" + tls.resolve("server.crt"), "-Dportcullis.postgres.tls-key=" + tls.resolve("server.key"),
                "-Dportcullis.kubernetes.enabled=false", "-Dportcullis.ssh.enabled=false", "-Dportcullis.postgres.port=" + PG_PORT,
                "-Dportcullis.recording.journal-dir=" + Files.createTempDirectory("gateway-drain-journal"),
                "-Dportcullis.shutdown.grace-period=" + GRACE_MS + "ms"));
        System.setProperty("portcullis.test.gateway-port", String.valueOf(PG_PORT));
    }

    /** The readiness status, or 0 when nothing answers. */
    private static int ready() {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + HTTP_PORT + "/q/health/ready"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    @AfterAll
    static void stop() throws Exception {
        System.clearProperty("portcullis.test.gateway-port");
        if (gateway != null && gateway.process().isAlive()) {
            gateway.process().destroyForcibly().waitFor();
        }
    }

    @Test
    void sigterm_drains_live_sessions_then_ends_them_with_a_reason() throws Exception {
        String token = TestStack.token("alice");
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        Connection idle = Jdbc.viaGateway(TargetDatabases.CONNECTION, token);
        Connection busy = Jdbc.viaGateway(TargetDatabases.CONNECTION, token);
        Connection finishing = Jdbc.viaGateway(TargetDatabases.CONNECTION, token);
        String idleId = idle.unwrap(PGConnection.class).getParameterStatus("portcullis.session_id");
        CompletableFuture<Throwable> sleeping = KillStopsTheStatementTest.runInBackground(busy, "SELECT pg_sleep(60) AS drained_sleep");
        CompletableFuture<Throwable> finishes = KillStopsTheStatementTest.runInBackground(finishing, "SELECT pg_sleep(2) AS short_sleep");
        KillStopsTheStatementTest.awaitBackend("drained_sleep", true, 20);

        long sigterm = System.nanoTime();
        gateway.process().destroy(); // SIGTERM
        List<String> timeline = new ArrayList<>();

        long notReady = awaitMillis(sigterm, () -> ready() != 200, 3_000);
        timeline.add("readiness " + ready() + " after " + notReady + " ms");
        SQLException refused = assertThrows(SQLException.class, () -> Jdbc.viaGateway(TargetDatabases.CONNECTION, token).close());
        timeline.add("a new session refused after " + elapsed(sigterm) + " ms: " + refused.getMessage());

        try (var st = idle.createStatement()) {
            st.execute("SELECT 1"); // the grace period: live sessions still work
        }
        timeline.add("a live session ran a query " + elapsed(sigterm) + " ms after SIGTERM");
        assertNull(finishes.get(10, TimeUnit.SECONDS), "a statement that ends within the grace period completes");
        finishing.close();
        timeline.add("a session ended by itself " + elapsed(sigterm) + " ms after SIGTERM");

        Throwable ended = sleeping.get(GRACE_MS + 10_000, TimeUnit.MILLISECONDS);
        long endedAt = elapsed(sigterm);
        timeline.add("the long statement's session ended " + endedAt + " ms after SIGTERM: " + ended.getMessage());
        assertInstanceOf(SQLException.class, ended);
        assertEquals("57P01", ((SQLException) ended).getSQLState(), ended.getMessage());
        assertTrue(ended.getMessage().contains("gateway is shutting down"), ended.getMessage());
        assertTrue(endedAt >= GRACE_MS - 500, "ended only once the grace period was over, not after " + endedAt + " ms");
        KillStopsTheStatementTest.awaitBackend("drained_sleep", false, 5);
        timeline.add("its backend statement gone from pg_stat_activity " + elapsed(sigterm) + " ms after SIGTERM");
        SQLException idleEnded = assertThrows(SQLException.class, () -> idle.createStatement().execute("SELECT 1"));
        assertTrue(idleEnded.getMessage().contains("gateway is shutting down") || idleEnded.getSQLState().startsWith("08"),
                idleEnded.getMessage());

        assertTrue(gateway.process().waitFor(30, TimeUnit.SECONDS), "the gateway exits after its drain");
        timeline.add("the process exited " + elapsed(sigterm) + " ms after SIGTERM (status " + gateway.process().exitValue() + ")");

        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark, e -> e.get("session_id").asText().equals(idleId),
                SessionEventsTopic::ended, Duration.ofSeconds(30));
        assertEquals("gateway_shutdown", events.lastEntry().getValue().get("reason").asText());
        String output = Files.readString(gateway.log());
        timeline.add("gateway log: " + output.lines().filter(l -> l.contains("drain:")).map(String::strip).toList());
        System.out.println("drain timeline:\n  " + String.join("\n  ", timeline));
        assertFalse(output.contains("ERROR"), "no error logged during the drain and shutdown:\n" + output);
        busy.close();
        idle.close();
    }

    private static long elapsed(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }

    private static long awaitMillis(long since, java.util.function.BooleanSupplier condition, long limitMs) throws InterruptedException {
        while (!condition.getAsBoolean()) {
            if (elapsed(since) > limitMs) {
                throw new AssertionError("not within " + limitMs + " ms");
            }
            Thread.sleep(20);
        }
        return elapsed(since);
    }
}
