package dev.portcullis.gateway.protocol.ssh;

import dev.portcullis.gateway.session.RequestResult;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.Verdict;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.RequestHandler;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.session.ServerSession;
import org.jboss.logging.Logger;

/**
 * One remote forward (ssh -R). The client's {@code tcpip-forward} global request is decided by the spine with the
 * address and port it asks the target to listen on ({@code type: tcpip-forward}), then made on the target as the
 * session's login: the target's sshd listens, as it would without the gateway. Each connection it accepts there comes
 * back as a {@code forwarded-tcpip} channel, relayed to the client by {@link ForwardChannel} (not decided again).
 * {@code cancel-tcpip-forward} stops it on the target. Its result (bytes each way, connections) is recorded when it is
 * cancelled or its client connection closes; a kill closes it with the connection. A refused forward gets SSH's
 * {@code SSH_MSG_REQUEST_FAILURE}, which carries no text: the reason is in the recorded decision and the log.
 */
final class RemoteForward {
    private static final Logger LOG = Logger.getLogger(RemoteForward.class);
    static final String CHANNEL = "forwarded-tcpip";
    static final String CANCEL = "cancel-tcpip-forward";
    /** Remote forwards one client connection may hold at once. */
    static final int MAX_PER_CONNECTION = 16;
    /** Global requests of one connection waiting for their reply (OpenSSH sends all its -R at once); more closes the connection. */
    static final int MAX_PENDING = 32;
    private static final long DECISION_TIMEOUT_S = 60;
    private static final int MAX_HOST_CHARS = 255;

    private final Session session;
    private final long seq;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicBoolean ended = new AtomicBoolean();
    private final long start = System.nanoTime();

    private RemoteForward(Session session, long seq) {
        this.session = session;
        this.seq = seq;
    }

    Session session() {
        return session;
    }

    long seq() {
        return seq;
    }

    /** Bytes from the client to the target's side. */
    AtomicLong sent() {
        return sent;
    }

    /** Bytes from the target's side to the client. */
    AtomicLong received() {
        return received;
    }

    void connected() {
        connections.incrementAndGet();
    }

    /** Records the forward's result, once: the bytes each way and the connections it carried. */
    void end(ClientConnection c) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        long durationUs = (System.nanoTime() - start) / 1000;
        long up = sent.get();
        long down = received.get();
        int n = connections.get();
        c.executor().execute(() -> session.result(new RequestResult(seq, true, down, durationUs, List.of(), Set.of(),
                Map.of("sent_bytes", up, "received_bytes", down, "connections", n))));
    }

    /** A forwarded-tcpip channel towards the client, for a connection the target accepted on {@code listening}. */
    static ChannelDirectTcpip channelToClient(SshdSocketAddress listening, SshdSocketAddress origin) {
        // the same open message as direct-tcpip: the address and port connected, then the originator's
        return new ChannelDirectTcpip(origin, listening) {
            @Override
            public String getChannelType() {
                return CHANNEL;
            }
        };
    }

    /** The gateway's handler of {@code tcpip-forward} and {@code cancel-tcpip-forward} from clients. */
    static RequestHandler<ConnectionService> handler(SshEngine engine) {
        return (service, request, wantReply, buffer) -> {
            boolean cancel = CANCEL.equals(request);
            ServerSession ss = (ServerSession) service.getSession();
            ClientConnection c = engine.connection(ss);
            if (!cancel && !SshRequest.REMOTE_FORWARD.equals(request)) {
                if (c == null || !wantReply || !c.globalRequestQueued(Integer.MAX_VALUE, true)) {
                    return RequestHandler.Result.Unsupported; // MINA's own handlers (keepalive, no-more-sessions, hostkeys)
                }
                // a reply behind a remote forward's: the client matches replies by their order (its keepalives get the
                // failure MINA's keepalive handler would send)
                c.globalRequests().execute(() -> {
                    reply(ss, true, -1, false);
                    c.globalRequestDone();
                });
                return RequestHandler.Result.Replied;
            }
            String host = buffer.getString();
            long port = buffer.getUInt();
            if (c == null || host.length() > MAX_HOST_CHARS || port > 65535) {
                LOG.debugf("%s refused: %s", request, c == null ? "not authenticated" : "a listen address of at most " + MAX_HOST_CHARS
                        + " characters and a port from 0 to 65535");
                return RequestHandler.Result.ReplyFailure;
            }
            // replies go in the order of the requests: one at a time, off the I/O thread (a decision and the target block)
            if (!c.globalRequestQueued(MAX_PENDING, false)) {
                LOG.infof("ssh connection to %s closed: more than %d global requests waiting", c.connectionName(), MAX_PENDING);
                ss.close(true);
                return RequestHandler.Result.Replied;
            }
            c.globalRequests().execute(() -> {
                try {
                    int bound = cancel ? cancel(engine, c, host, (int) port) : forward(engine, c, host, (int) port);
                    reply(ss, wantReply, bound, port == 0 && !cancel);
                } finally {
                    c.globalRequestDone();
                }
            });
            return RequestHandler.Result.Replied;
        };
    }

    /** Decides and makes the forward on the target: its port there (the one the target picked for 0), or -1 if refused. */
    private static int forward(SshEngine engine, ClientConnection c, String host, int port) {
        try {
            Session s = c.session().get(DECISION_TIMEOUT_S, TimeUnit.SECONDS);
            String login = TargetLogin.loginFor(s.connection(), c.login());
            Verdict v = CompletableFuture.supplyAsync(() -> s.decide(SshRequest.remoteForward(host, port).as(login)), c.executor())
                    .thenCompose(x -> x).get(DECISION_TIMEOUT_S, TimeUnit.SECONDS);
            if (v instanceof Verdict.Held held) {
                held.hold().withdraw("a remote forward cannot wait for approval");
                v = null;
            }
            if (!(v instanceof Verdict.Allow)) {
                LOG.infof("session %s: %s", s.id(), v instanceof Verdict.Deny d ? d.message("this remote forward")
                        : "Portcullis could not decide a remote forward");
                return -1;
            }
            if (c.remoteForwards() >= MAX_PER_CONNECTION) {
                LOG.infof("session %s: a remote forward on %s:%d refused: this connection holds %d already", s.id(), host, port,
                        MAX_PER_CONNECTION);
                s.result(new RequestResult(v.seq(), false, 0, 0, List.of(), Set.of(), Map.of("sent_bytes", 0L, "received_bytes", 0L,
                        "connections", 0)));
                return -1;
            }
            ClientSession target = c.target(s, engine.targets(), login);
            Buffer ask = target.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST);
            ask.putString(SshRequest.REMOTE_FORWARD);
            ask.putBoolean(true);
            ask.putString(host);
            ask.putUInt(port);
            Buffer answer = target.request(SshRequest.REMOTE_FORWARD, ask, engine.targetTimeout());
            if (answer == null) {
                LOG.infof("session %s: the target refused to listen on %s:%d", s.id(), host, port);
                s.result(new RequestResult(v.seq(), false, 0, 0, List.of(), Set.of(), Map.of("sent_bytes", 0L, "received_bytes", 0L,
                        "connections", 0)));
                return -1;
            }
            int bound = port == 0 ? (int) answer.getUInt() : port;
            if (bound <= 0 || bound > 65535 || !c.addRemoteForward(bound, new RemoteForward(s, v.seq()))) {
                LOG.infof("session %s: the target's answer to a remote forward on %s:%d names port %d, or one already forwarded", s.id(),
                        host, port, bound);
                return -1;
            }
            LOG.debugf("session %s: remote forward listening on %s:%d", s.id(), host, bound);
            return bound;
        } catch (ExecutionException | TimeoutException | IOException | RuntimeException e) {
            LOG.infof("a remote forward on %s:%d refused: %s", host, port, e.getMessage());
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Stops a forward of this connection on the target and records its result: 0, or -1 if it had none there. */
    private static int cancel(SshEngine engine, ClientConnection c, String host, int port) {
        RemoteForward f = c.removeRemoteForward(port);
        if (f == null) {
            return -1;
        }
        f.end(c);
        try {
            ClientSession target = c.target(f.session(), engine.targets(), TargetLogin.loginFor(f.session().connection(), c.login()));
            Buffer ask = target.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST);
            ask.putString(CANCEL);
            ask.putBoolean(true);
            ask.putString(host);
            ask.putUInt(port);
            return target.request(CANCEL, ask, engine.targetTimeout()) == null ? -1 : 0;
        } catch (IOException e) {
            LOG.infof("cancelling the remote forward on %s:%d: %s", host, port, e.getMessage());
            return -1;
        }
    }

    private static void reply(ServerSession ss, boolean wantReply, int bound, boolean withPort) {
        if (!wantReply || !ss.isOpen()) {
            return;
        }
        try {
            Buffer r = ss.createBuffer(bound >= 0 ? SshConstants.SSH_MSG_REQUEST_SUCCESS : SshConstants.SSH_MSG_REQUEST_FAILURE, Integer.BYTES);
            if (bound >= 0 && withPort) {
                r.putUInt(bound);
            }
            ss.writePacket(r);
        } catch (IOException e) {
            ss.close(true);
        }
    }
}
