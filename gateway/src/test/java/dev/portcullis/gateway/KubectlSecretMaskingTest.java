package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.KubeTargets;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Secret values through the gateway, with the real kubectl and curl against the real kube-apiserver: masked for a
 * developer (policy k8s/secret-values) in every form kubectl asks for them, shown to a dba, never passed in a form the
 * gateway cannot mask (protobuf), and a response too large to mask is refused rather than passed. The seeded Secret
 * db-credentials in demo-dev holds username app_dev and password s3cr3t-dev.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class KubectlSecretMaskingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MASKED_BASE64 = "Kioq"; // base64 of "***"
    private static final String PASSWORD_BASE64 = b64("s3cr3t-dev");

    @BeforeEach
    void clusters() throws Exception {
        KubeTargets.ensure();
    }

    @Test
    void developer_sees_secret_values_masked_in_json_yaml_and_the_default_table() throws Exception {
        Cli.Result json = KubeTargets.kubectl("bob", KubeTargets.DEV, "get", "secret", "db-credentials", "-n", "demo-dev", "-o", "json");
        assertEquals(0, json.exitCode(), json.all());
        JsonNode secret = JSON.readTree(json.stdout());
        assertEquals(MASKED_BASE64, secret.at("/data/password").asText(), json.stdout());
        assertEquals(MASKED_BASE64, secret.at("/data/username").asText(), json.stdout());
        assertEquals("Opaque", secret.get("type").asText());
        assertNoValue(json.stdout());

        Cli.Result yaml = KubeTargets.kubectl("bob", KubeTargets.DEV, "get", "secrets", "-n", "demo-dev", "-o", "yaml");
        assertEquals(0, yaml.exitCode(), yaml.all());
        assertTrue(yaml.stdout().contains("password: " + MASKED_BASE64) && yaml.stdout().contains("name: db-credentials"), yaml.stdout());
        assertNoValue(yaml.stdout());

        Cli.Result table = KubeTargets.kubectl("bob", KubeTargets.DEV, "get", "secrets", "-n", "demo-dev");
        assertEquals(0, table.exitCode(), table.all());
        assertTrue(table.stdout().lines().anyMatch(l -> l.startsWith("db-credentials") && l.contains("Opaque") && l.contains(" 2 ")),
                table.stdout());
    }

    @Test
    void dba_sees_the_values() throws Exception {
        Cli.Result r = KubeTargets.kubectl("alice", KubeTargets.DEV, "get", "secret", "db-credentials", "-n", "demo-dev", "-o",
                "jsonpath={.data.password}");
        assertEquals(0, r.exitCode(), r.all());
        assertEquals(PASSWORD_BASE64, r.stdout().trim());
    }

    @Test
    void a_table_with_its_objects_and_a_protobuf_accept_come_back_masked_json() throws Exception {
        String list = "/api/v1/namespaces/demo-dev/secrets";
        Cli.Result table = curl("bob", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json", list + "?includeObject=Object");
        assertTrue(table.stdout().contains("\"kind\":\"Table\""), table.all());
        JsonNode rows = JSON.readTree(body(table)).get("rows");
        assertTrue(rows.size() >= 1, table.stdout());
        for (JsonNode row : rows) {
            assertEquals("Secret", row.at("/object/kind").asText(), row.toString());
            row.at("/object/data").forEach(v -> assertEquals(MASKED_BASE64, v.asText(), row.toString()));
        }
        assertNoValue(table.stdout());

        for (String protobuf : List.of("application/vnd.kubernetes.protobuf", "application/vnd.kubernetes.protobuf,application/json",
                "application/cbor", "*/*")) {
            Cli.Result r = curl("bob", protobuf, list + "/db-credentials");
            assertTrue(r.stdout().toLowerCase().contains("content-type: application/json"), protobuf + ": " + r.all());
            assertEquals(MASKED_BASE64, JSON.readTree(body(r)).at("/data/password").asText(), protobuf + ": " + r.stdout());
            assertNoValue(r.stdout());
        }
    }

    @Test
    void get_watch_shows_a_new_secret_with_its_values_masked() throws Exception {
        String name = "watch-secret-" + UUID.randomUUID().toString().substring(0, 8);
        String value = "w4tch-" + UUID.randomUUID();
        List<String> cmd = List.of(KubeTargets.KUBECTL.toString(), "--kubeconfig", KubeTargets.login("bob").toString(), "--context",
                KubeTargets.DEV, "get", "secrets", "-n", "demo-dev", "-w", "-o", "jsonpath={.metadata.name}={.data.k}{\"\\n\"}");
        Process watch = Cli.start(Map.of("KUBECACHEDIR", KubeTargets.KUBE_DIR.resolve("test-cache").toString()), cmd.toArray(String[]::new));
        try {
            BlockingQueue<String> lines = lines(watch);
            Cli.Result created = KubeTargets.admin("create", "secret", "generic", name, "-n", "demo-dev", "--from-literal=k=" + value);
            assertEquals(0, created.exitCode(), created.all());
            String seen = waitFor(lines, name + "=");
            assertEquals(name + "=" + MASKED_BASE64, seen, "the watch shows the new Secret, masked, while it runs");
            assertTrue(watch.isAlive(), "the watch goes on");
            Cli.Result patched = KubeTargets.admin("patch", "secret", name, "-n", "demo-dev", "-p",
                    "{\"stringData\":{\"k\":\"" + value + "-2\"}}");
            assertEquals(0, patched.exitCode(), patched.all());
            assertEquals(name + "=" + MASKED_BASE64, waitFor(lines, name + "="), "the change is masked too");
        } finally {
            watch.destroy();
            watch.waitFor(10, TimeUnit.SECONDS);
            KubeTargets.admin("delete", "secret", name, "-n", "demo-dev", "--ignore-not-found");
        }
        // the raw event stream, as client-go reads it: one masked JSON event per line
        Cli.Result events = curl("bob", "application/json", "/api/v1/namespaces/demo-dev/secrets?watch=1&timeoutSeconds=2"
                + "&fieldSelector=metadata.name%3Ddb-credentials");
        List<String> eventLines = body(events).lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, eventLines.size(), events.all());
        JsonNode added = JSON.readTree(eventLines.get(0));
        assertEquals("ADDED", added.get("type").asText());
        assertEquals(MASKED_BASE64, added.at("/object/data/password").asText());
        assertNoValue(events.stdout());
    }

    @Test
    void a_secret_written_by_a_developer_comes_back_masked_in_the_answer_and_the_applied_annotation() throws Exception {
        String name = "applied-secret-" + UUID.randomUUID().toString().substring(0, 8);
        Path manifest = Files.createTempFile("secret", ".yaml");
        Files.writeString(manifest, """
                apiVersion: v1
                kind: Secret
                metadata:
                  name: %s
                  namespace: demo-dev
                stringData:
                  token: 4pplied-value
                """.formatted(name));
        try {
            Cli.Result applied = KubeTargets.kubectl("bob", KubeTargets.DEV, "apply", "-f", manifest.toString(), "-o", "json");
            assertEquals(0, applied.exitCode(), applied.all());
            assertFalse(applied.stdout().contains("4pplied-value") || applied.stdout().contains(b64("4pplied-value")), applied.stdout());
            Cli.Result read = KubeTargets.kubectl("bob", KubeTargets.DEV, "get", "secret", name, "-n", "demo-dev", "-o", "json");
            assertEquals(0, read.exitCode(), read.all());
            JsonNode secret = JSON.readTree(read.stdout());
            assertEquals(MASKED_BASE64, secret.at("/data/token").asText());
            String annotation = secret.at("/metadata/annotations").get("kubectl.kubernetes.io/last-applied-configuration").asText();
            assertEquals("***", JSON.readTree(annotation).at("/stringData/token").asText(), annotation);
            // the cluster holds the real value: masking changes what the caller sees, never the object
            Cli.Result real = KubeTargets.admin("get", "secret", name, "-n", "demo-dev", "-o", "jsonpath={.data.token}");
            assertEquals(b64("4pplied-value"), real.stdout().trim(), real.all());
        } finally {
            Files.deleteIfExists(manifest);
            KubeTargets.admin("delete", "secret", name, "-n", "demo-dev", "--ignore-not-found");
        }
    }

    @Test
    void a_secret_too_large_to_mask_is_refused_and_never_passed() throws Exception {
        // the test profile masks at most 1 MiB per answer and per watch event; this Secret is about 1.2 MB as JSON
        String name = "large-secret-" + UUID.randomUUID().toString().substring(0, 8);
        Path value = Files.createTempFile("large", ".txt");
        Files.writeString(value, "L4rge".repeat(180_000));
        try {
            Cli.Result created = KubeTargets.admin("create", "secret", "generic", name, "-n", "demo-dev", "--from-file=v=" + value);
            assertEquals(0, created.exitCode(), created.all());
            Cli.Result r = KubeTargets.kubectl("bob", KubeTargets.DEV, "get", "secret", name, "-n", "demo-dev", "-o", "json");
            assertNotEquals(0, r.exitCode(), r.all());
            assertTrue(r.stderr().contains("Portcullis masks this response (rule k8s/secret-values) and refused it")
                    && r.stderr().contains("more than the 1048576 bytes the gateway masks"), r.all());
            assertFalse(r.all().contains(b64("L4rgeL4rgeL4rge")), "no value passed");
            Cli.Result watch = curl("bob", "application/json", "/api/v1/namespaces/demo-dev/secrets?watch=1&timeoutSeconds=5"
                    + "&fieldSelector=metadata.name%3D" + name);
            List<String> events = body(watch).lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, events.size(), watch.all().substring(0, Math.min(2000, watch.all().length())));
            JsonNode error = JSON.readTree(events.get(0));
            assertEquals("ERROR", error.get("type").asText());
            assertTrue(error.at("/object/message").asText().contains("a watch event is more than the 1048576 bytes"), events.get(0));
        } finally {
            Files.deleteIfExists(value);
            KubeTargets.admin("delete", "secret", name, "-n", "demo-dev", "--ignore-not-found");
        }
    }

    // --- helpers ----------------------------------------------------------------------------------------------

    private static void assertNoValue(String output) {
        assertFalse(output.contains(PASSWORD_BASE64) || output.contains("s3cr3t-dev") || output.contains(b64("app_dev")), output);
    }

    /** The real curl through the gateway as {@code identity}, with this Accept; stdout holds the response head and body. */
    private static Cli.Result curl(String identity, String accept, String path) throws Exception {
        String url = "https://127.0.0.1:" + KubeTargets.gatewayPort() + "/k8s/" + KubeTargets.DEV + path;
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-i", "--max-time", "30", "--cacert",
                TestStack.ROOT.resolve(".stack/tls/ca.crt").toString(), "-H", "Authorization: Bearer " + TestStack.token(identity),
                "-H", "Accept: " + accept, url));
        Cli.Result r = Cli.run(Map.of(), null, 60, cmd.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.all());
        return r;
    }

    /** The body of curl -i's output: what follows the last response head. */
    private static String body(Cli.Result curl) {
        String out = curl.stdout().replace("\r\n", "\n");
        return out.substring(out.indexOf("\n\n") + 2);
    }

    private static BlockingQueue<String> lines(Process process) {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null;) {
                    lines.add(line);
                }
            } catch (java.io.IOException e) {
                // the process ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        return lines;
    }

    private static String waitFor(BlockingQueue<String> lines, String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(1, TimeUnit.SECONDS);
            if (line != null && line.startsWith(prefix)) {
                return line;
            }
        }
        return "(not seen within 30 s)";
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
