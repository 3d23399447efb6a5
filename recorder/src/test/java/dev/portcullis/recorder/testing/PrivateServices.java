package dev.portcullis.recorder.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Kafka, s3proxy and PostgreSQL of a test's own, started through {@code dev-services/private-service} on ports
 * 29000-29099, with their state under one directory, so that a test may stop, kill and restart them. The shared
 * stack (which other builds use at the same time) is never touched.
 */
public final class PrivateServices implements AutoCloseable {
    /**
     * Added to every port of the recorder's ITs ({@code -Drecorder.it.port-offset=10000}), so that two checkouts on one
     * machine can run them at once.
     */
    public static final int PORT_OFFSET = Integer.getInteger("recorder.it.port-offset", 0);
    public static final int S3_PORT = 29000 + PORT_OFFSET;
    public static final int KAFKA_PORT = 29092 + PORT_OFFSET; // and +1 for its controller
    public static final int PG_PORT = 29432 + PORT_OFFSET;
    public static final String SERVICE_SCRIPT = "dev-services/private-service";

    public enum Service {
        KAFKA("kafka", KAFKA_PORT), S3PROXY("s3proxy", S3_PORT), POSTGRES("postgres", PG_PORT);

        final String name;
        final int port;

        Service(String name, int port) {
            this.name = name;
            this.port = port;
        }
    }

    private final Path dir;

    private PrivateServices(Path dir) {
        this.dir = dir;
    }

    /**
     * Stops what an aborted earlier run left in {@code dir}, wipes it, checks that every port is free, and starts
     * the three services.
     *
     * @param extraPorts other ports the test will bind (its recorder's HTTP port), checked free too
     */
    public static PrivateServices start(Path dir, int... extraPorts) throws IOException, InterruptedException {
        PrivateServices services = new PrivateServices(dir.toAbsolutePath());
        services.stopAll();
        deleteTree(services.dir);
        List<Integer> ports = new ArrayList<>(List.of(S3_PORT, KAFKA_PORT, KAFKA_PORT + 1, PG_PORT));
        for (int port : extraPorts) {
            ports.add(port);
        }
        for (int port : ports) {
            if (listening(port)) {
                throw new IllegalStateException("port " + port + " on 127.0.0.1 is in use, but this test needs it for a"
                        + " service of its own (ports 29000-29099). Find the owner with: ss -ltnp 'sport = :" + port + "'");
            }
        }
        try {
            for (Service s : Service.values()) {
                services.start(s);
            }
        } catch (RuntimeException | IOException | InterruptedException e) {
            services.close();
            throw e;
        }
        return services;
    }

    public void start(Service service) throws IOException, InterruptedException {
        run("start", service, String.valueOf(service.port));
    }

    /** A graceful stop: Kafka's controlled shutdown, PostgreSQL's fast shutdown. */
    public void stop(Service service) throws IOException, InterruptedException {
        run("stop", service);
    }

    /** SIGKILL, as a crash or a pulled plug would. */
    public void kill(Service service) throws IOException, InterruptedException {
        run("kill", service);
    }

    public Path dir() {
        return dir;
    }

    public static String kafkaBootstrap() {
        return "127.0.0.1:" + KAFKA_PORT;
    }

    public static String s3Endpoint() {
        return "http://127.0.0.1:" + S3_PORT;
    }

    /** Stops every service, each even if another fails to stop. */
    @Override
    public void close() {
        try {
            stopAll();
        } catch (IOException | InterruptedException | RuntimeException e) {
            throw new IllegalStateException("could not stop the private services in " + dir + "; see its logs/", e);
        }
    }

    private void stopAll() throws IOException, InterruptedException {
        RuntimeException failure = null;
        for (Service s : Service.values()) {
            try {
                stop(s);
            } catch (RuntimeException e) {
                try {
                    kill(s);
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                    failure = failure == null ? e : failure;
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void run(String action, Service service, String... more) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Stack.ROOT.resolve(SERVICE_SCRIPT).toString(), action,
                service.name, dir.resolve(service.name).toString()));
        command.addAll(List.of(more));
        Files.createDirectories(dir);
        Path output = dir.resolve(action + "-" + service.name + ".out");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish within 120 s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (exit " + p.exitValue() + "):\n"
                    + Files.readString(output) + "\nservice log: " + dir.resolve(service.name).resolve("logs"));
        }
    }

    public static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
