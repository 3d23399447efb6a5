package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.KubeTargets;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real kubectl (v1.36) through the gateway to the stack's real kube-apiserver: every API call decided by the real
 * OPA on policies-rego, the cluster called with the gateway's own certificate impersonating the caller, watches
 * streamed, execs relayed and recorded.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class KubectlThroughGatewayTest {

    @BeforeEach
    void clusters() throws Exception {
        KubeTargets.ensure();
    }

    @Test
    void developer_lists_pods_through_the_gateway_as_themselves() throws Exception {
        Cli.Result r = KubeTargets.kubectl("bob", KubeTargets.DEV, "get", "pods", "-n", "demo-dev", "-o", "name");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.stdout().contains("pod/web-"), r.all());
        // the cluster's own RBAC judged bob (group developers: view in demo-prod), not the gateway's certificate
        Cli.Result whoami = KubeTargets.kubectl("bob", KubeTargets.DEV, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}");
        assertEquals(0, whoami.exitCode(), whoami.all());
        assertEquals("bob", whoami.stdout().trim());
    }

    @Test
    void delete_denied_by_policy_is_a_forbidden_kubectl_prints_and_the_pod_stays() throws Exception {
        String pod = KubeTargets.webPod("demo-dev");
        Cli.Result r = KubeTargets.kubectl("agent-ci", KubeTargets.DEV, "delete", "pod", pod, "-n", "demo-dev", "--wait=false");
        assertNotEquals(0, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("Error from server (Forbidden): Portcullis denied this request: delete pods " + pod
                + " in namespace demo-dev (changes the cluster's objects) is not allowed"), r.all());
        assertTrue(r.stderr().contains("[policy k8s/role-write]"), r.all());
        Cli.Result still = KubeTargets.admin("get", "pod", pod, "-n", "demo-dev", "-o", "jsonpath={.metadata.deletionTimestamp}");
        assertEquals(0, still.exitCode(), still.all());
        assertEquals("", still.stdout().trim(), "the pod was not deleted");
    }

    @Test
    void reading_secrets_is_denied_for_ci_and_production_refuses_ci_altogether() throws Exception {
        Cli.Result secrets = KubeTargets.kubectl("agent-ci", KubeTargets.DEV, "get", "secrets", "-n", "demo-dev");
        assertNotEquals(0, secrets.exitCode(), secrets.all());
        assertTrue(secrets.stderr().contains("(Forbidden)") && secrets.stderr().contains("[policy k8s/role-secrets]"), secrets.all());
        Cli.Result prod = KubeTargets.kubectl("agent-ci", KubeTargets.PROD, "get", "pods", "-n", "demo-prod");
        assertNotEquals(0, prod.exitCode(), prod.all());
        assertTrue(prod.stderr().contains("(Forbidden)") && prod.stderr().contains("may not use production connection demo-k8s-prod"),
                prod.all());
    }

    @Test
    void bad_or_absent_tokens_are_refused_as_unauthorized() throws Exception {
        String server = "https://127.0.0.1:" + KubeTargets.gatewayPort() + "/k8s/" + KubeTargets.DEV;
        String ca = TestStack.ROOT.resolve(".stack/tls/ca.crt").toString();
        String forged = TestStack.token("bob");
        forged = forged.substring(0, forged.lastIndexOf('.') + 1) + "c2lnbmF0dXJl";
        for (List<String> credentials : List.of(List.<String>of(), List.of("--token", "not-a-token"), List.of("--token", forged))) {
            List<String> cmd = new ArrayList<>(List.of(KubeTargets.KUBECTL.toString(), "--kubeconfig", "/dev/null", "--server", server,
                    "--certificate-authority", ca, "--request-timeout=30s"));
            cmd.addAll(credentials);
            cmd.addAll(List.of("get", "pods", "-n", "demo-dev"));
            Cli.Result r = Cli.run(Map.of(), null, 60, cmd.toArray(String[]::new));
            assertNotEquals(0, r.exitCode(), r.all());
            assertFalse(r.stdout().contains("web-"), r.all());
            // without any credential kubectl asks for a user name on a 401, and gives up on its closed stdin
            assertTrue(r.all().contains(credentials.isEmpty() ? "Please enter Username" : "You must be logged in to the server"),
                    credentials + ": " + r.all());
        }
        HttpClient http = HttpClient.newBuilder().sslContext(trustingStackCa()).connectTimeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> none = http.send(HttpRequest.newBuilder(URI.create(server + "/api/v1/namespaces/demo-dev/pods"))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, none.statusCode());
        assertTrue(none.body().contains("\"kind\":\"Status\"") && none.body().contains("Authorization: Bearer"), none.body());
    }

    @Test
    void identity_headers_a_client_sends_never_reach_the_api_server() throws Exception {
        // agent-ci may read on the dev-tagged connection, but the cluster's RBAC lets group ci-readonly read only
        // demo-dev: any header that changed who the API server sees would turn this 403 into a 200.
        String token = TestStack.token("agent-ci");
        HttpClient http = HttpClient.newBuilder().sslContext(trustingStackCa()).connectTimeout(Duration.ofSeconds(10)).build();
        URI uri = URI.create("https://127.0.0.1:" + KubeTargets.gatewayPort() + "/k8s/" + KubeTargets.DEV
                + "/api/v1/namespaces/demo-prod/configmaps");
        List<String[]> smuggled = List.of(new String[] {"Impersonate-User", "kubernetes-admin"},
                new String[] {"impersonate-group", "system:masters"}, new String[] {"IMPERSONATE-USER", "system:admin"},
                new String[] {"X-Remote-User", "kubernetes-admin"}, new String[] {"x-remote-group", "system:masters"},
                new String[] {"X-Remote-Extra-Scopes", "all"}, new String[] {"Impersonate-Extra-Scopes", "all"});
        for (String[] header : smuggled) {
            HttpRequest req = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token).header(header[0], header[1])
                    .header(header[0], header[1]).timeout(Duration.ofSeconds(30)).GET().build();
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            assertEquals(403, r.statusCode(), header[0] + ": " + r.body());
            assertTrue(r.body().contains("User \\\"agent-ci\\\" cannot list resource \\\"configmaps\\\""), header[0] + ": " + r.body());
        }
        // and a second Authorization header is refused rather than guessed at
        HttpRequest two = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token)
                .header("Authorization", "Bearer " + TestStack.token("alice")).timeout(Duration.ofSeconds(30)).GET().build();
        assertEquals(401, http.send(two, HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    void exec_runs_and_its_transcript_is_recorded() throws Exception {
        String pod = KubeTargets.webPod("demo-dev");
        String marker = "portcullis-exec-" + UUID.randomUUID();
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        Cli.Result r = KubeTargets.kubectl("bob", KubeTargets.DEV, "exec", "-n", "demo-dev", pod, "--", "echo", marker);
        assertEquals(0, r.exitCode(), r.all());
        assertEquals(marker, r.stdout().trim());
        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark,
                e -> e.path("text").asText().contains(marker),
                found -> found.values().stream().anyMatch(e -> e.path("type").asText().equals("output")
                        && decoded(e).contains(marker)),
                Duration.ofSeconds(30));
        JsonNode request = events.values().stream().filter(e -> e.path("text").asText().contains(marker)).findFirst().orElseThrow();
        assertEquals("kubernetes", request.get("protocol").asText());
        assertEquals("connect", request.get("details").get("verb").asText());
        assertEquals("exec", request.get("details").get("subresource").asText());
        assertEquals(List.of("echo", marker), List.of(request.get("details").get("exec").get("command").get(0).asText(),
                request.get("details").get("exec").get("command").get(1).asText()));
        assertTrue(request.get("decision").get("allow").asBoolean());
        JsonNode output = events.values().stream().filter(e -> e.path("type").asText().equals("output") && decoded(e).contains(marker))
                .findFirst().orElseThrow();
        assertEquals("stdout", output.get("stream").asText());
        assertEquals(request.get("seq").asLong(), output.get("request_seq").asLong());
    }

    @Test
    void exec_into_production_is_denied_for_a_developer() throws Exception {
        String pod = KubeTargets.webPod("demo-prod");
        Cli.Result r = KubeTargets.kubectl("bob", KubeTargets.PROD, "exec", "-n", "demo-prod", pod, "--", "echo", "nope");
        assertNotEquals(0, r.exitCode(), r.all());
        assertFalse(r.stdout().contains("nope"), r.all());
        assertTrue(r.stderr().contains("Portcullis denied this request") && r.stderr().contains("[policy k8s/role-exec]"), r.all());
    }

    @Test
    void get_watch_streams_each_change_as_it_happens() throws Exception {
        String name = "watch-probe-" + UUID.randomUUID().toString().substring(0, 8);
        List<String> cmd = List.of(KubeTargets.KUBECTL.toString(), "--kubeconfig", KubeTargets.login("bob").toString(), "--context",
                KubeTargets.DEV, "get", "configmaps", "-n", "demo-dev", "-w", "-o", "name");
        Process watch = Cli.start(Map.of("KUBECACHEDIR", KubeTargets.KUBE_DIR.resolve("test-cache").toString()), cmd.toArray(String[]::new));
        try {
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(watch.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null;) {
                        lines.add(line);
                    }
                } catch (java.io.IOException e) {
                    // the process ended
                }
            });
            reader.setDaemon(true);
            reader.start();
            assertEquals("configmap/kube-root-ca.crt", waitFor(lines, "configmap/kube-root-ca.crt"), "the initial list");
            Cli.Result created = KubeTargets.admin("create", "configmap", name, "-n", "demo-dev", "--from-literal=k=v");
            assertEquals(0, created.exitCode(), created.all());
            assertEquals("configmap/" + name, waitFor(lines, "configmap/" + name), "the watch shows the new ConfigMap while it runs");
            assertTrue(watch.isAlive(), "the watch goes on");
        } finally {
            watch.destroy();
            watch.waitFor(10, TimeUnit.SECONDS);
            KubeTargets.admin("delete", "configmap", name, "-n", "demo-dev", "--ignore-not-found");
        }
    }

    private static String waitFor(BlockingQueue<String> lines, String wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(1, TimeUnit.SECONDS);
            if (wanted.equals(line)) {
                return line;
            }
        }
        return "(not seen within 30 s)";
    }

    private static String decoded(JsonNode output) {
        return new String(Base64.getDecoder().decode(output.path("data").asText()), StandardCharsets.UTF_8);
    }

    private static SSLContext trustingStackCa() throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (var in = Files.newInputStream(TestStack.ROOT.resolve(".stack/tls/ca.crt"))) {
            store.setCertificateEntry("stack-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return ssl;
    }
}
