package dev.portcullis.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real terminal for an interactive client: util-linux {@code script} gives the command a pty of a set size and copies
 * everything the command writes to it, byte for byte, to its own stdout, which is what a person's terminal would show.
 * Typed input goes through the pty too, so the client sees a terminal (ssh -tt, kubectl exec -it put it in raw mode).
 */
public final class Terminal implements AutoCloseable {
    private final Process process;
    private final OutputStream typed;
    private final ByteArrayOutputStream shown = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errors = new ByteArrayOutputStream();
    private final Thread shownCopy;

    private Terminal(Process process) {
        this.process = process;
        this.typed = process.getOutputStream();
        this.shownCopy = copy(process.getInputStream(), shown);
        copy(process.getErrorStream(), errors);
    }

    /** Starts {@code command} (one shell command line) in a pty of {@code cols} x {@code rows}. */
    public static Terminal start(Map<String, String> env, int cols, int rows, String command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("script", "-q", "-e", "-c",
                "stty cols " + cols + " rows " + rows + " && exec " + command, "/dev/null"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        pb.environment().put("TERM", "xterm-256color");
        return new Terminal(pb.start());
    }

    private static Thread copy(InputStream in, ByteArrayOutputStream to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0;) {
                    synchronized (to) {
                        to.write(buf, 0, n);
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Types {@code text} (UTF-8) as a person would. */
    public void type(String text) throws IOException {
        typed.write(text.getBytes(StandardCharsets.UTF_8));
        typed.flush();
    }

    /** Every byte the terminal showed so far. */
    public byte[] shown() {
        synchronized (shown) {
            return shown.toByteArray();
        }
    }

    public String shownText() {
        return new String(shown(), StandardCharsets.UTF_8);
    }

    /**
     * Waits until the terminal shows something: the remote side is there, and the client has put the terminal in raw
     * mode (before that, the local terminal itself would echo what is typed, which no recording can hold).
     */
    public void awaitOutput(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (shown().length == 0) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new AssertionError("the terminal showed nothing within " + timeout + " (alive: " + process.isAlive()
                        + "); script's stderr: " + errorsText());
            }
            Thread.sleep(50);
        }
    }

    /** Waits until the terminal shows {@code text}. */
    public void await(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!shownText().contains(text)) {
            if (System.nanoTime() > deadline || !process.isAlive() && !shownText().contains(text)) {
                throw new AssertionError("the terminal did not show \"" + text + "\" within " + timeout + " (alive: " + process.isAlive()
                        + "); it shows: " + shownText() + "; script's stderr: " + errorsText());
            }
            Thread.sleep(50);
        }
    }

    /** The exit status of the command, once it ended. */
    public int exit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the terminal's command did not end within " + timeout + "; it shows: " + shownText());
        }
        shownCopy.join(10_000); // what was written last, up to the end of the stream
        return process.exitValue();
    }

    public String errorsText() {
        synchronized (errors) {
            return errors.toString(StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
