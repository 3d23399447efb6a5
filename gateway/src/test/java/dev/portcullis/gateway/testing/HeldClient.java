package dev.portcullis.gateway.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real client (ssh, kubectl) whose request the gateway holds for approval: its stderr read line by line as it comes,
 * its stdout whole once it ends, and the approval request named in the notice it was given.
 */
public record HeldClient(Process process, UUID request, LinkedBlockingQueue<String> stderr, CompletableFuture<String> stdout) {

    private static final Pattern REQUEST_ID = Pattern.compile("approval required: request ([0-9a-f-]{36}), waiting for approvers");

    /** Reads {@code process}'s output and waits up to 30 s for the approval notice, which must be its first line on stderr. */
    public static HeldClient await(Process process) throws InterruptedException {
        LinkedBlockingQueue<String> stderr = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null;) {
                    stderr.add(line);
                }
            } catch (IOException e) {
                // the process ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
        String notice = stderr.poll(30, TimeUnit.SECONDS);
        if (notice == null) {
            process.destroyForcibly();
            throw new AssertionError("no approval notice on stderr within 30 s");
        }
        Matcher m = REQUEST_ID.matcher(notice);
        assertTrue(m.find(), "the first line on stderr is the approval notice: " + notice);
        return new HeldClient(process, UUID.fromString(m.group(1)), stderr, stdout);
    }
}
