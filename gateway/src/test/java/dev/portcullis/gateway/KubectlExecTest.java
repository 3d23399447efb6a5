package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.contract.Channels;
import dev.portcullis.contract.events.Asciicast;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.SessionRegistry;
import dev.portcullis.gateway.testing.Approver;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.HeldClient;
import dev.portcullis.gateway.testing.KubeTargets;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.Terminal;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code kubectl exec} through the gateway with the real kubectl and kube-apiserver (kwok runs the command on the host,
 * in a real pty for {@code -it}): an interactive exec's recording renders (asciicast v2) to exactly the bytes the
 * terminal showed, and an exec into production by a dba waits for an approver, telling kubectl so on its stderr.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class KubectlExecTest {
    @Inject
    SessionRegistry sessions;
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeEach
    void clusters() throws Exception {
        KubeTargets.ensure();
    }

    private static String kubectl(String identity, String connection) throws Exception {
        return KubeTargets.KUBECTL + " --kubeconfig " + KubeTargets.login(identity) + " --context " + connection;
    }

    private static Map<String, String> cache() {
        return Map.of("KUBECACHEDIR", KubeTargets.KUBE_DIR.resolve("test-cache").toString());
    }

    @Test
    void exec_it_in_a_terminal_replays_as_an_asciicast_of_the_bytes_the_terminal_showed() throws Exception {
        String pod = KubeTargets.webPod("demo-dev");
        String marker = "kcast-" + UUID.randomUUID().toString().substring(0, 8);
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        byte[] shown;
        try (Terminal terminal = Terminal.start(cache(), 90, 28, kubectl("bob", KubeTargets.DEV) + " exec -it -n demo-dev " + pod
                + " -- sh")) {
            terminal.awaitOutput(Duration.ofSeconds(30));
            terminal.type("echo " + marker + "-$((6*7))\n");
            terminal.await(marker + "-42", Duration.ofSeconds(30));
            terminal.type("printf '\\143\\141\\146\\303\\251 %s\\n' " + marker + "-utf8\n");
            terminal.await("caf\u00e9 " + marker + "-utf8", Duration.ofSeconds(30));
            terminal.type("exit\n");
            assertEquals(0, terminal.exit(Duration.ofSeconds(30)), terminal.shownText() + terminal.errorsText());
            shown = terminal.shown();
        }

        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark, e -> pod.equals(e.path("details").path("name").asText())
                && "exec".equals(e.path("details").path("subresource").asText()),
                SessionEventsTopic::ended, Duration.ofSeconds(30));
        JsonNode exec = events.values().stream().filter(e -> "exec".equals(e.path("details").path("subresource").asText()))
                .reduce((a, b) -> b).orElseThrow();
        assertTrue(exec.get("decision").get("allow").asBoolean(), exec.toString());
        Asciicast cast = new Asciicast(exec.get("seq").asLong());
        cast.add(new ArrayList<>(events.values()));
        List<JsonNode> lines = new ArrayList<>();
        for (String line : cast.render().split("\n")) {
            lines.add(JSON.readTree(line));
        }
        assertEquals(90, lines.get(0).get("width").asInt(), "kubectl's first resize sizes the terminal: " + lines.get(0));
        assertEquals(28, lines.get(0).get("height").asInt(), lines.get(0).toString());
        StringBuilder output = new StringBuilder();
        StringBuilder input = new StringBuilder();
        for (JsonNode event : lines.subList(1, lines.size())) {
            if (event.get(1).asText().equals("o")) {
                output.append(event.get(2).asText());
            } else if (event.get(1).asText().equals("i")) {
                input.append(event.get(2).asText());
            }
        }
        assertEquals(new String(shown, StandardCharsets.UTF_8), output.toString(), "the replay is what the terminal showed");
        assertTrue(input.toString().contains("echo " + marker + "-$((6*7))"), "typed input is recorded: " + input);
    }

    /** alice (dba) runs a command in a production pod: held, and told so on stderr once the stream is open. */
    private static HeldClient execIntoProductionHeld(String marker) throws Exception {
        String pod = KubeTargets.webPod("demo-prod");
        List<String> cmd = List.of(KubeTargets.KUBECTL.toString(), "--kubeconfig", KubeTargets.login("alice").toString(), "--context",
                KubeTargets.PROD, "exec", "-n", "demo-prod", pod, "--", "echo", marker);
        Process p = Cli.start(cache(), cmd.toArray(String[]::new));
        return HeldClient.await(p);
    }

    /**
     * bob (developers) has content detectors (policy k8s/output-detectors): a card number and an e-mail address in what
     * the command prints come back masked on stdout and stderr, the rest as printed, and the recording (what kubectl
     * was sent) holds no raw value; alice (dba) reads them as printed.
     */
    @Test
    void sensitive_values_in_an_execs_output_are_masked_for_the_roles_with_detectors() throws Exception {
        String pod = KubeTargets.webPod("demo-dev");
        String marker = "detect-" + UUID.randomUUID().toString().substring(0, 8);
        String card = "4111 1111 1111 1111";
        String email = "jane.doe@example.com";
        String script = "echo " + marker + " paid " + card + " ok; echo " + marker + " mail " + email + " >&2";
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        Cli.Result bob = KubeTargets.kubectl("bob", KubeTargets.DEV, "exec", "-n", "demo-dev", pod, "--", "sh", "-c", script);
        assertEquals(0, bob.exitCode(), bob.all());
        assertTrue(bob.stdout().contains(marker + " paid ") && bob.stdout().contains(" ok"), bob.all());
        assertTrue(bob.stderr().contains(marker + " mail "), bob.all());
        assertFalse(bob.all().contains(card) || bob.all().replaceAll("[^0-9]", "").contains("4111111111111111"), bob.all());
        assertFalse(bob.all().contains(email), bob.all());
        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark, e -> e.path("text").asText().contains(marker),
                found -> found.values().stream().anyMatch(e -> e.path("type").asText().equals("result")), Duration.ofSeconds(30));
        StringBuilder recorded = new StringBuilder();
        events.values().stream().filter(e -> e.path("type").asText().equals("output"))
                .forEach(e -> recorded.append(new String(java.util.Base64.getDecoder().decode(e.path("data").asText()), StandardCharsets.UTF_8)));
        assertTrue(recorded.toString().contains(marker + " paid "), recorded.toString());
        assertFalse(recorded.toString().contains(card) || recorded.toString().contains(email), recorded.toString());
        JsonNode result = events.values().stream().filter(e -> e.path("type").asText().equals("result")).findFirst().orElseThrow();
        assertEquals("[\"card\",\"email\"]", result.path("detectors").toString(), result.toString());

        Cli.Result alice = KubeTargets.kubectl("alice", KubeTargets.DEV, "exec", "-n", "demo-dev", pod, "--", "sh", "-c", script);
        assertEquals(0, alice.exitCode(), alice.all());
        assertTrue(alice.stdout().contains(marker + " paid " + card + " ok") && alice.stderr().contains(marker + " mail " + email),
                alice.all());
    }

    @Test
    void exec_into_production_by_a_dba_waits_for_approval_then_runs() throws Exception {
        String marker = "approved-" + UUID.randomUUID();
        HeldClient held = execIntoProductionHeld(marker);
        try {
            assertEquals("pending", Approver.state(held.request()));
            assertEquals("kubernetes", Approver.request(held.request()).get("protocol"));
            Thread.sleep(300);
            assertTrue(held.process().isAlive(), "kubectl waits for the approvers");
            Approver.approve(held.request(), "carol", "go ahead");
            assertTrue(held.process().waitFor(30, TimeUnit.SECONDS), "the approved exec ends");
            assertEquals(0, held.process().exitValue(), String.join("\n", held.stderr()));
            assertEquals(marker, held.stdout().get(10, TimeUnit.SECONDS).trim());
        } finally {
            held.process().destroyForcibly();
        }
    }

    @Test
    void exec_into_production_that_the_approver_denies_fails_with_the_reason() throws Exception {
        String marker = "denied-" + UUID.randomUUID();
        HeldClient held = execIntoProductionHeld(marker);
        try {
            Approver.deny(held.request(), "carol", "not during the freeze");
            assertTrue(held.process().waitFor(30, TimeUnit.SECONDS), "the denied exec ends");
            assertNotEquals(0, held.process().exitValue());
            String err = String.join("\n", held.stderr());
            assertTrue(err.contains("Portcullis denied this request") && err.contains("not during the freeze")
                    && err.contains("[policy k8s/exec-on-prod]"), err);
            assertFalse(held.stdout().get(10, TimeUnit.SECONDS).contains(marker), "the command never ran");
        } finally {
            held.process().destroyForcibly();
        }
    }

    @Test
    void a_kill_while_the_exec_waits_ends_it_with_the_message_and_withdraws_the_approval_request() throws Exception {
        HeldClient held = execIntoProductionHeld("killed-" + UUID.randomUUID());
        try {
            for (Session s : sessions.live(1000)) {
                if (s.connection().name().equals(KubeTargets.PROD) && s.identity().name().equals("alice")) {
                    TestStack.execute(TestStack.get("PORTCULLIS_DB"), "SELECT pg_notify('" + Channels.KILL_SESSION + "', '" + s.id() + "')");
                }
            }
            assertTrue(held.process().waitFor(15, TimeUnit.SECONDS), "kubectl still waits after the kill");
            assertNotEquals(0, held.process().exitValue());
            assertTrue(String.join("\n", held.stderr()).contains("an administrator ended this session"), String.join("\n", held.stderr()));
            assertEquals("withdrawn", Approver.awaitEnded(held.request()), "nobody can approve a killed session's exec");
        } finally {
            held.process().destroyForcibly();
        }
    }

    /** A kill mid-exec: the running command's stream ends at once and kubectl prints the administrator's message. */
    @Test
    void a_kill_mid_exec_ends_the_stream_with_the_message() throws Exception {
        String pod = KubeTargets.webPod("demo-dev");
        String marker = "running-" + UUID.randomUUID().toString().substring(0, 8);
        Process exec = KubeTargets.start("bob", KubeTargets.DEV, "exec", "-n", "demo-dev", pod, "--", "sh", "-c",
                "echo " + marker + "; sleep 60");
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(exec.getInputStream(), StandardCharsets.UTF_8));
            assertEquals(marker, out.readLine(), "the command runs");
            Session running = sessions.live(1000).stream().filter(s -> s.connection().name().equals(KubeTargets.DEV)
                    && s.identity().name().equals("bob")).max(java.util.Comparator.comparing(Session::startedAt)).orElseThrow();
            TestStack.execute(TestStack.get("PORTCULLIS_DB"), "SELECT pg_notify('" + Channels.KILL_SESSION + "', '" + running.id() + "')");
            assertTrue(exec.waitFor(15, TimeUnit.SECONDS), "kubectl still runs after the kill");
            assertNotEquals(0, exec.exitValue(), "a killed exec does not succeed");
            String err = new String(exec.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(err.contains("an administrator ended this session"), err);
        } finally {
            exec.destroyForcibly();
        }
    }

    @Test
    void a_kubectl_that_leaves_while_its_exec_waits_withdraws_the_approval_request() throws Exception {
        HeldClient held = execIntoProductionHeld("withdrawn-" + UUID.randomUUID());
        held.process().destroy();
        assertTrue(held.process().waitFor(10, TimeUnit.SECONDS));
        assertEquals("withdrawn", Approver.awaitEnded(held.request()), "nobody can approve an exec whose client is gone");
    }
}
