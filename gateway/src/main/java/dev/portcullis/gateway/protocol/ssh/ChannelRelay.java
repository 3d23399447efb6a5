package dev.portcullis.gateway.protocol.ssh;

import dev.portcullis.gateway.approval.Hold;
import dev.portcullis.gateway.session.RequestResult;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.SessionRefused;
import dev.portcullis.gateway.session.Verdict;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ChannelShell;
import org.apache.sshd.client.channel.ClientChannel;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.PtyChannelConfiguration;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.Signal;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.jboss.logging.Logger;

/**
 * One session channel's exec, shell or subsystem: each of its channel requests (a pty, every environment variable, then
 * the exec, shell or subsystem itself) decided by the spine; if all are allowed, the same channel opened on the target
 * and relayed both ways, its stdin, stdout and stderr recorded through {@link Session#output} before they pass on, and
 * its exit status returned. A denial ends the channel with exit status {@value #DENIED} and the reason on stderr,
 * before anything reaches the target.
 *
 * <p>Runs on a relay thread of its own (MINA's streams block); the session is only touched on its executor.
 */
final class ChannelRelay implements Command {
    private static final Logger LOG = Logger.getLogger(ChannelRelay.class);
    /** What a shell returns for a command it may not run; an exec the policy denies gets it too. */
    static final int DENIED = 126;
    /** What OpenSSH's client returns when the connection itself fails. */
    static final int FAILED = 255;
    private static final long DECISION_TIMEOUT_S = 60;
    private static final int BUFFER_BYTES = 32 * 1024;

    private final SshEngine engine;
    private final SshRequest request;
    private InputStream in;
    private OutputStream out;
    private OutputStream err;
    private ExitCallback exit;
    private ChannelSession channel;
    private volatile ClientChannel upstream;
    private volatile boolean finished;
    /** The approval this channel waits for, if any; withdrawn when the client goes first. */
    private volatile Hold waiting;
    private Runnable unregister = () -> {
    };

    ChannelRelay(SshEngine engine, SshRequest request) {
        this.engine = engine;
        this.request = request;
    }

    @Override
    public void setInputStream(InputStream in) {
        this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
        this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {
        this.err = err;
    }

    @Override
    public void setExitCallback(ExitCallback exit) {
        this.exit = exit;
    }

    @Override
    public void start(ChannelSession channel, Environment env) {
        this.channel = channel;
        // what the client asked for before the exec or shell, read now: MINA keeps it in the environment
        Map<String, String> vars = Map.copyOf(env.getEnv());
        engine.relayThreads().execute(() -> {
            try {
                run(env, vars);
            } catch (RuntimeException e) {
                LOG.errorf(e, "ssh channel relay failed");
                finish(FAILED, "Portcullis: the gateway failed to relay this channel (internal error)");
            }
        });
    }

    private void run(Environment env, Map<String, String> vars) {
        ClientConnection connection = engine.connection(channel.getServerSession());
        if (connection == null) {
            finish(FAILED, "Portcullis: this connection is closing");
            return;
        }
        unregister = connection.register(this);
        Session session;
        try {
            session = connection.session().get(DECISION_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            String message = e.getCause() instanceof SessionRefused refused
                    ? refused.getMessage() + (refused.hint() == null ? "" : " (" + refused.hint() + ")")
                    : "Portcullis could not open the session; try again later";
            finish(DENIED, message);
            // once the channel has closed, its exit status written before its close: closing the connection at once
            // could overtake it, and ssh would exit 255 instead of 126
            channel.addCloseFutureListener(closed -> channel.getServerSession().close(false));
            return;
        } catch (InterruptedException | TimeoutException e) {
            finish(FAILED, "Portcullis: the session did not open in time; try again later");
            return;
        }
        String login;
        try {
            login = TargetLogin.loginFor(session.connection(), connection.login());
        } catch (TargetLogin.Failed e) {
            finish(DENIED, "Portcullis: " + e.getMessage());
            return;
        }
        boolean pty = vars.containsKey(Environment.ENV_TERM) && !request.message().equals(SshRequest.SUBSYSTEM);
        List<SshRequest> asked = new ArrayList<>();
        if (pty) {
            asked.add(SshRequest.pty(vars.get(Environment.ENV_TERM)));
        }
        for (String name : vars.keySet().stream().sorted().toList()) {
            if (!Set.of(Environment.ENV_TERM, Environment.ENV_COLUMNS, Environment.ENV_LINES, Environment.ENV_USER).contains(name)) {
                asked.add(SshRequest.env(name));
            }
        }
        asked.add(request);
        Verdict allowed = null;
        for (SshRequest r : asked.stream().map(q -> q.as(login)).toList()) {
            Verdict v = decide(connection, session, r);
            if (!(v instanceof Verdict.Allow)) {
                String why = v instanceof Verdict.Deny d ? d.message(what(r)) : "Portcullis could not decide " + what(r);
                finish(DENIED, why);
                return;
            }
            allowed = v;
        }
        relay(connection, session, allowed.seq(), pty ? vars : null, env, login);
    }

    /** Decides on the session's executor; a held request waits for its approvers, with their notice on stderr. */
    private Verdict decide(ClientConnection connection, Session session, SshRequest r) {
        try {
            Verdict v = CompletableFuture.supplyAsync(() -> session.decide(r), connection.executor()).thenCompose(s -> s)
                    .get(DECISION_TIMEOUT_S, TimeUnit.SECONDS);
            return v instanceof Verdict.Held held ? approved(held) : v;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException | TimeoutException e) {
            LOG.errorf(e, "session %s: deciding %s failed", session.id(), r.message());
            return null;
        }
    }

    /**
     * Waits for the approvers of a held request, telling the client so on stderr at once and every
     * {@code portcullis.approval.notice-every}; nothing reaches the target meanwhile. A client that leaves withdraws it
     * ({@link #destroy}). Completes with the outcome: an allow, or a denial that says why (denied, expired, withdrawn).
     */
    private Verdict approved(Verdict.Held held) throws InterruptedException, ExecutionException {
        waiting = held.hold();
        try {
            CompletableFuture<Verdict> outcome = held.outcome().toCompletableFuture();
            while (true) {
                if (finished) { // the client left or the session was killed while it waited
                    held.hold().withdraw("the client disconnected");
                } else {
                    writeQuietly(err, held.hold().notice() + "\r\n");
                }
                try {
                    return outcome.get(Math.max(1000, engine.noticeEvery().toMillis()), TimeUnit.MILLISECONDS); // at most one reminder a second
                } catch (TimeoutException stillWaiting) {
                    // remind the client
                }
            }
        } catch (InterruptedException e) {
            held.hold().withdraw("the client disconnected");
            throw e;
        } finally {
            waiting = null;
        }
    }

    private static String what(SshRequest r) {
        return switch (r.message()) {
            case SshRequest.EXEC -> "this command";
            case SshRequest.SHELL -> "an interactive shell";
            case SshRequest.PTY -> "a terminal (pty)";
            case SshRequest.ENV -> "setting environment variable " + r.input().name();
            default -> "subsystem " + r.input().name();
        };
    }

    private void relay(ClientConnection connection, Session session, long seq, Map<String, String> ptyVars, Environment env,
            String login) {
        long start = System.nanoTime();
        ClientChannel up;
        // sftp: each file operation decided and recorded on its own, not the channel's bytes
        SftpFilter sftp = SshRequest.SFTP.equals(request.input().name())
                ? new SftpFilter(r -> decide(connection, session, r.as(login)), connection, session, out, err) : null;
        try {
            ClientSession target = connection.target(session, engine.targets(), login);
            up = open(target, ptyVars, env);
            if (ptyVars != null) { // the terminal's size from the pty-req, first: the asciicast's header
                size(connection, session, seq, ptyVars);
            }
            boolean record = !request.message().equals(SshRequest.SUBSYSTEM);
            up.setIn(sftp != null ? sftp.requests(in) : record ? new RecordedInput(in, connection, session, seq) : in);
            up.setOut(sftp != null ? sftp.responses() : new RecordedOutput(out, connection, session, seq, "stdout", record));
            up.setErr(new RecordedOutput(err, connection, session, seq, "stderr", record));
            upstream = up;
            up.open().verify(engine.targetTimeout());
        } catch (IOException e) {
            LOG.infof("session %s: %s", session.id(), e.getMessage());
            String message = e instanceof TargetLogin.Failed ? e.getMessage() : "Portcullis could not open the channel on the target: " + e.getMessage();
            result(connection, session, seq, false, 0, start, null);
            finish(FAILED, "Portcullis: " + message);
            return;
        }
        if (ptyVars != null && up instanceof org.apache.sshd.client.channel.PtyCapableChannelSession ptyChannel) {
            env.addSignalListener((ch, signal) -> resized(connection, session, seq, ptyChannel, env), Signal.WINCH);
        }
        up.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), 0L);
        if (sftp != null) {
            sftp.ended();
        }
        Integer status = up.getExitStatus();
        result(connection, session, seq, status != null && status == 0, 0, start, status);
        finish(status == null ? FAILED : status, null);
    }

    private ClientChannel open(ClientSession target, Map<String, String> ptyVars, Environment env) throws IOException {
        PtyChannelConfiguration pty = null;
        if (ptyVars != null) {
            pty = new PtyChannelConfiguration();
            pty.setPtyType(ptyVars.get(Environment.ENV_TERM));
            pty.setPtyColumns(intOr(ptyVars.get(Environment.ENV_COLUMNS), 80));
            pty.setPtyLines(intOr(ptyVars.get(Environment.ENV_LINES), 24));
            pty.setPtyModes(env.getPtyModes());
        }
        return switch (request.message()) {
            case SshRequest.EXEC -> {
                ChannelExec exec = target.createExecChannel(request.input().command(), pty, Map.of());
                exec.setUsePty(pty != null);
                yield exec;
            }
            case SshRequest.SHELL -> {
                ChannelShell shell = target.createShellChannel(pty, Map.of());
                shell.setUsePty(pty != null);
                yield shell;
            }
            default -> target.createSubsystemChannel(request.input().name());
        };
    }

    private void resized(ClientConnection connection, Session session, long seq,
            org.apache.sshd.client.channel.PtyCapableChannelSession ptyChannel, Environment env) {
        size(connection, session, seq, env.getEnv());
        int cols = intOr(env.getEnv().get(Environment.ENV_COLUMNS), 80);
        int rows = intOr(env.getEnv().get(Environment.ENV_LINES), 24);
        try {
            ptyChannel.sendWindowChange(cols, rows);
        } catch (IOException e) {
            LOG.debugf("session %s: window change not sent: %s", session.id(), e.getMessage());
        }
    }

    /** Records the terminal's size, {@code COLSxROWS}, as the pty-req or the last window-change gave it. */
    private static void size(ClientConnection connection, Session session, long seq, Map<String, String> vars) {
        byte[] size = (intOr(vars.get(Environment.ENV_COLUMNS), 80) + "x" + intOr(vars.get(Environment.ENV_LINES), 24))
                .getBytes(StandardCharsets.US_ASCII);
        record(connection, session, seq, "resize", size, 0, size.length);
    }

    private static int intOr(String value, int otherwise) {
        try {
            return value == null ? otherwise : Math.max(1, Math.min(10_000, Integer.parseInt(value.trim())));
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    private void result(ClientConnection connection, Session session, long seq, boolean ok, long bytes, long start, Integer status) {
        long durationUs = (System.nanoTime() - start) / 1000;
        Map<String, Object> details = status == null ? Map.of() : Map.of("exit_status", status);
        connection.executor().execute(() -> session.result(new RequestResult(seq, ok, bytes, durationUs, List.of(), Set.of(), details)));
    }

    /** Records on the session's executor and waits for it, so a chunk is recorded before it passes on. */
    static void record(ClientConnection connection, Session session, long seq, String stream, byte[] data, int offset, int length) {
        if (length <= 0) {
            return;
        }
        try {
            CompletableFuture.runAsync(() -> session.output(seq, stream, data, offset, length), connection.executor())
                    .get(DECISION_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while recording");
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the session's output could not be recorded", e);
        }
    }

    /** An administrator ended the session: the client reads why, and the target's channel closes. */
    void killed(String message) {
        // The message first: closing the target's channel ends this relay from another thread, without it.
        finish(FAILED, message);
        Hold held = waiting;
        if (held != null) {
            held.withdraw("the session was killed");
        }
        ClientChannel up = upstream;
        if (up != null) {
            up.close(true);
        }
    }

    private synchronized void finish(int status, String message) {
        if (finished) {
            return;
        }
        finished = true;
        unregister.run();
        if (message != null) {
            writeQuietly(err, message + "\r\n");
        }
        if (exit != null) {
            exit.onExit(status, message == null ? "" : message);
        }
    }

    private static void writeQuietly(OutputStream stream, String text) {
        try {
            stream.write(text.getBytes(StandardCharsets.UTF_8));
            stream.flush();
        } catch (IOException e) {
            // the client is gone
        }
    }

    @Override
    public void destroy(ChannelSession channel) {
        Hold held = waiting;
        if (held != null) {
            held.withdraw("the client disconnected");
        }
        ClientChannel up = upstream;
        if (up != null) {
            up.close(false);
        }
        finished = true;
        unregister.run();
    }

    /** The client's stdin towards the target, recorded first. */
    private static final class RecordedInput extends InputStream {
        private final InputStream in;
        private final ClientConnection connection;
        private final Session session;
        private final long seq;

        RecordedInput(InputStream in, ClientConnection connection, Session session, long seq) {
            this.in = in;
            this.connection = connection;
            this.session = session;
            this.seq = seq;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, Math.min(len, BUFFER_BYTES));
            if (n > 0) {
                record(connection, session, seq, "stdin", b, off, n);
            }
            return n;
        }

        @Override
        public int available() throws IOException {
            return in.available();
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** The target's stdout or stderr towards the client, recorded first, flushed at once (interactive). */
    private static final class RecordedOutput extends OutputStream {
        private final OutputStream out;
        private final ClientConnection connection;
        private final Session session;
        private final long seq;
        private final String stream;
        private final boolean record;

        RecordedOutput(OutputStream out, ClientConnection connection, Session session, long seq, String stream, boolean record) {
            this.out = out;
            this.connection = connection;
            this.session = session;
            this.seq = seq;
            this.stream = stream;
            this.record = record;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (record) {
                record(connection, session, seq, stream, b, off, len);
            }
            out.write(b, off, len);
            out.flush();
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.flush(); // the client's stream closes with the channel, after the exit status
        }
    }
}
