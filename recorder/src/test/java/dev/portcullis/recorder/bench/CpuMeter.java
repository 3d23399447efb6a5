package dev.portcullis.recorder.bench;

import dev.portcullis.recorder.testing.Stack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time of the pipeline's processes (Linux /proc): the recorder and the stack's PostgreSQL (with its backends),
 * Kafka and s3proxy. On a shared machine wall-clock throughput says as much about the neighbours as about the
 * recorder; CPU per event says what the pipeline costs, and so what two cores of its own would carry.
 */
final class CpuMeter {
    /** USER_HZ: /proc reports CPU time in clock ticks of 10 ms. */
    private static final double TICK_SECONDS = 0.01;

    private final Map<String, Long> roots = new LinkedHashMap<>();

    CpuMeter(long recorderPid) {
        roots.put("recorder", recorderPid);
        for (String service : List.of("postgres", "kafka", "s3proxy")) {
            try {
                roots.put(service, Long.parseLong(Files.readString(Stack.ROOT.resolve(".stack/run/" + service + ".pid")).trim()));
            } catch (IOException | NumberFormatException e) {
                // not measured
            }
        }
    }

    /** CPU seconds so far of each process and its children. */
    Map<String, Double> sample() {
        Map<Long, long[]> stat = new HashMap<>(); // pid -> {ppid, ticks}
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String s = Files.readString(p.resolve("stat"));
                    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
                    stat.put(Long.parseLong(p.getFileName().toString()), new long[] {Long.parseLong(f[1]),
                            Long.parseLong(f[11]) + Long.parseLong(f[12])});
                } catch (IOException | RuntimeException e) {
                    // the process ended meanwhile
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        Map<String, Double> seconds = new LinkedHashMap<>();
        roots.forEach((name, root) -> {
            long ticks = 0;
            List<Long> todo = new ArrayList<>(List.of(root));
            while (!todo.isEmpty()) {
                long pid = todo.remove(todo.size() - 1);
                long[] s = stat.get(pid);
                ticks += s == null ? 0 : s[1];
                stat.forEach((child, cs) -> {
                    if (cs[0] == pid) {
                        todo.add(child);
                    }
                });
            }
            seconds.put(name, ticks * TICK_SECONDS);
        });
        return seconds;
    }

    /** "recorder 12.3 ms, postgres ..." per 1,000 events between two samples, and what two cores would carry. */
    static String perThousand(Map<String, Double> before, Map<String, Double> after, long events) {
        StringBuilder out = new StringBuilder();
        double total = 0;
        for (var e : after.entrySet()) {
            double cpu = e.getValue() - before.getOrDefault(e.getKey(), 0.0);
            total += cpu;
            out.append(String.format("%s %.0f ms, ", e.getKey(), cpu * 1e6 / events));
        }
        return out.append(String.format("total %.0f ms of CPU per 1,000 events: two cores of its own would carry about"
                + " %.0f events/s", total * 1e6 / events, 2 * events / total)).toString();
    }
}
