package dev.portcullis.gateway.protocol.kubernetes;

import dev.portcullis.gateway.masking.Detectors;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * A container's log (pods/log, {@code kubectl logs}, {@code -f} too) relayed line by line through the content
 * detectors, for a caller the policy gives them (mask {@code detectors}, rule k8s/log-detectors): each whole line is
 * scanned and what a detector finds is masked in place, as in SQL results. A line is held only until its newline, so
 * {@code logs -f} shows each line once it is whole. A line over {@link #MAX_LINE_BYTES}, or one the detectors cannot
 * settle, is withheld: a notice stands in its place, since a finding could straddle any cut. The client's slowness
 * pauses the API server's connection, as in a plain relay; what is held is at most one line. Confined to the
 * connection's event loop.
 */
final class DetectedLogRelay {
    /** The longest log line scanned; a longer one is withheld whole. */
    static final int MAX_LINE_BYTES = 64 * 1024;
    static final String TOO_LONG = "[Portcullis withheld a log line of more than " + MAX_LINE_BYTES + " bytes: it scans each line"
            + " for sensitive values]";
    static final String UNSETTLED = "[Portcullis withheld a log line whose sensitive values it could not mask]";

    private final Detectors detectors;
    private final Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    /** Dropping the rest of a line that ran past {@link #MAX_LINE_BYTES}, up to its newline. */
    private boolean skipping;

    DetectedLogRelay(Detectors detectors) {
        this.detectors = detectors;
    }

    /** The detectors that found something so far, for the recording. */
    Set<Detectors.Kind> fired() {
        return fired;
    }

    /** Relays {@code from} to {@code to}; {@code done} gets the status and the bytes the client was sent, once. */
    void relay(HttpClientResponse from, HttpServerResponse to, BiConsumer<Integer, Long> done) {
        String encoding = from.getHeader(HttpHeaders.CONTENT_ENCODING);
        if (encoding != null && !encoding.isBlank() && !encoding.trim().equalsIgnoreCase("identity")) {
            // compressed text cannot be scanned; nothing of it is passed
            from.request().reset();
            done.accept(502, 0L);
            to.setStatusCode(502).putHeader(HttpHeaders.CONTENT_TYPE, Status.CONTENT_TYPE).end(Status.failure(502, "BadGateway",
                    "the API server compressed the log (" + encoding + "), which Portcullis must scan for sensitive values"));
            return;
        }
        to.setStatusCode(from.statusCode());
        from.headers().forEach(h -> {
            String name = h.getKey().toLowerCase(java.util.Locale.ROOT);
            if (!ApiProxy.HOP_BY_HOP.contains(name) && !name.equals("content-length")) {
                to.headers().add(h.getKey(), h.getValue());
            }
        });
        to.setChunked(true);
        long[] sent = {0};
        boolean[] ended = {false};
        from.handler(chunk -> {
            Buffer out = accept(chunk.getBytes());
            if (out.length() > 0) {
                sent[0] += out.length();
                to.write(out);
                if (to.writeQueueFull()) {
                    from.pause();
                    to.drainHandler(v -> from.resume());
                }
            }
        });
        from.endHandler(v -> {
            if (!ended[0]) {
                ended[0] = true;
                Buffer rest = finish();
                sent[0] += rest.length();
                to.end(rest);
                done.accept(from.statusCode(), sent[0]);
            }
        });
        from.exceptionHandler(e -> {
            if (!ended[0]) {
                ended[0] = true;
                done.accept(from.statusCode(), sent[0]);
                to.reset();
            }
        });
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

    /** The last line, without a newline, once the log ends. */
    Buffer finish() {
        Buffer out = Buffer.buffer();
        if (!skipping && line.size() > 0) {
            emit(out);
        }
        skipping = false;
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
