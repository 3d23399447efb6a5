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
 * What a client sends to create or replace a connection. The password and the credential are write-only: they are
 * sealed on arrival and never returned. Which fields each type needs or forbids is {@link ConnectionTypes}'s to say.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ConnectionRequest(
        @Schema(description = "Unique name; clients put it in dbname. Lower-case letters, digits, '_' and '-'.",
                examples = "orders-prod")
        @Pattern(regexp = NAME_PATTERN, message = NAME_RULE)
        String name,

        @Schema(description = "Target protocol: postgres (database, username, password), kubernetes (host and port of the"
                + " API server, credential, tls_ca_pem) or ssh (username, credential, host_key).",
                enumeration = {"postgres", "kubernetes", "ssh"})
        @NotNull(message = "is required: postgres, kubernetes or ssh")
        @Pattern(regexp = "postgres|kubernetes|ssh", message = "must be one of: postgres, kubernetes, ssh")
        String type,

        @NotBlank(message = "is required: the target's host name or IP address")
        @Size(max = 253, message = "must be at most 253 characters (a DNS name or IP address)")
        String host,

        @NotNull(message = "is required: the target's TCP port, 1 to 65535")
        @Min(value = 1, message = "must be between 1 and 65535")
        @Max(value = 65535, message = "must be between 1 and 65535")
        Integer port,

        @Schema(description = "postgres only, required: the database name on the target.")
        @Size(max = 63, message = "must be at most 63 characters")
        String database,

        @Schema(description = "postgres and ssh, required: the user the gateway logs in as on the target.")
        @Size(max = 256, message = "must be at most 256 characters")
        String username,

        @Schema(description = "postgres only. Write-only. Omit on update to keep the stored password.", writeOnly = true)
        @Size(min = 1, max = 1024, message = "must be 1 to 1024 characters; omit the field to keep the stored password")
        String password,

        @Schema(description = "kubernetes and ssh, required on create. Write-only; omit on update to keep the stored one."
                + " kubernetes: a ServiceAccount bearer token, or a PEM client CERTIFICATE with its PRIVATE KEY. ssh: an"
                + " unencrypted private key (OpenSSH or PEM).", writeOnly = true)
        @Size(min = 1, max = 16384, message = "must be 1 to 16384 characters; omit the field to keep the stored credential")
        String credential,

        @Schema(description = "ssh only, required: the target's host key as an OpenSSH public key line (\"ssh-ed25519"
                + " AAAA...\", as in known_hosts without the host name). The gateway accepts no other key.")
        @Size(max = 8192, message = "must be at most 8192 characters (one OpenSSH public key line)")
        String hostKey,

        @Schema(description = "TLS towards the target. postgres: default require. kubernetes: require or verify-full,"
                + " default verify-full. ssh: disable (SSH has its own transport security).",
                enumeration = {"disable", "require", "verify-full"})
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


    public Map<String, String> tagsOrEmpty() {
        return tags == null ? Map.of() : tags;
    }

    /** Records print every component; this one must never print the password or the credential. */
    @Override
    public String toString() {
        return "ConnectionRequest[name=" + name + ", type=" + type + ", host=" + host + ", port=" + port
                + ", database=" + database + ", username=" + username + ", password=" + (password == null ? "absent" : "***")
                + ", credential=" + (credential == null ? "absent" : "***") + ", hostKey=" + hostKey + ", tlsMode=" + tlsMode
                + ", tags=" + tags + "]";
    }
}
