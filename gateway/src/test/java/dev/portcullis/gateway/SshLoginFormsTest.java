package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The two ways to log in besides a plain certificate login, and the two forms of the user field. The OIDC access token
 * as a keyboard-interactive answer, typed by the real OpenSSH client through SSH_ASKPASS (which
 * OpenSSH reads into the same 1024-byte buffer as a terminal answer): a token that fits logs in; the stack's
 * {@code agent-long-token}, whose valid token is longer than 1023 bytes, arrives cut and is refused with a message that
 * says so and points to certificates; a forged token is refused saying which check failed. And
 * {@code <login>@<connection>}: a login the connection lists is used on the target and is in every decision's input; one
 * it does not list is refused before anything reaches the target.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class SshLoginFormsTest {
    private static Path dir;

    @BeforeAll
    static void askpass() throws Exception {
        dir = Files.createTempDirectory("ssh-token-login");
        // prints the token file to OpenSSH and keeps the prompt it was shown
        Path script = dir.resolve("askpass");
        Files.writeString(script, "#!/bin/sh\nprintf '%s\\n' \"$1\" >>\"" + dir.resolve("prompts") + "\"\ncat \"" + dir.resolve("token")
                + "\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        String[] hostKey = Files.readString(SshTargets.SSH_DIR.resolve("gateway_host_ed25519.pub")).trim().split(" ");
        Files.writeString(dir.resolve("known_hosts"), "[127.0.0.1]:" + SshTargets.gatewayPort() + " " + hostKey[0] + " " + hostKey[1]
                + "\n");
    }

    private static final String LOGINS = "demo-box-logins";
    private static final String SELF = System.getProperty("user.name");

    @BeforeEach
    void targets() throws Exception {
        SshTargets.ensure();
        SshTargets.register(LOGINS, "{\"env\":\"dev\"}", SshTargets.targetHostKey(), List.of("backup"));
    }

    @Test
    void a_login_the_connection_lists_is_used_on_the_target_and_the_decision_sees_it() throws Exception {
        Path config = SshTargets.login("bob");
        String port = String.valueOf(SshTargets.gatewayPort());
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        String marker = "login-form-" + UUID.randomUUID();
        Cli.Result self = SshTargets.ssh(config, null, "-p", port, SELF + "@" + LOGINS + "@127.0.0.1", "id -un; echo " + marker);
        assertEquals(0, self.exitCode(), self.all());
        assertTrue(self.stdout().startsWith(SELF + "\n"), self.all());
        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark, e -> e.path("text").asText().contains(marker),
                found -> found.values().stream().anyMatch(e -> e.path("text").asText().contains(marker)), Duration.ofSeconds(30));
        JsonNode exec = events.values().stream().filter(e -> e.path("text").asText().contains(marker)).findFirst().orElseThrow();
        assertEquals(SELF, exec.path("details").path("login").asText(), exec.toString());

        // listed, so decided and tried as backup; the stack's unprivileged sshd can log in no one but its own user
        Cli.Result backup = SshTargets.ssh(config, null, "-p", port, "backup@" + LOGINS + "@127.0.0.1", "id -un");
        assertEquals(255, backup.exitCode(), backup.all());
        assertTrue(backup.stderr().contains("logging in to the target of " + LOGINS + " as backup failed"), backup.all());

        Cli.Result plain = SshTargets.ssh(config, null, SshTargets.DEV, "id -un");
        assertEquals(0, plain.exitCode(), plain.all());
        assertEquals(SELF, plain.stdout().trim(), "a plain <connection> logs in as the connection's username");
    }

    @Test
    void a_login_the_connection_does_not_list_is_refused_before_the_target() throws Exception {
        Path config = SshTargets.login("bob");
        String port = String.valueOf(SshTargets.gatewayPort());
        Cli.Result other = SshTargets.ssh(config, null, "-p", port, "mallory@" + LOGINS + "@127.0.0.1", "id -un");
        assertEquals(126, other.exitCode(), other.all());
        assertTrue(other.stderr().contains("connection " + LOGINS + " does not allow login mallory on its target; it allows "
                + SELF + ", backup"), other.all());
        Cli.Result onDemoBox = SshTargets.ssh(config, null, "-p", port, "backup@" + SshTargets.DEV + "@127.0.0.1", "id -un");
        assertEquals(126, onDemoBox.exitCode(), onDemoBox.all());
        assertTrue(onDemoBox.stderr().contains("does not allow login backup"), onDemoBox.all());
        for (String user : List.of("Root@" + LOGINS, "@" + LOGINS, "a b@" + LOGINS, "backup@Demo-Box")) {
            Cli.Result malformed = SshTargets.ssh(config, null, "-p", port, "-l", user, "127.0.0.1", "id");
            assertEquals(255, malformed.exitCode(), user + ": " + malformed.all());
            assertTrue(malformed.stderr().contains("Permission denied"), user + ": " + malformed.all());
        }
    }

    @Test
    void a_token_that_fits_logs_in_and_the_prompt_says_the_limit() throws Exception {
        String token = TestStack.token("agent-ci");
        assertTrue(token.length() < 1023, "the stack's usual token fits OpenSSH's answer: " + token.length() + " bytes");
        Cli.Result r = ssh(token, SshTargets.DEV, "uname -s");
        assertEquals(0, r.exitCode(), r.all());
        assertEquals("Linux", r.stdout().trim());
        String prompts = Files.readString(dir.resolve("prompts"));
        assertTrue(prompts.contains("OpenSSH sends at most 1023 bytes") && prompts.contains("ssh-login"), prompts);
    }

    @Test
    void a_token_longer_than_openssh_sends_is_refused_with_a_message_that_points_to_certificates() throws Exception {
        String token = TestStack.token("agent-long-token");
        assertTrue(token.length() > 1023, "agent-long-token's token must be longer than 1023 bytes: " + token.length());
        Cli.Result r = ssh(token, SshTargets.DEV, "uname -s");
        assertEquals(255, r.exitCode(), r.all());
        assertFalse(r.stdout().contains("Linux"), r.all());
        assertTrue(r.stderr().contains("it arrived exactly 1023 bytes long and does not verify, so OpenSSH most likely cut a"
                + " longer token"), r.all());
        assertTrue(r.stderr().contains("dev-services/stack ssh-login NAME"), r.all());
        assertTrue(r.stderr().contains("Permission denied (publickey,keyboard-interactive)"), r.all());
        assertFalse(r.all().contains(token.substring(0, 1023)), "the token is never echoed");
    }

    @Test
    void a_forged_or_foreign_token_is_refused_saying_which_check_failed() throws Exception {
        String token = TestStack.token("bob");
        String forged = token.substring(0, token.lastIndexOf('.') + 1) + "c2lnbmF0dXJl";
        Cli.Result r = ssh(forged, SshTargets.DEV, "id");
        assertEquals(255, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("Portcullis refused the access token: "), r.all());
        assertFalse(r.stderr().contains("OpenSSH most likely cut"), r.all());

        Cli.Result notAToken = ssh("hunter2", SshTargets.DEV, "id");
        assertEquals(255, notAToken.exitCode(), notAToken.all());
        assertTrue(notAToken.stderr().contains("not an OIDC access token"), notAToken.all());

        Cli.Result wrongAudience = ssh(TestStack.token("agent-wrong-aud"), SshTargets.DEV, "id");
        assertNotEquals(0, wrongAudience.exitCode(), wrongAudience.all());
        assertTrue(wrongAudience.stderr().contains("Portcullis refused the access token: "), wrongAudience.all());
    }

    @Test
    void the_policy_still_decides_after_a_token_login() throws Exception {
        Cli.Result r = ssh(TestStack.token("agent-ci"), SshTargets.DEV, "rm -rf /tmp/portcullis-never");
        assertEquals(126, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("[policy ssh/exec]"), r.all());
    }

    /** The real ssh with only keyboard-interactive, answered once by the askpass script with {@code token}. */
    private static Cli.Result ssh(String token, String connection, String command) throws Exception {
        Files.writeString(dir.resolve("token"), token, StandardCharsets.US_ASCII);
        List<String> cmd = new ArrayList<>(List.of("ssh", "-F", "/dev/null", "-p", String.valueOf(SshTargets.gatewayPort()),
                "-o", "UserKnownHostsFile=" + dir.resolve("known_hosts"), "-o", "StrictHostKeyChecking=yes",
                "-o", "PreferredAuthentications=keyboard-interactive", "-o", "PubkeyAuthentication=no",
                "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=20", connection + "@127.0.0.1", command));
        return Cli.run(Map.of("SSH_ASKPASS", dir.resolve("askpass").toString(), "SSH_ASKPASS_REQUIRE", "force",
                "DISPLAY", ":0"), null, 60, cmd.toArray(String[]::new));
    }
}
