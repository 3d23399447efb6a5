package dev.portcullis.gateway.protocol.kubernetes;

import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.Sessions;
import io.vertx.core.Context;
import io.vertx.core.http.HttpConnection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * One client connection to the Kubernetes listener and its sessions. kubectl sends each API call as its own HTTP
 * request, with the same bearer token, over a few kept-alive connections; a session is one connection's requests for
 * one token on one registered cluster, so the token is verified and {@code portcullis/session} decided once per
 * connection, not per call. A kill ends the connection, and with it every stream of the session (watches, logs,
 * execs). Confined to the connection's event loop.
 */
final class ClientConnection {
    /** Sessions one connection may hold (distinct tokens or clusters); kubectl uses one. */
    static final int MAX_SESSIONS = 4;
    static final String END_CLIENT_DISCONNECT = "client_disconnect";

    private final HttpConnection connection;
    private final Context context;
    private final Executor executor;
    private final Sessions sessions;
    private final Map<String, CompletableFuture<Session>> byTokenAndCluster = new HashMap<>();
    /** What runs for this connection now and must stop when it is ended from outside (exec relays). */
    private final List<java.util.function.Consumer<String>> onKill = new ArrayList<>();
    private String endReason;

    ClientConnection(HttpConnection connection, Context context, Sessions sessions) {
        this.connection = connection;
        this.context = context;
        this.executor = command -> context.runOnContext(v -> command.run());
        this.sessions = sessions;
    }

    Executor executor() {
        return executor;
    }

    Context context() {
        return context;
    }

    String sourceIp() {
        return connection.remoteAddress() == null ? "" : connection.remoteAddress().hostAddress();
    }

    /**
     * The session of this token on this cluster, opened on first use. Completes on the connection's event loop, or
     * exceptionally with {@link dev.portcullis.gateway.session.SessionRefused}; a refused session is not remembered,
     * so a fresh token is tried again.
     */
    CompletionStage<Session> session(String token, String cluster) {
        String key = digest(token) + "\n" + cluster;
        CompletableFuture<Session> known = byTokenAndCluster.get(key);
        if (known != null && !known.isCompletedExceptionally()) {
            return known;
        }
        if (byTokenAndCluster.size() >= MAX_SESSIONS && known == null) {
            return CompletableFuture.failedFuture(new TooManySessions());
        }
        CompletableFuture<Session> opening = new CompletableFuture<>();
        byTokenAndCluster.put(key, opening);
        sessions.open(token, null, cluster, ApiRequest.PROTOCOL, sourceIp(), executor).whenComplete((session, failure) ->
                context.runOnContext(v -> {
                    if (failure != null) {
                        byTokenAndCluster.remove(key, opening);
                        opening.completeExceptionally(failure);
                        return;
                    }
                    if (endReason != null) {
                        session.end(endReason); // the connection closed while the session was opening
                        opening.completeExceptionally(new IllegalStateException("connection closed"));
                        return;
                    }
                    session.attach(ClientConnection.this::kill);
                    opening.complete(session);
                }));
        return opening;
    }

    /** Runs {@code stop} with the client's message if the connection is ended from outside while it is registered; returns how to unregister it. */
    Runnable onKill(java.util.function.Consumer<String> stop) {
        onKill.add(stop);
        return () -> onKill.remove(stop);
    }

    /** Ends every session of this connection and closes it: an administrator's kill, or the end of a drain. */
    void kill(String reason, String message) {
        if (endReason != null) {
            return;
        }
        endReason = reason;
        for (var stop : List.copyOf(onKill)) {
            stop.accept(message);
        }
        endSessions(reason);
        connection.close();
    }

    /** The client closed the connection (or it was closed by {@link #kill}). */
    void closed() {
        if (endReason == null) {
            endReason = END_CLIENT_DISCONNECT;
        }
        endSessions(endReason);
    }

    private void endSessions(String reason) {
        for (CompletableFuture<Session> s : byTokenAndCluster.values()) {
            if (s.isDone() && !s.isCompletedExceptionally()) {
                s.join().end(reason);
            }
        }
    }

    /** One connection asked for more than {@link #MAX_SESSIONS} sessions. */
    static final class TooManySessions extends RuntimeException {
        TooManySessions() {
            super("one connection may carry at most " + MAX_SESSIONS + " tokens or clusters; open another connection", null, false, false);
        }
    }

    private static String digest(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
