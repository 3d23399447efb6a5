package dev.portcullis.gateway.protocol.kubernetes;

import dev.portcullis.gateway.masking.Detectors;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Text relayed through the content detectors a line at a time (a container's log, an exec's stdout or stderr): each
 * whole line is scanned and what a detector finds is masked in place, as in SQL results; the rest passes byte for
 * byte. A line is held until its newline, or until {@link #flush} gives up waiting for it (an exec's prompt). A line
 * over {@link #MAX_LINE_BYTES}, or one the detectors cannot settle, is withheld: a notice stands in its place, since a
 * finding could straddle any cut. Holds at most one line. Not thread-safe: one stream's, on its event loop.
 */
final class LineScanner {
    /** The longest line scanned; a longer one is withheld whole. */
    static final int MAX_LINE_BYTES = 64 * 1024;
    static final String TOO_LONG = "[Portcullis withheld a line of more than " + MAX_LINE_BYTES + " bytes: it scans each line"
            + " for sensitive values]";
    static final String UNSETTLED = "[Portcullis withheld a line whose sensitive values it could not mask]";

    private final Detectors detectors;
    private final Set<Detectors.Kind> fired;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    /** Dropping the rest of a line that ran past {@link #MAX_LINE_BYTES}, up to its newline. */
    private boolean skipping;

    /** @param fired where the detectors that find something are noted, for the recording */
    LineScanner(Detectors detectors, Set<Detectors.Kind> fired) {
        this.detectors = detectors;
        this.fired = fired;
    }

    /** Whether part of a line waits for its newline. */
    boolean holding() {
        return line.size() > 0;
    }

    /** What of these bytes can be passed now: every line they complete, scanned. */
    Buffer accept(byte[] bytes) {
        Buffer out = Buffer.buffer();
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                hold(bytes, start, i + 1 - start, out);
                if (!skipping) {
                    emit(out);
                }
                skipping = false;
                start = i + 1;
            }
        }
        hold(bytes, start, bytes.length - start, out);
        return out;
    }

    /** The part of a line held so far, scanned on its own: the stream ended, or stopped short of a newline a while. */
    Buffer flush() {
        Buffer out = Buffer.buffer();
        if (!skipping && line.size() > 0) {
            emit(out);
        }
        return out;
    }

    private void hold(byte[] bytes, int start, int length, Buffer out) {
        if (skipping || length == 0) {
            return;
        }
        boolean whole = bytes[start + length - 1] == '\n';
        if (line.size() + length - (whole ? 1 : 0) > MAX_LINE_BYTES) {
            line.reset();
            skipping = true;
            out.appendString(TOO_LONG + "\n");
            return;
        }
        line.write(bytes, start, length);
    }

    private void emit(Buffer out) {
        byte[] text = line.toByteArray();
        line.reset();
        byte[] masked = detectors.scan(text, fired);
        if (masked == null) {
            boolean newline = text[text.length - 1] == '\n';
            out.appendBytes((UNSETTLED + (newline ? "\n" : "")).getBytes(StandardCharsets.UTF_8));
        } else {
            out.appendBytes(masked);
        }
    }
}
