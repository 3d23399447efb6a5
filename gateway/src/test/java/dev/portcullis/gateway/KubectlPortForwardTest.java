package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.portcullis.contract.Channels;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.SessionRegistry;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.KubeTargets;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code kubectl port-forward} (v1.36: SPDY/3.1 tunnelled in a WebSocket) through the gateway to the stack's real API
 * server, whose kwok node forwards port 80 of a demo pod to 127.0.0.1:KUBE_PORT_FORWARD_TARGET_PORT, where each test
 * starts a real HTTP server; the real curl fetches its page through the forward. About 20 s for the class.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class KubectlPortForwardTest {
    private static final Pattern FORWARDING = Pattern.compile("Forwarding from 127\\.0\\.0\\.1:(\\d+) -> (\\d+)");

    @Inject
    SessionRegistry sessions;

    private HttpServer target;
    private String page;

    @BeforeEach
    void podServesAPage() throws Exception {
        KubeTargets.ensure();
        page = "portcullis-forward-" + UUID.randomUUID();
        target = HttpServer.create(new InetSocketAddress(TestStack.host(), TestStack.port("KUBE_PORT_FORWARD_TARGET_PORT")), 16);
        target.createContext("/", exchange -> {
            byte[] body = page.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        target.start();
    }

    @AfterEach
    void stopTarget() {
        target.stop(0);
    }

    @Test
    void developer_forwards_to_a_web_port_and_the_forward_is_recorded_with_its_bytes() throws Exception {
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        String pod = KubeTargets.webPod("demo-dev");
        Forward forward = Forward.start("bob", KubeTargets.DEV, "-n", "demo-dev", "pod/" + pod, ":80");
        Cli.Result got;
        try {
            got = curl(forward.localPort);
            assertEquals(0, got.exitCode(), got.all() + forward.stderr());
            assertEquals(page, got.stdout());
            // a second connection over the same forward: its port is decided already
            assertEquals(page, curl(forward.localPort).stdout());
        } finally {
            forward.stop();
        }
        // the forward's session: its requests, and the result recorded when it closed
        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark,
                e -> e.path("text").asText().contains("/pods/" + pod + "/portforward"),
                found -> found.values().stream().anyMatch(e -> e.path("type").asText().equals("result")
                        && found.get(e.path("request_seq").asLong()) != null
                        && found.get(e.path("request_seq").asLong()).path("text").asText().contains("/portforward")),
                Duration.ofSeconds(30));
        JsonNode opening = events.values().stream().filter(e -> e.path("type").asText().equals("request")
                && e.path("details").path("port_forward").path("phase").asText().equals("open")).findFirst().orElseThrow();
        assertTrue(opening.get("decision").get("allow").asBoolean(), opening.toString());
        JsonNode stream = events.values().stream().filter(e -> e.path("type").asText().equals("request")
                && e.path("details").path("port_forward").path("phase").asText().equals("stream")).findFirst().orElseThrow();
        assertEquals(80, stream.get("details").get("port_forward").get("ports").get(0).asInt());
        assertTrue(stream.get("decision").get("allow").asBoolean(), stream.toString());
        assertEquals(1, events.values().stream().filter(e -> e.path("details").path("port_forward").path("phase").asText()
                .equals("stream")).count(), "one decision per port, not per connection");
        JsonNode result = events.values().stream().filter(e -> e.path("type").asText().equals("result")
                && e.path("request_seq").asLong() == opening.get("seq").asLong()).findFirst().orElseThrow();
        assertEquals(opening.get("seq").asLong(), result.get("request_seq").asLong(), "the result is the forward's");
        JsonNode port = result.get("details").get("ports").get(0);
        assertEquals(101, result.get("details").get("code").asInt());
        assertEquals(80, port.get("port").asInt());
        assertTrue(port.get("allowed").asBoolean());
        assertEquals(2, port.get("connections").asInt(), result.toString());
        // each way at least what curl sent (a GET) and received (the page and its headers)
        assertTrue(port.get("bytes_to_pod").asLong() >= 2 * "GET / HTTP/1.1\r\n".length(), result.toString());
        assertTrue(port.get("bytes_from_pod").asLong() >= 2L * page.length(), result.toString());
        assertEquals(port.get("bytes_from_pod").asLong(), result.get("bytes").asLong());
    }

    @Test
    void a_stream_to_a_port_the_policy_refuses_never_reaches_the_pod_and_kubectl_prints_why() throws Exception {
        String pod = KubeTargets.webPod("demo-dev");
        Forward forward = Forward.start("bob", KubeTargets.DEV, "-n", "demo-dev", "pod/" + pod, ":5432");
        try {
            Cli.Result got = curl(forward.localPort);
            assertNotEquals(0, got.exitCode(), got.all());
            assertFalse(got.stdout().contains(page), got.all());
            assertTrue(forward.process.waitFor(20, TimeUnit.SECONDS), "kubectl ends the forward after the error stream's message");
            String err = forward.stderr();
            assertTrue(err.contains("an error occurred forwarding " + forward.localPort + " -> 5432: Portcullis denied a port-forward"
                    + " to port 5432"), err);
            assertTrue(err.contains("PostgreSQL listens there") && err.contains("[policy k8s/port-forward-bypass]"), err);
        } finally {
            forward.stop();
        }
    }

    @Test
    void a_role_without_port_forward_is_refused_before_any_stream() throws Exception {
        String pod = KubeTargets.webPod("demo-dev");
        Cli.Result r = KubeTargets.kubectl("agent-ci", KubeTargets.DEV, "port-forward", "-n", "demo-dev", "pod/" + pod, ":80");
        assertNotEquals(0, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("Portcullis denied this request") && r.stderr().contains("[policy k8s/role-exec]"), r.all());
    }

    @Test
    void spdy_only_clients_are_told_to_use_websockets() throws Exception {
        String pod = KubeTargets.webPod("demo-dev");
        Cli.Result forward = KubeTargets.kubectl(Map.of("KUBECTL_PORT_FORWARD_WEBSOCKETS", "false"), "bob", KubeTargets.DEV,
                "port-forward", "-n", "demo-dev", "pod/" + pod, ":80");
        assertNotEquals(0, forward.exitCode(), forward.all());
        assertTrue(forward.stderr().contains("unset KUBECTL_PORT_FORWARD_WEBSOCKETS"), forward.all());
        Cli.Result exec = KubeTargets.kubectl(Map.of("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "false"), "bob", KubeTargets.DEV,
                "exec", "-n", "demo-dev", pod, "--", "echo", "spdy");
        assertNotEquals(0, exec.exitCode(), exec.all());
        assertFalse(exec.stdout().contains("spdy"), exec.all());
        assertTrue(exec.stderr().contains("unset KUBECTL_REMOTE_COMMAND_WEBSOCKETS"), exec.all());
    }

    @Test
    void a_kill_closes_the_forward() throws Exception {
        Instant before = Instant.now();
        String pod = KubeTargets.webPod("demo-dev");
        Forward forward = Forward.start("bob", KubeTargets.DEV, "-n", "demo-dev", "pod/" + pod, ":80");
        try {
            assertEquals(page, curl(forward.localPort).stdout(), forward.stderr());
            for (Session s : sessions.live(1000)) {
                if (s.connection().name().equals(KubeTargets.DEV) && s.identity().name().equals("bob") && !s.startedAt().isBefore(before)) {
                    TestStack.execute(TestStack.get("PORTCULLIS_DB"), "SELECT pg_notify('" + Channels.KILL_SESSION + "', '" + s.id() + "')");
                }
            }
            assertTrue(forward.process.waitFor(20, TimeUnit.SECONDS), "kubectl port-forward still runs after the kill");
            assertNotEquals(0, curl(forward.localPort).exitCode(), "nothing listens or forwards any more");
        } finally {
            forward.stop();
        }
    }

    private static Cli.Result curl(int port) throws Exception {
        return Cli.run(Map.of(), null, 40, "curl", "-sS", "--max-time", "30", "http://127.0.0.1:" + port + "/");
    }

    /** A running {@code kubectl port-forward}, once it says which local port it listens on. */
    private record Forward(Process process, int localPort, CompletableFuture<String> stderrText) {
        static Forward start(String identity, String connection, String... args) throws Exception {
            String[] all = new String[args.length + 1];
            all[0] = "port-forward";
            System.arraycopy(args, 0, all, 1, args.length);
            Process p = KubeTargets.start(identity, connection, all);
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (java.io.IOException e) {
                    return "";
                }
            });
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<Integer> port = CompletableFuture.supplyAsync(() -> {
                try {
                    for (String line; (line = out.readLine()) != null;) {
                        Matcher m = FORWARDING.matcher(line);
                        if (m.find()) {
                            return Integer.parseInt(m.group(1));
                        }
                    }
                } catch (java.io.IOException e) {
                    // ended
                }
                return -1;
            });
            int local;
            try {
                local = port.get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                local = -1;
            }
            if (local < 0) {
                p.destroyForcibly();
                throw new AssertionError("kubectl port-forward did not start: " + err.get(10, TimeUnit.SECONDS));
            }
            // keep reading stdout ("Handling connection for ..."), or kubectl blocks on a full pipe
            Thread drain = new Thread(() -> {
                try {
                    out.transferTo(java.io.Writer.nullWriter());
                } catch (java.io.IOException e) {
                    // ended
                }
            });
            drain.setDaemon(true);
            drain.start();
            return new Forward(p, local, err);
        }

        String stderr() throws Exception {
            return process.isAlive() ? "(still running)" : stderrText.get(10, TimeUnit.SECONDS);
        }

        void stop() throws Exception {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
