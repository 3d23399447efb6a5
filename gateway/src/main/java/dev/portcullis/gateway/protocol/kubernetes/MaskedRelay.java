package dev.portcullis.gateway.protocol.kubernetes;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BiConsumer;

/**
 * The API server's response to a request whose response the policy masks ({@link ObjectMasker}), relayed so that no
 * unmasked value ever reaches the client:
 * <ul>
 * <li>the request asks for JSON only ({@link #acceptJson}): a protobuf or CBOR Accept would carry the values in a form
 * the gateway does not read, so those media types are dropped from it;</li>
 * <li>a response is masked whole, held up to a cap; a larger one, or one that is not uncompressed JSON, is refused with
 * a Status;</li>
 * <li>a watch is masked event by event (newline-delimited JSON, as the API server writes it), each event held up to its
 * own cap and written under the client's backpressure, so the stream is never held whole; an event the gateway
 * cannot mask ends the watch with an ERROR event.</li>
 * </ul>
 */
final class MaskedRelay {
    private static final byte NEWLINE = '\n';

    private final ObjectMasker masker;
    private final int maxResponseBytes;
    private final int maxEventBytes;

    MaskedRelay(ObjectMasker masker, int maxResponseBytes, int maxEventBytes) {
        this.masker = masker;
        this.maxResponseBytes = maxResponseBytes;
        this.maxEventBytes = maxEventBytes;
    }

    /**
     * The client's Accept narrowed to its JSON media ranges (kubectl's Table form included); {@code application/json}
     * when none is left. Anything else (protobuf, CBOR, YAML, wildcards) would let the API server choose a form the
     * gateway cannot mask.
     */
    static void acceptJson(MultiMap headers) {
        List<String> json = new ArrayList<>();
        for (String accept : headers.getAll(HttpHeaders.ACCEPT)) {
            for (String range : accept.split(",")) {
                String type = range.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
                if (type.equals("application/json")) {
                    json.add(range.trim());
                }
            }
        }
        headers.set(HttpHeaders.ACCEPT, json.isEmpty() ? "application/json" : String.join(",", json));
    }

    /**
     * Why the response cannot be masked as it comes, or null when it can: it must be uncompressed JSON.
     */
    private static String unreadable(HttpClientResponse from) {
        String encoding = from.getHeader(HttpHeaders.CONTENT_ENCODING);
        if (encoding != null && !encoding.isBlank() && !encoding.trim().equalsIgnoreCase("identity")) {
            return "the API server compressed its answer (" + encoding + ")";
        }
        String type = from.getHeader(HttpHeaders.CONTENT_TYPE);
        if (type == null || !type.trim().toLowerCase(Locale.ROOT).startsWith("application/json")) {
            return "the API server answered in " + (type == null ? "no declared media type" : type) + ", not JSON";
        }
        return null;
    }

    /**
     * Relays a whole response, masked. {@code done} gets the status the client saw and the bytes sent; a refusal is a
     * Status of its own.
     */
    void whole(HttpClientResponse from, HttpServerResponse to, BiConsumer<Integer, Long> done) {
        String unreadable = unreadable(from);
        String length = from.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (unreadable == null && length != null && parseLength(length) > maxResponseBytes) {
            unreadable = "the answer is " + length.trim() + " bytes, more than the " + maxResponseBytes + " the gateway masks;"
                    + " ask for less (kubectl --chunk-size, a label selector, or one namespace)";
        }
        if (unreadable != null) {
            refuse(from, to, unreadable, done);
            return;
        }
        Buffer body = Buffer.buffer();
        boolean[] over = {false};
        from.handler(chunk -> {
            if (over[0]) {
                return;
            }
            if ((long) body.length() + chunk.length() > maxResponseBytes) {
                over[0] = true;
                refuse(from, to, "the answer is more than the " + maxResponseBytes + " bytes the gateway masks; ask for less"
                        + " (kubectl --chunk-size, a label selector, or one namespace)", done);
                return;
            }
            body.appendBuffer(chunk);
        });
        from.exceptionHandler(e -> {
            if (!over[0]) {
                over[0] = true;
                to.reset();
                done.accept(502, 0L);
            }
        });
        from.endHandler(v -> {
            if (over[0]) {
                return;
            }
            byte[] masked;
            try {
                masked = body.length() == 0 ? new byte[0] : masker.mask(body.getBytes(), 0, body.length());
            } catch (ObjectMasker.Unmaskable e) {
                refuse(null, to, e.getMessage(), done);
                return;
            }
            headers(from, to);
            to.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(masked.length)).end(Buffer.buffer(masked));
            done.accept(from.statusCode(), (long) masked.length);
        });
    }

    /** Relays a watch, each event masked as it comes; {@code done} is called once, when the stream ends. */
    void watch(HttpClientResponse from, HttpServerResponse to, BiConsumer<Integer, Long> done) {
        String unreadable = unreadable(from);
        if (unreadable != null) {
            refuse(from, to, unreadable, done);
            return;
        }
        headers(from, to);
        to.setChunked(true);
        Buffer[] pending = {Buffer.buffer()};
        long[] sent = {0};
        boolean[] ended = {false};
        Runnable end = () -> {
            if (!ended[0]) {
                ended[0] = true;
                to.end();
                done.accept(from.statusCode(), sent[0]);
            }
        };
        from.handler(chunk -> {
            if (ended[0]) {
                return;
            }
            Buffer p = pending[0];
            int scanned = p.length(); // only the new bytes are searched for the end of an event
            p.appendBuffer(chunk);
            int start = 0;
            for (int i = scanned; i < p.length(); i++) {
                if (p.getByte(i) == NEWLINE) {
                    if (!event(p, start, i, to, sent)) {
                        end.run(); // first: the reset below fails the response, which must not cut the client off
                        from.request().reset();
                        return;
                    }
                    start = i + 1;
                }
            }
            if (p.length() - start > maxEventBytes) {
                error(to, "a watch event is more than the " + maxEventBytes + " bytes the gateway masks; the watch ends here");
                end.run();
                from.request().reset();
                return;
            }
            if (start > 0) {
                pending[0] = p.getBuffer(start, p.length());
            }
            if (to.writeQueueFull()) {
                from.pause();
                to.drainHandler(v -> from.resume());
            }
        });
        from.endHandler(v -> {
            if (!ended[0] && pending[0].length() > 0) {
                event(pending[0], 0, pending[0].length(), to, sent);
            }
            end.run();
        });
        from.exceptionHandler(e -> {
            if (!ended[0]) {
                ended[0] = true;
                to.reset();
                done.accept(from.statusCode(), sent[0]);
            }
        });
    }

    /** One event, bytes [start, end) of {@code pending}, masked and written; false when it could not be. */
    private boolean event(Buffer pending, int start, int end, HttpServerResponse to, long[] sent) {
        if (end - start > maxEventBytes) {
            error(to, "a watch event is more than the " + maxEventBytes + " bytes the gateway masks; the watch ends here");
            return false;
        }
        if (blank(pending, start, end)) {
            return true;
        }
        byte[] masked;
        try {
            masked = masker.mask(pending.getBytes(start, end), 0, end - start);
        } catch (ObjectMasker.Unmaskable e) {
            error(to, e.getMessage() + "; the watch ends here");
            return false;
        }
        to.write(Buffer.buffer(masked.length + 1).appendBytes(masked).appendByte(NEWLINE));
        sent[0] += masked.length + 1;
        return true;
    }

    /** A watch's way to say it failed: an ERROR event carrying a Status, after which the client lists again. */
    private void error(HttpServerResponse to, String why) {
        JsonObject status = new JsonObject(Status.failure(500, "InternalError", message(why)));
        to.write(new JsonObject().put("type", "ERROR").put("object", status).toBuffer().appendByte(NEWLINE));
    }

    private void refuse(HttpClientResponse from, HttpServerResponse to, String why, BiConsumer<Integer, Long> done) {
        if (from != null) {
            from.request().reset();
        }
        if (!to.headWritten()) {
            Buffer status = Status.failure(502, "InternalError", message(why));
            to.setStatusCode(502).putHeader(HttpHeaders.CONTENT_TYPE, Status.CONTENT_TYPE).end(status);
        } else {
            to.reset();
        }
        done.accept(502, 0L);
    }

    private String message(String why) {
        return "Portcullis masks this response (rule " + masker.rule() + ") and refused it: " + why;
    }

    /** The API server's status and headers, but the hop-by-hop ones and the length, which masking changes. */
    static void headers(HttpClientResponse from, HttpServerResponse to) {
        to.setStatusCode(from.statusCode());
        from.headers().forEach(h -> {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            if (!ApiProxy.HOP_BY_HOP.contains(name) && !name.equals("content-length")) {
                to.headers().add(h.getKey(), h.getValue());
            }
        });
    }

    private static boolean blank(Buffer buffer, int start, int end) {
        for (int i = start; i < end; i++) {
            byte b = buffer.getByte(i);
            if (b != ' ' && b != '\t' && b != '\r' && b != NEWLINE) {
                return false;
            }
        }
        return true;
    }

    private static long parseLength(String length) {
        try {
            return Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }
}
