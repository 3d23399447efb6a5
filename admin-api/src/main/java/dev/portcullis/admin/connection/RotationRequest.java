package dev.portcullis.admin.connection;

import jakarta.validation.constraints.Pattern;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** What a client sends to rotate a connection's password: the new one, or nothing to have one generated. */
public record RotationRequest(
        @Schema(description = "Write-only. The new password, 16 to 1024 printable ASCII characters; omit it to have a"
                + " random one generated, which nobody but the gateway ever knows.", writeOnly = true, nullable = true)
        @Pattern(regexp = "[\\x20-\\x7E]{16,1024}", message = "must be 16 to 1024 printable ASCII characters; omit it to"
                + " have a random password generated")
        String password) {

    /** Records print every component; this one must never print the password. */
    @Override
    public String toString() {
        return "RotationRequest[password=" + (password == null ? "absent" : "***") + "]";
    }
}
