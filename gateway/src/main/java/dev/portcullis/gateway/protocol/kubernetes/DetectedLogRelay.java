package dev.portcullis.gateway.protocol.kubernetes;

import dev.portcullis.gateway.masking.Detectors;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * A container's log (pods/log, {@code kubectl logs}, {@code -f} too) relayed through the content detectors a line at a
 * time ({@link LineScanner}), for a caller the policy gives them (mask {@code detectors}, rule k8s/output-detectors). A
 * line is held only until its newline, so {@code logs -f} shows each line once it is whole. The client's slowness
 * pauses the API server's connection, as in a plain relay. Confined to the connection's event loop.
 */
final class DetectedLogRelay {
    private final Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);
    private final LineScanner lines;

    DetectedLogRelay(Detectors detectors) {
        this.lines = new LineScanner(detectors, fired);
    }

    /** The detectors that found something so far, for the recording. */
    Set<Detectors.Kind> fired() {
        return fired;
    }

    /** Relays {@code from} to {@code to} under backpressure; {@code done} gets the status and the bytes the client was sent, once. */
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
        MaskedRelay.headers(from, to);
        to.setChunked(true);
        ApiProxy.stream(from, to, done, chunk -> lines.accept(chunk.getBytes()), lines::flush);
    }
}
