package dev.portcullis.gateway.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real OPA of the test's own, serving a copy of policies-rego/bundle with --watch, so a test can replace the
 * bundle, break it, slow it down or stop OPA without disturbing the shared stack.
 */
public class OwnOpa implements QuarkusTestResourceLifecycleManager {
    public static final int PORT = 18182;
    private static Path bundle;
    private static Process opa;

    @Override
    public Map<String, String> start() {
        try {
            bundle = Files.createTempDirectory("portcullis-opa-bundle");
            restoreBundle();
            startOpa();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return Map.of("portcullis.opa.url", "http://127.0.0.1:" + PORT);
    }

    @Override
    public void stop() {
        stopOpa();
    }

    public static Path bundle() {
        return bundle;
    }

    /** Puts the committed policies back, with a fresh revision. */
    public static void restoreBundle() throws IOException {
        clear();
        Path source = TestStack.ROOT.resolve("policies-rego/bundle");
        try (Stream<Path> files = Files.walk(source)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = bundle.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    /** Replaces the whole bundle with these files (path relative to the bundle root → content). */
    public static void replaceBundle(Map<String, String> files) throws IOException {
        clear();
        for (var e : files.entrySet()) {
            Path target = bundle.resolve(e.getKey());
            Files.createDirectories(target.getParent());
            Files.writeString(target, e.getValue());
        }
    }

    private static void clear() throws IOException {
        try (Stream<Path> files = Files.walk(bundle)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(bundle)) {
                    Files.delete(p);
                }
            }
        }
    }

    public static void startOpa() throws IOException {
        opa = new ProcessBuilder(TestStack.ROOT.resolve(".tools/bin/opa").toString(), "run", "--server", "--skip-version-check",
                "--addr", "127.0.0.1:" + PORT, "--watch", "--bundle", bundle.toString())
                .redirectErrorStream(true)
                // appended, not replaced: a restart must not erase why the OPA before it stopped
                .redirectOutput(ProcessBuilder.Redirect.appendTo(TestStack.ROOT.resolve(".stack/logs/test-opa.log").toFile())).start();
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try {
                var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORT + "/health")).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new IllegalStateException("the test OPA did not start; see .stack/logs/test-opa.log");
    }

    public static void stopOpa() {
        if (opa != null) {
            opa.destroy();
            try {
                opa.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            opa = null;
        }
    }
}
