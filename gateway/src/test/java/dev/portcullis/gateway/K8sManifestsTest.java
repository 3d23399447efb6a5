package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.KubeTargets;
import dev.portcullis.gateway.testing.TestStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Our own manifests on the real API server of the test cluster: every overlay in k8s/overlays is applied with
 * --dry-run=server (the API server's own validation and defaulting, admission included), then for real, and kwok
 * runs its pods, which the namespaces' restricted pod security admits only as non-root without privileges. The objects
 * the server returns are checked for what a deployment of Portcullis must keep: every gateway pod has its OPA sidecar,
 * every container runs as non-root with readiness and liveness probes, no Secret value is written in the manifests,
 * and the prod overlay runs at least two gateway replicas (dev runs one of each app, as it says).
 */
class K8sManifestsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path OVERLAYS = TestStack.ROOT.resolve("k8s/overlays");
    /** An environment variable that holds a credential must come from a Secret, never be written as a value. */
    private static final Pattern CREDENTIAL_NAME = Pattern.compile(".*(PASSWORD|SECRET|TOKEN|_KEY$|CREDENTIAL).*");

    @TestFactory
    Stream<DynamicTest> every_overlay_applies_to_the_real_api_server_and_keeps_the_invariants() throws Exception {
        List<Path> overlays;
        try (Stream<Path> dirs = Files.list(OVERLAYS)) {
            overlays = dirs.filter(d -> Files.exists(d.resolve("kustomization.yaml"))).sorted().toList();
        }
        assertTrue(overlays.stream().anyMatch(d -> d.getFileName().toString().equals("prod")), "a prod overlay: " + overlays);
        return overlays.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> check(dir)));
    }

    private static void check(Path overlay) throws Exception {
        String name = overlay.getFileName().toString();
        Cli.Result bundle = Cli.run(Map.of(), null, 120, TestStack.ROOT.resolve(".tools/bin/opa").toString(), "build", "-b",
                TestStack.ROOT.resolve("policies-rego/bundle").toString(), "-o", overlay.resolve("bundle.tar.gz").toString());
        assertEquals(0, bundle.exitCode(), bundle.all());

        // a server-side dry run cannot create the namespace its other objects go in: that one first, for real
        Cli.Result ns = KubeTargets.admin("apply", "-f", overlay.resolve("namespace.yaml").toString());
        assertEquals(0, ns.exitCode(), name + " has its namespace.yaml: " + ns.all());
        Cli.Result dry = KubeTargets.admin("apply", "-k", overlay.toString(), "--dry-run=server", "-o", "json");
        assertEquals(0, dry.exitCode(), name + ": " + dry.all());
        JsonNode items = JSON.readTree(dry.stdout()).path("items");
        assertTrue(items.size() > 10, name + ": the overlay's objects: " + dry.stdout());
        List<String> problems = new ArrayList<>();
        String namespace = null;
        int gatewayReplicas = -1;
        for (JsonNode o : items) {
            String kind = o.path("kind").asText();
            String id = kind + "/" + o.at("/metadata/name").asText();
            if (kind.equals("Namespace")) {
                namespace = o.at("/metadata/name").asText();
            }
            if (kind.equals("Secret") && (o.has("data") || o.has("stringData"))) {
                problems.add(id + " writes Secret values into the manifests");
            }
            if (!kind.equals("Deployment")) {
                continue;
            }
            JsonNode pod = o.at("/spec/template/spec");
            if (o.at("/metadata/name").asText().equals("portcullis-gateway")) {
                gatewayReplicas = o.at("/spec/replicas").asInt();
                boolean opa = false;
                for (JsonNode c : pod.path("containers")) {
                    opa |= c.path("image").asText().startsWith("openpolicyagent/opa:");
                }
                if (!opa) {
                    problems.add(id + " has no OPA sidecar");
                }
            }
            boolean podNonRoot = pod.at("/securityContext/runAsNonRoot").asBoolean(false);
            for (JsonNode c : pod.path("containers")) {
                String container = id + " container " + c.path("name").asText();
                if (!podNonRoot && !c.at("/securityContext/runAsNonRoot").asBoolean(false)) {
                    problems.add(container + " may run as root");
                }
                if (!c.has("readinessProbe") || !c.has("livenessProbe")) {
                    problems.add(container + " lacks a readiness or a liveness probe");
                }
                for (JsonNode env : c.path("env")) {
                    if (CREDENTIAL_NAME.matcher(env.path("name").asText()).matches() && env.has("value")
                            && !env.path("value").asText().startsWith("/")) { // a path to a mounted Secret is fine
                        problems.add(container + " writes " + env.path("name").asText() + " as a value, not from a Secret");
                    }
                }
            }
        }
        assertEquals(List.of(), problems, name);
        assertTrue(namespace != null, name + " creates its namespace");
        if (name.equals("dev")) {
            assertEquals(1, gatewayReplicas, "dev runs one gateway");
        } else {
            assertTrue(gatewayReplicas >= 2, name + " runs " + gatewayReplicas + " gateway replicas; at least two, so that one can drain");
        }

        Cli.Result applied = KubeTargets.admin("apply", "-k", overlay.toString());
        assertEquals(0, applied.exitCode(), name + ": " + applied.all());
        try {
            Cli.Result ready = KubeTargets.admin("rollout", "status", "deployment/portcullis-gateway", "-n", namespace, "--timeout=50s");
            assertEquals(0, ready.exitCode(), name + ": " + ready.all() + "\n" + KubeTargets.admin("get", "events", "-n", namespace).all());
            Cli.Result pods = KubeTargets.admin("get", "pods", "-n", namespace, "-l", "app.kubernetes.io/name=portcullis-gateway", "-o",
                    "jsonpath={range .items[*]}{.status.phase}{\"\\n\"}{end}");
            assertEquals(gatewayReplicas, pods.stdout().lines().filter("Running"::equals).count(), name + ": " + pods.all());
        } finally {
            assertFalse(KubeTargets.admin("delete", "namespace", namespace, "--wait=false").exitCode() != 0, "cleanup of " + namespace);
        }
    }
}
