package dev.portcullis.gateway.protocol.ssh;

import dev.portcullis.gateway.session.RequestResult;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.Verdict;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.Closeable;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelAsyncOutputStream;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.ChannelListener;
import org.apache.sshd.common.channel.StreamingChannel;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.io.IoReadFuture;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.channel.AbstractServerChannel;
import org.apache.sshd.server.session.ServerSession;
import org.jboss.logging.Logger;

/**
 * One forwarded TCP connection, relayed between two SSH channels. A {@code direct-tcpip} channel (ssh -L) from the
 * client: its destination is decided by the spine, then opened on the target (the target's sshd connects to it, as it
 * would without the gateway). Or a {@code forwarded-tcpip} channel from the target (ssh -R): a connection the target
 * accepted on the listen address of a {@link RemoteForward} the spine allowed, opened back to the client as a
 * {@code forwarded-tcpip} channel of its own. Neither direction has a thread or a queue of its own: a chunk is read
 * from one side only once the other side took the previous one, and the SSH window of the side it came from is given
 * back only then, so a forward holds at most one window per direction. A denied destination gets the protocol's own
 * refusal ({@code administratively prohibited}) with the reason ({@link OpenFailures}). The bytes each way are the result of the forward's request when it closes (of a remote
 * forward, added to the forward's); a kill closes it with its connection.
 */
final class ForwardChannel extends AbstractServerChannel {
    private static final Logger LOG = Logger.getLogger(ForwardChannel.class);
    private static final long DECISION_TIMEOUT_S = 60;
    private static final int CHUNK_BYTES = 32 * 1024;
    private static final int MAX_HOST_CHARS = 255;

    private final SshEngine engine;
    /** Whether this is a target's forwarded-tcpip channel (ssh -R) rather than a client's direct-tcpip (ssh -L). */
    private final boolean remote;
    /** Bytes from this channel's peer to the other side, and back: of a remote forward, the forward's own counters. */
    private volatile AtomicLong fromPeer = new AtomicLong();
    private volatile AtomicLong toPeer = new AtomicLong();
    private final AtomicBoolean recorded = new AtomicBoolean();
    private volatile ChannelDirectTcpip upstream;
    private volatile ChannelAsyncOutputStream client;
    private volatile ClientConnection connection;
    private volatile Session session;
    private volatile long seq;
    private final long start = System.nanoTime();

    static ChannelFactory factory(SshEngine engine) {
        return new ChannelFactory() {
            @Override
            public String getName() {
                return SshRequest.FORWARD;
            }

            @Override
            public Channel createChannel(org.apache.sshd.common.session.Session session) {
                return new ForwardChannel(engine);
            }
        };
    }

    /** The target's {@code forwarded-tcpip} channels (ssh -R), on the gateway's client towards targets. */
    static ChannelFactory remoteFactory(SshEngine engine) {
        return new ChannelFactory() {
            @Override
            public String getName() {
                return RemoteForward.CHANNEL;
            }

            @Override
            public Channel createChannel(org.apache.sshd.common.session.Session session) {
                return new ForwardChannel(engine, true);
            }
        };
    }

    private ForwardChannel(SshEngine engine) {
        this(engine, false);
    }

    private ForwardChannel(SshEngine engine, boolean remote) {
        super("", Collections.emptyList(), null);
        this.engine = engine;
        this.remote = remote;
    }

    @Override
    protected OpenFuture doInit(Buffer buffer) {
        String host = buffer.getString();
        int port = buffer.getInt();
        String originHost = buffer.getString();
        int originPort = buffer.getInt();
        OpenFuture opened = new DefaultOpenFuture(this, this);
        if (host.isEmpty() || host.length() > MAX_HOST_CHARS || port < 0 || port > 65535) {
            refuse(opened, SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, "Portcullis: a forward needs a host of 1 to " + MAX_HOST_CHARS
                    + " characters and a port from 0 to 65535");
            return opened;
        }
        // decisions and the target's login block: off the I/O thread
        engine.relayThreads().execute(() -> {
            if (remote) {
                openBack(opened, host, port, originHost, originPort);
            } else {
                open(opened, host, port, originHost, originPort);
            }
        });
        return opened;
    }

    private void open(OpenFuture opened, String host, int port, String originHost, int originPort) {
        ClientConnection c = engine.connection((ServerSession) getSession());
        if (c == null) {
            refuse(opened, SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, "Portcullis: this connection is closing");
            return;
        }
        try {
            Session s = c.session().get(DECISION_TIMEOUT_S, TimeUnit.SECONDS);
            String login = TargetLogin.loginFor(s.connection(), c.login());
            Verdict v = CompletableFuture.supplyAsync(() -> s.decide(SshRequest.forward(host, port).as(login)), c.executor()).thenCompose(x -> x)
                    .get(DECISION_TIMEOUT_S, TimeUnit.SECONDS);
            if (v instanceof Verdict.Held held) {
                held.hold().withdraw("a forward cannot wait for approval");
                v = null;
            }
            if (!(v instanceof Verdict.Allow)) {
                refuse(opened, SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, v instanceof Verdict.Deny d
                        ? d.message("this forward") : "Portcullis could not decide this forward");
                return;
            }
            connection = c;
            session = s;
            seq = v.seq();
            relay(opened, c.target(s, engine.targets(), login).createDirectTcpipChannel(new SshdSocketAddress(originHost, originPort),
                    new SshdSocketAddress(host, port)));
            LOG.debugf("session %s: forward to %s:%d open", s.id(), host, port);
        } catch (ExecutionException | TimeoutException e) {
            refuse(opened, SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, "Portcullis: the session is not open; try again later");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            refuse(opened, SshConstants.SSH_OPEN_CONNECT_FAILED, "Portcullis is shutting down");
        } catch (IOException e) {
            String why = e instanceof TargetLogin.Failed ? e.getMessage() : "the target could not open the forward to " + host + ":" + port
                    + ": " + e.getMessage();
            refuse(opened, SshConstants.SSH_OPEN_CONNECT_FAILED, "Portcullis: " + why);
        }
    }

    /**
     * A connection the target accepted on a remote forward's listen address ({@code host:port} as the target names it):
     * opened back to the client as a forwarded-tcpip channel with the same addresses. Not decided again: the forward
     * was; one the client never asked for (or cancelled) is refused.
     */
    private void openBack(OpenFuture opened, String host, int port, String originHost, int originPort) {
        ClientConnection c = ((ClientSession) getSession()).getAttribute(ClientConnection.OWNER);
        RemoteForward forward = c == null ? null : c.remoteForward(port);
        if (forward == null) {
            refuse(opened, SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, "Portcullis: no remote forward of this connection listens on port "
                    + port);
            return;
        }
        try {
            connection = c;
            session = forward.session();
            seq = forward.seq();
            fromPeer = forward.received(); // the target's bytes go to the client
            toPeer = forward.sent();
            forward.connected();
            ChannelDirectTcpip up = RemoteForward.channelToClient(new SshdSocketAddress(host, port), new SshdSocketAddress(originHost, originPort));
            c.ssh().getService(ConnectionService.class).registerChannel(up);
            relay(opened, up);
            LOG.debugf("session %s: remote forward on port %d: a connection from %s:%d", session.id(), port, originHost, originPort);
        } catch (IOException e) {
            refuse(opened, SshConstants.SSH_OPEN_CONNECT_FAILED, "Portcullis: the client did not open the forwarded connection: " + e.getMessage());
        }
    }

    /** Opens {@code up} (the other side) and relays this channel to it, then confirms this channel's open. */
    private void relay(OpenFuture opened, ChannelDirectTcpip up) throws IOException {
        up.setStreaming(StreamingChannel.Streaming.Async);
        // MINA marks the target's EOF without ending a pending read: end it, so the client gets the EOF at once
        up.addChannelListener(new ChannelListener() {
            @Override
            public void channelStateChanged(Channel channel, String hint) {
                if (up.isEofSignalled() && up.getAsyncOut() != null) {
                    up.getAsyncOut().close(false);
                }
            }
        });
        upstream = up;
        up.open().verify(engine.targetTimeout());
        client = new ChannelAsyncOutputStream(this, SshConstants.SSH_MSG_CHANNEL_DATA);
        up.addCloseFutureListener(f -> close(false));
        addCloseFutureListener(f -> ended());
        signalChannelOpenSuccess(); // MINA's connection service confirms the open to the peer on this signal
        opened.setOpened();
        readTarget();
    }

    private void refuse(OpenFuture opened, int reason, String message) {
        LOG.debugf("forward refused: %s", message);
        ChannelDirectTcpip up = upstream;
        if (up != null) {
            up.close(true);
        }
        if (!remote) { // the target's sshd gets MINA's own text
            OpenFailures.refuse(getSession(), getRecipient(), message);
        }
        opened.setException(new SshChannelOpenException(getChannelId(), reason, message));
    }

    /** Target to client: the next chunk is read (and the target's window given back) once the client's window took this one. */
    private void readTarget() {
        ChannelDirectTcpip up = upstream;
        up.getAsyncOut().read(new ByteArrayBuffer(CHUNK_BYTES)).addListener(this::fromTarget);
    }

    private void fromTarget(IoReadFuture read) {
        if (read.getException() != null) { // the target's end of stream, or its channel closed
            client.close(false).addListener(f -> {
                try {
                    sendEof();
                } catch (IOException e) {
                    close(true);
                }
            });
            return;
        }
        int n = read.getRead();
        toPeer.addAndGet(n);
        try {
            client.writeBuffer(read.getBuffer()).addListener(written -> {
                if (!written.isWritten()) {
                    close(true);
                    return;
                }
                readTarget(); // MINA gives the target's window back as the chunk is read
            });
        } catch (IOException e) {
            close(true);
        }
    }

    /** Client to target: the client's window is given back once the target's channel took the chunk. */
    @Override
    protected void doWriteData(byte[] data, int off, long len) throws IOException {
        fromPeer.addAndGet(len);
        upstream.getAsyncIn().writeBuffer(ByteArrayBuffer.getCompactClone(data, off, (int) len)).addListener(written -> {
            if (!written.isWritten()) {
                close(true);
                return;
            }
            try {
                if (getLocalWindow().isOpen()) {
                    getLocalWindow().release(len);
                }
            } catch (IOException e) {
                close(true);
            }
        });
    }

    @Override
    protected void doWriteExtendedData(byte[] data, int off, long len) throws IOException {
        throw new IOException("a forward carries no extended data");
    }

    @Override
    public void handleEof() throws IOException {
        super.handleEof();
        ChannelDirectTcpip up = upstream;
        if (up != null) {
            up.getAsyncIn().close(false); // sends the EOF on, after what the client sent before it
        }
    }

    @Override
    public void handleWindowAdjust(Buffer buffer) throws IOException {
        super.handleWindowAdjust(buffer);
        ChannelAsyncOutputStream out = client;
        if (out != null) {
            out.onWindowExpanded();
        }
    }

    @Override
    protected boolean mayWrite() {
        return !isClosed(); // what the target sent last is flushed while the channel closes
    }

    @Override
    protected Closeable getInnerCloseable() {
        ChannelAsyncOutputStream out = client;
        ChannelDirectTcpip up = upstream;
        var closing = builder();
        if (out != null) {
            closing = closing.close(out);
        }
        closing = closing.close(super.getInnerCloseable());
        if (up != null) {
            closing = closing.close(up);
        }
        return closing.build();
    }

    /** The forward's result: the bytes each way (a remote forward's connection: counted in the forward's). */
    private void ended() {
        if (!recorded.compareAndSet(false, true) || session == null || remote) {
            return;
        }
        long durationUs = (System.nanoTime() - start) / 1000;
        long sent = fromPeer.get();
        long received = toPeer.get();
        LOG.debugf("session %s: forward closed, %d bytes to the target, %d to the client", session.id(), sent, received);
        Session s = session;
        connection.executor().execute(() -> s.result(new RequestResult(seq, true, received, durationUs, List.of(), Set.of(),
                Map.of("sent_bytes", sent, "received_bytes", received))));
    }
}
