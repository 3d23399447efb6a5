package dev.portcullis.admin.connection;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * What a client sends to create or replace a connection. The password is write-only: it is sealed on
 * arrival and never returned.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ConnectionRequest(
        @Schema(description = "Unique name; clients put it in dbname. Lower-case letters, digits, '_' and '-'.",
                examples = "orders-prod")
        @Pattern(regexp = NAME_PATTERN, message = NAME_RULE)
        String name,

        @Schema(description = "Target protocol.", enumeration = {"postgres"})
        @NotNull(message = "is required: the only supported type is \"postgres\"")
        @Pattern(regexp = "postgres", message = "must be \"postgres\" (the only supported type so far)")
        String type,

        @NotBlank(message = "is required: the target's host name or IP address")
        @Size(max = 253, message = "must be at most 253 characters (a DNS name or IP address)")
        String host,

        @NotNull(message = "is required: the target's TCP port, 1 to 65535")
        @Min(value = 1, message = "must be between 1 and 65535")
        @Max(value = 65535, message = "must be between 1 and 65535")
        Integer port,

        @NotBlank(message = "is required: the database name on the target")
        String database,

        @NotBlank(message = "is required: the user the gateway logs in as on the target")
        String username,

        @Schema(description = "Write-only. Omit on update to keep the stored password.", writeOnly = true)
        @Size(min = 1, max = 1024, message = "must be 1 to 1024 characters; omit the field to keep the stored password")
        String password,

        @Schema(description = "TLS towards the target. Default require.", enumeration = {"disable", "require", "verify-full"})
        @Pattern(regexp = TlsMode.PATTERN, message = "must be one of: disable, require, verify-full")
        String tlsMode,

        @Schema(description = "PEM CA bundle that verify-full checks the target's certificate against.")
        @Pattern(regexp = "(?s)\\s*-----BEGIN CERTIFICATE-----.*-----END CERTIFICATE-----\\s*",
                message = "must be one or more PEM certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)")
        String tlsCaPem,

        @Schema(description = "Labels that policies can match on, for example {\"env\": \"prod\"}.")
        Map<@Pattern(regexp = TAG_KEY_PATTERN, message = TAG_KEY_RULE) String,
            @NotNull(message = "must be a string") @Size(max = 256, message = "must be at most 256 characters") String> tags) {

    public static final String NAME_PATTERN = "[a-z0-9][a-z0-9_-]{0,62}";
    public static final String NAME_RULE = "must be 1 to 63 characters of a-z, 0-9, '_' and '-', starting with a letter or digit";
    static final String TAG_KEY_PATTERN = "[A-Za-z0-9][A-Za-z0-9_./-]{0,62}";
    static final String TAG_KEY_RULE = "tag keys must be 1 to 63 characters of letters, digits, '_', '.', '/' and '-'";

    public String tlsModeOrDefault() {
        return tlsMode == null ? TlsMode.REQUIRE : tlsMode;
    }

    public Map<String, String> tagsOrEmpty() {
        return tags == null ? Map.of() : tags;
    }

    /** Records print every component; this one must never print the password. */
    @Override
    public String toString() {
        return "ConnectionRequest[name=" + name + ", type=" + type + ", host=" + host + ", port=" + port
                + ", database=" + database + ", username=" + username + ", password=" + (password == null ? "absent" : "***")
                + ", tlsMode=" + tlsMode + ", tags=" + tags + "]";
    }
}
