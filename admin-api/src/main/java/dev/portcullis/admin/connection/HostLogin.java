package dev.portcullis.admin.connection;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Iterator;
import java.util.Map;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * {@code POST /connections/{name}/test} for an ssh connection: connects to the target as the gateway does (Apache MINA
 * SSHD), accepts only the host key registered with the connection ({@code settings.host_key}), and authenticates as its
 * login with the sealed private key. It opens no channel: nothing runs on the target. Each step gives up after
 * {@link TargetLogin#LOGIN_TIMEOUT}; what it says never contains the key.
 */
@ApplicationScoped
public class HostLogin {
    private static final AttributeRepository.AttributeKey<PublicKey> EXPECTED = new AttributeRepository.AttributeKey<>();
    private static final AttributeRepository.AttributeKey<String[]> SEEN = new AttributeRepository.AttributeKey<>();

    private final Vertx vertx;
    private volatile SshClient client;

    HostLogin(Vertx vertx) {
        this.vertx = vertx;
    }

    private synchronized SshClient client() {
        if (client == null) {
            SshClient made = SshClient.setUpDefaultClient();
            made.setServerKeyVerifier((session, remote, serverKey) -> {
                PublicKey expected = session.getConnectionContext().getAttribute(EXPECTED);
                String[] seen = session.getConnectionContext().getAttribute(SEEN);
                if (seen != null) {
                    seen[0] = KeyUtils.getFingerPrint(serverKey);
                }
                return expected != null && KeyUtils.compareKeys(expected, serverKey);
            });
            made.start();
            client = made;
        }
        return client;
    }

    /** Starts the client off the startup thread: its first use loads MINA and BouncyCastle, seconds on a busy machine. */
    void start(@Observes StartupEvent event) {
        Infrastructure.getDefaultWorkerPool().execute(this::client);
    }

    void stop(@Observes ShutdownEvent event) {
        if (client != null) {
            client.stop();
        }
    }

    /** Logs in on a worker thread (MINA's futures block), answering on the caller's Vert.x context. */
    Uni<ConnectionProbe.Reached> reach(ConnectionEntity c, String privateKey) {
        return vertx.executeBlocking(Uni.createFrom().item(() -> login(c, privateKey)), false);
    }

    private ConnectionProbe.Reached login(ConnectionEntity c, String privateKey) {
        String where = c.host + ":" + c.port;
        PublicKey expected = registeredHostKey(c);
        KeyPair identity = keyPair(c.name, privateKey);
        String[] seen = new String[1];
        ClientSession session;
        try {
            session = client().connect(c.username, c.host, c.port, AttributeRepository.ofAttributesMap(
                    Map.of(EXPECTED, expected, SEEN, seen)), null).verify(TargetLogin.LOGIN_TIMEOUT).getSession();
        } catch (IOException | RuntimeException e) {
            throw new TargetLogin.LoginFailed(unreachable(e, where));
        }
        try (session) {
            session.addPublicKeyIdentity(identity);
            try {
                session.auth().verify(TargetLogin.LOGIN_TIMEOUT);
            } catch (IOException | RuntimeException e) {
                String expectedPrint = KeyUtils.getFingerPrint(expected);
                if (seen[0] != null && !seen[0].equals(expectedPrint)) {
                    throw new TargetLogin.LoginFailed("the target at " + where + " presented host key " + seen[0] + ", which is"
                            + " not the one registered with connection '" + c.name + "' (" + expectedPrint + "): refused, and"
                            + " the gateway refuses it too. If the host was rebuilt, register its new host key with PUT;"
                            + " otherwise someone may be impersonating it");
                }
                if (seen[0] == null) {
                    throw new TargetLogin.LoginFailed("the SSH handshake with " + where + " did not complete within "
                            + TargetLogin.LOGIN_TIMEOUT.toSeconds() + " s (" + e.getClass().getSimpleName() + ")");
                }
                throw new TargetLogin.LoginFailed("the target at " + where + " (host key " + seen[0] + ", as registered)"
                        + " refused the login of " + c.username + " with the connection's private key: add its public key to"
                        + " that user's authorized_keys on the target, or register the right key with PUT");
            }
            return new ConnectionProbe.Reached("logged in to " + where + " as " + c.username + " with the connection's private"
                    + " key; the host key " + seen[0] + " is the registered one; no channel was opened",
                    session.getServerVersion(), c.username);
        } catch (IOException e) {
            throw new TargetLogin.LoginFailed("closing the test login to " + where + " failed: " + e.getClass().getSimpleName());
        }
    }

    private static String unreachable(Throwable e, String where) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnknownHostException) {
                return "the host of " + where + " is unknown";
            }
            if (t instanceof ConnectException) {
                return "cannot reach " + where + ": " + t.getMessage();
            }
        }
        return "cannot reach " + where + " within " + TargetLogin.LOGIN_TIMEOUT.toSeconds() + " s: " + e.getMessage();
    }

    private static PublicKey registeredHostKey(ConnectionEntity c) {
        Object line = c.settings == null ? null : c.settings.get(ConnectionTypes.HOST_KEY_SETTING);
        try {
            PublicKey key = line instanceof String text
                    ? PublicKeyEntry.parsePublicKeyEntry(text.strip()).resolvePublicKey(null, Map.of(), null) : null;
            if (key != null) {
                return key;
            }
        } catch (Exception e) {
            // said below
        }
        throw new TargetLogin.LoginFailed("connection '" + c.name + "' has no readable registered host key (settings.host_key);"
                + " Portcullis never trusts a host key on first use: register it with PUT");
    }

    private static KeyPair keyPair(String connection, String privateKey) {
        try {
            Iterable<KeyPair> keys = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(connection),
                    new ByteArrayInputStream(privateKey.getBytes(StandardCharsets.UTF_8)), null);
            Iterator<KeyPair> it = keys == null ? null : keys.iterator();
            if (it != null && it.hasNext()) {
                return it.next();
            }
        } catch (Exception e) {
            // never the key material, nor a parser message that could quote it
        }
        throw new TargetLogin.LoginFailed("the credential of connection '" + connection + "' is not a readable private key"
                + " (without passphrase): register it again with PUT");
    }
}
