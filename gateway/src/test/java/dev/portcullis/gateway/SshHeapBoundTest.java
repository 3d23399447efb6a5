package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.SshTargets;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The gateway (in this JVM) holds a bounded amount of heap however many bytes pass: a 1 GiB scp (SFTP) and a
 * forward's full-speed download keep its live heap, measured after a GC every second, within {@link #BOUND_BYTES} of
 * where it started. What a channel holds is one SFTP packet per direction (at most 256 KiB), a bounded table of
 * outstanding requests, and the SSH windows (2 MiB per channel and direction); a copy that buffered would grow by
 * hundreds of megabytes.
 *
 * <p>In the build the forward carries 512 MiB (about 25 s): its memory is the same few windows after the first thousand
 * of them as after millions. The ten minutes at full speed run by hand, with
 * {@code -Dssh-heap-test.forward-seconds=600}: one download through one forward that curl ends after that many
 * seconds (BENCHMARKS.md has the run). The 1 GiB copy is as short as its size allows (a sparse source, the target's
 * /dev/null as the destination).
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class SshHeapBoundTest {
    /** How far the live heap may rise above its level before a transfer. */
    static final long BOUND_BYTES = 64L << 20;

    /** Samples the live heap (after a GC) once a second until stopped; the highest sample. */
    private static final class HeapWatch implements AutoCloseable {
        private final AtomicLong peak = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread = new Thread(() -> {
            while (running.get()) {
                peak.accumulateAndGet(liveHeap(), Math::max);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "heap-watch");

        HeapWatch() {
            thread.setDaemon(true);
            thread.start();
        }

        long peak() {
            return peak.get();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.interrupt();
            thread.join();
        }
    }

    static long liveHeap() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static Path sparse(String name, long bytes) throws Exception {
        Path file = Files.createTempDirectory("portcullis-heap-").resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return file;
    }

    @Test
    void a_one_gigabyte_scp_keeps_the_gateways_heap_within_the_bound() throws Exception {
        SshTargets.ensure();
        Path config = SshTargets.login("bob");
        Path source = sparse("one-gigabyte.bin", 1L << 30);
        long before = liveHeap();
        Cli.Result r;
        long peak;
        try (HeapWatch watch = new HeapWatch()) {
            r = Cli.run(Map.of(), null, 900, "scp", "-F", config.toString(), "-o", "BatchMode=yes", source.toString(), SshTargets.DEV + ":/dev/null");
            peak = watch.peak();
        } finally {
            Files.delete(source);
        }
        assertEquals(0, r.exitCode(), r.all());
        System.out.printf("SshHeapBoundTest: 1 GiB scp, live heap rose by %d MiB (bound %d MiB)%n", (peak - before) >> 20, BOUND_BYTES >> 20);
        assertTrue(peak - before < BOUND_BYTES, "the live heap rose by " + ((peak - before) >> 20) + " MiB during a 1 GiB scp (bound "
                + (BOUND_BYTES >> 20) + " MiB)");
    }

    @Test
    void a_forward_at_full_speed_keeps_the_gateways_heap_within_the_bound() throws Exception {
        int httpPort = TestStack.port("GATEWAY_TEST_SSH_PORT") + 1;
        int localEnd = httpPort + 3;
        SshTargets.ensure();
        SshTargets.register("demo-box-heap", "{\"env\":\"dev\",\"ssh_forwards\":\"127.0.0.1:" + httpPort + "\"}", SshTargets.targetHostKey());
        int seconds = Integer.getInteger("ssh-heap-test.forward-seconds", 0);
        long size = seconds > 0 ? 1L << 40 : 512L << 20; // a timed run's file outlasts it: curl stops at the time
        String what = seconds > 0 ? seconds + " s forward" : "512 MiB forward";
        Path file = sparse("forwarded.bin", size);
        Process http = new ProcessBuilder("python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", file.getParent().toString(),
                String.valueOf(httpPort)).start();
        Process ssh = null;
        try {
            serving(http);
            ssh = new ProcessBuilder("ssh", "-F", SshTargets.login("bob").toString(), "-o", "BatchMode=yes", "-o", "User=demo-box-heap", "-N",
                    "-L", "127.0.0.1:" + localEnd + ":127.0.0.1:" + httpPort, SshTargets.DEV).start();
            awaitListening(localEnd);
            long before = liveHeap();
            Cli.Result r;
            long peak;
            try (HeapWatch watch = new HeapWatch()) {
                r = Cli.run(Map.of(), null, seconds > 0 ? seconds + 60 : 600, "curl", "-sS", "-o", "/dev/null", "-w",
                        "%{size_download} %{speed_download}", "--max-time", String.valueOf(seconds > 0 ? seconds : 600),
                        "http://127.0.0.1:" + localEnd + "/forwarded.bin");
                peak = watch.peak();
            }
            String[] sizeAndSpeed = r.stdout().trim().split(" ");
            if (seconds > 0) {
                assertEquals(28, r.exitCode(), "curl ends the timed download at its --max-time (28), nothing else: " + r.all());
            } else {
                assertEquals(0, r.exitCode(), r.all());
                assertEquals(String.valueOf(size), sizeAndSpeed[0], "every byte came through");
            }
            System.out.printf("SshHeapBoundTest: %s, %d MiB at %.1f MB/s, live heap rose by %d MiB (bound %d MiB)%n", what,
                    Long.parseLong(sizeAndSpeed[0]) >> 20, Double.parseDouble(sizeAndSpeed[1]) / 1e6, (peak - before) >> 20, BOUND_BYTES >> 20);
            assertTrue(peak - before < BOUND_BYTES, "the live heap rose by " + ((peak - before) >> 20) + " MiB during a " + what + " (bound "
                    + (BOUND_BYTES >> 20) + " MiB)");
        } finally {
            if (ssh != null) {
                ssh.destroy();
            }
            http.destroy();
            Files.delete(file);
        }
    }

    /** Python's own word that it serves (a port taken by something else makes it exit instead). */
    static void serving(Process http) throws Exception {
        String line = new java.io.BufferedReader(new java.io.InputStreamReader(http.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))
                .readLine();
        if (line == null || !line.startsWith("Serving HTTP")) {
            throw new AssertionError("python3 -m http.server did not start: " + new String(http.getErrorStream().readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private static void awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (java.io.IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("nothing listens on " + port + " after 20 s");
                }
                Thread.sleep(100);
            }
        }
    }
}
