package dev.portcullis.gateway.protocol.kubernetes;

import dev.portcullis.gateway.session.RequestResult;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.Verdict;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * An allowed port-forward: kubectl's WebSocket ({@value #SUBPROTOCOL}, SPDY/3.1 carried in binary messages) relayed to
 * the API server's. kubectl names no port when it opens the forward; each local connection it forwards opens two SPDY
 * streams (error and data) whose SYN_STREAM carries the pod's port. The gateway reads every frame kubectl sends:
 *
 * <ul>
 * <li>a SYN_STREAM to a port the forward has not reached yet is decided ({@code portcullis/request}, the port-forward
 * with {@code phase} stream and that port) before it goes on; a refused one never reaches the cluster: kubectl gets a
 * reply and the reason on the error stream, which it prints ("an error occurred forwarding ...") before it stops;</li>
 * <li>data frames count, per port and each way, as the bytes the forward carried, recorded with the forward's result
 * when it ends;</li>
 * <li>header blocks are compressed again for the peer they go to, since one compression context runs through each
 * direction and the gateway removes and adds streams ({@link SpdyHeaderBlock}).</li>
 * </ul>
 * A kill closes both sides. Confined to the client connection's event loop.
 */
final class PortForwardRelay {
    private static final Logger LOG = Logger.getLogger(PortForwardRelay.class);
    static final String SUBPROTOCOL = "SPDY/3.1+portforward.k8s.io";
    /** Longest SPDY control frame read; kubectl's are under 200 bytes. */
    static final int MAX_CONTROL_FRAME_BYTES = 16384;
    /** Streams one forward may hold open at once; kubectl opens two per forwarded connection. */
    static final int MAX_OPEN_STREAMS = 512;

    private final HttpServerRequest req;
    private final Runnable release;
    private final ClientConnection client;
    private final Session session;
    private final ApiRequest opening;
    private final long seq;
    private final long start;
    private final SpdyFrames fromClient = new SpdyFrames(MAX_CONTROL_FRAME_BYTES);
    private final SpdyFrames fromServer = new SpdyFrames(MAX_CONTROL_FRAME_BYTES);
    private final SpdyHeaderBlock.Reader clientHeaders = new SpdyHeaderBlock.Reader();
    private final SpdyHeaderBlock.Reader serverHeaders = new SpdyHeaderBlock.Reader();
    private final SpdyHeaderBlock.Writer toServerHeaders = new SpdyHeaderBlock.Writer();
    private final SpdyHeaderBlock.Writer toClientHeaders = new SpdyHeaderBlock.Writer();
    /** The streams kubectl opened that are not closed yet, by id. */
    private final Map<Integer, Stream> streams = new HashMap<>();
    /** Every port the forward asked for, in order, with its decision and what it carried. */
    private final Map<Integer, Port> ports = new LinkedHashMap<>();
    /** The gateway's own frames for kubectl, written at the next frame boundary of what the API server sends. */
    private final Queue<Supplier<Buffer>> toClientAtBoundary = new ArrayDeque<>();
    private ServerWebSocket downstream;
    private WebSocket upstream;
    /** A port's decision is pending: kubectl's frames wait, in order, behind the SYN_STREAM that asked for it. */
    private boolean deciding;
    /** Whether the data frame kubectl is sending now goes on to the API server. */
    private boolean clientFramePasses;
    private boolean finished;
    /** The groups the call to the cluster impersonates, for the result; none until it is made. */
    private List<String> groups = List.of();
    private Runnable unregister = () -> {
    };

    private static final class Stream {
        final Port port;
        final boolean data;
        final boolean refused;
        boolean clientFin;
        boolean serverFin;

        Stream(Port port, boolean data, boolean refused) {
            this.port = port;
            this.data = data;
            this.refused = refused;
        }
    }

    private static final class Port {
        final int number;
        boolean decided;
        /** Once decided: null if the forward may reach the port, else why not, for kubectl. */
        String refusal;
        long connections;
        long bytesToPod;
        long bytesFromPod;

        Port(int number) {
            this.number = number;
        }
    }

    /** @param release ends the relay's lease on the cluster's clients ({@link Upstreams.Lease}); run once, when it ends */
    PortForwardRelay(HttpServerRequest req, ClientConnection client, Session session, ApiRequest opening, long seq, long start,
            Runnable release) {
        this.release = release;
        this.req = req;
        this.client = client;
        this.session = session;
        this.opening = opening;
        this.seq = seq;
        this.start = start;
    }

    /** Whether the client offered the tunnelled SPDY port-forward protocol. */
    static boolean offered(String header) {
        if (header == null) {
            return false;
        }
        for (String p : header.split(",")) {
            if (p.trim().equalsIgnoreCase(SUBPROTOCOL)) {
                return true;
            }
        }
        return false;
    }

    void start(WebSocketClient upstreams, MultiMap headers, String uri) {
        groups = headers.getAll(ApiProxy.IMPERSONATE_GROUP);
        if (!offered(req.getHeader("Sec-WebSocket-Protocol"))) {
            release.run();
            ApiProxy.finish(session, seq, 400, 0, start);
            ApiProxy.reply(req, Status.badRequest("Portcullis relays port-forward with the WebSocket subprotocol " + SUBPROTOCOL
                    + " (kubectl 1.31 or newer); the client did not offer it"));
            return;
        }
        // The API server's side first: its refusal (the cluster's RBAC) reaches kubectl as the answer to its upgrade,
        // which it prints; only then the client's side, while the API server's waits paused.
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost(session.connection().host())
                .setPort(session.connection().port()).setSsl(true).setURI(uri).setHeaders(headers)
                .setSubProtocols(List.of(SUBPROTOCOL));
        upstreams.connect(options).onComplete(connected -> {
            if (connected.failed()) {
                Throwable cause = connected.cause();
                int code = cause instanceof UpgradeRejectedException r ? r.getStatus() : 502;
                String body = cause instanceof UpgradeRejectedException rejected && rejected.getBody() != null
                        ? rejected.getBody().toString(StandardCharsets.UTF_8) : "";
                String message = body.contains("\"kind\":\"Status\"") ? new JsonObject(body).getString("message", "refused")
                        : "the API server of " + session.connection().name() + " did not open the port-forward: " + cause.getMessage();
                finish(code);
                ApiProxy.reply(req, Status.failure(code < 400 ? 502 : code, code == 403 ? "Forbidden" : "InternalError", message));
                return;
            }
            WebSocket server = connected.result();
            server.pause();
            req.toWebSocket().onComplete(accepted -> {
                if (accepted.failed()) {
                    server.close();
                    finish(502);
                    return;
                }
                downstream = accepted.result();
                downstream.pause();
                relay(server);
                downstream.resume();
            });
        });
    }

    private void relay(WebSocket server) {
        upstream = server;
        unregister = client.onKill(message -> close("killed: " + message));
        downstream.binaryMessageHandler(message -> {
            fromClient.add(message);
            pumpFromClient();
        });
        upstream.binaryMessageHandler(message -> {
            fromServer.add(message);
            pumpFromServer();
        });
        // the tunnel is binary; a text message could carry what the gateway never read
        downstream.textMessageHandler(text -> close("a text message is not part of the port-forward protocol"));
        upstream.textMessageHandler(text -> close("a text message is not part of the port-forward protocol"));
        downstream.closeHandler(v -> close("the client closed the forward"));
        upstream.closeHandler(v -> close("the API server closed the forward"));
        downstream.exceptionHandler(e -> close(e.getMessage()));
        upstream.exceptionHandler(e -> close(e.getMessage()));
        downstream.drainHandler(v -> {
            if (!finished) {
                upstream.resume();
            }
        });
        upstream.drainHandler(v -> resumeClient());
        upstream.resume();
    }

    // --- kubectl to the API server ----------------------------------------------------------------------------

    private void pumpFromClient() {
        Buffer out = Buffer.buffer();
        try {
            SpdyFrames.Item item;
            while (!deciding && !finished && (item = fromClient.next()) != null) {
                if (item instanceof SpdyFrames.Data d) {
                    fromClientData(d, out);
                } else {
                    fromClientControl((SpdyFrames.Control) item, out);
                }
            }
        } catch (SpdyHeaderBlock.Malformed e) {
            close("kubectl sent " + e.getMessage());
            return;
        }
        send(upstream, out);
        if (!finished && (deciding || full(upstream))) {
            downstream.pause();
        }
    }

    private void fromClientData(SpdyFrames.Data d, Buffer out) {
        Stream s = streams.get(d.streamId());
        if (d.first()) {
            // decided for the whole frame: a frame whose header went on goes on whole, whatever happens meanwhile
            clientFramePasses = s != null && !s.refused;
        }
        if (!clientFramePasses) {
            // a stream the cluster never saw (refused, or never opened): nothing of it passes
            if (s != null && d.last() && d.fin()) {
                streams.remove(d.streamId());
            }
            return;
        }
        if (d.first()) {
            out.appendBuffer(SpdyFrames.dataHeader(d.streamId(), d.flags(), d.length()));
        }
        out.appendBuffer(d.piece());
        if (s != null && s.data) {
            s.port.bytesToPod += d.piece().length();
        }
        if (s != null && d.last() && d.fin()) {
            s.clientFin = true;
            forgetIfDone(d.streamId(), s);
        }
    }

    private void fromClientControl(SpdyFrames.Control c, Buffer out) throws SpdyHeaderBlock.Malformed {
        switch (c.type()) {
            case SpdyFrames.SYN_STREAM -> synStream(c, out);
            case SpdyFrames.SYN_REPLY, SpdyFrames.HEADERS -> {
                Stream s = streams.get(c.streamId());
                Buffer reencoded = reencode(c, 4, clientHeaders, toServerHeaders, s != null && !s.refused);
                if (reencoded != null) {
                    out.appendBuffer(reencoded);
                }
            }
            case SpdyFrames.RST_STREAM, SpdyFrames.WINDOW_UPDATE -> {
                Stream s = streams.get(c.streamId());
                if (c.type() == SpdyFrames.RST_STREAM && s != null) {
                    streams.remove(c.streamId());
                }
                if (s != null && !s.refused) {
                    out.appendBuffer(SpdyFrames.control(c.type(), c.flags(), c.body()));
                }
            }
            case SpdyFrames.SETTINGS, SpdyFrames.PING, SpdyFrames.GOAWAY -> out.appendBuffer(SpdyFrames.control(c.type(), c.flags(), c.body()));
            default -> throw new SpdyHeaderBlock.Malformed("a SPDY control frame of type " + c.type() + ", which port-forward does not use");
        }
    }

    /** A new stream: to a port already decided it goes on (or is refused) at once; to a new port it waits for the decision. */
    private void synStream(SpdyFrames.Control c, Buffer out) throws SpdyHeaderBlock.Malformed {
        if (c.body().length() < 10) {
            throw new SpdyHeaderBlock.Malformed("a SYN_STREAM frame shorter than its fields");
        }
        int id = c.streamId();
        List<SpdyHeaderBlock.Header> headers = clientHeaders.read(c.body().getBuffer(10, c.body().length()));
        if (id == 0 || streams.containsKey(id)) {
            throw new SpdyHeaderBlock.Malformed("a SYN_STREAM for stream " + id + ", which is " + (id == 0 ? "not a stream" : "open already"));
        }
        String type = SpdyHeaderBlock.value(headers, "streamType");
        boolean data = "data".equals(type);
        String portText = SpdyHeaderBlock.value(headers, "port");
        if (!data && !"error".equals(type)) {
            refuse(id, false, null, "Portcullis forwards only streams of type data and error, not " + quoted(type));
            return;
        }
        int number;
        try {
            number = ApiRequest.port(portText == null ? "" : portText);
        } catch (ApiRequest.Malformed e) {
            refuse(id, !data, null, "Portcullis cannot forward this stream: its port header " + e.getMessage());
            return;
        }
        if (streams.size() >= MAX_OPEN_STREAMS) {
            refuse(id, !data, null, "Portcullis holds at most " + MAX_OPEN_STREAMS + " open streams per port-forward; close some connections");
            return;
        }
        Port port = ports.get(number);
        if (port == null) {
            if (ports.size() >= ApiRequest.MAX_FORWARD_PORTS) {
                refuse(id, !data, null, "Portcullis forwards at most " + ApiRequest.MAX_FORWARD_PORTS + " ports per port-forward");
                return;
            }
            port = new Port(number);
            ports.put(number, port);
        }
        if (!port.decided) {
            decide(port, c, headers, data, out);
            return;
        }
        opened(c, headers, port, data, out);
    }

    /**
     * Asks whether the forward may reach {@code port}. A decision the session remembers is there at once; otherwise
     * kubectl's frames wait behind this one, in order, until it comes.
     */
    private void decide(Port port, SpdyFrames.Control c, List<SpdyHeaderBlock.Header> headers, boolean data, Buffer out) {
        CompletableFuture<Verdict> verdict = session.decide(opening.forPort(port.number)).toCompletableFuture();
        if (verdict.isDone()) {
            decided(port, verdict.join());
            opened(c, headers, port, data, out);
            return;
        }
        deciding = true;
        verdict.thenAccept(v -> {
            decided(port, v);
            deciding = false;
            if (finished) {
                return;
            }
            Buffer more = Buffer.buffer();
            opened(c, headers, port, data, more);
            send(upstream, more);
            pumpFromClient();
            resumeClient();
        });
    }

    private void decided(Port port, Verdict verdict) {
        port.decided = true;
        if (verdict instanceof Verdict.Deny deny) {
            port.refusal = deny.message("a port-forward to port " + port.number);
        } else if (verdict instanceof Verdict.Held held) {
            held.hold().withdraw("a stream of an open port-forward cannot wait for approval");
            port.refusal = "Portcullis denied a port-forward to port " + port.number + ": the policy asks for an approval, which a"
                    + " stream of an open forward cannot wait for; have the opening of the forward approved instead";
        }
    }

    private void opened(SpdyFrames.Control c, List<SpdyHeaderBlock.Header> headers, Port port, boolean data, Buffer out) {
        int id = c.streamId();
        if (port.refusal != null) {
            refuse(id, !data, port, port.refusal);
            return;
        }
        streams.put(id, new Stream(port, data, false));
        if (data) {
            port.connections++;
        }
        Buffer body = c.body().getBuffer(0, 10).appendBuffer(toServerHeaders.write(headers));
        out.appendBuffer(SpdyFrames.control(SpdyFrames.SYN_STREAM, c.flags(), body));
    }

    /**
     * A stream the cluster never sees. kubectl gets what a refusing server would send: a reply, then on the error
     * stream the reason (which kubectl prints, and then ends the forward), on the data stream an immediate end.
     */
    private void refuse(int id, boolean errorStream, Port port, String why) {
        LOG.debugf("session %s: port-forward stream %d refused: %s", session.id(), id, why);
        streams.put(id, new Stream(port, !errorStream, true));
        toClient(() -> {
            Buffer frames = SpdyFrames.control(SpdyFrames.SYN_REPLY, 0,
                    Buffer.buffer().appendInt(id).appendBuffer(toClientHeaders.write(List.of())));
            byte[] text = errorStream ? why.getBytes(StandardCharsets.UTF_8) : new byte[0];
            frames.appendBuffer(SpdyFrames.dataHeader(id, SpdyFrames.FLAG_FIN, text.length)).appendBytes(text);
            return frames;
        });
    }

    // --- the API server to kubectl ----------------------------------------------------------------------------

    private void pumpFromServer() {
        Buffer out = Buffer.buffer();
        try {
            SpdyFrames.Item item;
            while (!finished && (item = fromServer.next()) != null) {
                if (item instanceof SpdyFrames.Data d) {
                    fromServerData(d, out);
                    if (d.last()) {
                        flushToClient(out);
                    }
                } else {
                    fromServerControl((SpdyFrames.Control) item, out);
                    flushToClient(out);
                }
            }
        } catch (SpdyHeaderBlock.Malformed e) {
            close("the API server sent " + e.getMessage());
            return;
        }
        send(downstream, out);
        if (!finished && full(downstream)) {
            upstream.pause();
        }
    }

    private void fromServerData(SpdyFrames.Data d, Buffer out) {
        Stream s = streams.get(d.streamId());
        if (d.first()) {
            out.appendBuffer(SpdyFrames.dataHeader(d.streamId(), d.flags(), d.length()));
        }
        out.appendBuffer(d.piece());
        if (s != null && s.data && !s.refused) {
            s.port.bytesFromPod += d.piece().length();
        }
        if (s != null && d.last() && d.fin()) {
            s.serverFin = true;
            forgetIfDone(d.streamId(), s);
        }
    }

    private void fromServerControl(SpdyFrames.Control c, Buffer out) throws SpdyHeaderBlock.Malformed {
        switch (c.type()) {
            case SpdyFrames.SYN_STREAM -> out.appendBuffer(reencode(c, 10, serverHeaders, toClientHeaders, true));
            case SpdyFrames.SYN_REPLY, SpdyFrames.HEADERS -> out.appendBuffer(reencode(c, 4, serverHeaders, toClientHeaders, true));
            case SpdyFrames.RST_STREAM -> {
                streams.remove(c.streamId());
                out.appendBuffer(SpdyFrames.control(c.type(), c.flags(), c.body()));
            }
            case SpdyFrames.SETTINGS, SpdyFrames.PING, SpdyFrames.GOAWAY, SpdyFrames.WINDOW_UPDATE ->
                out.appendBuffer(SpdyFrames.control(c.type(), c.flags(), c.body()));
            default -> throw new SpdyHeaderBlock.Malformed("a SPDY control frame of type " + c.type() + ", which port-forward does not use");
        }
    }

    /**
     * Frames of the gateway's own for kubectl, written where what the API server sends has a frame boundary; made only
     * then, since a header block among them must take its place in the compression context of that direction.
     */
    private void toClient(Supplier<Buffer> frames) {
        toClientAtBoundary.add(frames);
        if (fromServer.atBoundary()) {
            Buffer out = Buffer.buffer();
            flushToClient(out);
            send(downstream, out);
        }
    }

    private void flushToClient(Buffer out) {
        for (Supplier<Buffer> f; (f = toClientAtBoundary.poll()) != null;) {
            out.appendBuffer(f.get());
        }
    }

    // --- both ----------------------------------------------------------------------------------------------------

    /** A frame with a header block, compressed again for its receiver; null when it is not passed on (it was still read). */
    private static Buffer reencode(SpdyFrames.Control c, int fixed, SpdyHeaderBlock.Reader from, SpdyHeaderBlock.Writer to, boolean pass)
            throws SpdyHeaderBlock.Malformed {
        if (c.body().length() < fixed) {
            throw new SpdyHeaderBlock.Malformed("a SPDY control frame of type " + c.type() + " shorter than its fields");
        }
        List<SpdyHeaderBlock.Header> headers = from.read(c.body().getBuffer(fixed, c.body().length()));
        if (!pass) {
            return null;
        }
        return SpdyFrames.control(c.type(), c.flags(), c.body().getBuffer(0, fixed).appendBuffer(to.write(headers)));
    }

    private void forgetIfDone(int id, Stream s) {
        if (s.clientFin && s.serverFin) {
            streams.remove(id);
        }
    }

    private static void send(WebSocketBase to, Buffer out) {
        if (out.length() > 0 && to != null && !to.isClosed()) {
            to.writeBinaryMessage(out);
        }
    }

    /** Whether {@code to} holds as much as it may; a closed side holds nothing more (and the relay is ending). */
    private static boolean full(WebSocketBase to) {
        return !to.isClosed() && to.writeQueueFull();
    }

    private void resumeClient() {
        if (!deciding && !finished && upstream != null && !full(upstream)) {
            downstream.resume();
        }
    }

    private void close(String why) {
        if (finished) {
            return;
        }
        LOG.debugf("session %s: port-forward closed: %s", session.id(), why);
        if (downstream != null && !downstream.isClosed()) {
            downstream.close((short) 1000, truncate(why));
        }
        if (upstream != null && !upstream.isClosed()) {
            upstream.close();
        }
        finish(101);
    }

    private void finish(int code) {
        if (finished) {
            return;
        }
        finished = true;
        unregister.run();
        release.run();
        clientHeaders.close();
        serverHeaders.close();
        toServerHeaders.close();
        toClientHeaders.close();
        List<Map<String, Object>> carried = new ArrayList<>();
        long fromPod = 0;
        for (Port p : ports.values()) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("port", p.number);
            one.put("allowed", p.decided && p.refusal == null);
            one.put("connections", p.connections);
            one.put("bytes_to_pod", p.bytesToPod);
            one.put("bytes_from_pod", p.bytesFromPod);
            carried.add(one);
            fromPod += p.bytesFromPod;
        }
        session.result(new RequestResult(seq, code < 400, fromPod, (System.nanoTime() - start) / 1000,
                List.of(), Set.of(), withPorts(ApiProxy.details(session, code, groups), carried)));
    }

    private static Map<String, Object> withPorts(Map<String, Object> details, List<Map<String, Object>> carried) {
        Map<String, Object> all = new LinkedHashMap<>(details);
        all.put("ports", carried);
        return all;
    }

    /** A WebSocket close reason holds at most 123 bytes. */
    private static String truncate(String why) {
        byte[] b = why.getBytes(StandardCharsets.UTF_8);
        return b.length <= 120 ? why : new String(b, 0, 120, StandardCharsets.UTF_8);
    }

    private static String quoted(String s) {
        return s == null ? "(none)" : "\"" + (s.length() > 32 ? s.substring(0, 32) + "..." : s) + "\"";
    }
}
