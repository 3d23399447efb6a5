package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.contract.Channels;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.SessionRegistry;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.SshTargets;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real OpenSSH client through the gateway to the stack's real sshd: logins with a certificate from the gateway's
 * CA ({@code dev-services/stack ssh-login}), every exec and shell decided by the real OPA on policies-rego, the target
 * reached with the connection's sealed key and only with its registered host key.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class SshThroughGatewayTest {

    @Inject
    SessionRegistry sessions;

    @BeforeEach
    void targets() throws Exception {
        SshTargets.ensure();
    }

    @Test
    void ci_runs_a_read_only_command_on_a_non_production_host() throws Exception {
        Cli.Result r = SshTargets.ssh(SshTargets.login("agent-ci"), null, SshTargets.DEV, "uname -s");
        assertEquals(0, r.exitCode(), r.all());
        assertEquals("Linux", r.stdout().trim(), r.all());
    }

    @Test
    void the_exit_status_and_stderr_of_an_allowed_command_come_back_unchanged() throws Exception {
        Cli.Result r = SshTargets.ssh(SshTargets.login("bob"), null, SshTargets.DEV, "echo out; echo err >&2; exit 3");
        assertEquals(3, r.exitCode(), r.all());
        assertEquals("out", r.stdout().trim(), r.all());
        assertTrue(r.stderr().contains("err"), r.all());
    }

    @Test
    void stdin_reaches_the_command() throws Exception {
        Cli.Result r = SshTargets.ssh(SshTargets.login("bob"), "hello through the gateway\n", SshTargets.DEV, "cat");
        assertEquals(0, r.exitCode(), r.all());
        assertEquals("hello through the gateway", r.stdout().trim(), r.all());
    }

    @Test
    void an_exec_its_stdin_stdout_and_exit_status_are_recorded_through_the_spine() throws Exception {
        String marker = "portcullis-ssh-" + UUID.randomUUID();
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        Cli.Result r = SshTargets.ssh(SshTargets.login("bob"), marker + "\n", SshTargets.DEV, "cat; echo " + marker + "-out");
        assertEquals(0, r.exitCode(), r.all());
        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark,
                e -> e.path("text").asText().contains(marker),
                found -> found.values().stream().anyMatch(e -> e.path("type").asText().equals("result")),
                Duration.ofSeconds(30));
        JsonNode request = events.values().stream().filter(e -> e.path("text").asText().contains(marker)).findFirst().orElseThrow();
        assertEquals("ssh", request.get("protocol").asText());
        assertEquals("exec", request.get("details").get("type").asText());
        assertTrue(request.get("details").get("shell_syntax").asBoolean());
        assertTrue(request.get("decision").get("allow").asBoolean());
        long seq = request.get("seq").asLong();
        assertTrue(events.values().stream().anyMatch(e -> e.path("type").asText().equals("output") && e.path("request_seq").asLong() == seq
                && e.path("stream").asText().equals("stdin") && decoded(e).contains(marker)), events.toString());
        assertTrue(events.values().stream().anyMatch(e -> e.path("type").asText().equals("output") && e.path("request_seq").asLong() == seq
                && e.path("stream").asText().equals("stdout") && decoded(e).contains(marker + "-out")), events.toString());
        JsonNode result = events.values().stream().filter(e -> e.path("type").asText().equals("result")).findFirst().orElseThrow();
        assertEquals(0, result.get("details").get("exit_status").asInt(), result.toString());
    }

    private static String decoded(JsonNode output) {
        return new String(Base64.getDecoder().decode(output.path("data").asText()), StandardCharsets.UTF_8);
    }

    @Test
    void ci_is_denied_a_command_off_the_read_only_list_with_status_126_and_the_reason() throws Exception {
        Path marker = Files.createTempFile("portcullis-ssh-", ".marker");
        Cli.Result r = SshTargets.ssh(SshTargets.login("agent-ci"), null, SshTargets.DEV, "rm -f " + marker);
        assertEquals(126, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("Portcullis denied this command"), r.all());
        assertTrue(r.stderr().contains("[policy ssh/exec]"), r.all());
        assertTrue(Files.exists(marker), "the denied command must not have run");
        Files.delete(marker);
    }

    @Test
    void ci_is_denied_a_read_only_command_chained_to_another() throws Exception {
        Cli.Result r = SshTargets.ssh(SshTargets.login("agent-ci"), null, SshTargets.DEV, "uname; id");
        assertEquals(126, r.exitCode(), r.all());
        assertFalse(r.stdout().contains("Linux"), r.all());
    }

    @Test
    void developer_runs_any_command_on_non_production_and_only_read_only_ones_on_production() throws Exception {
        Path config = SshTargets.login("bob");
        Cli.Result dev = SshTargets.ssh(config, null, SshTargets.DEV, "id -un");
        assertEquals(0, dev.exitCode(), dev.all());
        assertEquals(System.getProperty("user.name"), dev.stdout().trim(), "the command runs as the connection's login");
        // on production a developer may only read: a read-only command runs, any other is denied
        Cli.Result read = SshTargets.ssh(config, null, SshTargets.PROD, "id -un");
        assertEquals(0, read.exitCode(), read.all());
        Cli.Result prod = SshTargets.ssh(config, null, SshTargets.PROD, "sh -c 'id -un'");
        assertEquals(126, prod.exitCode(), prod.all());
        assertTrue(prod.stderr().contains("is not allowed on production connection demo-box-prod"), prod.all());
    }

    @Test
    void ci_may_not_even_open_a_session_on_production() throws Exception {
        Cli.Result r = SshTargets.ssh(SshTargets.login("agent-ci"), null, SshTargets.PROD, "uname");
        assertEquals(126, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("Portcullis denied this session"), r.all());
    }

    @Test
    void ci_is_denied_a_shell() throws Exception {
        Cli.Result r = SshTargets.ssh(SshTargets.login("agent-ci"), "id\nexit\n", "-T", SshTargets.DEV);
        assertEquals(126, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("Portcullis denied an interactive shell"), r.all());
        assertTrue(r.stderr().contains("[policy ssh/shell]"), r.all());
    }

    @Test
    void developer_gets_a_shell_on_non_production() throws Exception {
        Cli.Result r = SshTargets.ssh(SshTargets.login("bob"), "echo shell-$((6*7))\nexit 0\n", "-T", SshTargets.DEV);
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.stdout().contains("shell-42"), r.all());
    }

    @Test
    void a_changed_target_host_key_is_refused_with_a_clear_error() throws Exception {
        Path dir = Files.createTempDirectory("portcullis-ssh-rekeyed");
        Path other = dir.resolve("other_host_key");
        Cli.Result keygen = Cli.run(Map.of(), null, 30, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other.toString());
        assertEquals(0, keygen.exitCode(), keygen.all());
        String[] parts = Files.readString(Path.of(other + ".pub")).trim().split(" ");
        SshTargets.register("demo-box-rekeyed", "{\"env\":\"dev\"}", parts[0] + " " + parts[1]);

        // the command line's User wins over the ssh_config's: the same gateway, the connection demo-box-rekeyed
        Cli.Result r = SshTargets.ssh(SshTargets.login("bob"), null, "-o", "User=demo-box-rekeyed", SshTargets.DEV, "id");
        assertEquals(255, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("which is not the one registered with the connection"), r.all());
    }

    @Test
    void a_certificate_from_another_ca_is_refused() throws Exception {
        Path config = SshTargets.login("agent-ci");
        Path dir = config.getParent();
        Path ca = dir.resolve("other_ca");
        Files.deleteIfExists(ca);
        Files.deleteIfExists(Path.of(ca + ".pub"));
        assertEquals(0, Cli.run(Map.of(), null, 30, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ca.toString()).exitCode());
        // the same key, principal and key id as the real certificate, signed by a CA the gateway does not trust
        Cli.Result sign = Cli.run(Map.of(), null, 30, "ssh-keygen", "-q", "-s", ca.toString(), "-I", "agent-ci", "-n", "agent-ci",
                "-V", "-5m:+1h", dir.resolve("id_ed25519.pub").toString());
        assertEquals(0, sign.exitCode(), sign.all());

        Cli.Result r = SshTargets.ssh(config, null, SshTargets.DEV, "uname");
        assertEquals(255, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("Permission denied (publickey,keyboard-interactive)"), r.all());
    }

    @Test
    void an_expired_certificate_of_the_gateways_own_ca_is_refused() throws Exception {
        Path config = SshTargets.login("agent-ci");
        Path dir = config.getParent();
        // the gateway's CA itself signs, but for a window that has passed
        Cli.Result sign = Cli.run(Map.of(), null, 30, "ssh-keygen", "-q", "-s", SshTargets.SSH_DIR.resolve("gateway_ca_ed25519").toString(),
                "-I", "agent-ci", "-n", "agent-ci", "-V", "20200101:20200102", dir.resolve("id_ed25519.pub").toString());
        assertEquals(0, sign.exitCode(), sign.all());

        Cli.Result r = SshTargets.ssh(config, null, SshTargets.DEV, "uname");
        assertEquals(255, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("Permission denied (publickey,keyboard-interactive)"), r.all());
    }

    @Test
    void a_plain_key_without_a_certificate_is_refused() throws Exception {
        Path config = SshTargets.login("agent-ci");
        Files.delete(config.getParent().resolve("id_ed25519-cert.pub"));
        Cli.Result r = SshTargets.ssh(config, null, SshTargets.DEV, "uname");
        assertEquals(255, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("Permission denied (publickey,keyboard-interactive)"), r.all());
    }

    @Test
    void the_certificate_endpoint_refuses_a_missing_token_and_a_body_that_is_no_key() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        URI uri = URI.create("http://127.0.0.1:" + TestStack.get("GATEWAY_TEST_HTTP_PORT") + "/ssh/certificates");
        HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString("ssh-ed25519 AAAA"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, anonymous.statusCode(), anonymous.body());

        HttpResponse<String> garbage = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + TestStack.token("agent-ci"))
                .POST(HttpRequest.BodyPublishers.ofString("not a key")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(400, garbage.statusCode(), garbage.body());
        assertTrue(garbage.body().contains("not an OpenSSH public key line"), garbage.body());

        HttpResponse<String> huge = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + TestStack.token("agent-ci"))
                .POST(HttpRequest.BodyPublishers.ofString("ssh-ed25519 " + "A".repeat(100_000))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(400, huge.statusCode(), huge.body());
    }

    @Test
    void the_certificate_names_the_identity_and_expires_with_the_token() throws Exception {
        Path config = SshTargets.login("agent-ci");
        Cli.Result shown = Cli.run(Map.of(), null, 30, "ssh-keygen", "-L", "-f", config.getParent().resolve("id_ed25519-cert.pub").toString());
        assertEquals(0, shown.exitCode(), shown.all());
        assertTrue(shown.stdout().contains("Key ID: \"agent-ci\""), shown.stdout());
        assertTrue(shown.stdout().contains("Type: ssh-ed25519-cert-v01@openssh.com user certificate"), shown.stdout());
        assertTrue(shown.stdout().matches("(?s).*Principals: \\s*agent-ci\\s.*"), shown.stdout());
        assertTrue(shown.stdout().contains("groups@portcullis.dev"), shown.stdout());
    }

    @Test
    void a_kill_ends_the_ssh_connection_with_a_message() throws Exception {
        Path config = SshTargets.login("bob");
        ProcessBuilder pb = new ProcessBuilder("ssh", "-F", config.toString(), "-o", "BatchMode=yes", SshTargets.DEV,
                "echo started; sleep 60");
        Process p = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("started", out.readLine());
        // bob's newest session on demo-box (an earlier test's may still be ending)
        Session running = sessions.live(1000).stream().filter(s -> s.connection().name().equals(SshTargets.DEV)
                && s.identity().name().equals("bob")).max(java.util.Comparator.comparing(Session::startedAt)).orElseThrow();

        TestStack.execute(TestStack.get("PORTCULLIS_DB"), "SELECT pg_notify('" + Channels.KILL_SESSION + "', '" + running.id() + "')");

        assertTrue(p.waitFor(15, TimeUnit.SECONDS), "ssh still runs after the kill");
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(err.contains("an administrator ended this session"), err);
        assertFalse(p.exitValue() == 0, "a killed command does not succeed");
    }
}
