package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.KubeTargets;
import dev.portcullis.gateway.testing.StackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Writes judged on the object they store, with the real kubectl against the real kube-apiserver: the decision input
 * carries the body of create, update and patch, so the default policy refuses a privileged container for every role
 * (k8s/privileged-pod), lets an ordinary pod through, and lets only an administrator send a body too large to judge
 * (k8s/unreadable-object; the test profile reads at most 256 KiB of a body).
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class KubectlWritePolicyTest {

    @BeforeEach
    void clusters() throws Exception {
        KubeTargets.ensure();
    }

    @Test
    void a_privileged_pod_is_refused_for_every_role_and_never_created() throws Exception {
        String name = "root-shell-" + UUID.randomUUID().toString().substring(0, 8);
        Path manifest = manifest("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                  namespace: demo-dev
                spec:
                  containers:
                  - name: shell
                    image: busybox
                    securityContext:
                      privileged: true
                """.formatted(name));
        try {
            for (String identity : new String[] {"bob", "alice"}) {
                Cli.Result r = KubeTargets.kubectl(identity, KubeTargets.DEV, "apply", "-f", manifest.toString());
                assertNotEquals(0, r.exitCode(), r.all());
                assertTrue(r.stderr().contains("Error from server (Forbidden)") && r.stderr().contains("Portcullis denied this request:"
                        + " create pods in namespace demo-dev (a privileged container: spec.containers.0.securityContext.privileged)"
                        + " is denied for every role [policy k8s/privileged-pod]"), identity + ": " + r.all());
            }
            Cli.Result absent = KubeTargets.admin("get", "pod", name, "-n", "demo-dev", "--ignore-not-found", "-o", "name");
            assertEquals("", absent.stdout().trim(), "the pod was never created");
        } finally {
            Files.deleteIfExists(manifest);
        }
    }

    @Test
    void a_privileged_init_container_in_a_deployment_is_refused_too() throws Exception {
        Path manifest = manifest("""
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: sneaky
                  namespace: demo-dev
                spec:
                  selector:
                    matchLabels: {app: sneaky}
                  template:
                    metadata:
                      labels: {app: sneaky}
                    spec:
                      initContainers:
                      - name: setup
                        image: busybox
                        securityContext: {privileged: true}
                      containers:
                      - name: app
                        image: nginx
                """);
        try {
            Cli.Result r = KubeTargets.kubectl("alice", KubeTargets.DEV, "apply", "-f", manifest.toString());
            assertNotEquals(0, r.exitCode(), r.all());
            assertTrue(r.stderr().contains("spec.template.spec.initContainers.0.securityContext.privileged")
                    && r.stderr().contains("[policy k8s/privileged-pod]"), r.all());
        } finally {
            Files.deleteIfExists(manifest);
        }
    }

    @Test
    void an_ordinary_pod_is_created() throws Exception {
        String name = "plain-" + UUID.randomUUID().toString().substring(0, 8);
        Path manifest = manifest("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                  namespace: demo-dev
                spec:
                  containers:
                  - name: web
                    image: nginx
                    securityContext:
                      privileged: false
                      runAsNonRoot: true
                """.formatted(name));
        try {
            Cli.Result r = KubeTargets.kubectl("bob", KubeTargets.DEV, "apply", "-f", manifest.toString());
            assertEquals(0, r.exitCode(), r.all());
            assertEquals("pod/" + name + " created", r.stdout().trim());
            Cli.Result exists = KubeTargets.admin("get", "pod", name, "-n", "demo-dev", "-o", "name");
            assertEquals("pod/" + name, exists.stdout().trim(), exists.all());
        } finally {
            Files.deleteIfExists(manifest);
            KubeTargets.admin("delete", "pod", name, "-n", "demo-dev", "--ignore-not-found", "--grace-period=0", "--force", "--wait=false");
        }
    }

    @Test
    void a_body_too_large_to_judge_passes_only_for_an_administrator() throws Exception {
        String name = "large-config-" + UUID.randomUUID().toString().substring(0, 8);
        Path value = Files.createTempFile("large", ".txt");
        Files.writeString(value, "x".repeat(300_000));
        try {
            Cli.Result developer = KubeTargets.kubectl("bob", KubeTargets.DEV, "create", "configmap", name, "-n", "demo-dev",
                    "--from-file=v=" + value);
            assertNotEquals(0, developer.exitCode(), developer.all());
            assertTrue(developer.stderr().contains("(its body is larger than the gateway reads, so the policies cannot check it")
                    && developer.stderr().contains("[policy k8s/unreadable-object]"), developer.all());
            Cli.Result dba = KubeTargets.kubectl("alice", KubeTargets.DEV, "create", "configmap", name, "-n", "demo-dev",
                    "--from-file=v=" + value);
            assertEquals(0, dba.exitCode(), dba.all());
            Cli.Result stored = KubeTargets.admin("get", "configmap", name, "-n", "demo-dev", "-o", "jsonpath={.data.v}");
            assertEquals(300_000, stored.stdout().length(), "the whole body reached the cluster");
        } finally {
            Files.deleteIfExists(value);
            KubeTargets.admin("delete", "configmap", name, "-n", "demo-dev", "--ignore-not-found");
        }
    }

    private static Path manifest(String yaml) throws Exception {
        Path file = Files.createTempFile("manifest", ".yaml");
        Files.writeString(file, yaml);
        return file;
    }
}
