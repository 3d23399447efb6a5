package dev.portcullis.gateway.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the real PostgreSQL client programs (psql, pgbench) against the gateway under test. */
public final class Cli {
    private Cli() {
    }

    public record Result(int exitCode, String stdout, String stderr) {
        public String all() {
            return stdout + stderr;
        }
    }

    /** Environment for a client that authenticates to the gateway with {@code token}. */
    public static Map<String, String> gatewayEnv(String token, String connection) {
        return Map.of("PGHOST", TestStack.host(), "PGPORT", String.valueOf(TestStack.gatewayPort()), "PGDATABASE", connection,
                "PGUSER", TestStack.userOf(token), "PGPASSWORD", token, "PGSSLMODE", "require", "PGCONNECT_TIMEOUT", "10");
    }

    public static Process start(Map<String, String> env, String... command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().putAll(env);
        return pb.start();
    }

    public static Result run(Map<String, String> env, String stdin, long timeoutSeconds, String... command) throws Exception {
        Process p = start(env, command);
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s; output so far: "
                    + out.getNow("") + err.getNow(""));
        }
        return new Result(p.exitValue(), out.get(), err.get());
    }

    public static Result psql(String token, String connection, String script) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("psql", "-X", "-v", "ON_ERROR_STOP=0", "-f", "-"));
        return run(gatewayEnv(token, connection), script, 60, cmd.toArray(String[]::new));
    }

    static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
