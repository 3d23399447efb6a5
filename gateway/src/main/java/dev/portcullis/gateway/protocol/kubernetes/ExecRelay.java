package dev.portcullis.gateway.protocol.kubernetes;

import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.Verdict;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketBase;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * An allowed exec or attach: the client's WebSocket ({@code v5.channel.k8s.io} or {@code v4.channel.k8s.io}) relayed
 * to the API server's, message by message under backpressure, and its transcript recorded through
 * {@link Session#output}: stdin (channel 0), stdout (1), stderr (2) and terminal resizes (4), each recorded before it
 * is passed on. A refusal by the cluster (its RBAC) and a kill reach the client on the error channel, as a Status that
 * kubectl prints.
 *
 * <p>An exec the policy holds for approval ({@link #hold}) is upgraded at once, so that the user reads on its stderr
 * (stdout for a terminal, whose kubectl reads no stderr) that it waits and for whom, and again every so often; what
 * kubectl sends meanwhile (its terminal's size, typed input) is kept, up to {@value #MAX_HELD_BYTES} bytes, and passed
 * on once approved. Reading goes on while it waits, so kubectl's WebSocket pings are answered and it does not give up.
 */
final class ExecRelay {
    private static final Logger LOG = Logger.getLogger(ExecRelay.class);
    /** The channel protocols relayed, in the gateway's order of preference; both frame each message by a channel byte. */
    static final List<String> SUBPROTOCOLS = List.of("v5.channel.k8s.io", "v4.channel.k8s.io");
    private static final int STDIN = 0;
    private static final int STDOUT = 1;
    private static final int STDERR = 2;
    private static final int ERROR = 3;
    private static final int RESIZE = 4;
    /** How long the output may pause with a partial line held for the detectors before it is passed as far as it goes. */
    static final long FLUSH_AFTER_MS = 25;
    /** What a held exec's client may send before it is approved; beyond it, the gateway stops reading from it. */
    static final int MAX_HELD_BYTES = 64 * 1024;
    /** What each kept message is counted as beyond its bytes, so that many empty ones cannot grow the list unbounded. */
    private static final int HELD_MESSAGE_OVERHEAD = 64;

    private final HttpServerRequest req;
    /** Ends the relay's lease on the cluster's clients ({@link Upstreams.Lease}), once it has one; run once, when it ends. */
    private Runnable release = () -> {
    };
    private final ClientConnection client;
    private final Session session;
    private final long seq;
    private final long start;
    private long bytes;
    private boolean finished;
    /** The groups the call to the cluster impersonates, for the result; none until it is made. */
    private List<String> groups = List.of();
    /** The client's side, once upgraded: by {@link #hold} before the decision is known, else by {@link #start}. */
    private ServerWebSocket accepted;
    /** What a held exec's client sent while it waited, in order; null once relayed. */
    private List<Buffer> heldMessages;
    private int heldBytes;
    private long reminders = -1;
    private Runnable unregister = () -> {
    };
    /** stdout's and stderr's lines through the content detectors, when the decision names them; else null. */
    private LineScanner[] scanners;
    private final Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);
    /** The timer that passes a partial line on (a prompt) once the output pauses, or -1. */
    private long flushTimer = -1;

    ExecRelay(HttpServerRequest req, ClientConnection client, Session session, long seq, long start) {
        this.req = req;
        this.client = client;
        this.session = session;
        this.seq = seq;
        this.start = start;
    }

    /**
     * Runs the workload's stdout and stderr through these content detectors a line at a time ({@link LineScanner}): a
     * line is passed once whole, or once the output pauses for {@link #FLUSH_AFTER_MS} (a prompt, what a terminal
     * echoes), scanned as far as it goes. Before {@link #start}.
     */
    ExecRelay detect(Detectors detectors) {
        scanners = new LineScanner[] {null, new LineScanner(detectors, fired), new LineScanner(detectors, fired)};
        return this;
    }

    /** @param release ends the lease on the cluster's clients that {@code upstreams} belongs to; run once, when the relay ends */
    void start(WebSocketClient upstreams, MultiMap headers, String uri, Runnable release) {
        this.release = release;
        this.groups = headers.getAll(ApiProxy.IMPERSONATE_GROUP);
        if (accepted != null) { // held, now approved: the client's side is open already
            endHold();
            accepted.pause();
            connect(accepted, upstreams, headers, uri);
            return;
        }
        List<String> offered = offered(req.getHeader("Sec-WebSocket-Protocol"));
        if (offered.isEmpty()) {
            release.run();
            ApiProxy.finish(session, seq, 400, 0, start);
            ApiProxy.reply(req, Status.badRequest("Portcullis relays exec and attach with the WebSocket subprotocols " + SUBPROTOCOLS
                    + " (kubectl 1.30 or newer); the client offered none of them"));
            return;
        }
        // The client's side is opened first and paused, then the API server's: its messages get a handler at once, so
        // a short command's output and close are never lost. A refusal by the cluster reaches kubectl on the error
        // channel.
        req.toWebSocket().onComplete(upgraded -> {
            if (upgraded.failed()) {
                finish(false);
                return;
            }
            ServerWebSocket downstream = upgraded.result();
            downstream.pause();
            connect(downstream, upstreams, headers, uri);
        });
    }

    private void connect(ServerWebSocket downstream, WebSocketClient upstreams, MultiMap headers, String uri) {
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost(session.connection().host())
                .setPort(session.connection().port()).setSsl(true).setURI(uri).setHeaders(headers)
                .setSubProtocols(List.of(downstream.subProtocol()));
        upstreams.connect(options).onComplete(connected -> {
            if (connected.failed()) {
                Throwable cause = connected.cause();
                String body = cause instanceof UpgradeRejectedException rejected && rejected.getBody() != null
                        ? rejected.getBody().toString(StandardCharsets.UTF_8) : "";
                String message = body.contains("\"kind\":\"Status\"") ? new JsonObject(body).getString("message", "refused")
                        : "the API server of " + session.connection().name() + " did not open the stream: " + cause.getMessage();
                failOnErrorChannel(downstream, message, cause instanceof UpgradeRejectedException r ? r.getStatus() : 502);
                finish(false);
                return;
            }
            relay(downstream, connected.result());
            downstream.resume();
        });
    }

    /**
     * The exec waits for approval: the client's side is upgraded now and told so, and what it sends is kept. Then
     * {@link #start} relays it once approved, or {@link #refuse} ends it with why; the client leaving withdraws it.
     *
     * @return completes once the upgrade is done or failed ({@link #upgraded()} says which), on the request's context
     */
    Future<Void> hold(Verdict.Held held, Duration noticeEvery) {
        if (offered(req.getHeader("Sec-WebSocket-Protocol")).isEmpty()) {
            return Future.succeededFuture(); // refused with its reason once decided, as an exec that was never held
        }
        int channel = "true".equalsIgnoreCase(req.getParam("stderr")) ? STDERR : STDOUT;
        return req.toWebSocket().<Void>transform(upgraded -> {
            if (upgraded.failed()) {
                held.hold().withdraw("the client's WebSocket upgrade failed");
                return Future.succeededFuture();
            }
            accepted = upgraded.result();
            heldMessages = new ArrayList<>();
            accepted.binaryMessageHandler(message -> {
                heldMessages.add(message);
                heldBytes += message.length() + HELD_MESSAGE_OVERHEAD; // empty messages count too: the list is bounded
                if (heldBytes > MAX_HELD_BYTES) {
                    accepted.pause();
                }
            });
            accepted.textMessageHandler(text -> accepted.close());
            accepted.closeHandler(v -> held.hold().withdraw("the client disconnected"));
            unregister = client.onKill(message -> {
                held.hold().withdraw("the session was killed");
                failOnErrorChannel(accepted, message, 403);
            });
            Runnable notice = () -> {
                if (!accepted.isClosed()) {
                    accepted.writeBinaryMessage(Buffer.buffer().appendByte((byte) channel).appendString(held.hold().notice() + "\r\n"));
                }
            };
            notice.run();
            reminders = client.context().owner().setPeriodic(Math.max(1000, noticeEvery.toMillis()), t -> notice.run()); // at most one a second
            return Future.succeededFuture();
        });
    }

    /**
     * A held exec was not approved, or cannot run: the client reads why on the error channel. It never ran, so it has no
     * result; its approval events say how it ended.
     */
    void refuse(int code, String message) {
        endHold();
        finished = true;
        if (accepted == null) {
            ApiProxy.reply(req, Status.failure(code, code == 403 ? "Forbidden" : "ServiceUnavailable", message));
        } else {
            failOnErrorChannel(accepted, message, code);
        }
    }

    /** Whether the client's side was upgraded while the exec was held. */
    boolean upgraded() {
        return accepted != null;
    }

    private void endHold() {
        unregister.run();
        if (reminders >= 0) {
            client.context().owner().cancelTimer(reminders);
            reminders = -1;
        }
        if (accepted != null && !accepted.isClosed()) { // a closed WebSocket takes no handler
            accepted.closeHandler(null);
        }
    }

    private void relay(ServerWebSocket downstream, WebSocket upstream) {
        unregister = client.onKill(message -> killed(downstream, upstream, message));
        downstream.binaryMessageHandler(message -> {
            fromClient(message);
            pass(message, downstream, upstream);
        });
        upstream.binaryMessageHandler(message -> {
            int channel = message.length() < 1 ? -1 : message.getUnsignedByte(0);
            if (scanners == null) {
                fromServer(message);
                pass(message, upstream, downstream);
            } else if (channel == STDOUT || channel == STDERR) {
                Buffer lines = scanners[channel].accept(message.getBytes(1, message.length()));
                if (lines.length() > 0) {
                    Buffer scanned = Buffer.buffer(lines.length() + 1).appendByte((byte) channel).appendBuffer(lines);
                    fromServer(scanned);
                    pass(scanned, upstream, downstream);
                }
                if (scanners[channel].holding() && flushTimer < 0) {
                    flushTimer = client.context().owner().setTimer(FLUSH_AFTER_MS, t -> {
                        flushTimer = -1;
                        flushHeld(downstream);
                    });
                }
            } else {
                flushHeld(downstream); // the exit status and close come after all the output before them
                pass(message, upstream, downstream);
            }
        });
        // the channel protocols are binary; a text message could carry what the recording never saw
        downstream.textMessageHandler(text -> closeBoth(downstream, upstream, "text messages are not part of the exec protocol"));
        upstream.textMessageHandler(text -> closeBoth(downstream, upstream, "text messages are not part of the exec protocol"));
        downstream.closeHandler(v -> {
            upstream.close();
            finish(true);
        });
        upstream.closeHandler(v -> {
            flushHeld(downstream);
            Short status = upstream.closeStatusCode();
            downstream.close(status == null ? (short) 1000 : status, upstream.closeReason());
            finish(true);
        });
        downstream.exceptionHandler(e -> closeBoth(downstream, upstream, e.getMessage()));
        upstream.exceptionHandler(e -> closeBoth(downstream, upstream, e.getMessage()));
        if (heldMessages != null) { // what the client sent while its exec was held, in order, before anything newer
            for (Buffer message : heldMessages) {
                fromClient(message);
                pass(message, downstream, upstream);
            }
            heldMessages = null;
        }
        upstream.resume();
    }

    /** The partial lines held for the detectors, scanned as far as they go and passed on. */
    private void flushHeld(ServerWebSocket downstream) {
        if (scanners == null) {
            return;
        }
        for (int channel : new int[] {STDOUT, STDERR}) {
            Buffer held = scanners[channel].flush();
            if (held.length() > 0 && !downstream.isClosed()) {
                Buffer scanned = Buffer.buffer(held.length() + 1).appendByte((byte) channel).appendBuffer(held);
                fromServer(scanned);
                bytes += scanned.length();
                downstream.writeBinaryMessage(scanned);
            }
        }
    }

    private void pass(Buffer message, WebSocketBase from, WebSocketBase to) {
        bytes += message.length();
        to.writeBinaryMessage(message);
        if (to.writeQueueFull()) {
            from.pause();
            to.drainHandler(v -> from.resume());
        }
    }

    private void fromClient(Buffer message) {
        if (message.length() < 1) {
            return;
        }
        int channel = message.getUnsignedByte(0);
        if (channel == STDIN) {
            output("stdin", message);
        } else if (channel == RESIZE) {
            try {
                JsonObject size = new JsonObject(message.getBuffer(1, message.length()));
                byte[] text = (size.getInteger("Width", 0) + "x" + size.getInteger("Height", 0)).getBytes(StandardCharsets.US_ASCII);
                session.output(seq, "resize", text, 0, text.length);
            } catch (RuntimeException e) {
                LOG.debugf("session %s: a resize message that is not JSON", session.id());
            }
        }
    }

    private void fromServer(Buffer message) {
        if (message.length() < 1) {
            return;
        }
        int channel = message.getUnsignedByte(0);
        if (channel == STDOUT) {
            output("stdout", message);
        } else if (channel == STDERR) {
            output("stderr", message);
        }
    }

    private void output(String stream, Buffer message) {
        byte[] data = message.getBytes();
        session.output(seq, stream, data, 1, data.length - 1);
    }

    /** An administrator's kill or the drain: the client reads why on the error channel, then both sides close. */
    private void killed(ServerWebSocket downstream, WebSocket upstream, String message) {
        failOnErrorChannel(downstream, message, 403);
        closeBoth(downstream, upstream, "killed");
    }

    /** The exec fails with {@code message}, a Status on the error channel, which kubectl prints. */
    private static void failOnErrorChannel(ServerWebSocket downstream, String message, int code) {
        if (downstream.isClosed()) {
            return; // the client is gone: nobody to tell
        }
        downstream.writeBinaryMessage(Buffer.buffer().appendByte((byte) ERROR).appendBuffer(Status.failure(code,
                code == 403 ? "Forbidden" : "InternalError", message)));
        downstream.close();
    }

    private void closeBoth(ServerWebSocket downstream, WebSocket upstream, String why) {
        LOG.debugf("session %s: exec stream closed: %s", session.id(), why);
        if (!downstream.isClosed()) {
            downstream.close();
        }
        if (!upstream.isClosed()) {
            upstream.close();
        }
        finish(true);
    }

    private void finish(boolean upgraded) {
        if (finished) {
            return;
        }
        finished = true;
        if (flushTimer >= 0) {
            client.context().owner().cancelTimer(flushTimer);
            flushTimer = -1;
        }
        unregister.run();
        release.run();
        ApiProxy.finish(session, seq, upgraded ? 101 : 502, bytes, start, groups, fired);
    }

    /** The subprotocols the client offered that the gateway relays, in the client's order. */
    static List<String> offered(String header) {
        List<String> out = new ArrayList<>();
        if (header == null) {
            return out;
        }
        for (String p : header.split(",")) {
            String name = p.trim().toLowerCase(Locale.ROOT);
            if (SUBPROTOCOLS.contains(name) && !out.contains(name)) {
                out.add(name);
            }
        }
        return out;
    }
}
