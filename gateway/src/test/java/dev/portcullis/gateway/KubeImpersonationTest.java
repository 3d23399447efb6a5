package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.KubeTargets;
import dev.portcullis.gateway.testing.SessionEventsTopic;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A kubernetes connection's {@code impersonate} setting, seen by the real kube-apiserver: on, the cluster's audit log
 * (.stack/logs/kube-audit.log) shows the gateway's certificate impersonating the identity; off, it shows the gateway's
 * own user and no impersonation, and the session's recording says so on each result.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class KubeImpersonationTest {
    private static final String OWN_CREDENTIAL = "demo-k8s-own-credential";
    private static final String GATEWAY_USER = "portcullis-gateway"; // the CN of .stack/kube/gateway.crt
    private static final Path AUDIT_LOG = TestStack.ROOT.resolve(".stack/logs/kube-audit.log");
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeEach
    void clusters() throws Exception {
        KubeTargets.ensure();
        String credential = Files.readString(KubeTargets.KUBE_DIR.resolve("gateway.crt"))
                + Files.readString(KubeTargets.KUBE_DIR.resolve("gateway.key"));
        KubeTargets.register(OWN_CREDENTIAL, credential, Files.readString(KubeTargets.KUBE_DIR.resolve("pki/ca.crt")),
                "{\"env\":\"dev\"}", "{\"impersonate\": false}");
    }

    @Test
    void with_impersonation_the_cluster_audits_the_identity_as_impersonated_by_the_gateway() throws Exception {
        String probe = "impersonated-" + UUID.randomUUID();
        Cli.Result r = KubeTargets.kubectl("bob", KubeTargets.DEV, "get", "configmap", probe, "-n", "demo-dev");
        assertTrue(r.stderr().contains("NotFound") || r.stderr().contains("not found"), r.all());
        JsonNode audit = auditOf(probe);
        assertEquals(GATEWAY_USER, audit.path("user").path("username").asText(), audit.toString());
        assertEquals("bob", audit.path("impersonatedUser").path("username").asText(), audit.toString());
        assertTrue(audit.path("impersonatedUser").path("groups").toString().contains("developers"), audit.toString());
    }

    /**
     * alice is in dba and approvers. The policy passes dba (data.json impersonated_groups) and not approvers, which the
     * clusters' RBAC was never written for; the groups kubectl itself asks for (--as-group, sent as Impersonate-Group)
     * are dropped with every other identity header. The cluster's audit log and the recorded result agree.
     */
    @Test
    void only_the_groups_the_policy_passes_reach_the_cluster_and_the_recording_names_them() throws Exception {
        String probe = "groups-" + UUID.randomUUID();
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        Cli.Result r = KubeTargets.kubectl("alice", KubeTargets.DEV, "--as", "alice", "--as-group", "system:masters", "--as-group",
                "approvers", "get", "configmap", probe, "-n", "demo-dev");
        assertTrue(r.stderr().contains("NotFound") || r.stderr().contains("not found"), r.all());
        JsonNode audit = auditOf(probe);
        assertEquals("alice", audit.path("impersonatedUser").path("username").asText(), audit.toString());
        List<String> groups = new java.util.ArrayList<>();
        audit.path("impersonatedUser").path("groups").forEach(g -> groups.add(g.asText()));
        assertTrue(groups.contains("dba"), "the group the policy passes: " + audit);
        assertFalse(groups.contains("approvers"), "a group the policy does not pass: " + audit);
        assertFalse(groups.contains("system:masters"), "a group the client asked for: " + audit);

        JsonNode result = resultOf(mark, probe);
        assertEquals("[\"dba\"]", result.path("details").path("impersonated_groups").toString(), result.toString());
    }

    /** kubectl auth whoami through the gateway: the cluster's own view of the identity, groups included. */
    @Test
    void the_cluster_sees_the_developers_group_of_bob_and_nothing_more() throws Exception {
        Cli.Result whoami = KubeTargets.kubectl("bob", KubeTargets.DEV, "auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}");
        assertEquals(0, whoami.exitCode(), whoami.all());
        assertEquals("[\"developers\",\"system:authenticated\"]", whoami.stdout().trim());
    }

    /** platform-admins hold role platform-admin on clusters: the request is allowed and the cluster sees the group. */
    @Test
    void a_platform_admin_reaches_production_as_a_member_of_platform_admins() throws Exception {
        Cli.Result whoami = KubeTargets.kubectl("portcullis-admin", KubeTargets.PROD, "auth", "whoami", "-o",
                "jsonpath={.status.userInfo.username} {.status.userInfo.groups}");
        assertEquals(0, whoami.exitCode(), whoami.all());
        assertEquals("portcullis-admin [\"platform-admins\",\"system:authenticated\"]", whoami.stdout().trim());
        Cli.Result secrets = KubeTargets.kubectl("portcullis-admin", KubeTargets.PROD, "get", "secret", "db-credentials", "-n",
                "demo-prod", "-o", "jsonpath={.data.password}");
        assertEquals(0, secrets.exitCode(), secrets.all());
        assertEquals("s3cr3t-prod", new String(java.util.Base64.getDecoder().decode(secrets.stdout().trim())),
                "a platform admin sees Secret values as dba does");
    }

    @Test
    void without_impersonation_the_cluster_sees_the_connections_credential_and_the_recording_says_so() throws Exception {
        Cli.Result whoami = KubeTargets.kubectlOn("bob", OWN_CREDENTIAL, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}");
        assertEquals(0, whoami.exitCode(), whoami.all());
        assertEquals(GATEWAY_USER, whoami.stdout().trim());

        String probe = "own-credential-" + UUID.randomUUID();
        Map<TopicPartition, Long> mark = SessionEventsTopic.mark();
        Cli.Result r = KubeTargets.kubectlOn("bob", OWN_CREDENTIAL, "get", "configmap", probe, "-n", "demo-dev");
        // the policy allowed bob; the cluster judged the gateway's certificate, which may only impersonate
        assertTrue(r.stderr().contains("Forbidden") && r.stderr().contains("User \"" + GATEWAY_USER + "\" cannot get"), r.all());
        JsonNode audit = auditOf(probe);
        assertEquals(GATEWAY_USER, audit.path("user").path("username").asText(), audit.toString());
        assertTrue(audit.path("impersonatedUser").isMissingNode(), "nobody was impersonated: " + audit);

        JsonNode result = resultOf(mark, probe);
        assertEquals(403, result.path("details").path("code").asInt(), result.toString());
        assertFalse(result.path("details").path("impersonated").asBoolean(true), result.toString());
        assertEquals("[]", result.path("details").path("impersonated_groups").toString(), result.toString());
    }

    /**
     * The recorded result of the one request whose text holds {@code probe}. The session also holds kubectl's discovery
     * requests and their results, so the wait is for this request's own result.
     */
    private static JsonNode resultOf(Map<TopicPartition, Long> mark, String probe) throws Exception {
        TreeMap<Long, JsonNode> events = SessionEventsTopic.events(mark, e -> e.path("text").asText().contains(probe),
                found -> resultIn(found, probe) != null, Duration.ofSeconds(30));
        return resultIn(events, probe);
    }

    private static JsonNode resultIn(TreeMap<Long, JsonNode> events, String probe) {
        JsonNode request = events.values().stream().filter(e -> e.path("text").asText().contains(probe)).findFirst().orElse(null);
        return request == null ? null : events.values().stream().filter(e -> e.path("type").asText().equals("result")
                && e.path("request_seq").asLong() == request.path("seq").asLong()).findFirst().orElse(null);
    }

    /** The audit log's ResponseComplete entry of the one request whose URI holds {@code probe}, waiting for it a little. */
    private static JsonNode auditOf(String probe) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
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
