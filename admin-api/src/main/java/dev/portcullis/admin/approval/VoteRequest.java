package dev.portcullis.admin.approval;

import jakarta.validation.constraints.Size;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The body of a vote. */
public record VoteRequest(
        @Schema(description = "Why: shown to the requester and in the recording, the audit log and the webhook."
                + " Required to deny, optional to approve.", maxLength = MAX_COMMENT)
        @Size(max = MAX_COMMENT, message = "must be at most " + MAX_COMMENT + " characters")
        String comment) {

    public static final int MAX_COMMENT = 1000;

    /** The comment, trimmed; null when absent or blank. */
    String text() {
        return comment == null || comment.isBlank() ? null : comment.strip();
    }
}
