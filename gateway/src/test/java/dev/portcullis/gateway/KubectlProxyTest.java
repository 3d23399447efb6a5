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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy subresource through the gateway with the real kubectl ({@code kubectl get --raw}): HTTP to a workload's own
 * port past the API server, decided like a port-forward (k8s/role-proxy), a node's proxy only for a role that may do
 * anything (k8s/node-proxy), and the legacy /api/v1/proxy/... paths read the same way. kwok's pods listen on no port,
 * so an allowed proxy is shown reaching the real API server (its audit log and its own answer), whatever it answers.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class KubectlProxyTest {
    private static final Path AUDIT_LOG = TestStack.ROOT.resolve(".stack/logs/kube-audit.log");
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeEach
    void clusters() throws Exception {
        KubeTargets.ensure();
    }

    @Test
    void ci_is_denied_a_pod_proxy_with_the_rule_named() throws Exception {
        String pod = KubeTargets.webPod("demo-dev");
        String probe = "ci-" + UUID.randomUUID();
        Cli.Result r = KubeTargets.kubectl("agent-ci", KubeTargets.DEV, "get", "--raw",
                "/api/v1/namespaces/demo-dev/pods/" + pod + ":80/proxy/" + probe);
        assertNotEquals(0, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("Error from server (Forbidden): Portcullis denied this request: connect pods/proxy " + pod
                + ":80 in namespace demo-dev (talks HTTP to port 80 of " + pod + ", path /" + probe + ", past the API server)"), r.all());
        assertTrue(r.stderr().contains("[policy k8s/role-proxy]"), r.all());
        assertFalse(reachedCluster(probe, Duration.ofSeconds(2)), "a denied proxy never reaches the cluster");
    }

    @Test
    void developer_is_denied_a_service_proxy_on_production() throws Exception {
        Cli.Result r = KubeTargets.kubectl("bob", KubeTargets.PROD, "get", "--raw", "/api/v1/namespaces/demo-prod/services/web:80/proxy/");
        assertNotEquals(0, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("(Forbidden)") && r.stderr().contains("[policy k8s/role-proxy]"), r.all());
    }

    @Test
    void developer_proxy_outside_production_reaches_the_api_server_as_the_developer() throws Exception {
        // a pod that does not exist: the API server itself answers, at once, and audits who asked
        String probe = "probe-" + UUID.randomUUID();
        Cli.Result r = KubeTargets.kubectl("bob", KubeTargets.DEV, "get", "--raw", "/api/v1/namespaces/demo-dev/pods/" + probe + ":80/proxy/");
        assertNotEquals(0, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("(NotFound)") && r.stderr().contains("pods \"" + probe + "\" not found"), r.all());
        assertFalse(r.stderr().contains("Portcullis"), r.all());
        JsonNode audit = auditOf(probe);
        assertEquals("bob", audit.path("impersonatedUser").path("username").asText(), audit.toString());
        assertEquals("get", audit.path("verb").asText(), "the API server reads GET .../proxy as get pods/proxy: " + audit);
        assertEquals("proxy", audit.path("objectRef").path("subresource").asText(), audit.toString());
    }

    @Test
    void the_legacy_proxy_path_is_decided_as_the_same_proxy() throws Exception {
        String pod = KubeTargets.webPod("demo-dev");
        Cli.Result denied = KubeTargets.kubectl("agent-ci", KubeTargets.DEV, "get", "--raw", "/api/v1/proxy/namespaces/demo-dev/pods/" + pod + "/x");
        assertTrue(denied.stderr().contains("(Forbidden)") && denied.stderr().contains("connect pods/proxy " + pod + " in namespace demo-dev")
                && denied.stderr().contains("[policy k8s/role-proxy]"), denied.all());
        // allowed to a developer outside production: passed on, and the API server answers it as it answers such paths
        String probe = "legacy-" + UUID.randomUUID();
        KubeTargets.kubectl("bob", KubeTargets.DEV, "get", "--raw", "/api/v1/proxy/namespaces/demo-dev/pods/" + pod + "/" + probe);
        assertEquals("bob", auditOf(probe).path("impersonatedUser").path("username").asText());
    }

    @Test
    void a_nodes_proxy_reaches_the_kubelet_so_only_a_role_that_may_do_anything_gets_it() throws Exception {
        Cli.Result r = KubeTargets.kubectl("bob", KubeTargets.DEV, "get", "--raw", "/api/v1/nodes/kwok-node-0/proxy/pods");
        assertTrue(r.stderr().contains("(Forbidden)") && r.stderr().contains("reaches the node's kubelet")
                && r.stderr().contains("[policy k8s/node-proxy]"), r.all());
    }

    @Test
    void a_proxy_target_the_api_server_would_not_read_is_a_bad_request() throws Exception {
        for (String target : List.of("ftp:web:80", "web:99999", "a:b:c:d")) {
            Cli.Result r = KubeTargets.kubectl("bob", KubeTargets.DEV, "get", "--raw", "/api/v1/namespaces/demo-dev/services/" + target + "/proxy/");
            assertTrue(r.stderr().contains("(BadRequest)") && r.stderr().contains("Portcullis cannot read this request"), target + ": " + r.all());
        }
    }

    private static boolean reachedCluster(String probe, Duration wait) throws Exception {
        try {
            auditOf(probe, wait);
            return true;
        } catch (AssertionError none) {
            return false;
        }
    }

    private static JsonNode auditOf(String probe) throws Exception {
        return auditOf(probe, Duration.ofSeconds(15));
    }

    /** The audit log's ResponseComplete entry of the one request whose URI holds {@code probe}. */
    private static JsonNode auditOf(String probe, Duration wait) throws Exception {
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(AUDIT_LOG)) {
                List<String> lines;
                try (var all = Files.lines(AUDIT_LOG)) {
                    lines = all.filter(l -> l.contains(probe)).toList();
                }
                for (String line : lines) {
                    JsonNode e = JSON.readTree(line);
                    if ("ResponseComplete".equals(e.path("stage").asText())) {
                        return e;
                    }
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no audit entry for " + probe + " in " + AUDIT_LOG);
    }
}
