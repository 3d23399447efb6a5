package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Approver;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.HeldClient;
import dev.portcullis.gateway.testing.SshTargets;
import dev.portcullis.gateway.testing.StackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An exec that needs approval, with the real ssh and sshd: on a production host registered with the tag
 * {@code ssh_exec_approval} (policy ssh/exec-on-prod), dba's command waits for an approver with the notice on stderr,
 * then runs once approved, or ends with 126 and the reason once denied, having never reached the host. A read-only
 * command there runs at once.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class SshHeldExecTest {
    private static final String HOST = "demo-box-prod-held";

    @BeforeEach
    void targets() throws Exception {
        SshTargets.ensure();
        SshTargets.register(HOST, "{\"env\":\"prod\",\"ssh_exec_approval\":\"true\"}", SshTargets.targetHostKey());
    }

    private static Process ssh(String command) throws Exception {
        return new ProcessBuilder("ssh", "-T", "-F", SshTargets.login("alice").toString(), "-o", "BatchMode=yes", "-o", "User=" + HOST,
                SshTargets.PROD, command).start();
    }

    @Test
    void a_command_on_a_host_that_holds_its_commands_waits_for_approval_then_runs() throws Exception {
        Path marker = Files.createTempDirectory("portcullis-held-exec-").resolve("approved");
        HeldClient held = HeldClient.await(ssh("touch " + marker));
        try {
            assertEquals("pending", Approver.state(held.request()));
            assertEquals("ssh", Approver.request(held.request()).get("protocol"));
            Thread.sleep(300);
            assertTrue(held.process().isAlive(), "the exec waits for its approvers");
            assertFalse(Files.exists(marker), "nothing reached the host before the approval");
            Approver.approve(held.request(), "carol", "go ahead");
            assertTrue(held.process().waitFor(30, TimeUnit.SECONDS), "the approved exec ends");
            assertEquals(0, held.process().exitValue(), String.join("\n", held.stderr()));
            assertTrue(Files.exists(marker), "the approved command ran on the host");
        } finally {
            held.process().destroyForcibly();
        }
    }

    @Test
    void a_command_the_approver_denies_fails_with_126_and_why_and_never_runs() throws Exception {
        Path marker = Files.createTempDirectory("portcullis-held-exec-").resolve("denied");
        HeldClient held = HeldClient.await(ssh("touch " + marker));
        try {
            Approver.deny(held.request(), "carol", "not during the freeze");
            assertTrue(held.process().waitFor(30, TimeUnit.SECONDS), "the denied exec ends");
            assertEquals(126, held.process().exitValue());
            String err = String.join("\n", held.stderr());
            assertTrue(err.contains("Portcullis denied this command") && err.contains("not during the freeze")
                    && err.contains("[policy ssh/exec-on-prod]"), err);
            assertFalse(Files.exists(marker), "the denied command never ran");
        } finally {
            held.process().destroyForcibly();
        }
    }

    @Test
    void a_read_only_command_there_runs_at_once() throws Exception {
        Cli.Result r = Cli.run(java.util.Map.of(), "", 60, "ssh", "-T", "-F", SshTargets.login("alice").toString(), "-o", "BatchMode=yes",
                "-o", "User=" + HOST, SshTargets.PROD, "uname -s");
        assertEquals(0, r.exitCode(), r.all());
        assertEquals("Linux", r.stdout().trim());
        assertFalse(r.stderr().contains("approval required"), r.stderr());
    }
}
