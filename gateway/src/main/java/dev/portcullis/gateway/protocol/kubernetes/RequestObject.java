package dev.portcullis.gateway.protocol.kubernetes;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.portcullis.gateway.policy.Decision;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The object a create, update or patch carries, read from the request body for the decision input, so that a policy
 * judges what the cluster would store as an admission controller would (a privileged container, a hostPath volume). The
 * body is held up to a cap and then sent to the API server as read; over the cap, a body with a Content-Length is
 * judged without its object ({@value #TOO_LARGE}) and streamed, and one without is refused ({@link TooLarge}). A body
 * that is not JSON (protobuf, YAML, duplicate keys) is {@value #NOT_JSON}; the default policy lets only administrators
 * send either. A Secret's values never reach the policy (nor its recording): they are masked, their keys kept.
 */
final class RequestObject {
    static final String TOO_LARGE = "too_large";
    static final String NOT_JSON = "not_json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final ObjectMasker SECRET_VALUES = new ObjectMasker(new Decision.ResponseMask(List.of("data", "stringData"),
            "k8s/secret-values"));

    /**
     * What was read.
     *
     * @param body   the body as read, to send on; null when it is still to be streamed (too large, or no body read)
     * @param object the JSON for the policy, or null
     * @param error  {@link #TOO_LARGE}, {@link #NOT_JSON} or null
     */
    record Read(Buffer body, JsonNode object, String error) {
        static final Read NONE = new Read(null, null, null);
    }

    /** A body without a Content-Length ran past the cap: it cannot be judged, nor sent on, having been read in part. */
    static final class TooLarge extends RuntimeException {
        TooLarge(String message) {
            super(message, null, false, false);
        }
    }

    private RequestObject() {
    }

    /** Reads the body of a write ({@link ApiRequest#writesObject()}); any other request's body is left to stream. */
    static CompletionStage<Read> read(HttpServerRequest req, ApiRequest api, int maxBytes) {
        if (!api.writesObject()) {
            return CompletableFuture.completedFuture(Read.NONE);
        }
        String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null && declared(length) > maxBytes) {
            return CompletableFuture.completedFuture(new Read(null, null, TOO_LARGE));
        }
        CompletableFuture<Read> read = new CompletableFuture<>();
        Buffer body = Buffer.buffer();
        req.handler(chunk -> {
            if (read.isDone()) {
                return;
            }
            if ((long) body.length() + chunk.length() > maxBytes) {
                read.completeExceptionally(new TooLarge("the request body is more than the " + maxBytes + " bytes Portcullis reads"
                        + " to judge a write; send it with a Content-Length header"));
                return;
            }
            body.appendBuffer(chunk);
        });
        req.exceptionHandler(read::completeExceptionally);
        req.endHandler(v -> {
            if (!read.isDone()) {
                read.complete(parse(body, api.input().resource()));
            }
        });
        req.resume();
        return read;
    }

    /** The body as the policy sees it; a Secret's values masked. */
    static Read parse(Buffer body, String resource) {
        JsonNode object;
        try {
            object = body.length() == 0 ? null : JSON.readTree(body.getBytes());
        } catch (IOException e) {
            object = null;
        }
        if (!(object instanceof ObjectNode) && !(object instanceof ArrayNode)) {
            return new Read(body, null, NOT_JSON);
        }
        if ("secrets".equalsIgnoreCase(resource)) {
            if (object instanceof ObjectNode o) {
                SECRET_VALUES.maskObject(o);
            } else {
                // a JSON Patch: each operation's value may be a credential
                for (JsonNode op : object) {
                    if (op instanceof ObjectNode o && o.has("value")) {
                        o.set("value", TextNode.valueOf(ObjectMasker.MASKED));
                    }
                }
            }
        }
        return new Read(body, object, null);
    }

    private static long declared(String length) {
        try {
            return Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }
}
