package dev.portcullis.admin.connection;

import dev.portcullis.admin.error.ApiException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What each connection type needs and forbids, checked after the field-by-field validation of {@link ConnectionRequest}.
 * The stored shape is the one the gateway's engines read (gateway: connection/TargetConnection, protocol/kubernetes/
 * Upstreams, protocol/ssh/TargetLogin): kubernetes is host and port (from api_server_url), tls_mode, tls_ca_pem, the
 * sealed credential and {@code settings.impersonate}; ssh is host, port, username, the sealed private key and
 * {@code settings.host_key}. Nothing here adds a field the gateway does not read.
 */
final class ConnectionTypes {
    static final String POSTGRES = "postgres";
    static final String KUBERNETES = "kubernetes";
    static final String SSH = "ssh";

    /** The gateway's SSH engine reads the registered host key under this settings key (ssh/TargetLogin.HOST_KEY_SETTING). */
    static final String HOST_KEY_SETTING = "host_key";
    /** The gateway's SSH engine reads the other logins a client may name under this settings key (ssh/TargetLogin.LOGINS_SETTING). */
    static final String LOGINS_SETTING = "logins";
    /** The gateway's Kubernetes engine reads whether to impersonate under this settings key (kubernetes/Upstreams.IMPERSONATE_SETTING). */
    static final String IMPERSONATE_SETTING = "impersonate";
    private static final int HTTPS_PORT = 443;

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

    /** Where the target is and what only its type needs, as the row stores them. */
    record Target(String host, int port, Map<String, Object> settings) {
    }

    /**
     * Checks the request against its type's rules and answers what to store.
     *
     * @param secretStored whether the row keeps a secret of this type when the request carries none (an update of the
     *                     same type)
     * @throws ApiException 400 naming the first field that breaks a rule
     */
    static Target check(ConnectionRequest r, boolean secretStored) {
        if (!SSH.equals(r.type())) {
            forbidden("logins", r.logins(), r.type(), "it is for ssh connections");
        }
        if (!KUBERNETES.equals(r.type())) {
            forbidden("api_server_url", r.apiServerUrl(), r.type(), "it is for kubernetes connections; give host and port");
            forbidden("impersonate", r.impersonate(), r.type(), "it is for kubernetes connections");
            required("host", r.host(), "the target's host name or IP address");
            if (r.port() == null) {
                throw ApiException.invalidField("port", "is required: the target's TCP port, 1 to 65535");
            }
        }
        return switch (r.type()) {
            case POSTGRES -> new Target(r.host(), r.port(), postgres(r));
            case KUBERNETES -> kubernetes(r, secretStored);
            case SSH -> new Target(r.host(), r.port(), ssh(r, secretStored));
            default -> throw ApiException.invalidField("type", "must be one of: postgres, kubernetes, ssh");
        };
    }

    /** The API server's URL as a client gives it back: https, the host (IPv6 in brackets) and the port. */
    static String apiServerUrl(String host, int port) {
        return "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
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

    private static Target kubernetes(ConnectionRequest r, boolean secretStored) {
        forbidden("host", r.host(), KUBERNETES, "give the API server as api_server_url (https://host:port)");
        forbidden("port", r.port(), KUBERNETES, "give the API server as api_server_url (https://host:port)");
        required("api_server_url", r.apiServerUrl(), "the API server as https://host[:port], e.g."
                + " https://api.cluster.internal:6443");
        URI url = apiServer(r.apiServerUrl());
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
        String host = url.getHost().startsWith("[") ? url.getHost().substring(1, url.getHost().length() - 1) : url.getHost();
        return new Target(host, url.getPort() < 0 ? HTTPS_PORT : url.getPort(),
                Map.of(IMPERSONATE_SETTING, r.impersonate() == null || r.impersonate()));
    }

    /**
     * An https URL naming only a host and a port: the gateway calls {@code <url>/api/...} on it, so a path would be
     * dropped unseen, and user info would be a credential outside the sealed one.
     */
    private static URI apiServer(String text) {
        String what = "must be the API server as https://host[:port] (for example https://api.cluster.internal:6443)";
        URI url;
        try {
            url = new URI(text.strip());
        } catch (URISyntaxException e) {
            throw ApiException.invalidField("api_server_url", what + ": it is not a URL (" + e.getReason() + ")");
        }
        if (!"https".equalsIgnoreCase(url.getScheme())) {
            throw ApiException.invalidField("api_server_url", what + ": the gateway reaches a Kubernetes API server only over"
                    + " https, not " + (url.getScheme() == null ? "a URL without a scheme" : url.getScheme()));
        }
        if (url.getRawUserInfo() != null) {
            throw ApiException.invalidField("api_server_url", what + ": no user info; the credential is sent as credential");
        }
        if (url.getHost() == null || url.getHost().isBlank()) {
            throw ApiException.invalidField("api_server_url", what + ": it names no host (or the host is not a valid name)");
        }
        if ((url.getRawPath() != null && !url.getRawPath().isEmpty() && !url.getRawPath().equals("/"))
                || url.getRawQuery() != null || url.getRawFragment() != null) {
            throw ApiException.invalidField("api_server_url", what + ": no path, query or fragment (the gateway serves"
                    + " the API server's own paths under /k8s/<connection>/)");
        }
        if (url.getPort() == 0 || url.getPort() > 65535) {
            throw ApiException.invalidField("api_server_url", what + ": the port must be between 1 and 65535");
        }
        return url;
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
        List<String> logins = r.logins() == null ? List.of()
                : r.logins().stream().distinct().filter(login -> !login.equals(r.username())).toList();
        return logins.isEmpty() ? Map.of(HOST_KEY_SETTING, hostKey(r.hostKey()))
                : Map.of(HOST_KEY_SETTING, hostKey(r.hostKey()), LOGINS_SETTING, logins);
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

    private static void forbidden(String field, Object value, String type, String why) {
        if (value != null) {
            throw ApiException.invalidField(field, "is not allowed on a " + type + " connection: " + why);
        }
    }
}
