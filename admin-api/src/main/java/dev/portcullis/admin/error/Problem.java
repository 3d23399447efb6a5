package dev.portcullis.admin.error;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The body of every error response, an RFC 9457 problem detail sent as {@code application/problem+json}:
 * {@code type} is stable per kind of problem (clients switch on it), {@code detail} says what was wrong and what to do,
 * and {@code errors} names each offending field or query parameter. Input values are never echoed back.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({"type", "title", "status", "detail", "errors"})
@Schema(name = "Problem", description = "An RFC 9457 problem detail (media type application/problem+json)")
public record Problem(
        @Schema(description = "Identifies the kind of problem; stable", example = "https://portcullis.dev/problems/invalid-request")
        String type,
        @Schema(description = "A short summary of the kind of problem", example = "Invalid request") String title,
        @Schema(description = "The HTTP status", example = "400") int status,
        @Schema(description = "What went wrong here and what to do instead") String detail,
        @Schema(description = "Each field or query parameter that is wrong") List<Violation> errors) {

    public static final String MEDIA_TYPE = "application/problem+json";
    private static final String TYPES = "https://portcullis.dev/problems/";
    private static final ObjectMapper JSON = new ObjectMapper();

    public static Problem of(int status, String detail) {
        return of(status, detail, List.of());
    }

    public static Problem of(int status, String detail, List<Violation> errors) {
        Kind kind = Kind.of(status);
        return new Problem(TYPES + kind.slug, kind.title, status, detail, errors);
    }

    /** This problem as its JSON text, for the places outside the REST layer (the HTTP server's own refusals). */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a problem detail cannot be written as JSON", e);
        }
    }

    /** The kinds of problem this API reports, one per status: the type URI and title of each. */
    private enum Kind {
        INVALID_REQUEST(400, "invalid-request", "Invalid request"),
        UNAUTHENTICATED(401, "unauthenticated", "Authentication required"),
        FORBIDDEN(403, "forbidden", "Forbidden"),
        NOT_FOUND(404, "not-found", "Not found"),
        METHOD_NOT_ALLOWED(405, "method-not-allowed", "Method not allowed"),
        NOT_ACCEPTABLE(406, "not-acceptable", "Not acceptable"),
        CONFLICT(409, "conflict", "Conflict"),
        PRECONDITION_FAILED(412, "precondition-failed", "Precondition failed"),
        BODY_TOO_LARGE(413, "body-too-large", "Request body too large"),
        UNSUPPORTED_MEDIA_TYPE(415, "unsupported-media-type", "Unsupported media type"),
        PRECONDITION_REQUIRED(428, "precondition-required", "Precondition required"),
        INTERNAL(500, "internal-error", "Internal error"),
        BAD_GATEWAY(502, "target-failed", "The target failed"),
        UNAVAILABLE(503, "unavailable", "Service unavailable"),
        OTHER(0, "other", "Error");

        private final int status;
        private final String slug;
        private final String title;

        Kind(int status, String slug, String title) {
            this.status = status;
            this.slug = slug;
            this.title = title;
        }

        static Kind of(int status) {
            for (Kind kind : values()) {
                if (kind.status == status) {
                    return kind;
                }
            }
            return OTHER;
        }
    }
}
