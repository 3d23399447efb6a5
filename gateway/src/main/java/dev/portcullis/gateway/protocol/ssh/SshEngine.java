package dev.portcullis.gateway.protocol.ssh;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.identity.Identity;
import dev.portcullis.gateway.identity.TokenVerifier;
import dev.portcullis.gateway.session.Engine;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.Sessions;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.global.KeepAliveHandler;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.ServerBuilder;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.keyboard.UserAuthKeyboardInteractiveFactory;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.server.global.NoMoreSessionsHandler;
import org.apache.sshd.server.global.OpenSshHostKeysHandler;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.server.session.ServerUserAuthServiceFactory;
import org.apache.sshd.server.subsystem.SubsystemFactory;
import org.jboss.logging.Logger;

/**
 * The SSH engine: an SSH server (Apache MINA SSHD) where a client logs in with a certificate from the gateway's CA, or
 * with its OIDC access token as a keyboard-interactive answer ({@link TokenPrompt}), and names the registered connection
 * in the user field ({@code ssh -p PORT demo-box@gateway}); every exec, shell, pty,
 * environment variable and subsystem is decided by the spine ({@link ChannelRelay}), and what is allowed runs on the
 * target through the gateway's own login ({@link TargetLogin}); inside an sftp subsystem, every file operation
 * ({@link SftpFilter}); every {@code direct-tcpip} forward ({@link ForwardChannel}); and every remote forward
 * ({@link RemoteForward}). Agent and X11 forwarding are refused. Identity, decisions, approvals, recording and kill are the spine's ({@link Sessions}).
 */
@ApplicationScoped
public class SshEngine implements Engine {
    private static final Logger LOG = Logger.getLogger(SshEngine.class);
    private static final AttributeRepository.AttributeKey<Identity> IDENTITY = new AttributeRepository.AttributeKey<>();
    private static final AttributeRepository.AttributeKey<ClientConnection> CONNECTION = new AttributeRepository.AttributeKey<>();

    private final GatewayConfig.Ssh config;
    private final Duration noticeEvery;
    private final Sessions sessions;
    private final ObjectMapper json;
    private final TokenVerifier tokens;
    private volatile UserCertificates certificates;
    private TargetLogin targets;
    private SshServer server;
    private ExecutorService relayThreads;
    private ExecutorService sessionThreads;
    private volatile boolean draining;

    SshEngine(GatewayConfig config, Sessions sessions, ObjectMapper json, TokenVerifier tokens) {
        this.config = config.ssh();
        this.noticeEvery = config.approval().noticeEvery();
        this.sessions = sessions;
        this.json = json;
        this.tokens = tokens;
    }

    @Override
    public String protocol() {
        return SshRequest.PROTOCOL;
    }

    void start(@Observes StartupEvent event) throws IOException {
        if (!config.enabled()) {
            LOG.info("SSH listener off (portcullis.ssh.enabled=false)");
            return;
        }
        Path hostKey = config.hostKey().orElseThrow(() -> new IllegalStateException("the SSH listener needs portcullis.ssh.host-key (an"
                + " OpenSSH private key file), or portcullis.ssh.enabled=false"));
        UserCertificates.loadKeyPair(hostKey, "portcullis.ssh.host-key"); // fail at startup, not at the first client
        certificates = UserCertificates.load(config, json);
        targets = new TargetLogin(config.targetConnectTimeout(), ForwardChannel.remoteFactory(this));
        relayThreads = Executors.newCachedThreadPool(daemon("ssh-relay"));
        sessionThreads = Executors.newCachedThreadPool(daemon("ssh-session"));

        server = Algorithms.apply(ServerBuilder.builder(), ServerBuilder.DH2KEX).build();
        server.setHost(config.host());
        server.setPort(config.port());
        server.setKeyPairProvider(new FileKeyPairProvider(hostKey));
        // a certificate, or the token as a keyboard-interactive answer; never a password or a plain key
        server.setUserAuthFactories(List.of(UserAuthPublicKeyFactory.INSTANCE, UserAuthKeyboardInteractiveFactory.INSTANCE));
        server.setPublickeyAuthenticator(this::authenticate);
        server.setKeyboardInteractiveAuthenticator(new TokenPrompt(tokens, this::acceptToken));
        server.setCommandFactory((channel, command) -> {
            if (command.length() > config.maxCommandBytes()) {
                throw new IOException("the command line is longer than " + config.maxCommandBytes() + " bytes");
            }
            return new ChannelRelay(this, SshRequest.exec(command));
        });
        server.setShellFactory(channel -> new ChannelRelay(this, SshRequest.shell()));
        // session channels, and ssh -L forwards opened on the target (MINA's own would connect from the gateway)
        server.setChannelFactories(List.of(org.apache.sshd.server.channel.ChannelSessionFactory.INSTANCE, ForwardChannel.factory(this)));
        // ssh -R: tcpip-forward decided and made on the target (MINA's own would listen on the gateway); first, so that
        // a request behind a remote forward's gets its reply in order
        server.setGlobalRequestHandlers(List.of(RemoteForward.handler(this), KeepAliveHandler.INSTANCE, NoMoreSessionsHandler.INSTANCE,
                OpenSshHostKeysHandler.INSTANCE));
        // a refused channel's open failure carries the gateway's reason
        server.setServiceFactories(List.of(ServerUserAuthServiceFactory.INSTANCE, new OpenFailures()));
        server.setSubsystemFactories(List.of(new SubsystemFactory() {
            @Override
            public String getName() {
                return "sftp";
            }

            @Override
            public org.apache.sshd.server.command.Command createSubsystem(org.apache.sshd.server.channel.ChannelSession channel) {
                return new ChannelRelay(SshEngine.this, SshRequest.subsystem("sftp"));
            }
        }));
        CoreModuleProperties.SERVER_IDENTIFICATION.set(server, "Portcullis");
        CoreModuleProperties.AUTH_TIMEOUT.set(server, Duration.ofSeconds(30));
        CoreModuleProperties.MAX_AUTH_REQUESTS.set(server, 6);
        CoreModuleProperties.MAX_CONCURRENT_CHANNELS.set(server, 10);
        server.addSessionListener(new SessionListener() {
            @Override
            public void sessionCreated(org.apache.sshd.common.session.Session session) {
                if (draining) {
                    session.close(true);
                }
            }

            @Override
            public void sessionEvent(org.apache.sshd.common.session.Session session, Event event) {
                if (event == Event.Authenticated && session instanceof ServerSession s) {
                    authenticated(s);
                }
            }

            @Override
            public void sessionClosed(org.apache.sshd.common.session.Session session) {
                ClientConnection c = session.getAttribute(CONNECTION);
                if (c != null) {
                    c.closed();
                }
            }
        });
        server.start();
        LOG.infof("SSH listener on %s:%d (ssh -p %d <connection>@%s, with a certificate from POST /ssh/certificates)", config.host(),
                server.getPort(), server.getPort(), config.host());
    }

    /** A certificate from the gateway's CA, for a well-formed connection name; its identity is kept for the session. */
    private boolean authenticate(String connection, java.security.PublicKey key, ServerSession session) {
        if (!(key instanceof OpenSshCertificate cert)) {
            LOG.debugf("ssh login to %s refused: a plain key, not a Portcullis certificate", connection);
            return false;
        }
        if (UserField.parse(connection) == null) {
            LOG.infof("ssh login refused: \"%s\" is not <connection> or <login>@<connection>", printable(connection));
            return false;
        }
        try {
            session.setAttribute(IDENTITY, certificates.identity(cert));
            return true;
        } catch (UserCertificates.Refused refused) {
            LOG.infof("ssh login to %s with certificate %s refused: %s", connection, cert.getId(), refused.getMessage());
            return false;
        }
    }

    /** A verified token's identity, for a well-formed connection name. */
    private boolean acceptToken(ServerSession session, String connection, Identity identity) {
        if (UserField.parse(connection) == null) {
            LOG.infof("ssh token login refused: \"%s\" is not <connection> or <login>@<connection>", printable(connection));
            return false;
        }
        session.setAttribute(IDENTITY, identity);
        return true;
    }

    /** A client's user field as a log may show it: at most 64 characters. */
    static String printable(String username) {
        return username == null ? "" : username.substring(0, Math.min(64, username.length()));
    }

    private void authenticated(ServerSession s) {
        Identity identity = s.getAttribute(IDENTITY);
        if (identity == null) {
            s.close(true); // cannot happen: only the certificate check authenticates
            return;
        }
        UserField user = UserField.parse(s.getUsername()); // checked when it authenticated
        ClientConnection connection = new ClientConnection(s, identity, user.connection(), user.login(), sessionThreads);
        s.setAttribute(CONNECTION, connection);
        connection.open(sessions);
    }

    ClientConnection connection(ServerSession s) {
        return s.getAttribute(CONNECTION);
    }

    /** The CA, or null when the gateway serves no SSH. */
    UserCertificates certificates() {
        return certificates;
    }

    TargetLogin targets() {
        return targets;
    }

    Duration targetTimeout() {
        return config.targetConnectTimeout();
    }

    ExecutorService relayThreads() {
        return relayThreads;
    }

    /** How often a channel held for approval is reminded, on its stderr, that it waits. */
    Duration noticeEvery() {
        return noticeEvery;
    }

    @Override
    public void stopAccepting() {
        draining = true;
    }

    @Override
    public int openConnections() {
        return server == null ? 0 : server.getActiveSessions().size();
    }

    @Override
    public void endAll(String message) {
        if (server == null) {
            return;
        }
        for (var s : server.getActiveSessions()) {
            ClientConnection c = s.getAttribute(CONNECTION);
            if (c != null) {
                c.executor().execute(() -> c.kill(Session.END_SHUTDOWN, message));
            } else {
                s.close(true);
            }
        }
    }

    void stop(@Observes ShutdownEvent event) {
        draining = true;
        try {
            if (server != null) {
                server.stop(true);
            }
        } catch (IOException e) {
            LOG.debugf("stopping the SSH listener: %s", e.getMessage());
        }
        if (targets != null) {
            targets.close();
        }
        if (relayThreads != null) {
            relayThreads.shutdownNow();
            sessionThreads.shutdownNow();
        }
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
