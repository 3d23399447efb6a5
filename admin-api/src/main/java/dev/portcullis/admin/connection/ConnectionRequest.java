package dev.portcullis.admin.connection;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.util.List;
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

        @Schema(description = "Target protocol: postgres (host, port, database, username, password), kubernetes"
                + " (api_server_url, credential, tls_ca_pem, impersonate) or ssh (host, port, username, credential, host_key).",
                enumeration = {"postgres", "kubernetes", "ssh"})
        @NotNull(message = "is required: postgres, kubernetes or ssh")
        @Pattern(regexp = "postgres|kubernetes|ssh", message = "must be one of: postgres, kubernetes, ssh")
        String type,

        @Schema(description = "postgres and ssh, required: the target's host name or IP address. kubernetes: in"
                + " api_server_url instead.")
        @Size(max = 253, message = "must be at most 253 characters (a DNS name or IP address)")
        String host,

        @Schema(description = "postgres and ssh, required: the target's TCP port. kubernetes: in api_server_url instead.")
        @Min(value = 1, message = "must be between 1 and 65535")
        @Max(value = 65535, message = "must be between 1 and 65535")
        Integer port,

        @Schema(description = "kubernetes only, required: the API server as https://host[:port] (port 443 when absent), no"
                + " path, query or user info. Stored as host and port.", examples = "https://api.cluster.internal:6443")
        @Size(max = 300, message = "must be at most 300 characters (https://, a host name and a port)")
        String apiServerUrl,

        @Schema(description = "kubernetes only, default true: the gateway sends Impersonate-User and Impersonate-Group for"
                + " the identity, so the cluster's RBAC and audit log see who it is. false: it calls with the credential's"
                + " own rights, and each recorded result says impersonated=false.")
        Boolean impersonate,

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

        @Schema(description = "ssh only: the other logins a client may name as <login>@<connection> in the SSH user field"
                + " (ssh -p PORT deploy@box@gateway), besides username, which a plain <connection> uses. Stored as"
                + " settings.logins; the decision input of every SSH request says which login it runs as.")
        @Size(max = 16, message = "must list at most 16 logins")
        List<@NotNull(message = "must be a login name") @Pattern(regexp = LOGIN_PATTERN, message = LOGIN_RULE) String> logins,

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
    /** A portable POSIX user name; the gateway's SSH engine reads the same in the user field (ssh/UserField). */
    static final String LOGIN_PATTERN = "[a-z_][a-z0-9_.-]{0,31}";
    static final String LOGIN_RULE = "logins must be 1 to 32 characters of a-z, 0-9, '_', '.' and '-', starting with a letter or '_'";
    static final String TAG_KEY_PATTERN = "[A-Za-z0-9][A-Za-z0-9_./-]{0,62}";
    static final String TAG_KEY_RULE = "tag keys must be 1 to 63 characters of letters, digits, '_', '.', '/' and '-'";


    public Map<String, String> tagsOrEmpty() {
        return tags == null ? Map.of() : tags;
    }

    /** Records print every component; this one must never print the password or the credential. */
    @Override
    public String toString() {
        return "ConnectionRequest[name=" + name + ", type=" + type + ", host=" + host + ", port=" + port
                + ", apiServerUrl=" + apiServerUrl + ", impersonate=" + impersonate
                + ", database=" + database + ", username=" + username + ", password=" + (password == null ? "absent" : "***")
                + ", credential=" + (credential == null ? "absent" : "***") + ", logins=" + logins + ", hostKey=" + hostKey + ", tlsMode=" + tlsMode
                + ", tags=" + tags + "]";
    }
}
