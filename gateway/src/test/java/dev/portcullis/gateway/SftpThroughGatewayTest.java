package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.SshTargets;
import dev.portcullis.gateway.testing.StackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * scp and sftp (the real OpenSSH clients) through the gateway to the stack's real sshd, every file operation decided by
 * the real OPA on policies-rego: a developer copies both ways, ci-readonly may not write, the backup role reads only
 * under a backup path; a denied operation gets SFTP's own failure and the reason on stderr and the session goes on;
 * legacy scp (-O) is an exec; and bad SFTP input (an oversized packet, a path with NUL) gets a clear end or error.
 * The target runs on this machine as this user, so the test sees the target's files directly.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class SftpThroughGatewayTest {
    private static final Path BACKUPS = Path.of("/tmp/portcullis-backups");

    private Path dir;

    @BeforeEach
    void targets() throws Exception {
        SshTargets.ensure();
        dir = Files.createTempDirectory("portcullis-sftp-");
    }

    private static Cli.Result scp(Path config, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("scp", "-F", config.toString(), "-o", "BatchMode=yes", "-o", "ConnectTimeout=20"));
        cmd.addAll(List.of(args));
        return Cli.run(Map.of(), null, 120, cmd.toArray(String[]::new));
    }

    private static byte[] random(int size) {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        return data;
    }

    @Test
    void developer_copies_up_and_down_and_each_open_is_recorded_with_its_path_and_size() throws Exception {
        Path config = SshTargets.login("bob");
        byte[] data = random(300_000);
        Path local = Files.write(dir.resolve("local.bin"), data);
        Path remote = dir.resolve("uploaded.bin");
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();

        Cli.Result up = scp(config, local.toString(), SshTargets.DEV + ":" + remote);
        assertEquals(0, up.exitCode(), up.all());
        assertArrayEquals(data, Files.readAllBytes(remote));
        Path back = dir.resolve("downloaded.bin");
        Cli.Result down = scp(config, SshTargets.DEV + ":" + remote, back.toString());
        assertEquals(0, down.exitCode(), down.all());
        assertArrayEquals(data, Files.readAllBytes(back));

        // the upload's open for writing: its request names the path, its result the bytes written
        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark, e -> remote.toString().equals(e.path("details").path("path").asText()),
                found -> found.values().stream().anyMatch(e -> e.path("type").asText().equals("result")
                        && e.path("details").path("written_bytes").asLong() == data.length), Duration.ofSeconds(30));
        JsonNode open = events.values().stream().filter(e -> e.path("type").asText().equals("request")
                && e.path("details").path("operation").asText().equals("open")).findFirst().orElseThrow();
        assertEquals("sftp", open.get("details").get("type").asText(), open.toString());
        assertTrue(open.get("details").get("access").toString().contains("write"), open.toString());
        assertTrue(open.get("decision").get("allow").asBoolean(), open.toString());
        assertEquals("ssh/sftp-write", open.get("decision").get("policy").asText(), open.toString());
        JsonNode result = events.values().stream().filter(e -> e.path("type").asText().equals("result")
                && e.path("request_seq").asLong() == open.get("seq").asLong()).findFirst().orElseThrow();
        assertTrue(result.get("ok").asBoolean(), result.toString());
        assertEquals(data.length, result.get("details").get("written_bytes").asLong(), result.toString());
    }

    @Test
    void ci_may_not_upload_reads_why_and_nothing_reaches_the_target() throws Exception {
        Path local = Files.write(dir.resolve("local.txt"), "from ci\n".getBytes(StandardCharsets.UTF_8));
        Path remote = dir.resolve("ci-upload.txt");
        Cli.Result r = scp(SshTargets.login("agent-ci"), local.toString(), SshTargets.DEV + ":" + remote);
        assertNotEquals(0, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("Portcullis denied this file operation: sftp open \"" + remote + "\" for write"), r.all());
        assertTrue(r.stderr().contains("[policy ssh/sftp-write]"), r.all());
        assertFalse(Files.exists(remote), "the denied upload must not have created the file");
    }

    @Test
    void backup_reads_under_a_backup_path_on_production_and_nothing_else() throws Exception {
        Path config = SshTargets.login("agent-backup");
        Path backups = Files.createDirectories(BACKUPS.resolve(UUID.randomUUID().toString()));
        byte[] dump = random(70_000);
        Path remote = Files.write(backups.resolve("orders.dump"), dump);

        Path got = dir.resolve("orders.dump");
        Cli.Result read = scp(config, SshTargets.PROD + ":" + remote, got.toString());
        assertEquals(0, read.exitCode(), read.all());
        assertArrayEquals(dump, Files.readAllBytes(got));

        Path elsewhere = Files.write(dir.resolve("not-a-backup.txt"), "secret\n".getBytes(StandardCharsets.UTF_8));
        Cli.Result outside = scp(config, SshTargets.PROD + ":" + elsewhere, dir.resolve("copy.txt").toString());
        assertNotEquals(0, outside.exitCode(), outside.all());
        assertTrue(outside.stderr().contains("reads a file outside the backup paths"), outside.all());
        assertTrue(outside.stderr().contains("[policy ssh/sftp-read]"), outside.all());
        assertFalse(Files.exists(dir.resolve("copy.txt")));

        // .. cannot lead out of a backup path
        Cli.Result escape = scp(config, SshTargets.PROD + ":" + backups + "/../../.." + elsewhere, dir.resolve("escape.txt").toString());
        assertNotEquals(0, escape.exitCode(), escape.all());
        assertTrue(escape.stderr().contains("[policy ssh/sftp-read]"), escape.all());

        Cli.Result write = scp(config, got.toString(), SshTargets.PROD + ":" + backups.resolve("replaced.dump"));
        assertNotEquals(0, write.exitCode(), write.all());
        assertTrue(write.stderr().contains("[policy ssh/sftp-write]"), write.all());
        assertFalse(Files.exists(backups.resolve("replaced.dump")));
    }

    @Test
    void a_denied_operation_leaves_the_sftp_session_going() throws Exception {
        Files.write(dir.resolve("listed.txt"), "x".getBytes(StandardCharsets.UTF_8));
        Path batch = Files.writeString(dir.resolve("batch"), "-mkdir " + dir.resolve("made") + "\n-rm " + dir.resolve("listed.txt") + "\nls " + dir
                + "\n");
        Path config = SshTargets.login("agent-ci");
        Cli.Result r = Cli.run(Map.of(), null, 60, "sftp", "-F", config.toString(), "-o", "BatchMode=yes", "-b", batch.toString(), SshTargets.DEV);
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.stdout().contains("listed.txt"), "the listing after two denials: " + r.all());
        assertTrue(r.stderr().contains("[policy ssh/sftp-write]"), r.all());
        assertFalse(Files.exists(dir.resolve("made")), "the denied mkdir must not have run");
        assertTrue(Files.exists(dir.resolve("listed.txt")), "the denied rm must not have run");
    }

    @Test
    void legacy_scp_is_an_exec_and_decided_as_one() throws Exception {
        Path local = Files.write(dir.resolve("legacy.txt"), "over scp -O\n".getBytes(StandardCharsets.UTF_8));
        Cli.Result ci = scp(SshTargets.login("agent-ci"), "-O", local.toString(), SshTargets.DEV + ":" + dir.resolve("ci-legacy.txt"));
        assertNotEquals(0, ci.exitCode(), ci.all());
        assertTrue(ci.stderr().contains("Portcullis denied this command: exec \"scp -t"), ci.all());
        assertFalse(Files.exists(dir.resolve("ci-legacy.txt")));

        Cli.Result bob = scp(SshTargets.login("bob"), "-O", local.toString(), SshTargets.DEV + ":" + dir.resolve("bob-legacy.txt"));
        assertEquals(0, bob.exitCode(), bob.all());
        assertEquals("over scp -O\n", Files.readString(dir.resolve("bob-legacy.txt")));
    }

    // --- bad SFTP input, sent raw over the real ssh client's sftp subsystem channel --------------------------

    private static byte[] packet(int type, ByteBuffer body) {
        body.flip();
        ByteBuffer b = ByteBuffer.allocate(5 + body.remaining());
        b.putInt(1 + body.remaining()).put((byte) type).put(body);
        return b.array();
    }

    private static byte[] init() {
        return packet(1, ByteBuffer.allocate(4).putInt(3));
    }

    /** The next packet's type and body from the subsystem's stdout; null at its end. */
    private static byte[] next(DataInputStream in) throws Exception {
        int length;
        try {
            length = in.readInt();
        } catch (EOFException e) {
            return null;
        }
        assertTrue(length > 0 && length < 1 << 20, "an SFTP packet of " + length + " bytes");
        byte[] body = new byte[length];
        in.readFully(body);
        return body;
    }

    private static Process sftpSubsystem(Path config) throws Exception {
        return new ProcessBuilder("ssh", "-F", config.toString(), "-o", "BatchMode=yes", "-s", SshTargets.DEV, "sftp").start();
    }

    @Test
    void a_path_with_a_nul_byte_is_answered_bad_message_and_the_channel_goes_on() throws Exception {
        Process p = sftpSubsystem(SshTargets.login("bob"));
        try {
            OutputStream out = p.getOutputStream();
            DataInputStream in = new DataInputStream(p.getInputStream());
            out.write(init());
            out.flush();
            assertEquals(2, next(in)[0], "VERSION");
            byte[] path = "/tmp/a\0/../etc/passwd".getBytes(StandardCharsets.UTF_8);
            out.write(packet(3, ByteBuffer.allocate(64).putInt(7).putInt(path.length).put(path).putInt(1).putInt(0)));
            byte[] stat = "/".getBytes(StandardCharsets.UTF_8);
            out.write(packet(17, ByteBuffer.allocate(16).putInt(8).putInt(stat.length).put(stat)));
            out.flush();
            ByteBuffer status = ByteBuffer.wrap(next(in));
            assertEquals(101, status.get(), "STATUS");
            assertEquals(7, status.getInt());
            assertEquals(5, status.getInt(), "SSH_FX_BAD_MESSAGE");
            byte[] message = new byte[status.getInt()];
            status.get(message);
            assertTrue(new String(message, StandardCharsets.UTF_8).contains("a path with a NUL byte"));
            assertEquals(105, next(in)[0], "the stat after it is answered by the target (ATTRS)");
        } finally {
            p.destroy();
        }
    }

    @Test
    void a_packet_longer_than_sftp_allows_ends_the_channel_and_nothing_else() throws Exception {
        Path config = SshTargets.login("bob");
        Process p = sftpSubsystem(config);
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        OutputStream out = p.getOutputStream();
        DataInputStream in = new DataInputStream(p.getInputStream());
        out.write(init());
        out.flush();
        byte[] version = next(in); // first, so that the channel's end cannot overtake the target's answer
        assertTrue(version != null && version[0] == 2, "the target answers INIT with VERSION");
        try {
            // a WRITE claiming 1 GiB: refused from its length, before anything is allocated for it
            out.write(ByteBuffer.allocate(9).putInt(1 << 30).put((byte) 6).putInt(9).array());
            out.write(new byte[64 * 1024]);
            out.flush();
        } catch (java.io.IOException e) {
            // the channel may already be closed
        }
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the channel must end");
        p.getInputStream().transferTo(seen);
        assertEquals(0, seen.size(), "nothing after it");
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(err.contains("Portcullis ended this SFTP channel: an SFTP packet of 1073741824 bytes"), err);
        // the gateway goes on serving
        Cli.Result r = SshTargets.ssh(config, null, SshTargets.DEV, "echo still-here");
        assertEquals("still-here", r.stdout().trim(), r.all());
    }
}
