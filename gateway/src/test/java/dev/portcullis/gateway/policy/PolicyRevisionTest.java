package dev.portcullis.gateway.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.testing.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The policy revision is the bundle manifest's revision: the same on every poll and on every gateway, and new when
 * the manifest's is. A real OPA of this test's own (on a free loopback port, serving a copy of policies-rego/bundle
 * with --watch) shows that, and the fail-safe cases, in which the revision is unknown and the decision cache steps
 * aside: OPA stopped, an error answer, a manifest without a revision, a revision older than its bound.
 */
class PolicyRevisionTest {
    private static final Path OPA = TestStack.ROOT.resolve(".tools/bin/opa");
    private static final Path BUNDLE = TestStack.ROOT.resolve("policies-rego/bundle");
    private static final Duration MAX_AGE = Duration.ofSeconds(5);

    @TempDir
    static Path work;
    private static Vertx vertx;
    private static Process opa;
    private static String opaUrl;
    private static Path served;

    @BeforeAll
    static void startOpa() throws Exception {
        vertx = Vertx.vertx();
        served = work.resolve("bundle");
        copy(BUNDLE, served);
        int port = freePort();
        opaUrl = "http://127.0.0.1:" + port;
        opa = startOpa(served, port, work.resolve("opa.log"));
        awaitHealthy(opaUrl + "/health?bundles");
    }

    @AfterAll
    static void stopOpa() throws Exception {
        if (opa != null) {
            opa.destroy();
            opa.waitFor(10, TimeUnit.SECONDS);
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void revision_is_the_manifest_revision_on_20_consecutive_polls_and_on_every_gateway() throws Exception {
        String manifest = manifestRevision(served);
        PolicyRevision one = revision(opaUrl, MAX_AGE);
        PolicyRevision other = revision(opaUrl, MAX_AGE);
        Set<String> seen = new HashSet<>();
        for (int poll = 0; poll < 20; poll++) {
            poll(one);
            poll(other);
            seen.add(one.current());
            seen.add(other.current());
        }
        assertEquals(Set.of(manifest), seen, "the revision must be the manifest's, the same on every poll of both gateways");
        // What the revision stands for is only what is served: the policies, never their tests.
        assertTrue(modulesServed().stream().noneMatch(id -> id.endsWith("_test.rego")), "the bundle serves no test module");
    }

    @Test
    void revision_changes_when_the_manifest_revision_changes() throws Exception {
        PolicyRevision revision = revision(opaUrl, MAX_AGE);
        poll(revision);
        String before = revision.current();
        assertNotNull(before);
        servingManifest(revision, servedManifest().put("revision", "sha256:0123456789abcdef"), "sha256:0123456789abcdef");
    }

    @Test
    void revision_is_unknown_at_once_when_opa_is_unreachable_or_answers_an_error() throws Exception {
        Path bundle = work.resolve("second-bundle");
        copy(BUNDLE, bundle);
        int port = freePort();
        Process second = startOpa(bundle, port, work.resolve("second-opa.log"));
        String url = "http://127.0.0.1:" + port;
        try {
            awaitHealthy(url + "/health?bundles");
            PolicyRevision revision = revision(url, MAX_AGE);
            poll(revision);
            assertEquals(manifestRevision(bundle), revision.current());
            // OPA answering an error (404: no such API under this prefix)
            PolicyRevision misaddressed = revision(url + "/not-the-api", MAX_AGE);
            poll(misaddressed);
            assertNull(misaddressed.current(), "an OPA that answers an error runs policies nobody can name");
            second.destroy();
            assertTrue(second.waitFor(10, TimeUnit.SECONDS));
            poll(revision);
            assertNull(revision.current(), "an unreachable OPA may come back with other policies");
        } finally {
            second.destroyForcibly();
        }
    }

    @Test
    void revision_is_unknown_when_the_bundle_names_none() throws Exception {
        PolicyRevision revision = revision(opaUrl, MAX_AGE);
        poll(revision);
        String before = revision.current();
        assertNotNull(before);
        JsonObject without = servedManifest();
        without.remove("revision");
        for (JsonObject unnamed : List.of(servedManifest().put("revision", ""), without)) {
            servingManifest(revision, unnamed, null);
        }
    }

    @Test
    void revision_is_unknown_once_older_than_the_bound() throws Exception {
        // a bound long enough for a poll on a busy machine (a poll times out at a third of it)
        Duration bound = Duration.ofSeconds(2);
        PolicyRevision revision = revision(opaUrl, bound);
        poll(revision);
        assertEquals(manifestRevision(served), revision.current());
        Thread.sleep(bound.toMillis() + 200);
        assertNull(revision.current(), "a revision not read again within the bound may no longer be the one in force");
    }

    @Test
    void several_bundles_give_their_revisions_in_name_order_and_a_list_without_one_names_none() {
        JsonObject body = new JsonObject(
                "{\"result\": {\"zeta\": {\"manifest\": {\"revision\": \"r2\"}}, \"alpha\": {\"manifest\": {\"revision\": \"r1\"}}}}");
        assertEquals("r1,r2", PolicyRevision.revisionOf(body));
        assertEquals("OPA's answer is not a bundle list",
                assertThrows(IllegalArgumentException.class, () -> PolicyRevision.revisionOf(new JsonObject())).getMessage());
        assertEquals("bundle b has no revision in its manifest (run policies-rego/check --stamp)",
                assertThrows(IllegalArgumentException.class, () -> PolicyRevision.revisionOf(new JsonObject("{\"result\": {\"b\": 7}}")))
                        .getMessage());
        for (String unnamed : List.of(
                "{\"result\": {}}",
                "{\"result\": {\"b\": {\"manifest\": {\"roots\": [\"portcullis\"]}}}}",
                "{\"result\": {\"a\": {\"manifest\": {\"revision\": \"r1\"}}, \"b\": {\"manifest\": {}}}}",
                "{\"result\": {\"b\": \"not a bundle\"}}")) {
            assertThrows(IllegalArgumentException.class, () -> PolicyRevision.revisionOf(new JsonObject(unnamed)), unnamed);
        }
    }

    // --- helpers ----------------------------------------------------------------------------------------------

    private static PolicyRevision revision(String url, Duration maxAge) {
        return new PolicyRevision(vertx, config(url, maxAge));
    }

    private static void poll(PolicyRevision revision) throws Exception {
        revision.refresh().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Polls until the revision is {@code expected} (OPA's --watch reloads within a second or two). */
    private JsonObject servedManifest() throws IOException {
        return new JsonObject(Files.readString(served.resolve(".manifest")));
    }

    /** Serves {@code changed} as the manifest until the revision reads {@code expected}, then restores the original. */
    private void servingManifest(PolicyRevision revision, JsonObject changed, String expected) throws Exception {
        Path manifest = served.resolve(".manifest");
        String original = Files.readString(manifest);
        String before = revision.current();
        try {
            Files.writeString(manifest, changed.encode());
            awaitRevision(revision, expected);
        } finally {
            Files.writeString(manifest, original);
            awaitRevision(revision, before);
        }
    }

    private static String awaitRevision(PolicyRevision revision, String expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        String current;
        do {
            poll(revision);
            current = revision.current();
            if (java.util.Objects.equals(expected, current)) {
                return current;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("the revision did not become " + expected + " within 15 s; last: " + current);
    }

    private static String manifestRevision(Path bundle) throws IOException {
        return new JsonObject(Files.readString(bundle.resolve(".manifest"))).getString("revision");
    }

    private static List<String> modulesServed() throws Exception {
        var body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(opaUrl + "/v1/policies")).build(),
                HttpResponse.BodyHandlers.ofString());
        List<String> ids = new ArrayList<>();
        new ObjectMapper().readTree(body.body()).get("result").forEach(m -> ids.add(m.get("id").asText()));
        assertTrue(!ids.isEmpty(), "OPA serves the bundle's modules");
        return ids;
    }

    /** A real OPA serving {@code bundle} with --watch, as the stack runs it. */
    private static Process startOpa(Path bundle, int port, Path log) throws IOException {
        return new ProcessBuilder(OPA.toString(), "run", "--server", "--skip-version-check", "--addr", "127.0.0.1:" + port,
                "--watch", "--bundle", bundle.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void awaitHealthy(String url) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the test's OPA did not become healthy; see " + work.resolve("opa.log"));
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    /** Only what PolicyRevision reads; any other option is a mistake of this test. */
    private static GatewayConfig config(String url, Duration maxAge) {
        GatewayConfig.Opa opaConfig = (GatewayConfig.Opa) Proxy.newProxyInstance(GatewayConfig.class.getClassLoader(),
                new Class<?>[] {GatewayConfig.Opa.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "url" -> url;
                    case "revisionMaxAge" -> maxAge;
                    case "toString" -> "opa config of PolicyRevisionTest";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        return (GatewayConfig) Proxy.newProxyInstance(GatewayConfig.class.getClassLoader(), new Class<?>[] {GatewayConfig.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "opa" -> opaConfig;
                    case "toString" -> "config of PolicyRevisionTest";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
