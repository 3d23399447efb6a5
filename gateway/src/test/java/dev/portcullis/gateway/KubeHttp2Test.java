package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.KubeTargets;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes listener offers HTTP/2 by ALPN beside HTTP/1.1 (kubectl, client-go and curl take it). With the real
 * curl (nghttp2) against the real kube-apiserver: the same answers over either version, a denial as a Kubernetes Status,
 * Secret values masked, a body that an HTTP/2 stream ends without a Content-Length passed on whole, and a header list
 * over the bound refused (its connection is closed) while the listener goes on.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class KubeHttp2Test {
    private static final String CONFIGMAPS = "/api/v1/namespaces/demo-dev/configmaps";

    @BeforeEach
    void clusters() throws Exception {
        KubeTargets.ensure();
    }

    @Test
    void the_listener_speaks_http2_and_http11_alike() throws Exception {
        Cli.Result h2 = curl("bob", "--http2", List.of(), CONFIGMAPS);
        assertTrue(h2.stdout().endsWith("\n2 200"), "negotiated HTTP/2 by ALPN: " + h2.all());
        Cli.Result h1 = curl("bob", "--http1.1", List.of(), CONFIGMAPS);
        assertTrue(h1.stdout().endsWith("\n1.1 200"), h1.all());
        for (Cli.Result r : List.of(h2, h1)) {
            // the API server pretty-prints for curl
            assertTrue(r.stdout().replaceAll("\\s", "").contains("\"kind\":\"ConfigMapList\"")
                    && r.stdout().replaceAll("\\s", "").contains("\"namespace\":\"demo-dev\""), r.all());
        }
    }

    /** kubectl (client-go) takes HTTP/2 when offered; Go's http2 debug log says so on stderr. */
    @Test
    void kubectl_talks_http2_to_the_listener() throws Exception {
        Cli.Result r = KubeTargets.kubectl(Map.of("GODEBUG", "http2debug=1"), "bob", KubeTargets.DEV, "get", "configmaps", "-n", "demo-dev",
                "-o", "name");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.stdout().contains("configmap/"), r.all());
        assertTrue(r.stderr().contains("http2: Transport") && r.stderr().contains(":" + KubeTargets.gatewayPort()), r.stderr());
    }

    @Test
    void a_denial_over_http2_is_a_kubernetes_status_naming_the_rule() throws Exception {
        Cli.Result r = curl("agent-ci", "--http2", List.of(), "/api/v1/namespaces/demo-dev/secrets");
        assertTrue(r.stdout().endsWith("\n2 403"), r.all());
        assertTrue(r.stdout().contains("\"kind\":\"Status\"") && r.stdout().contains("\"reason\":\"Forbidden\"")
                && r.stdout().contains("k8s/"), r.all());
    }

    @Test
    void secret_values_are_masked_over_http2() throws Exception {
        Cli.Result r = curl("bob", "--http2", List.of(), "/api/v1/namespaces/demo-dev/secrets/db-credentials");
        assertTrue(r.stdout().endsWith("\n2 200"), r.all());
        assertTrue(r.stdout().contains("\"password\":\"Kioq\""), "masked (base64 of ***): " + r.all());
        assertFalse(r.stdout().contains(Base64.getEncoder().encodeToString("s3cr3t-dev".getBytes())) || r.stdout().contains("s3cr3t-dev"),
                r.all());
    }

    /**
     * curl -T - sends a body of unknown length: HTTP/2 ends it with the stream (no Content-Length). A create is read
     * whole for the decision; a delete's DeleteOptions is streamed on. Both reach the cluster whole.
     */
    @Test
    void a_body_without_content_length_reaches_the_cluster_over_http2() throws Exception {
        String name = "h2-" + UUID.randomUUID().toString().substring(0, 8);
        String configMap = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" + name + "\"},\"data\":{\"k\":\"v-" + name
                + "\"}}";
        Cli.Result created = curl("bob", "--http2", List.of("-X", "POST", "-T", "-", "-H", "Content-Type: application/json"), CONFIGMAPS,
                configMap);
        assertTrue(created.stdout().endsWith("\n2 201"), created.all());
        // a write the policy refuses once its body is read: the refusal still comes (agent-ci may only read)
        Cli.Result refused = curl("agent-ci", "--http2", List.of("-X", "POST", "-T", "-", "-H", "Content-Type: application/json"),
                CONFIGMAPS, configMap.replace(name, name + "-ci"));
        assertTrue(refused.stdout().endsWith("\n2 403") && refused.stdout().contains("\"reason\":\"Forbidden\""), refused.all());
        Cli.Result stored = KubeTargets.admin("get", "configmap", name, "-n", "demo-dev", "-o", "jsonpath={.data.k}");
        assertEquals("v-" + name, stored.stdout().trim(), stored.all());

        Cli.Result deleted = curl("bob", "--http2", List.of("-X", "DELETE", "-T", "-", "-H", "Content-Type: application/json"),
                CONFIGMAPS + "/" + name, "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"dryRun\":[\"All\"]}");
        assertTrue(deleted.stdout().endsWith("\n2 200"), deleted.all());
        // the body said dryRun: had it been dropped on the way, the ConfigMap would be gone
        assertEquals("v-" + name, KubeTargets.admin("get", "configmap", name, "-n", "demo-dev", "-o", "jsonpath={.data.k}").stdout().trim());
        KubeTargets.admin("delete", "configmap", name, "-n", "demo-dev");
    }

    @Test
    void a_header_list_over_the_bound_is_refused_and_the_listener_goes_on() throws Exception {
        Cli.Result r = curlRaw("bob", "--http2", List.of("-H", "X-Padding: " + "a".repeat(32 * 1024)), CONFIGMAPS, null);
        assertFalse(r.stdout().endsWith(" 200"), "a 32 KiB header list is over the 16 KiB bound: " + r.all());
        Cli.Result after = curl("bob", "--http2", List.of(), CONFIGMAPS);
        assertTrue(after.stdout().endsWith("\n2 200"), after.all());
    }

    private static Cli.Result curl(String identity, String version, List<String> extra, String path) throws Exception {
        return curl(identity, version, extra, path, null);
    }

    private static Cli.Result curl(String identity, String version, List<String> extra, String path, String stdin) throws Exception {
        Cli.Result r = curlRaw(identity, version, extra, path, stdin);
        assertEquals(0, r.exitCode(), r.all());
        return r;
    }

    /** curl's output: the body, then a line with the HTTP version and the status. */
    private static Cli.Result curlRaw(String identity, String version, List<String> extra, String path, String stdin) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", version, "--max-time", "30", "--cacert",
                TestStack.ROOT.resolve(".stack/tls/ca.crt").toString(), "-H", "Authorization: Bearer " + TestStack.token(identity),
                "-w", "\n%{http_version} %{http_code}"));
        cmd.addAll(extra);
        cmd.add("https://127.0.0.1:" + KubeTargets.gatewayPort() + "/k8s/" + KubeTargets.DEV + path);
        return Cli.run(Map.of(), stdin, 60, cmd.toArray(String[]::new));
    }
}
