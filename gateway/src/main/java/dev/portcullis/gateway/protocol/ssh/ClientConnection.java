package dev.portcullis.gateway.protocol.ssh;

import dev.portcullis.gateway.identity.Identity;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.Sessions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.server.session.ServerSession;
import org.jboss.logging.Logger;

/**
 * One client's SSH connection to the gateway: its spine session (opened once the client authenticated with a
 * certificate), its login to the target (made at the first channel, shared by the connection's channels), and its
 * live channels. A kill writes the reason on every channel's stderr and closes the connection. The session's work runs
 * on a serial executor of its own, since MINA calls from several threads.
 */
final class ClientConnection {
    private static final Logger LOG = Logger.getLogger(ClientConnection.class);
    static final String END_CLIENT_DISCONNECT = "client_disconnect";
    /** On the login to the target: the client connection it serves (its forwarded-tcpip channels find their forward). */
    static final AttributeRepository.AttributeKey<ClientConnection> OWNER = new AttributeRepository.AttributeKey<>();

    private final ServerSession ssh;
    private final Identity identity;
    private final String connectionName;
    /** The login the client named ({@code <login>@<connection>}), or null for the connection's own. */
    private final String login;
    private final SerialExecutor executor;
    private final Set<ChannelRelay> relays = ConcurrentHashMap.newKeySet();
    /** The remote forwards (ssh -R) the target listens for, by the port it listens on; at most {@link RemoteForward#MAX_PER_CONNECTION}. */
    private final Map<Integer, RemoteForward> remoteForwards = new ConcurrentHashMap<>();
    /** The client's global requests (tcpip-forward), one at a time, so that their replies keep their order. */
    private final SerialExecutor globalRequests;
    private final AtomicInteger pendingGlobalRequests = new AtomicInteger();
    private final CompletableFuture<Session> session = new CompletableFuture<>();
    private ClientSession target;
    private volatile String endReason;

    ClientConnection(ServerSession ssh, Identity identity, String connectionName, String login, Executor workers) {
        this.ssh = ssh;
        this.identity = identity;
        this.connectionName = connectionName;
        this.login = login;
        this.executor = new SerialExecutor(workers);
        this.globalRequests = new SerialExecutor(workers);
    }

    ServerSession ssh() {
        return ssh;
    }

    Executor globalRequests() {
        return globalRequests;
    }

    /**
     * Counts one more global request waiting; false, and not counted, when {@code max} wait already, or when none waits
     * and {@code onlyBehindOthers}.
     */
    boolean globalRequestQueued(int max, boolean onlyBehindOthers) {
        synchronized (pendingGlobalRequests) {
            int pending = pendingGlobalRequests.get();
            if (pending >= max || (onlyBehindOthers && pending == 0)) {
                return false;
            }
            pendingGlobalRequests.incrementAndGet();
            return true;
        }
    }

    void globalRequestDone() {
        synchronized (pendingGlobalRequests) {
            pendingGlobalRequests.decrementAndGet();
        }
    }

    /** The remote forward the target listens for on {@code port}, or null. */
    RemoteForward remoteForward(int port) {
        return remoteForwards.get(port);
    }

    int remoteForwards() {
        return remoteForwards.size();
    }

    /** False when one is on {@code port} already or the connection has ended. */
    boolean addRemoteForward(int port, RemoteForward forward) {
        if (endReason != null || remoteForwards.putIfAbsent(port, forward) != null) {
            return false;
        }
        if (endReason != null && remoteForwards.remove(port, forward)) { // closed() ran meanwhile
            return false;
        }
        return true;
    }

    RemoteForward removeRemoteForward(int port) {
        return remoteForwards.remove(port);
    }

    String connectionName() {
        return connectionName;
    }

    /** The login the client asked for, or null for the connection's own. */
    String login() {
        return login;
    }

    Executor executor() {
        return executor;
    }

    /** The spine session, or exceptionally why it was refused. */
    CompletableFuture<Session> session() {
        return session;
    }

    /** Opens the spine session for the authenticated identity (once, right after authentication). */
    void open(Sessions sessions) {
        String source = ssh.getClientAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "";
        sessions.open(identity, connectionName, SshRequest.PROTOCOL, source, executor).whenComplete((s, failure) -> executor.execute(() -> {
            if (failure != null) {
                session.completeExceptionally(failure);
                return;
            }
            if (endReason != null) {
                s.end(endReason); // the client left while the session was opening
                session.completeExceptionally(new IllegalStateException("connection closed"));
                return;
            }
            s.attach(this::kill);
            session.complete(s);
        }));
    }

    /**
     * The login to the target as {@code user} (one the connection allows, {@link TargetLogin#loginFor}), made on first
     * use with the connection's sealed key. Blocks: call on a relay thread.
     */
    synchronized ClientSession target(Session s, TargetLogin targets, String user) throws IOException {
        if (target != null && target.isOpen()) {
            return target;
        }
        if (endReason != null) {
            throw new TargetLogin.Failed("the session has ended");
        }
        target = targets.login(s.connection(), s.unsealSecret(), user);
        target.setAttribute(OWNER, this);
        return target;
    }

    Runnable register(ChannelRelay relay) {
        relays.add(relay);
        return () -> relays.remove(relay);
    }

    /** An administrator's kill or the end of a drain: every channel's client reads why, then the connection closes. */
    void kill(String reason, String message) {
        if (endReason != null) {
            return;
        }
        endReason = reason;
        for (ChannelRelay relay : relays) {
            relay.killed(message);
        }
        LOG.infof("ssh connection of %s to %s ended: %s", identity.name(), connectionName, reason);
        ssh.close(false); // flushes what was written, then closes; closed() ends the session
    }

    /** The client's connection closed (or was closed by {@link #kill}). */
    void closed() {
        if (endReason == null) {
            endReason = END_CLIENT_DISCONNECT;
        }
        String reason = endReason;
        for (Integer port : List.copyOf(remoteForwards.keySet())) { // their results before the session's end
            RemoteForward f = remoteForwards.remove(port);
            if (f != null) {
                f.end(this);
            }
        }
        synchronized (this) {
            if (target != null) {
                target.close(true);
            }
        }
        session.thenAccept(s -> executor.execute(() -> s.end(reason)));
    }

    /** Runs tasks one at a time, in order, on a shared pool: the session's executor. */
    static final class SerialExecutor implements Executor {
        private final Executor pool;
        private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
        private boolean running;

        SerialExecutor(Executor pool) {
            this.pool = pool;
        }

        @Override
        public void execute(Runnable task) {
            synchronized (queue) {
                queue.add(task);
                if (running) {
                    return;
                }
                running = true;
            }
            pool.execute(this::drain);
        }

        private void drain() {
            while (true) {
                Runnable next;
                synchronized (queue) {
                    next = queue.poll();
                    if (next == null) {
                        running = false;
                        return;
                    }
                }
                try {
                    next.run();
                } catch (RuntimeException e) {
                    LOG.errorf(e, "an SSH session task failed");
                }
            }
        }
    }
}
