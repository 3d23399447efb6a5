package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.security.KeyPair;
import java.security.PublicKey;
import org.apache.kafka.common.TopicPartition;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.KnownHostsServerKeyVerifier;
import org.apache.sshd.client.keyverifier.RejectAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.common.util.buffer.Buffer;
import org.junit.jupiter.api.Test;

/**
 * ssh -R through the gateway (the real OpenSSH client, the stack's real sshd): the target's sshd listens on a listen
 * address the connection lists in its {@code ssh_remote_forwards} tag, and curl on the target's side gets a file from a
 * real HTTP server (python3 -m http.server) on the client's side through it, until {@code ssh -O cancel} stops it on
 * the target (cancel-tcpip-forward); an unlisted listen address is refused
 * (the target never listens there), so is ci-readonly on a listed one, and the recorded decisions say why. The ports
 * are the stack's GATEWAY_TEST_SSH_PORT + 4 (the HTTP server), + 5 (the listed listen port) and + 6 (an unlisted one).
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class RemoteForwardThroughGatewayTest {
    private static final String CONNECTION = "demo-box-remote-forwards";

    @Inject
    SessionRegistry sessions;

    /** ssh's stderr, read line by line on a thread of its own (destroy() closes the stream under a pending read). */
    private static StringBuffer stderrOf(Process ssh) {
        StringBuffer err = new StringBuffer();
        Thread reader = new Thread(() -> {
            try (var lines = new BufferedReader(new InputStreamReader(ssh.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    err.append(line).append('\n');
                }
            } catch (java.io.IOException e) {
                // ssh was stopped
            }
        });
        reader.setDaemon(true);
        reader.start();
        return err;
    }

    private static void awaitListening(int port, Process owner, StringBuffer err) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (java.io.IOException e) {
                if (!owner.isAlive()) {
                    throw new AssertionError("ssh exited before the target listened on " + port + ": " + err);
                }
                Thread.sleep(100);
            }
        }
        throw new AssertionError("nothing listens on " + port + " after 20 s: " + err);
    }

    private static void awaitLine(StringBuffer err, String text, Process owner) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!err.toString().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("ssh did not print \"" + text + "\" within 20 s: " + err);
            }
            Thread.sleep(100);
        }
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void a_listed_listen_address_carries_real_http_and_an_unlisted_one_and_ci_readonly_are_refused() throws Exception {
        int httpPort = TestStack.port("GATEWAY_TEST_SSH_PORT") + 4;
        int listed = httpPort + 1;
        int unlisted = httpPort + 2;
        SshTargets.ensure();
        SshTargets.register(CONNECTION, "{\"env\":\"dev\",\"ssh_remote_forwards\":\"127.0.0.1:" + listed + "\"}", SshTargets.targetHostKey());
        Path www = Files.createTempDirectory("portcullis-remote-forward-www");
        Files.writeString(www.resolve("hello.txt"), "back through the remote forward\n");
        Process http = new ProcessBuilder("python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", www.toString(),
                String.valueOf(httpPort)).start();
        Process ssh = null;
        StringBuffer sshErr = new StringBuffer();
        Map<TopicPartition, Long> mark;
        Path control = Files.createTempDirectory("pc-cm").resolve("m");
        try {
            ForwardThroughGatewayTest.serving(http);
            mark = SessionEventsTopic.mark();
            // a developer: the listed listen address, and an unlisted one
            ssh = new ProcessBuilder("ssh", "-F", SshTargets.login("bob").toString(), "-o", "BatchMode=yes", "-o", "User=" + CONNECTION,
                    "-o", "ControlMaster=yes", "-o", "ControlPath=" + control, "-N", "-R", "127.0.0.1:" + listed + ":127.0.0.1:" + httpPort, "-R", "127.0.0.1:" + unlisted + ":127.0.0.1:" + httpPort,
                    SshTargets.DEV).start();
            sshErr = stderrOf(ssh);
            awaitListening(listed, ssh, sshErr);
            awaitLine(sshErr, "remote port forwarding failed for listen port " + unlisted, ssh);
            assertTrue(!listening(unlisted), "the target listens on the unlisted port " + unlisted);

            // curl on the target's side (the stack's sshd runs here) reaches the client's HTTP server
            Cli.Result ok = Cli.run(Map.of(), null, 30, "curl", "-sS", "--max-time", "20", "http://127.0.0.1:" + listed + "/hello.txt");
            assertEquals(0, ok.exitCode(), ok.all() + sshErr);
            assertEquals("back through the remote forward\n", ok.stdout());

            // ssh -O cancel: cancel-tcpip-forward, the target stops listening, the forward's result is recorded
            Cli.Result cancel = Cli.run(Map.of(), null, 30, "ssh", "-F", SshTargets.login("bob").toString(), "-o", "User=" + CONNECTION, "-o",
                    "ControlPath=" + control, "-O", "cancel", "-R", "127.0.0.1:" + listed + ":127.0.0.1:" + httpPort, SshTargets.DEV);
            assertEquals(0, cancel.exitCode(), cancel.all() + sshErr);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (listening(listed)) {
                assertTrue(System.nanoTime() < deadline, "the target still listens on " + listed + " 20 s after the cancel");
                Thread.sleep(100);
            }
            assertTrue(ssh.isAlive(), "ssh ended with the cancel: " + sshErr);
        } finally {
            if (ssh != null) {
                ssh.destroy();
                ssh.waitFor(10, TimeUnit.SECONDS);
            }
            http.destroy();
        }

        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark,
                e -> e.path("details").path("type").asText().equals("tcpip-forward"),
                found -> found.values().stream().anyMatch(e -> e.path("type").asText().equals("result")), Duration.ofSeconds(30));
        JsonNode result = events.values().stream().filter(e -> e.path("type").asText().equals("result")).findFirst().orElseThrow();
        JsonNode request = events.get(result.get("request_seq").asLong());
        assertEquals(listed, request.get("details").get("port").asInt(), request.toString());
        assertEquals("127.0.0.1", request.get("details").get("host").asText(), request.toString());
        assertEquals("ssh/remote-forward", request.get("decision").get("policy").asText(), request.toString());
        assertTrue(result.get("details").get("sent_bytes").asLong() > "back through the remote forward\n".length(), result.toString());
        assertTrue(result.get("details").get("received_bytes").asLong() > 0, result.toString()); // curl's GET
        assertTrue(result.get("details").get("connections").asInt() >= 1, result.toString());
        JsonNode refused = events.values().stream().filter(e -> e.path("details").path("port").asInt() == unlisted).findFirst().orElseThrow();
        assertEquals("ssh/remote-forward-unlisted", refused.get("decision").get("policy").asText(), refused.toString());
        assertTrue(refused.get("decision").get("reasons").get(0).asText().contains("not among the listen addresses connection " + CONNECTION
                + " lists in its ssh_remote_forwards tag"), refused.toString());

        // ci-readonly may not, even on a listed address: ssh gives up (ExitOnForwardFailure) and the target never listened
        Map<TopicPartition, Long> ciMark = SessionEventsTopic.mark();
        Cli.Result ci = Cli.run(Map.of(), null, 30, "ssh", "-F", SshTargets.login("agent-ci").toString(), "-o", "BatchMode=yes", "-o",
                "User=" + CONNECTION, "-o", "ExitOnForwardFailure=yes", "-N", "-R", "127.0.0.1:" + listed + ":127.0.0.1:" + httpPort,
                SshTargets.DEV);
        assertNotEquals(0, ci.exitCode(), ci.all());
        assertTrue(ci.stderr().contains("remote port forwarding failed for listen port " + listed), ci.all());
        assertTrue(!listening(listed), "the target still listens on " + listed);
        TreeMap<Long, JsonNode> ciEvents = SessionEventsTopic.events(ciMark,
                e -> e.path("details").path("type").asText().equals("tcpip-forward"), found -> !found.isEmpty(), Duration.ofSeconds(30));
        JsonNode ciRequest = ciEvents.values().stream().filter(e -> e.path("type").asText().equals("request")).findFirst().orElseThrow(
                () -> new AssertionError("no request event: " + ciEvents));
        assertEquals(false, ciRequest.path("decision").path("allow").asBoolean(true), ciRequest.toString());
        assertEquals("ssh/remote-forward", ciRequest.path("decision").path("policy").asText(), ciRequest.toString());
    }

    /** A global request as MINA SSHD's client sends it; null when the gateway answers with a failure. */
    private static Buffer globalRequest(ClientSession s, String name, String host, long port) throws Exception {
        Buffer b = s.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST);
        b.putString(name);
        b.putBoolean(true);
        b.putString(host);
        b.putUInt(port);
        return s.request(name, b, Duration.ofSeconds(20));
    }

    /** bob's connection to {@link #CONNECTION} through MINA SSHD's client, with the certificate ssh-login wrote. */
    private static ClientSession bob(SshClient client, int listed) throws Exception {
        SshTargets.ensure();
        SshTargets.register(CONNECTION, "{\"env\":\"dev\",\"ssh_remote_forwards\":\"127.0.0.1:" + listed + "\"}", SshTargets.targetHostKey());
        Path dir = SshTargets.login("bob").getParent();
        KeyPair key = new FileKeyPairProvider(dir.resolve("id_ed25519")).loadKeys(null).iterator().next();
        PublicKey cert = PublicKeyEntry.parsePublicKeyEntry(Files.readString(dir.resolve("id_ed25519-cert.pub")).trim()).resolvePublicKey(null,
                Map.of(), null);
        client.setServerKeyVerifier(new KnownHostsServerKeyVerifier(RejectAllServerKeyVerifier.INSTANCE, dir.resolve("known_hosts")));
        client.start();
        ClientSession s = client.connect(CONNECTION, "127.0.0.1", SshTargets.gatewayPort()).verify(Duration.ofSeconds(20)).getSession();
        s.addPublicKeyIdentity(new KeyPair(cert, key.getPrivate()));
        s.auth().verify(Duration.ofSeconds(20));
        return s;
    }

    @Test
    void a_kill_closes_a_remote_forward_and_records_it() throws Exception {
        int listed = TestStack.port("GATEWAY_TEST_SSH_PORT") + 5;
        try (SshClient client = SshClient.setUpDefaultClient(); ClientSession s = bob(client, listed)) {
            Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
            assertNotNull(globalRequest(s, "tcpip-forward", "127.0.0.1", listed));
            assertTrue(listening(listed), "the target does not listen on " + listed);
            Session running = sessions.live(1000).stream().filter(x -> x.connection().name().equals(CONNECTION)
                    && x.identity().name().equals("bob")).max(java.util.Comparator.comparing(Session::startedAt)).orElseThrow();

            TestStack.execute(TestStack.get("PORTCULLIS_DB"), "SELECT pg_notify('" + Channels.KILL_SESSION + "', '" + running.id() + "')");

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (s.isOpen() || listening(listed)) {
                assertTrue(System.nanoTime() < deadline, "20 s after the kill: connection open " + s.isOpen() + ", the target listening "
                        + listening(listed));
                Thread.sleep(100);
            }
            TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark, e -> e.path("details").path("type").asText().equals("tcpip-forward"),
                    found -> found.values().stream().anyMatch(e -> e.path("type").asText().equals("result")), Duration.ofSeconds(30));
            JsonNode result = events.values().stream().filter(e -> e.path("type").asText().equals("result")).findFirst().orElseThrow();
            // the probes of listening() are connections the target accepted (this client takes none back)
            assertTrue(result.get("details").get("connections").asInt() >= 1, result.toString());
            assertEquals(0, result.get("details").get("sent_bytes").asLong(), result.toString());
        }
    }

    @Test
    void a_malformed_remote_forward_gets_a_failure_and_the_connection_goes_on() throws Exception {
        int listed = TestStack.port("GATEWAY_TEST_SSH_PORT") + 5;
        try (SshClient client = SshClient.setUpDefaultClient()) {
            try (ClientSession s = bob(client, listed)) {
                assertNull(globalRequest(s, "tcpip-forward", "h".repeat(300), listed), "a listen address of 300 characters");
                assertNull(globalRequest(s, "tcpip-forward", "127.0.0.1", 70_000), "port 70000");
                assertNull(globalRequest(s, "tcpip-forward", "127.0.0.1", 0xFFFF_FFFFL), "port 2^32-1");
                assertNull(globalRequest(s, "cancel-tcpip-forward", "127.0.0.1", listed), "a cancel of a forward it never made");
                assertTrue(!listening(listed), "the target listens on " + listed);
                // the connection goes on: the listed forward is made, and cancelled
                assertNotNull(globalRequest(s, "tcpip-forward", "127.0.0.1", listed));
                assertTrue(listening(listed), "the target does not listen on " + listed);
                assertNotNull(globalRequest(s, "cancel-tcpip-forward", "127.0.0.1", listed));
                assertTrue(s.isOpen());
            }
        }
    }
}
