package dev.portcullis.gateway.protocol.kubernetes;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * A Kubernetes {@code Status} (meta/v1) as the gateway's own answer: a denial, a refused token, a request it cannot
 * read. kubectl prints {@code message} after "Error from server (REASON):", so the message says what was wrong and
 * what to do.
 */
final class Status {
    static final String CONTENT_TYPE = "application/json";

    private Status() {
    }

    /** 403 Forbidden: the policy (or the gateway failing closed) denied the request. */
    static Buffer forbidden(String message) {
        return failure(403, "Forbidden", message);
    }

    /** 401 Unauthorized: no token, or one the gateway does not accept. */
    static Buffer unauthorized(String message) {
        return failure(401, "Unauthorized", message);
    }

    /** 400 Bad Request: the request could not be read as a Kubernetes API request. */
    static Buffer badRequest(String message) {
        return failure(400, "BadRequest", message);
    }

    /** 404 Not Found: no registered connection of that name, or a path outside /k8s/CONNECTION/. */
    static Buffer notFound(String message) {
        return failure(404, "NotFound", message);
    }

    /** 503 Service Unavailable: the gateway or the cluster cannot serve now; try again later. */
    static Buffer unavailable(String message) {
        return failure(503, "ServiceUnavailable", message);
    }

    /** 502: the cluster's API server could not be reached or failed mid-way. */
    static Buffer badGateway(String message) {
        return failure(502, "InternalError", message);
    }

    static Buffer failure(int code, String reason, String message) {
        return new JsonObject().put("kind", "Status").put("apiVersion", "v1").put("metadata", new JsonObject())
                .put("status", "Failure").put("message", message).put("reason", reason).put("code", code).toBuffer();
    }

    /** The HTTP status of a {@link #failure} body. */
    static int code(Buffer status) {
        return new JsonObject(status).getInteger("code");
    }
}
