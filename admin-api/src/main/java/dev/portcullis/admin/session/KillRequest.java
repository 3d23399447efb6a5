package dev.portcullis.admin.session;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The body of a kill: why the session is ended, for the audit log. */
public record KillRequest(
        @Schema(description = "Why the session is ended; kept in the audit log.", maxLength = MAX_REASON, required = true)
        @NotBlank(message = "is required: say why the session is ended")
        @Size(max = MAX_REASON, message = "must be at most " + MAX_REASON + " characters")
        String reason) {

    public static final int MAX_REASON = 1000;
}
