package dev.portcullis.admin.error;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** One problem with a request: the JSON field or query parameter (as the client spelled it) and what is expected there. */
@Schema(name = "ProblemError")
public record Violation(
        @Schema(description = "The JSON field (dotted path) or query parameter, or (body) for the body as a whole")
        String field,
        @Schema(description = "What is expected there") String message) {
}
