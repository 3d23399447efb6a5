package dev.portcullis.contract.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One packaged app (gateway, admin API or recorder: {@code <module>/target/quarkus-app/quarkus-run.jar}) run as its own
 * process with the stack's settings, for tests of several replicas or of the whole pipeline. Started once ready; closing
 * it stops it the way an orchestrator does (SIGTERM, then a kill after 30 s).
 */
public final class AppProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final Path log;

    private AppProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code module}'s packaged app on {@code httpPort} with these extra {@code -D} options, output to
     * {@code log}, and waits up to 90 s for its readiness.
     */
    public static AppProcess start(String module, int httpPort, Path log, List<String> options) throws IOException, InterruptedException {
        Path jar = StackEnv.ROOT.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: run mvn verify from the repository root (it packages every app)");
        }
        Files.createDirectories(log.toAbsolutePath().getParent());
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-Dquarkus.config.locations=" + StackEnv.ENV_FILE.toAbsolutePath() + "," + StackEnv.SECRETS_FILE.toAbsolutePath(),
                "-Dquarkus.http.port=" + httpPort));
        command.addAll(options);
        command.addAll(List.of("-jar", jar.toString()));
        AppProcess app = new AppProcess(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start(), log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (status("http://" + StackEnv.host() + ":" + httpPort + "/q/health/ready") != 200) {
            if (!app.process.isAlive() || System.nanoTime() > deadline) {
                app.process.destroyForcibly();
                throw new IllegalStateException(module + " did not become ready; its log: " + log.toAbsolutePath());
            }
            Thread.sleep(250);
        }
        return app;
    }

    public Path log() {
        return log;
    }

    /** The OS process, for tests that signal it themselves (a SIGTERM timeline, say). */
    public Process process() {
        return process;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    private static int status(String url) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
