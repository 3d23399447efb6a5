package dev.portcullis.gateway.protocol.ssh;

import dev.portcullis.gateway.connection.TargetConnection;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.sshd.client.ClientBuilder;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * The gateway's side towards targets: one MINA SSH client for the engine, which logs in to a registered ssh connection
 * with its sealed private key and accepts only the host key registered with it ({@code settings.host_key}, an OpenSSH
 * public key line). An unknown or changed host key refuses the login: never trust on first use.
 */
final class TargetLogin implements AutoCloseable {
    /** The connection's setting that holds the target's host key. */
    static final String HOST_KEY_SETTING = "host_key";
    /** The connection's setting that lists the logins a client may name besides its username ({@code <login>@<connection>}). */
    static final String LOGINS_SETTING = "logins";
    private static final AttributeRepository.AttributeKey<PublicKey> EXPECTED_HOST_KEY = new AttributeRepository.AttributeKey<>();
    private static final AttributeRepository.AttributeKey<String[]> HOST_KEY_SEEN = new AttributeRepository.AttributeKey<>();

    private final SshClient client;
    private final Duration timeout;

    /** Why a login to the target failed, safe to show the client. */
    static final class Failed extends IOException {
        Failed(String message) {
            super(message, null);
        }
    }

    /** @param forwarded the channels a target may open back: forwarded-tcpip, for remote forwards (ssh -R), and no other */
    TargetLogin(Duration timeout, ChannelFactory forwarded) {
        this.timeout = timeout;
        this.client = Algorithms.apply(ClientBuilder.builder(), ClientBuilder.DH2KEX).build();
        client.setChannelFactories(List.of(forwarded));
        client.setServerKeyVerifier((session, remote, serverKey) -> {
            PublicKey expected = session.getConnectionContext().getAttribute(EXPECTED_HOST_KEY);
            boolean same = expected != null && KeyUtils.compareKeys(expected, serverKey);
            if (!same) {
                String[] seen = session.getConnectionContext().getAttribute(HOST_KEY_SEEN);
                if (seen != null) {
                    seen[0] = KeyUtils.getFingerPrint(serverKey);
                }
            }
            return same;
        });
        client.start();
    }

    /**
     * The login the gateway uses on {@code target} for a client that asked for {@code asked}: the connection's username
     * when it asked for none, else {@code asked} if it is the username or one of {@code settings.logins}.
     *
     * @throws Failed when the connection allows no such login (the message lists those it allows)
     */
    static String loginFor(TargetConnection target, String asked) throws Failed {
        if (target.username() == null || target.username().isBlank()) {
            throw new Failed("connection " + target.name() + " names no login for its target; an administrator must register one");
        }
        List<String> allowed = new ArrayList<>(List.of(target.username()));
        if (target.settings().get(LOGINS_SETTING) instanceof List<?> more) {
            more.stream().filter(String.class::isInstance).map(String.class::cast).filter(l -> !allowed.contains(l)).forEach(allowed::add);
        }
        if (asked == null || allowed.contains(asked)) {
            return asked == null ? target.username() : asked;
        }
        throw new Failed("connection " + target.name() + " does not allow login " + asked + " on its target; it allows "
                + String.join(", ", allowed) + ": name one as <login>@" + target.name() + " in the user field, or just "
                + target.name() + " for " + target.username());
    }

    /**
     * Connects and logs in to {@code target} as {@code user} (from {@link #loginFor}) with {@code privateKey} (the
     * unsealed OpenSSH private key, used here and dropped). Blocks up to the timeout for each step: call it off the I/O
     * threads.
     */
    ClientSession login(TargetConnection target, String privateKey, String user) throws IOException {
        PublicKey expected = registeredHostKey(target);
        if (privateKey == null || privateKey.isBlank()) {
            throw new Failed("connection " + target.name() + " has no private key to log in with; an administrator must register one");
        }
        KeyPair identity = keyPair(target.name(), privateKey);
        String[] seen = new String[1];
        AttributeRepository context = AttributeRepository.ofAttributesMap(Map.of(EXPECTED_HOST_KEY, expected, HOST_KEY_SEEN, seen));
        ClientSession session;
        try {
            session = client.connect(user, target.host(), target.port(), context, null).verify(timeout).getSession();
        } catch (IOException e) {
            throw new Failed("cannot reach the target of " + target.name() + " at " + target.host() + ":" + target.port() + ": "
                    + e.getMessage());
        }
        try {
            session.addPublicKeyIdentity(identity);
            session.auth().verify(timeout);
            return session;
        } catch (IOException e) {
            session.close(true);
            if (seen[0] != null) {
                throw new Failed("the target of " + target.name() + " presented host key " + seen[0] + ", which is not the one registered"
                        + " with the connection (" + KeyUtils.getFingerPrint(expected) + "): refused. If the host was rebuilt, an"
                        + " administrator must register its new host key; otherwise someone may be impersonating it");
            }
            throw new Failed("logging in to the target of " + target.name() + " as " + user + " failed: " + e.getMessage());
        }
    }

    private static PublicKey registeredHostKey(TargetConnection target) throws Failed {
        Object line = target.settings().get(HOST_KEY_SETTING);
        if (!(line instanceof String text) || text.isBlank()) {
            throw new Failed("connection " + target.name() + " has no registered host key (settings.host_key), and Portcullis never"
                    + " trusts a target's host key on first use; an administrator must register it");
        }
        try {
            PublicKey key = PublicKeyEntry.parsePublicKeyEntry(text.trim()).resolvePublicKey(null, Map.of(), null);
            if (key == null) {
                throw new IllegalArgumentException("unknown key type");
            }
            return key;
        } catch (Exception e) {
            throw new Failed("connection " + target.name() + " has a host key that is not an OpenSSH public key line; an administrator"
                    + " must register it again");
        }
    }

    private static KeyPair keyPair(String connection, String privateKey) throws Failed {
        try {
            Iterable<KeyPair> keys = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(connection),
                    new ByteArrayInputStream(privateKey.getBytes(StandardCharsets.UTF_8)), null);
            Iterator<KeyPair> it = keys == null ? null : keys.iterator();
            if (it == null || !it.hasNext()) {
                throw new Failed("the credential of connection " + connection + " is not an OpenSSH private key");
            }
            return it.next();
        } catch (Failed e) {
            throw e;
        } catch (Exception e) {
            // never the key material, nor a parser message that could quote it
            throw new Failed("the credential of connection " + connection + " is not a readable OpenSSH private key (without passphrase)");
        }
    }

    @Override
    public void close() {
        try {
            client.stop();
        } catch (RuntimeException e) {
            // stopping on shutdown: nothing to do
        }
    }
}
