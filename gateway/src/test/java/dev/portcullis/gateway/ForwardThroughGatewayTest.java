package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.SshTargets;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * ssh -L through the gateway (the real OpenSSH client, the stack's real sshd): real HTTP from curl to a real HTTP server
 * (python3 -m http.server) on the target side, through a forward to a destination the connection lists in its
 * {@code ssh_forwards} tag; a destination it does not list is refused (administratively prohibited) with the reason,
 * which ssh prints, and the recorded decision says why. The ports are the stack's
 * GATEWAY_TEST_SSH_PORT + 1 (the HTTP server), + 2 and + 3 (the client's ends of the forwards).
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class ForwardThroughGatewayTest {
    private static final String CONNECTION = "demo-box-forwards";

    /** Python's own word that it serves (a port taken by something else makes it exit instead). */
    static void serving(Process http) throws Exception {
        String line = new java.io.BufferedReader(new java.io.InputStreamReader(http.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))
                .readLine();
        if (line == null || !line.startsWith("Serving HTTP")) {
            throw new AssertionError("python3 -m http.server did not start: " + new String(http.getErrorStream().readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private static void awaitListening(int port, Process owner) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (java.io.IOException e) {
                if (!owner.isAlive()) {
                    throw new AssertionError("exited before listening on " + port + ": "
                            + new String(owner.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
                }
                Thread.sleep(100);
            }
        }
        throw new AssertionError("nothing listens on " + port + " after 20 s");
    }

    @Test
    void a_listed_destination_carries_real_http_and_an_unlisted_one_is_refused_with_the_reason() throws Exception {
        int httpPort = TestStack.port("GATEWAY_TEST_SSH_PORT") + 1;
        int allowedEnd = httpPort + 1;
        int deniedEnd = httpPort + 2;
        int unlisted = TestStack.port("PG_PORT");
        SshTargets.ensure();
        SshTargets.register(CONNECTION, "{\"env\":\"dev\",\"ssh_forwards\":\"127.0.0.1:" + httpPort + "\"}", SshTargets.targetHostKey());
        Path www = Files.createTempDirectory("portcullis-forward-www");
        Files.writeString(www.resolve("hello.txt"), "through the forward\n");
        Process http = new ProcessBuilder("python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", www.toString(),
                String.valueOf(httpPort)).start();
        Process ssh = null;
        StringBuffer sshErr = new StringBuffer();
        try {
            serving(http);
            Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
            ssh = new ProcessBuilder("ssh", "-F", SshTargets.login("bob").toString(), "-o", "BatchMode=yes", "-o", "User=" + CONNECTION,
                    "-N", "-L", "127.0.0.1:" + allowedEnd + ":127.0.0.1:" + httpPort, "-L", "127.0.0.1:" + deniedEnd + ":127.0.0.1:" + unlisted,
                    SshTargets.DEV).start();
            Process forwarding = ssh;
            Thread reader = new Thread(() -> { // line by line: destroy() closes the stream under a pending read
                try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(forwarding.getErrorStream(), StandardCharsets.UTF_8))) {
                    for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                        sshErr.append(line).append('\n');
                    }
                } catch (java.io.IOException e) {
                    // ssh was stopped
                }
            });
            reader.setDaemon(true);
            reader.start();
            awaitListening(allowedEnd, ssh);
            awaitListening(deniedEnd, ssh);

            Cli.Result ok = Cli.run(Map.of(), null, 30, "curl", "-sS", "--max-time", "20", "http://127.0.0.1:" + allowedEnd + "/hello.txt");
            assertEquals(0, ok.exitCode(), ok.all());
            assertEquals("through the forward\n", ok.stdout());

            Cli.Result denied = Cli.run(Map.of(), null, 30, "curl", "-sS", "--max-time", "20", "http://127.0.0.1:" + deniedEnd + "/");
            assertNotEquals(0, denied.exitCode(), denied.all());

            // the forward's request names its destination; its result counts the bytes each way
            TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark,
                    e -> e.path("details").path("type").asText().equals("direct-tcpip") && e.path("details").path("port").asInt() == httpPort,
                    found -> found.values().stream().anyMatch(e -> e.path("type").asText().equals("result")
                            && e.path("details").path("received_bytes").asLong() > 0), Duration.ofSeconds(30));
            // curl's forward (the probe above opened one that carried nothing)
            JsonNode result = events.values().stream().filter(e -> e.path("type").asText().equals("result")
                    && e.path("details").path("received_bytes").asLong() > 0).findFirst().orElseThrow();
            JsonNode request = events.get(result.get("request_seq").asLong());
            assertEquals(httpPort, request.get("details").get("port").asInt(), request.toString());
            assertEquals("ssh/forward", request.get("decision").get("policy").asText(), request.toString());
            assertTrue(result.get("details").get("sent_bytes").asLong() > 0, result.toString()); // curl's GET
            assertTrue(result.get("details").get("received_bytes").asLong() > "through the forward\n".length(), result.toString());
            JsonNode refused = events.values().stream().filter(e -> e.path("details").path("port").asInt() == unlisted).findFirst().orElseThrow();
            assertEquals("ssh/forward-unlisted", refused.get("decision").get("policy").asText(), refused.toString());
        } finally {
            if (ssh != null) {
                ssh.destroy();
                ssh.waitFor(10, TimeUnit.SECONDS);
            }
            http.destroy();
        }
        String err = sshErr.toString();
        // the protocol's own refusal, with the reason (OpenFailures), as OpenSSH prints it
        assertTrue(err.contains("open failed: administratively prohibited: Portcullis denied this forward: a forward to 127.0.0.1:" + unlisted
                + " (not among the destinations connection " + CONNECTION + " lists in its ssh_forwards tag) is denied for every role"), err);
    }
}
