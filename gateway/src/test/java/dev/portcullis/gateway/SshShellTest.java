package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.contract.Channels;
import dev.portcullis.contract.events.Asciicast;
import dev.portcullis.contract.events.Output;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.SessionRegistry;
import dev.portcullis.gateway.testing.Approver;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.HeldClient;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.SshTargets;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import dev.portcullis.gateway.testing.Terminal;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
 * Interactive SSH through the gateway with the real ssh client in a real terminal ({@code script}) and the real sshd: a
 * shell's recording renders (asciicast v2, as the admin API serves it) to exactly the bytes the terminal showed, and a
 * dba's shell on production waits for an approver, then runs or fails with 126 and the reason.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class SshShellTest {
    @Inject
    SessionRegistry sessions;
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeEach
    void targets() throws Exception {
        SshTargets.ensure();
    }

    @Test
    void a_shell_in_a_terminal_replays_as_an_asciicast_of_the_bytes_the_terminal_showed() throws Exception {
        Path config = SshTargets.login("bob");
        String marker = "cast-" + UUID.randomUUID().toString().substring(0, 8);
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        byte[] shown;
        try (Terminal terminal = Terminal.start(Map.of(), 100, 30, "ssh -tt -q -F " + config + " -o BatchMode=yes " + SshTargets.DEV)) {
            terminal.awaitOutput(Duration.ofSeconds(30));
            terminal.type("echo " + marker + "-$((6*7))\n");
            terminal.await(marker + "-42", Duration.ofSeconds(30));
            // UTF-8 as typed and as printed: caf\u00e9 and a snowman, split nowhere the test can see
            terminal.type("printf '\\143\\141\\146\\303\\251 \\342\\230\\203 %s\\n' " + marker + "-utf8\n");
            terminal.await("caf\u00e9 \u2603 " + marker + "-utf8", Duration.ofSeconds(30));
            terminal.type("exit 0\n");
            assertEquals(0, terminal.exit(Duration.ofSeconds(30)), terminal.shownText() + terminal.errorsText());
            shown = terminal.shown();
        }

        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark,
                e -> "shell".equals(e.path("details").path("type").asText()), SessionEventsTopic::ended, Duration.ofSeconds(30));
        JsonNode shell = events.values().stream().filter(e -> "shell".equals(e.path("details").path("type").asText())).findFirst()
                .orElseThrow();
        assertTrue(shell.get("decision").get("allow").asBoolean(), shell.toString());
        Asciicast cast = new Asciicast(shell.get("seq").asLong());
        cast.add(new ArrayList<>(events.values()));
        List<JsonNode> lines = new ArrayList<>();
        for (String line : cast.render().split("\n")) {
            lines.add(JSON.readTree(line));
        }
        JsonNode header = lines.get(0);
        assertEquals(2, header.get("version").asInt());
        assertEquals(100, header.get("width").asInt(), "the terminal's size from the pty-req: " + header);
        assertEquals(30, header.get("height").asInt(), header.toString());

        StringBuilder output = new StringBuilder();
        StringBuilder input = new StringBuilder();
        double last = 0;
        for (JsonNode event : lines.subList(1, lines.size())) {
            assertTrue(event.get(0).asDouble() >= last, "times never go back: " + event);
            last = event.get(0).asDouble();
            (event.get(1).asText().equals("o") ? output : input).append(event.get(2).asText());
        }
        assertEquals(new String(shown, StandardCharsets.UTF_8), output.toString(), "the replay is what the terminal showed");
        assertTrue(input.toString().contains("echo " + marker + "-$((6*7))"), "typed input is recorded as i events: " + input);
        assertTrue(input.toString().contains("exit 0"), input.toString());
    }

    @Test
    void a_large_output_is_recorded_whole_in_bounded_events() throws Exception {
        String marker = "large-" + UUID.randomUUID();
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        Cli.Result r = SshTargets.ssh(SshTargets.login("bob"), null, SshTargets.DEV,
                "head -c 300000 /dev/urandom | base64 -w 0; echo " + marker);
        assertEquals(0, r.exitCode(), r.stderr());
        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark, e -> e.path("text").asText().contains(marker),
                SessionEventsTopic::ended, Duration.ofSeconds(30));
        long seq = events.values().stream().filter(e -> e.path("text").asText().contains(marker)).findFirst().orElseThrow().get("seq")
                .asLong();
        java.io.ByteArrayOutputStream recorded = new java.io.ByteArrayOutputStream();
        int chunks = 0;
        for (JsonNode e : events.values()) {
            if ("output".equals(e.path("type").asText()) && e.path("request_seq").asLong() == seq && "stdout".equals(e.path("stream").asText())) {
                byte[] data = java.util.Base64.getDecoder().decode(e.path("data").asText());
                assertTrue(data.length <= Output.MAX_DATA_BYTES, "an output event holds at most 48 KiB: " + data.length);
                recorded.write(data);
                chunks++;
            }
        }
        assertTrue(chunks >= 400_000 / Output.MAX_DATA_BYTES, "400 kB of output is several events: " + chunks);
        assertEquals(r.stdout(), recorded.toString(StandardCharsets.UTF_8), "every byte the client got is recorded, in order");
    }

    /** alice (dba) asks for a shell on production without a terminal; returns the process and the approval request. */
    private static HeldClient shellOnProductionHeld() throws Exception {
        Path config = SshTargets.login("alice");
        Process ssh = new ProcessBuilder("ssh", "-T", "-F", config.toString(), "-o", "BatchMode=yes", SshTargets.PROD).start();
        return HeldClient.await(ssh);
    }

    @Test
    void a_dba_shell_on_production_waits_for_approval_then_runs() throws Exception {
        HeldClient held = shellOnProductionHeld();
        try {
            assertEquals("pending", Approver.state(held.request()));
            assertEquals("ssh", Approver.request(held.request()).get("protocol"));
            // typed before the approval: kept, and run once approved
            held.process().getOutputStream().write("echo approved-$((6*7))\nexit 0\n".getBytes(StandardCharsets.UTF_8));
            held.process().getOutputStream().flush();
            Thread.sleep(300);
            assertTrue(held.process().isAlive(), "the shell waits for its approvers");
            Approver.approve(held.request(), "carol", "go ahead");
            held.process().getOutputStream().close();
            assertTrue(held.process().waitFor(30, TimeUnit.SECONDS), "the approved shell ends");
            assertEquals(0, held.process().exitValue(), String.join("\n", held.stderr()));
            assertEquals("approved-42", held.stdout().get(10, TimeUnit.SECONDS).trim());
        } finally {
            held.process().destroyForcibly();
        }
    }

    @Test
    void a_dba_shell_on_production_that_the_approver_denies_fails_with_126_and_why() throws Exception {
        HeldClient held = shellOnProductionHeld();
        try {
            held.process().getOutputStream().write("echo must-not-run\n".getBytes(StandardCharsets.UTF_8));
            held.process().getOutputStream().flush();
            Approver.deny(held.request(), "carol", "not during the freeze");
            assertTrue(held.process().waitFor(30, TimeUnit.SECONDS), "the denied shell ends");
            assertEquals(126, held.process().exitValue());
            String err = String.join("\n", held.stderr());
            assertTrue(err.contains("Portcullis denied an interactive shell") && err.contains("not during the freeze")
                    && err.contains("[policy ssh/shell-on-prod]"), err);
            assertFalse(held.stdout().get(10, TimeUnit.SECONDS).contains("must-not-run"), "nothing reached the target");
        } finally {
            held.process().destroyForcibly();
        }
    }

    @Test
    void a_dba_shell_on_production_whose_approval_expires_fails_with_126_and_says_so() throws Exception {
        HeldClient held = shellOnProductionHeld();
        try {
            Approver.expire(held.request()); // what the admin API's sweeper does past the expiry
            assertTrue(held.process().waitFor(30, TimeUnit.SECONDS), "the expired shell ends");
            assertEquals(126, held.process().exitValue());
            String err = String.join("\n", held.stderr());
            assertTrue(err.contains("the approval request expired") && err.contains("[policy ssh/shell-on-prod]"), err);
        } finally {
            held.process().destroyForcibly();
        }
    }

    /** A kill mid-shell: the shell ends at once, and its stderr carries the administrator's message. */
    @Test
    void a_kill_mid_shell_ends_it_with_the_message() throws Exception {
        Process shell = new ProcessBuilder("ssh", "-T", "-F", SshTargets.login("bob").toString(), "-o", "BatchMode=yes", SshTargets.DEV)
                .start();
        try {
            shell.getOutputStream().write("echo shell-started\n".getBytes(StandardCharsets.UTF_8));
            shell.getOutputStream().flush();
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(shell.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("shell-started", out.readLine(), "the shell runs");
            Session running = sessions.live(1000).stream().filter(s -> s.connection().name().equals(SshTargets.DEV)
                    && s.identity().name().equals("bob")).max(java.util.Comparator.comparing(Session::startedAt)).orElseThrow();
            TestStack.execute(TestStack.get("PORTCULLIS_DB"), "SELECT pg_notify('" + Channels.KILL_SESSION + "', '" + running.id() + "')");
            assertTrue(shell.waitFor(15, TimeUnit.SECONDS), "the shell still runs after the kill (its stdin is still open)");
            assertFalse(shell.exitValue() == 0, "a killed shell does not succeed");
            String err = new String(shell.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(err.contains("an administrator ended this session"), err);
        } finally {
            shell.destroyForcibly();
        }
    }

    @Test
    void a_kill_while_the_shell_waits_ends_it_with_the_message_and_withdraws_the_approval_request() throws Exception {
        HeldClient held = shellOnProductionHeld();
        try {
            for (Session s : sessions.live(1000)) {
                if (s.connection().name().equals(SshTargets.PROD) && s.identity().name().equals("alice")) {
                    TestStack.execute(TestStack.get("PORTCULLIS_DB"), "SELECT pg_notify('" + Channels.KILL_SESSION + "', '" + s.id() + "')");
                }
            }
            assertTrue(held.process().waitFor(15, TimeUnit.SECONDS), "ssh still waits after the kill");
            assertNotEquals(0, held.process().exitValue());
            assertTrue(String.join("\n", held.stderr()).contains("an administrator ended this session"), String.join("\n", held.stderr()));
            assertEquals("withdrawn", Approver.awaitEnded(held.request()), "nobody can approve a killed session's shell");
        } finally {
            held.process().destroyForcibly();
        }
    }

    @Test
    void a_client_that_leaves_while_its_shell_waits_withdraws_the_approval_request() throws Exception {
        HeldClient held = shellOnProductionHeld();
        held.process().destroy();
        assertTrue(held.process().waitFor(10, TimeUnit.SECONDS));
        assertEquals("withdrawn", Approver.awaitEnded(held.request()), "nobody can approve a shell whose client is gone");
    }
}
