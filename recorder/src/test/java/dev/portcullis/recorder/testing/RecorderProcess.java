package dev.portcullis.recorder.testing;

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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged recorder ({@code target/quarkus-app/quarkus-run.jar}) as a process of its own, wired to a test's
 * {@link PrivateServices}, so that it can be killed like a crashed pod.
 */
public final class RecorderProcess implements AutoCloseable {
    public static final int HTTP_PORT = 29080 + PrivateServices.PORT_OFFSET;
    /** On the private Kafka only; the shared stack has no such topic. */
    public static final String TOPIC = "portcullis.session-events.faults-it";
    public static final String GROUP = "portcullis-recorder-faults-it";
    private static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final Path log;
    private final int httpPort;

    private RecorderProcess(Process process, Path log, int httpPort) {
        this.process = process;
        this.log = log;
        this.httpPort = httpPort;
    }

    /** Starts the recorder on the test's private services and waits until it is ready. */
    public static RecorderProcess start(Path log) throws IOException, InterruptedException {
        RecorderProcess recorder = start(log, HTTP_PORT, List.of(
                // Every endpoint is named outright (not through the stack.properties variables they are built
                // from), and topic and group are the test's own: nothing may reach the shared stack.
                "-Dquarkus.http.port=" + HTTP_PORT,
                "-Dquarkus.datasource.reactive.url=postgresql://127.0.0.1:" + PrivateServices.PG_PORT + "/" + Stack.get("PORTCULLIS_DB"),
                "-Dquarkus.datasource.jdbc.url=jdbc:postgresql://127.0.0.1:" + PrivateServices.PG_PORT + "/" + Stack.get("PORTCULLIS_DB"),
                "-Dportcullis.recorder.kafka.bootstrap-servers=" + PrivateServices.kafkaBootstrap(),
                "-Dportcullis.recorder.kafka.topic=" + TOPIC,
                "-Dportcullis.recorder.kafka.group-id=" + GROUP,
                "-Dportcullis.recordings.s3.endpoint=" + PrivateServices.s3Endpoint(),
                // A killed consumer stays in its group until its session times out (45 s by default), and a new
                // one gets no partitions before; the broker's minimum keeps the restart tests short.
                "-Dmp.messaging.incoming.session-events.session.timeout.ms=6000",
                "-Dmp.messaging.incoming.session-events.heartbeat.interval.ms=1000",
                // commits every second instead of five: the tests wait for them
                "-Dmp.messaging.incoming.session-events.auto.commit.interval.ms=1000",
                "-Dportcullis.recorder.health.refresh-every=1s",
                // a stall shows in readiness within seconds, so that the tests can see it
                "-Dportcullis.recorder.health.stalled-after=5s"));
        recorder.assertPrivate();
        return recorder;
    }

    /**
     * Starts the recorder with the stack's settings and these overrides ({@code -Dkey=value}), and waits until it is
     * ready (PostgreSQL, Kafka and S3 reachable).
     */
    public static RecorderProcess start(Path log, int httpPort, List<String> overrides) throws IOException, InterruptedException {
        // a small heap and the quick compiler: tests start many short-lived recorders
        return start(log, httpPort, List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"), overrides);
    }

    /** As {@link #start(Path, int, List)}, with these JVM options instead of the tests' (a benchmark's: as in production). */
    public static RecorderProcess start(Path log, int httpPort, List<String> jvmOptions, List<String> overrides)
            throws IOException, InterruptedException {
        if (!Files.exists(JAR)) {
            throw new IllegalStateException(JAR.toAbsolutePath() + " is missing: run mvn verify (it packages first)");
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(jvmOptions);
        command.add("-Dquarkus.config.locations=" + Stack.ENV_FILE.toAbsolutePath() + "," + Stack.SECRETS_FILE.toAbsolutePath());
        command.addAll(overrides);
        command.addAll(List.of("-jar", JAR.toAbsolutePath().toString()));
        Files.createDirectories(log.getParent());
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        RecorderProcess recorder = new RecorderProcess(process, log, httpPort);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!recorder.ready()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                recorder.kill();
                throw new IllegalStateException("the recorder did not become ready within 60 s; its log: " + log);
            }
            Thread.sleep(200);
        }
        return recorder;
    }

    /** Fails closed if the recorder reached anything but the private services (a config change that bypassed ours). */
    private void assertPrivate() throws IOException, InterruptedException {
        String out = Files.readString(log);
        if (!out.contains("Database: jdbc:postgresql://127.0.0.1:" + PrivateServices.PG_PORT + "/")
                || !out.contains("connected to Kafka brokers '" + PrivateServices.kafkaBootstrap() + "'")) {
            kill();
            throw new IllegalStateException("the recorder did not connect to the test's own PostgreSQL and Kafka; see " + log);
        }
    }

    public boolean ready() {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/health/ready"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public long pid() {
        return process.pid();
    }

    /** A gauge from /q/metrics (Prometheus name); NaN when the recorder does not report it. */
    public double gauge(String name) throws IOException, InterruptedException {
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*})? ([0-9.E+-]+|NaN)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /** The body of a health endpoint ({@code ready}, {@code well}, ...). */
    public String health(String which) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/health/" + which))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    public boolean alive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** A counter from /q/metrics (Prometheus name, without {@code _total}); 0 when the recorder has not counted yet. */
    public double counter(String name) throws IOException, InterruptedException {
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "_total(?:\\{[^}]*})? ([0-9.E+]+)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** SIGKILL: no shutdown hook runs, no offset is committed on the way out. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the recorder (pid " + process.pid() + ") survived SIGKILL for 30 s");
        }
    }

    /** SIGTERM, then SIGKILL after 30 s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            kill();
        }
    }
}
