package dev.portcullis.gateway.protocol.ssh;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.identity.Identity;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.sshd.certificate.OpenSshCertificateBuilder;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;

/**
 * The gateway's SSH user CA: signs short-lived OpenSSH user certificates for identities that proved themselves with an
 * OIDC access token ({@link CertificateResource}), and reads the identity back from a certificate a client logs in
 * with. The certificate carries the whole identity (principal = name, key id = subject, groups, kind and client id as
 * extensions), signed, so the listener needs no token and no lookup; it trusts no other CA.
 */
final class UserCertificates {
    static final String EXT_GROUPS = "groups@portcullis.dev";
    static final String EXT_KIND = "kind@portcullis.dev";
    static final String EXT_CLIENT_ID = "client-id@portcullis.dev";
    /** Extensions OpenSSH clients expect; the gateway itself decides ptys and forwards by policy, not by these. */
    private static final Set<String> STANDARD_EXTENSIONS = Set.of("permit-pty");
    /** Slack for clocks that differ a little between gateway replicas and clients. */
    private static final Duration BACKDATE = Duration.ofMinutes(1);
    /** Longest public key line accepted for signing; an ed25519 or ECDSA key is under 300 characters. */
    static final int MAX_PUBLIC_KEY_CHARS = 8192;
    private static final Set<String> SIGNABLE_KEY_TYPES = Set.of(KeyPairTypes.ED25519, KeyPairTypes.ECDSA_256, KeyPairTypes.ECDSA_384,
            KeyPairTypes.ECDSA_521);

    private final KeyPair ca;
    private final Duration maxValidity;
    private final ObjectMapper json;
    private final SecureRandom random = new SecureRandom();

    UserCertificates(KeyPair ca, Duration maxValidity, ObjectMapper json) {
        this.ca = ca;
        this.maxValidity = maxValidity;
        this.json = json;
    }

    static UserCertificates load(GatewayConfig.Ssh config, ObjectMapper json) {
        Path path = config.caKey().orElseThrow(() -> new IllegalStateException("the SSH listener needs portcullis.ssh.ca-key (the"
                + " OpenSSH private key of the CA that signs user certificates), or portcullis.ssh.enabled=false"));
        return new UserCertificates(loadKeyPair(path, "portcullis.ssh.ca-key"), config.maxCertificateValidity(), json);
    }

    static KeyPair loadKeyPair(Path path, String setting) {
        try {
            Iterator<KeyPair> keys = new FileKeyPairProvider(path).loadKeys(null).iterator();
            if (!keys.hasNext()) {
                throw new IllegalStateException(setting + ": " + path + " holds no private key");
            }
            return keys.next();
        } catch (IllegalStateException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(setting + ": cannot read the OpenSSH private key " + path + ": " + e.getMessage(), e);
        }
    }

    PublicKey caPublicKey() {
        return ca.getPublic();
    }

    /** Names of the key types accepted for signing, as OpenSSH writes them. */
    private static final class KeyPairTypes {
        static final String ED25519 = "ssh-ed25519";
        static final String ECDSA_256 = "ecdsa-sha2-nistp256";
        static final String ECDSA_384 = "ecdsa-sha2-nistp384";
        static final String ECDSA_521 = "ecdsa-sha2-nistp521";
    }

    /** A client's request could not be signed; the message says why, for the client. */
    static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Signs {@code publicKeyLine} (an OpenSSH public key line) for {@code identity}, valid until the token expires and
     * at most {@link GatewayConfig.Ssh#maxCertificateValidity()}. Returns the certificate as an OpenSSH public key line.
     */
    String sign(String publicKeyLine, Identity identity, Instant tokenExpiresAt) {
        if (publicKeyLine == null || publicKeyLine.isBlank()) {
            throw new Refused("send the public key to certify (the contents of id_ed25519.pub) as the request body");
        }
        if (publicKeyLine.length() > MAX_PUBLIC_KEY_CHARS) {
            throw new Refused("the public key is longer than " + MAX_PUBLIC_KEY_CHARS + " characters");
        }
        PublicKey key;
        try {
            key = PublicKeyEntry.parsePublicKeyEntry(publicKeyLine.trim()).resolvePublicKey(null, Map.of(), null);
        } catch (Exception | Error e) {
            throw new Refused("the body is not an OpenSSH public key line (like the contents of id_ed25519.pub)");
        }
        if (key == null || key instanceof OpenSshCertificate || !SIGNABLE_KEY_TYPES.contains(KeyUtils.getKeyType(key))) {
            throw new Refused("only ed25519 and ECDSA public keys are certified (ssh-keygen -t ed25519); got "
                    + (key == null ? "an unknown key type" : KeyUtils.getKeyType(key)));
        }
        Instant now = Instant.now();
        Instant until = tokenExpiresAt.isBefore(now.plus(maxValidity)) ? tokenExpiresAt : now.plus(maxValidity);
        if (!until.isAfter(now)) {
            throw new Refused("the access token has expired");
        }
        try {
            OpenSshCertificate cert = OpenSshCertificateBuilder.userCertificate()
                    .serial(random.nextLong() & Long.MAX_VALUE)
                    .publicKey(key)
                    .id(identity.subject())
                    .principals(List.of(identity.name()))
                    .validAfter(now.minus(BACKDATE))
                    .validBefore(until)
                    .extensions(List.of(new OpenSshCertificate.CertificateOption("permit-pty"),
                            new OpenSshCertificate.CertificateOption(EXT_CLIENT_ID, identity.clientId() == null ? "" : identity.clientId()),
                            new OpenSshCertificate.CertificateOption(EXT_GROUPS, json.writeValueAsString(identity.groups())),
                            new OpenSshCertificate.CertificateOption(EXT_KIND, identity.kind().name().toLowerCase(Locale.ROOT))))
                    .sign(ca, "ssh-ed25519".equals(KeyUtils.getKeyType(ca.getPublic())) ? "ssh-ed25519" : null);
            return PublicKeyEntry.toString(cert) + " " + identity.name() + "@portcullis";
        } catch (Exception e) {
            throw new IllegalStateException("signing an SSH certificate failed", e);
        }
    }

    /**
     * The identity a certificate names, once the SSH layer has checked its type, validity and signature: it must be
     * signed by this CA (no other is trusted), name exactly one principal, and carry no critical option (the gateway
     * issues none, so one would come from elsewhere).
     *
     * @throws Refused why the certificate is not accepted, for the log
     */
    Identity identity(OpenSshCertificate cert) {
        if (!KeyUtils.compareKeys(ca.getPublic(), cert.getCaPubKey())) {
            throw new Refused("the certificate was not signed by the Portcullis SSH CA");
        }
        if (cert.getType() != OpenSshCertificate.Type.USER) {
            throw new Refused("not a user certificate");
        }
        if (!OpenSshCertificate.isValidNow(cert)) {
            throw new Refused("the certificate is expired or not yet valid");
        }
        if (!cert.getCriticalOptions().isEmpty()) {
            throw new Refused("the certificate has critical options, which the Portcullis CA never issues");
        }
        if (cert.getPrincipals() == null || cert.getPrincipals().size() != 1 || cert.getId() == null || cert.getId().isBlank()) {
            throw new Refused("the certificate must name one principal and a key id");
        }
        Map<String, String> ext = cert.getExtensionsMap();
        for (String name : ext.keySet()) {
            if (!STANDARD_EXTENSIONS.contains(name) && !name.endsWith("@portcullis.dev")) {
                throw new Refused("the certificate has an extension the Portcullis CA never issues: " + name);
            }
        }
        List<String> groups;
        try {
            groups = json.readValue(ext.getOrDefault(EXT_GROUPS, "[]"), new TypeReference<List<String>>() {
            });
        } catch (Exception e) {
            throw new Refused("the certificate's groups cannot be read");
        }
        Identity.Kind kind = "machine".equals(ext.get(EXT_KIND)) ? Identity.Kind.MACHINE : Identity.Kind.HUMAN;
        String clientId = ext.getOrDefault(EXT_CLIENT_ID, "");
        return new Identity(cert.getId(), cert.getPrincipals().iterator().next(), groups, clientId.isEmpty() ? null : clientId, kind);
    }
}
