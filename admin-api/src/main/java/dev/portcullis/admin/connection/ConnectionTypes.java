package dev.portcullis.admin.connection;

import dev.portcullis.admin.error.ApiException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What each connection type needs and forbids, checked after the field-by-field validation of {@link ConnectionRequest}.
 * The stored shape is the one the gateway's engines read (gateway: connection/TargetConnection, protocol/kubernetes/
 * Upstreams, protocol/ssh/TargetLogin): kubernetes is host, port, tls_mode, tls_ca_pem and the sealed credential; ssh is
 * host, port, username, the sealed private key and {@code settings.host_key}. Nothing here adds a field the gateway does
 * not read.
 */
final class ConnectionTypes {
    static final String POSTGRES = "postgres";
    static final String KUBERNETES = "kubernetes";
    static final String SSH = "ssh";

    /** The gateway's SSH engine reads the registered host key under this settings key (ssh/TargetLogin.HOST_KEY_SETTING). */
    static final String HOST_KEY_SETTING = "host_key";

    /** The key types an OpenSSH host presents and MINA SSHD (the gateway's SSH engine) resolves. */
    private static final Set<String> HOST_KEY_TYPES = Set.of("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256",
            "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521");
    /** A ServiceAccount token (a JWT) or another bearer token: visible ASCII, no spaces. */
    private static final Pattern BEARER_TOKEN = Pattern.compile("[\\x21-\\x7e]{16,}");
    private static final Pattern OPENSSH_KEY =
            Pattern.compile("-----BEGIN OPENSSH PRIVATE KEY-----([\\s\\S]+?)-----END OPENSSH PRIVATE KEY-----");
    private static final Pattern PEM_BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----[\\s\\S]+?-----END \\1-----");

    private ConnectionTypes() {
    }

    /**
     * Checks the request against its type's rules and answers the settings to store.
     *
     * @param secretStored whether the row keeps a secret of this type when the request carries none (an update of the
     *                     same type)
     * @throws ApiException 400 naming the first field that breaks a rule
     */
    static Map<String, Object> check(ConnectionRequest r, boolean secretStored) {
        return switch (r.type()) {
            case POSTGRES -> postgres(r);
            case KUBERNETES -> kubernetes(r, secretStored);
            case SSH -> ssh(r, secretStored);
            default -> throw ApiException.invalidField("type", "must be one of: postgres, kubernetes, ssh");
        };
    }

    /** The TLS mode stored when the request names none: the safest one each engine can use. */
    static String tlsModeOrDefault(ConnectionRequest r) {
        if (r.tlsMode() != null) {
            return r.tlsMode();
        }
        return switch (r.type()) {
            case KUBERNETES -> TlsMode.VERIFY_FULL;
            case SSH -> TlsMode.DISABLE;
            default -> TlsMode.REQUIRE;
        };
    }

    private static Map<String, Object> postgres(ConnectionRequest r) {
        required("database", r.database(), "the database name on the target");
        required("username", r.username(), "the user the gateway logs in as on the target");
        forbidden("credential", r.credential(), POSTGRES, "a postgres connection's secret is password");
        forbidden("host_key", r.hostKey(), POSTGRES, "it is for ssh connections");
        return Map.of();
    }

    private static Map<String, Object> kubernetes(ConnectionRequest r, boolean secretStored) {
        forbidden("database", r.database(), KUBERNETES, "it is for postgres connections");
        forbidden("username", r.username(), KUBERNETES, "the gateway acts as the identity through impersonation, with the"
                + " credential's own user only to impersonate");
        forbidden("password", r.password(), KUBERNETES, "the API server's secret is credential");
        forbidden("host_key", r.hostKey(), KUBERNETES, "it is for ssh connections");
        if (TlsMode.DISABLE.equals(r.tlsMode())) {
            throw ApiException.invalidField("tls_mode", "must be require or verify-full: the gateway reaches a Kubernetes API"
                    + " server only over TLS (https)");
        }
        if (r.credential() == null) {
            if (!secretStored) {
                throw ApiException.invalidField("credential", "is required: a ServiceAccount bearer token, or a PEM client"
                        + " CERTIFICATE with its PRIVATE KEY");
            }
        } else if (r.credential().contains("-----BEGIN")) {
            clientCertificate(r.credential());
        } else if (!BEARER_TOKEN.matcher(r.credential().strip()).matches()) {
            throw ApiException.invalidField("credential", "must be a bearer token (at least 16 visible ASCII characters, no"
                    + " spaces) or a PEM client CERTIFICATE with its PRIVATE KEY");
        }
        return Map.of();
    }

    /** One or more certificates and exactly one private key, as the gateway's Upstreams.keyCert demands. */
    private static void clientCertificate(String pem) {
        int certificates = 0;
        int keys = 0;
        var m = PEM_BLOCK.matcher(pem);
        while (m.find()) {
            if (m.group(1).equals("CERTIFICATE")) {
                certificates++;
            } else if (m.group(1).endsWith("PRIVATE KEY")) {
                keys++;
            }
        }
        if (certificates == 0 || keys != 1) {
            // counts only: never a fragment of the credential
            throw ApiException.invalidField("credential", "a PEM client credential must hold one or more CERTIFICATE blocks and"
                    + " exactly one PRIVATE KEY block (found " + certificates + " and " + keys + ")");
        }
    }

    private static Map<String, Object> ssh(ConnectionRequest r, boolean secretStored) {
        forbidden("database", r.database(), SSH, "it is for postgres connections");
        forbidden("password", r.password(), SSH, "the gateway logs in to SSH targets with a private key only: send it as"
                + " credential");
        forbidden("tls_ca_pem", r.tlsCaPem(), SSH, "SSH authenticates the target by host_key");
        required("username", r.username(), "the login the gateway uses on the target");
        if (r.tlsMode() != null && !TlsMode.DISABLE.equals(r.tlsMode())) {
            throw ApiException.invalidField("tls_mode", "must be disable or absent for ssh: SSH has its own transport"
                    + " security, and the target is authenticated by host_key");
        }
        if (r.credential() == null) {
            if (!secretStored) {
                throw ApiException.invalidField("credential", "is required: the unencrypted private key (OpenSSH or PEM) the"
                        + " gateway logs in with");
            }
        } else if (!PEM_BLOCK.matcher(r.credential()).find() || !r.credential().contains("PRIVATE KEY-----")) {
            throw ApiException.invalidField("credential", "must be a private key: -----BEGIN OPENSSH PRIVATE KEY----- (or a PEM"
                    + " PRIVATE KEY block) ... -----END ... PRIVATE KEY-----");
        } else if (r.credential().contains("ENCRYPTED") || encryptedOpenSshKey(r.credential())) {
            throw ApiException.invalidField("credential", "must be a private key without a passphrase: the gateway has no"
                    + " way to ask for one");
        }
        required("host_key", r.hostKey(), "the target's OpenSSH public host key line (ssh-keyscan prints it); Portcullis"
                + " never trusts a host key on first use");
        return Map.of(HOST_KEY_SETTING, hostKey(r.hostKey()));
    }

    /**
     * Whether an OpenSSH-format private key is protected by a passphrase: its base64 body starts with the magic
     * "openssh-key-v1\0" and the cipher name, which is "none" only for a key without one (OpenSSH PROTOCOL.key).
     */
    private static boolean encryptedOpenSshKey(String pem) {
        var m = OPENSSH_KEY.matcher(pem);
        if (!m.find()) {
            return false;
        }
        byte[] magic = "openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII);
        byte[] none = "none".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer body;
        try {
            body = ByteBuffer.wrap(Base64.getMimeDecoder().decode(m.group(1).strip()));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidField("credential", "the OpenSSH private key is not valid base64");
        }
        if (body.remaining() < magic.length + 4 + none.length
                || !body.slice(0, magic.length).equals(ByteBuffer.wrap(magic))) {
            throw ApiException.invalidField("credential", "is not an OpenSSH private key (no openssh-key-v1 header)");
        }
        body.position(magic.length);
        return body.getInt() != none.length || !body.slice(body.position(), none.length).equals(ByteBuffer.wrap(none));
    }

    /**
     * The host key as "type base64", its comment dropped. The base64 blob must decode and start with its own type name
     * (RFC 4253 6.6), so a truncated or mislabelled key is refused here rather than at the first login.
     */
    static String hostKey(String line) {
        String[] parts = line.strip().split("\\s+");
        if (parts.length < 2 || !HOST_KEY_TYPES.contains(parts[0])) {
            throw ApiException.invalidField("host_key", "must be an OpenSSH public key line: one of " + HOST_KEY_TYPES.stream()
                    .sorted().toList() + ", a space and the base64 key, e.g. \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA...\"");
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidField("host_key", "the key after " + parts[0] + " is not valid base64");
        }
        ByteBuffer buffer = ByteBuffer.wrap(blob);
        byte[] expected = parts[0].getBytes(StandardCharsets.US_ASCII);
        if (blob.length < 4 + expected.length || buffer.getInt() != expected.length
                || !ByteBuffer.wrap(blob, 4, expected.length).equals(ByteBuffer.wrap(expected))
                || blob.length == 4 + expected.length) {
            throw ApiException.invalidField("host_key", "the key data does not hold a " + parts[0] + " key (truncated, or"
                    + " the type in front does not match it)");
        }
        return parts[0] + " " + parts[1];
    }

    private static void required(String field, String value, String what) {
        if (value == null || value.isBlank()) {
            throw ApiException.invalidField(field, "is required: " + what);
        }
    }

    private static void forbidden(String field, String value, String type, String why) {
        if (value != null) {
            throw ApiException.invalidField(field, "is not allowed on a " + type + " connection: " + why);
        }
    }
}
