package dev.portcullis.recorder.bench;

import dev.portcullis.recorder.testing.GatewayTraffic;
import dev.portcullis.recorder.testing.ParkedRow;
import dev.portcullis.recorder.testing.RecorderProcess;
import dev.portcullis.recorder.testing.Stack;
import dev.portcullis.recorder.testing.StoredRecording;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The recording pipeline under load (dev-services/bench-recording): the packaged recorder, with the JVM defaults the
 * stack runs it with, on the shared stack's Kafka, PostgreSQL and S3, reading a topic and group of this run's own.
 * Traffic is shaped as gateways send it ({@link GatewayTraffic}: ~1,000 concurrent sessions, a JSON Lines record per
 * session per 10 ms group commit).
 *
 * <ol>
 *   <li>max: MAX events are published before the recorder starts; it drains them; events/s stored.</li>
 *   <li>rate: RATE events/s offered for SECONDS; the lag from each event's {@code at} to its {@code stored_at}
 *       (p50/p99/max), and the backlog (published, not yet stored) when the offer stops.</li>
 * </ol>
 * Exits non-zero if any event is lost, stored twice (in the index or in S3) or left parked. The run's recordings,
 * parked rows and topic are deleted at the end.
 */
public final class RecordingPipelineBench {
    private static final int PARTITIONS = 6;
    private static final int SESSIONS = 1000;
    private static final int STATEMENTS = 60; // 2 + 60 + 40 = 102 events per session
    private static final int HTTP_PORT = Integer.getInteger("bench.recorder.http-port", 29190);

    private record Args(long max, int rate, int seconds) {
    }

    public static void main(String[] argv) throws Exception {
        Args args = parse(argv);
        String run = Long.toString(System.currentTimeMillis(), 36);
        String topic = "portcullis.session-events.bench-" + run;
        String group = "portcullis-recorder-bench-" + run;
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", Stack.get("KAFKA_BOOTSTRAP")))) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
        }
        System.out.printf("load before: %s; %d partitions, %d concurrent sessions, a record per session per 10 ms%n",
                loadAverage(), PARTITIONS, SESSIONS);
        List<String> jvm = new ArrayList<>();
        if (Boolean.getBoolean("bench.recorder.debug")) {
            jvm.add("-Dquarkus.log.category.\"dev.portcullis.recorder.recording\".level=DEBUG");
        }
        String jfr = System.getProperty("bench.recorder.jfr");
        if (jfr != null) {
            jvm.add("-XX:StartFlightRecording=filename=" + jfr + ",settings=profile");
        }
        List<UUID> sessions = new ArrayList<>();
        boolean ok = true;
        Path log = Files.createTempFile("recorder-bench-", ".log");
        RecorderProcess recorder = null;
        try (GatewayTraffic traffic = new GatewayTraffic(Stack.get("KAFKA_BOOTSTRAP"), topic, SESSIONS, STATEMENTS)) {
            if (args.max() > 0) {
                // as the gateways' load would shape it at 30,000 events/s: 300 events per 10 ms, mostly one per record
                while (traffic.events() < args.max()) {
                    traffic.tick(300, 1);
                }
                traffic.flush();
            }
            long published = traffic.events();
            System.out.printf("recorder log: %s%n", log);
            List<String> overrides = new ArrayList<>(List.of("-Dquarkus.http.port=" + HTTP_PORT,
                    "-Dportcullis.recorder.kafka.topic=" + topic, "-Dportcullis.recorder.kafka.group-id=" + group));
            // settings to try, such as -Dportcullis.recorder.batch.max-events=20000
            overrides.addAll(List.of(System.getProperty("bench.recorder.options", "").split(" ")).stream()
                    .filter(o -> !o.isBlank()).toList());
            recorder = RecorderProcess.start(log, HTTP_PORT, jvm, overrides);
            CpuMeter cpu = new CpuMeter(recorder.pid());
            if (args.max() > 0) {
                var cpu0 = cpu.sample();
                long t0 = System.nanoTime();
                awaitStored(traffic, recorder, log, 600);
                double seconds = (System.nanoTime() - t0) / 1e9;
                System.out.printf("      CPU: %s%n", CpuMeter.perThousand(cpu0, cpu.sample(), published));
                Stats s = stats(traffic.published().keySet(), java.time.Instant.EPOCH);
                System.out.printf("max:  %d events published first, then drained by the recorder in %.1f s: %.0f events/s"
                        + " (%.0f events/s first to last write; %.0f events/s over the last two thirds, the JIT warm)"
                        + " in %d S3 objects%n", published, seconds, published / seconds, s.rows / s.busySeconds,
                        warmRate(traffic.published().keySet()), s.objects);
                sessions.addAll(traffic.published().keySet());
            }
            if (args.rate() > 0) {
                java.time.Instant phaseStart = java.time.Instant.now();
                var cpu0 = cpu.sample();
                long offered = offer(traffic, args.rate(), args.seconds());
                long storedAtStop = stored(traffic);
                long t0 = System.nanoTime();
                awaitStored(traffic, recorder, log, 600);
                Stats s = stats(traffic.published().keySet(), phaseStart);
                System.out.printf("rate: %d events offered at %d events/s for %d s; backlog when the offer stopped: %d events,"
                        + " drained in %.1f s%n", offered, args.rate(), args.seconds(), traffic.events() - storedAtStop,
                        (System.nanoTime() - t0) / 1e9);
                System.out.printf("      lag event at -> stored_at: p50 %.0f ms, p99 %.0f ms, max %.0f ms%n",
                        s.p50 * 1000, s.p99 * 1000, s.max * 1000);
                System.out.printf("      CPU (Kafka's includes taking the offered records): %s%n",
                        CpuMeter.perThousand(cpu0, cpu.sample(), offered));
                sessions.addAll(traffic.published().keySet());
            }
            ok = check(traffic, topic);
            System.out.printf("load after: %s%n", loadAverage());
        } finally {
            if (recorder != null) {
                recorder.close();
            }
            cleanUp(sessions, topic);
        }
        System.exit(ok ? 0 : 1);
    }

    private static Args parse(String[] argv) {
        long max = 300_000;
        int rate = 15_000, seconds = 60;
        for (int i = 0; i < argv.length; i++) {
            switch (argv[i]) {
                case "--max" -> max = Long.parseLong(argv[++i]);
                case "--rate" -> rate = Integer.parseInt(argv[++i]);
                case "--seconds" -> seconds = Integer.parseInt(argv[++i]);
                default -> throw new IllegalArgumentException("usage: [--max EVENTS] [--rate EVENTS_PER_S] [--seconds S]"
                        + " (0 skips a phase); got " + argv[i]);
            }
        }
        return new Args(max, rate, seconds);
    }

    /** Offers events at the rate, a group commit every 10 ms, for the time. @return events offered */
    private static long offer(GatewayTraffic traffic, int rate, int seconds) throws InterruptedException {
        long start = traffic.events();
        long t0 = System.nanoTime();
        long ticks = seconds * 100L;
        for (long tick = 0; tick < ticks; tick++) {
            long due = t0 + tick * 10_000_000L;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            long target = (tick + 1) * rate / 100;
            traffic.tick((int) (target - (traffic.events() - start)), 1);
        }
        traffic.flush();
        double took = (System.nanoTime() - t0) / 1e9;
        if (took > seconds * 1.05) {
            System.out.printf("      (the publisher fell behind: %d s of traffic took %.1f s to publish)%n", seconds, took);
        }
        return traffic.events() - start;
    }

    private static void awaitStored(GatewayTraffic traffic, RecorderProcess recorder, Path log, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (stored(traffic) < traffic.events()) {
            if (System.nanoTime() > deadline || !recorder.alive()) {
                throw new IllegalStateException("the recorder stored " + stored(traffic) + " of " + traffic.events()
                        + " events in " + seconds + " s; its log: " + log);
            }
            Thread.sleep(500);
        }
    }

    /** Events stored so far: the chain ends of the run's sessions (cheap; the exact checks come at the end). */
    private static long stored(GatewayTraffic traffic) throws Exception {
        try (Connection db = Stack.portcullisDb();
                PreparedStatement s = db.prepareStatement("SELECT coalesce(sum(last_seq), 0) FROM sessions WHERE id = ANY (?)")) {
            s.setArray(1, db.createArrayOf("uuid", traffic.published().keySet().toArray()));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private record Stats(long rows, long objects, double busySeconds, double p50, double p99, double max) {
    }

    /** Over the events of these sessions stamped at or after {@code since}. */
    private static Stats stats(java.util.Collection<UUID> ids, java.time.Instant since) throws Exception {
        try (Connection db = Stack.portcullisDb(); PreparedStatement s = db.prepareStatement("""
                SELECT count(*), (SELECT count(DISTINCT object_key) FROM session_chunks WHERE session_id = ANY (?)),
                       extract(epoch FROM max(stored_at) - min(stored_at)),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - at)),
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - at)),
                       extract(epoch FROM max(stored_at - at))
                FROM session_events WHERE session_id = ANY (?) AND at >= ?""")) {
            var array = db.createArrayOf("uuid", ids.toArray());
            s.setArray(1, array);
            s.setArray(2, array);
            s.setTimestamp(3, java.sql.Timestamp.from(since));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return new Stats(rs.getLong(1), rs.getLong(2), rs.getDouble(3), rs.getDouble(4), rs.getDouble(5), rs.getDouble(6));
            }
        }
    }

    /** Events/s stored after the first third was: a fresh JVM compiles its hot code while it drains the first. */
    private static double warmRate(java.util.Collection<UUID> ids) throws Exception {
        try (Connection db = Stack.portcullisDb(); PreparedStatement s = db.prepareStatement("""
                WITH t AS (SELECT percentile_disc(1.0 / 3) WITHIN GROUP (ORDER BY stored_at) AS t1, max(stored_at) AS t2
                           FROM session_events WHERE session_id = ANY (?))
                SELECT count(*) / nullif(extract(epoch FROM max(t.t2) - max(t.t1)), 0)
                FROM session_events e, t WHERE e.session_id = ANY (?) AND e.stored_at > t.t1""")) {
            var array = db.createArrayOf("uuid", ids.toArray());
            s.setArray(1, array);
            s.setArray(2, array);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getDouble(1);
            }
        }
    }

    /**
     * Every published event is indexed once (seqs 1..n of each session), S3 holds each once (the runs of a session
     * cover its seqs without overlap), nothing is parked, and a sample of chains verifies against S3.
     */
    private static boolean check(GatewayTraffic traffic, String topic) throws Exception {
        long lost = 0, twice = 0;
        try (Connection db = Stack.portcullisDb(); PreparedStatement s = db.prepareStatement("""
                SELECT s.id, s.last_seq, (SELECT count(*) FROM session_events e WHERE e.session_id = s.id),
                       (SELECT coalesce(sum(c.last_seq - c.first_seq + 1), 0) FROM session_chunks c WHERE c.session_id = s.id)
                FROM sessions s WHERE s.id = ANY (?)""")) {
            s.setArray(1, db.createArrayOf("uuid", traffic.published().keySet().toArray()));
            Map<UUID, Long> published = traffic.published();
            long seen = 0;
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    long expected = published.get((UUID) rs.getObject(1));
                    seen++;
                    lost += Math.max(0, expected - rs.getLong(3));
                    twice += Math.max(0, rs.getLong(4) - expected) + Math.max(0, rs.getLong(3) - expected);
                }
            }
            if (seen < published.size()) {
                lost += published.size() - seen; // at least one event each
            }
        }
        List<ParkedRow> parked = ParkedRow.ofTopic(Stack::portcullisDb, topic);
        int verified = 0, broken = 0;
        try (S3Client s3 = Stack.s3(Stack.get("S3_ENDPOINT"))) {
            for (UUID id : traffic.published().keySet().stream().limit(50).toList()) {
                var outcome = StoredRecording.read(id).verify(s3, Stack.get("S3_BUCKET"));
                if (outcome.intact() && outcome.verified() == traffic.published().get(id)) {
                    verified++;
                } else {
                    broken++;
                }
            }
        }
        System.out.printf("check: %d events published; lost %d, stored twice %d, parked runs %d; %d of %d sampled chains verify%n",
                traffic.events(), lost, twice, parked.size(), verified, verified + broken);
        return lost == 0 && twice == 0 && parked.isEmpty() && broken == 0;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    /** The run's rows, objects, parked runs and topic: a benchmark leaves no recordings behind. */
    private static void cleanUp(List<UUID> ids, String topic) throws Exception {
        List<String> keys = new ArrayList<>();
        try (Connection db = Stack.portcullisDb()) {
            var array = db.createArrayOf("uuid", ids.toArray());
            try (PreparedStatement s = db.prepareStatement("SELECT DISTINCT object_key FROM session_chunks WHERE session_id = ANY (?)"
                    + " UNION SELECT object_key FROM parked_runs WHERE topic = ?")) {
                s.setArray(1, array);
                s.setString(2, topic);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        keys.add(rs.getString(1));
                    }
                }
            }
            for (String table : List.of("session_events WHERE session_id", "sessions WHERE id")) {
                try (PreparedStatement s = db.prepareStatement("DELETE FROM " + table + " = ANY (?)")) {
                    s.setArray(1, array);
                    s.executeUpdate();
                }
            }
            try (PreparedStatement s = db.prepareStatement("DELETE FROM parked_runs WHERE topic = ?")) {
                s.setString(1, topic);
                s.executeUpdate();
            }
        }
        try (S3Client s3 = Stack.s3(Stack.get("S3_ENDPOINT"))) {
            for (String key : keys) {
                s3.deleteObject(b -> b.bucket(Stack.get("S3_BUCKET")).key(key));
            }
        }
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", Stack.get("KAFKA_BOOTSTRAP")))) {
            admin.deleteTopics(List.of(topic)).all().get();
        }
    }
}
