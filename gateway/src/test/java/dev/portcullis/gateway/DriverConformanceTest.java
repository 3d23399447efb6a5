package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A driver nobody here wrote, tested by its own maintainers' suite (issue #21): pgx's tests, fetched from the Go module
 * proxy, run directly against PostgreSQL and through the gateway as {@code alice} on a dev connection, at the same
 * time, each against a database of its own set up alike. Every test that passes directly must pass through the
 * gateway, unless {@code conformance/pgx-intended-differences.txt} names it and says why.
 *
 * <p>Only the packages that talk to PostgreSQL run ({@link #PACKAGES}); pgproto3 and the internal packages never open
 * a connection, so the gateway cannot change their outcome.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class DriverConformanceTest {
    static final String MODULE = "github.com/jackc/pgx/v5";
    static final String VERSION = "v5.13.0";
    static final List<String> PACKAGES = List.of(".", "./pgconn", "./pgtype", "./pgxpool", "./stdlib");
    /** Both runs together, build included; {@code go test -timeout} ends a hung package well before. */
    static final Duration DEADLINE = Duration.ofMinutes(8);
    static final String ROLE = "gw_pgx";
    static final String PASSWORD = TargetDatabases.randomPassword();
    static final String DIRECT_DB = "pgx_direct";
    static final String GATEWAY_DB = "pgx_gateway";
    static final String CONNECTION = "gw-pgx-dev";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path WORK = Path.of("target", "pgx-conformance").toAbsolutePath();
    private static final Path GO_DIR = TestStack.ROOT.resolve(".tools/go");

    @Test
    void pgx_passes_through_the_gateway_wherever_it_passes_directly() throws Exception {
        prepareDatabase(DIRECT_DB);
        prepareDatabase(GATEWAY_DB);
        TestStack.registerConnection(CONNECTION, GATEWAY_DB, ROLE, PASSWORD, "require", null, "{\"env\":\"dev\"}");
        String token = TestStack.token("alice");
        Duration left = Duration.between(Instant.now(), expiry(token));
        assertTrue(left.compareTo(DEADLINE) > 0, "alice's token must outlive the run: it expires in " + left);
        Path pgx = module();
        // build once, so the two runs below only link and run
        go(pgx, Map.of(), WORK.resolve("build.json"), "test", "-count=1", "-run", "^$", PACKAGES);

        String direct = "host=" + TestStack.host() + " port=" + TestStack.get("PG_PORT") + " dbname=" + DIRECT_DB + " user=" + ROLE
                + " password=" + PASSWORD + " sslmode=prefer";
        String gateway = "host=" + TestStack.host() + " port=" + TestStack.gatewayPort() + " dbname=" + CONNECTION + " user=alice"
                + " password=" + token + " sslmode=require";
        long started = System.nanoTime();
        CompletableFuture<Map<String, String>> viaDirect = CompletableFuture.supplyAsync(() -> run(pgx, direct, "direct"));
        CompletableFuture<Map<String, String>> viaGateway = CompletableFuture.supplyAsync(() -> run(pgx, gateway, "gateway"));
        Map<String, String> d = viaDirect.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        Map<String, String> g = new TreeMap<>(viaGateway.get(DEADLINE.toSeconds(), TimeUnit.SECONDS));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);

        Map<String, String> intended = intendedDifferences();
        // With both suites and the gateway on two cores, a decision can miss OPA's deadline: the gateway fails closed and
        // a test that conforms fails. Each unlisted difference runs once more through the gateway, alone; a real
        // difference fails again, and the summary names every test that passed only then.
        // A package whose test binary died (a panic) leaves its other tests without an outcome: they did not fail, so they
        // run again too, and only the tests that failed count against MAX_RERUNS.
        Set<String> differing = new TreeSet<>(d.keySet());
        differing.removeIf(t -> !d.get(t).equals("pass") || g.getOrDefault(t, "").equals("pass") || intended.containsKey(t));
        long failedThrough = differing.stream().filter(t -> g.getOrDefault(t, "").equals("fail")).count();
        String crashes = crashes(WORK.resolve("gateway.json"));
        Set<String> passedAlone = new TreeSet<>();
        if (!differing.isEmpty() && failedThrough <= MAX_RERUNS) {
            Map<String, String> again = rerun(pgx, gateway, differing);
            for (String t : differing) {
                if (again.getOrDefault(t, "").equals("pass")) {
                    g.put(t, "pass");
                    passedAlone.add(t);
                }
            }
        }
        Set<String> regressions = new TreeSet<>();
        Set<String> excused = new TreeSet<>();
        for (var e : d.entrySet()) {
            if (e.getValue().equals("pass") && !g.getOrDefault(e.getKey(), "missing").equals("pass")) {
                (intended.containsKey(e.getKey()) ? excused : regressions).add(e.getKey() + " (" + g.getOrDefault(e.getKey(), "did not run") + ")");
            }
        }
        Set<String> stale = new TreeSet<>(intended.keySet());
        stale.removeIf(t -> d.getOrDefault(t, "").equals("pass") && !g.getOrDefault(t, "").equals("pass"));
        String summary = "pgx " + VERSION + " " + PACKAGES + " in " + seconds + " s: direct " + counts(d) + ", through the gateway " + counts(g)
                + "; " + excused.size() + " intended differences" + (stale.isEmpty() ? "" : ", listed but not differing now: " + stale)
                + (passedAlone.isEmpty() ? "" : "; failed beside the direct run but passed alone: " + passedAlone)
                + (crashes.isEmpty() ? "" : "; a package crashed through the gateway beside the direct run:\n" + crashes);
        System.out.println("driver conformance: " + summary);
        Files.writeString(WORK.resolve("summary.txt"), summary + "\nregressions:\n" + String.join("\n", regressions) + "\n");
        assertTrue(count(d, "pass") > 1000, "the direct run must exercise the driver: " + summary);
        assertEquals(Set.of(), regressions, "tests that pass directly but fail through the gateway (" + summary
                + "); fix them, or list them with the reason in conformance/pgx-intended-differences.txt");
    }

    /** A database set up as pgx's testsetup/postgresql_setup.sql sets up its own, owned by a login role of ours. */
    private static void prepareDatabase(String db) throws Exception {
        TestStack.execute("postgres", "SET password_encryption = 'scram-sha-256'",
                "DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + ROLE + "') THEN CREATE ROLE " + ROLE
                        + " LOGIN; END IF; END$$",
                "ALTER ROLE " + ROLE + " WITH LOGIN PASSWORD '" + PASSWORD + "'",
                "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)",
                "CREATE DATABASE " + db + " OWNER " + ROLE);
        TestStack.execute(db, "CREATE EXTENSION hstore", "CREATE EXTENSION ltree", "SET ROLE " + ROLE,
                "CREATE DOMAIN uint64 AS numeric(20,0)");
    }

    /** The pgx module's source, tests included, as the module proxy serves it; a writable copy to run in. */
    private static Path module() throws Exception {
        Files.createDirectories(WORK);
        Path info = WORK.resolve("download.json");
        go(WORK, Map.of(), info, "mod", "download", "-json", MODULE + "@" + VERSION, List.of());
        Path source = Path.of(JSON.readTree(info.toFile()).get("Dir").asText());
        Path copy = WORK.resolve("pgx-" + VERSION);
        if (Files.exists(copy)) {
            try (Stream<Path> old = Files.walk(copy)) {
                old.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        try (Stream<Path> files = Files.walk(source)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path to = copy.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                    to.toFile().setWritable(true, true);
                }
            }
        }
        return copy;
    }

    /** Tests that failed run once more alone at most: more failures than this are no timing accident. */
    private static final int MAX_RERUNS = 10;

    /** The top-level tests of {@code tests} ({@code package test/sub...}) run again through the gateway, one package at a time. */
    private static Map<String, String> rerun(Path pgx, String connString, Set<String> tests) throws Exception {
        Map<String, Set<String>> byPackage = new TreeMap<>();
        for (String t : tests) {
            String[] packageAndTest = t.split(" ", 2);
            byPackage.computeIfAbsent(packageAndTest[0], k -> new TreeSet<>()).add(packageAndTest[1].split("/", 2)[0]);
        }
        Map<String, String> outcomes = new TreeMap<>();
        int n = 0;
        for (var e : byPackage.entrySet()) {
            Path out = WORK.resolve("gateway-rerun-" + n++ + ".json");
            String names = e.getValue().stream().map(java.util.regex.Pattern::quote).collect(java.util.stream.Collectors.joining("|"));
            go(pgx, Map.of("PGX_TEST_DATABASE", connString), out, "test", "-json", "-count=1", "-timeout", "5m", "-run", "^(" + names + ")$",
                    e.getKey());
            outcomes.putAll(outcomes(out));
        }
        return outcomes;
    }

    /** One run of the suite; each test's outcome by {@code package test}, in go test's words (pass, fail, skip). */
    private static Map<String, String> run(Path pgx, String connString, String name) {
        Path out = WORK.resolve(name + ".json");
        try {
            go(pgx, Map.of("PGX_TEST_DATABASE", connString), out, "test", "-json", "-count=1", "-timeout", "5m", PACKAGES);
            return outcomes(out);
        } catch (Exception e) {
            throw new IllegalStateException("the " + name + " run failed to run: " + e.getMessage(), e);
        }
    }

    /**
     * Runs go with the stack's caches (as dev-services/lib/kube.sh does), stdout to {@code out}; the environment holds
     * no PG* variable of ours but the ones given. A go test run exits 1 when a test fails: that is read from {@code out}.
     */
    private static void go(Path dir, Map<String, String> env, Path out, String command, Object... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("nice", "-n", "10", "go", command));
        for (Object a : args) {
            if (a instanceof List<?> list) {
                list.forEach(x -> cmd.add(x.toString()));
            } else {
                cmd.add(a.toString());
            }
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectOutput(out.toFile())
                .redirectError(out.resolveSibling(out.getFileName() + ".stderr").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().putAll(Map.of("GOMODCACHE", GO_DIR.resolve("mod").toString(), "GOCACHE", GO_DIR.resolve("cache").toString(),
                "GOFLAGS", "-modcacherw -buildvcs=false", "GOTOOLCHAIN", "local", "GOWORK", "off", "CGO_ENABLED", "0"));
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new IllegalStateException("go " + command + " did not finish within " + DEADLINE);
        }
        boolean testRun = command.equals("test") && p.exitValue() == 1 && !env.isEmpty();
        if (p.exitValue() != 0 && !testRun) {
            throw new IllegalStateException("go " + command + " exited with " + p.exitValue() + ": "
                    + Files.readString(out.resolveSibling(out.getFileName() + ".stderr")));
        }
    }

    /**
     * The outcome of every leaf test (a test with subtests is judged by its subtests); a test that started and never
     * ended did not finish (its package crashed or timed out).
     */
    static Map<String, String> outcomes(Path goTestJson) throws IOException {
        TreeMap<String, String> all = new TreeMap<>();
        forEachEvent(goTestJson, e -> {
            if (!e.hasNonNull("Test")) {
                return;
            }
            // a subtest named after a temporary directory: the same test in both runs
            String key = e.get("Package").asText() + " " + e.get("Test").asText().replaceAll("[0-9]{6,}", "#");
            switch (e.get("Action").asText()) {
                case "run" -> all.putIfAbsent(key, "did not finish");
                case "pass", "fail", "skip" -> all.put(key, e.get("Action").asText());
                default -> {
                }
            }
        });
        Map<String, String> leaves = new TreeMap<>();
        for (var e : all.entrySet()) {
            String next = all.ceilingKey(e.getKey() + "/");
            if (next == null || !next.startsWith(e.getKey() + "/")) {
                leaves.put(e.getKey(), e.getValue());
            }
        }
        return leaves;
    }

    /**
     * What a crashed test binary printed: from its {@code panic:} line on (at most 40 lines a package), so that a crash
     * names its test and its stack even when the rerun passes.
     */
    static String crashes(Path goTestJson) throws IOException {
        Map<String, List<String>> byPackage = new TreeMap<>();
        forEachEvent(goTestJson, e -> {
            String output = e.path("Output").asText("");
            List<String> lines = byPackage.get(e.path("Package").asText());
            if (lines == null && output.startsWith("panic:")) {
                lines = new ArrayList<>();
                byPackage.put(e.path("Package").asText(), lines);
            }
            if (lines != null && lines.size() < 40 && !output.isBlank()) {
                lines.add(output.stripTrailing());
            }
        });
        StringBuilder report = new StringBuilder();
        byPackage.forEach((pkg, lines) -> report.append(pkg).append(":\n").append(String.join("\n", lines)).append('\n'));
        return report.toString();
    }

    /** Each event of a {@code go test -json} output, in order, read as it goes; lines that are not JSON left out. */
    private static void forEachEvent(Path goTestJson, java.util.function.Consumer<JsonNode> action) throws IOException {
        try (InputStream in = Files.newInputStream(goTestJson);
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null;) {
                if (line.startsWith("{")) {
                    action.accept(JSON.readTree(line));
                }
            }
        }
    }

    /** {@code package test} of each listed test; every entry must say why. */
    static Map<String, String> intendedDifferences() throws IOException {
        Map<String, String> listed = new TreeMap<>();
        try (InputStream in = DriverConformanceTest.class.getResourceAsStream("/conformance/pgx-intended-differences.txt")) {
            String why = null;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                line = line.strip();
                if (line.isEmpty()) {
                    why = null;
                } else if (line.startsWith("#")) {
                    why = why == null ? line.substring(1).strip() : why + " " + line.substring(1).strip();
                } else {
                    assertTrue(why != null, "conformance/pgx-intended-differences.txt: " + line + " is listed without a comment saying why");
                    listed.put(line, why);
                }
            }
        }
        return listed;
    }

    private static String counts(Map<String, String> outcomes) {
        return count(outcomes, "pass") + " passed, " + count(outcomes, "fail") + " failed, " + count(outcomes, "skip") + " skipped"
                + (count(outcomes, "did not finish") > 0 ? ", " + count(outcomes, "did not finish") + " did not finish" : "");
    }

    private static long count(Map<String, String> outcomes, String outcome) {
        return outcomes.values().stream().filter(outcome::equals).count();
    }

    private static Instant expiry(String jwt) throws IOException {
        String[] parts = jwt.split("\\.");
        return Instant.ofEpochSecond(JSON.readTree(Base64.getUrlDecoder().decode(parts[1])).get("exp").asLong());
    }
}
