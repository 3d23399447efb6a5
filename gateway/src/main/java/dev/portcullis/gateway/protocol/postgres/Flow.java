package dev.portcullis.gateway.protocol.postgres;

import io.netty.channel.Channel;
import java.util.EnumSet;
import java.util.Set;

/**
 * The one owner of a relay's backpressure: whether the client and the backend are read, each for named reasons.
 * A side is read only while nothing holds it, so one reason going away never resumes a side another reason
 * still holds. Confined to the session's event loop.
 */
final class Flow {
    /** Why the client is not read. */
    enum ClientHold {
        /** A request waits for its decision (or its approval): what follows it must wait too. */
        DECIDING,
        /** The backend does not take more. */
        BACKEND_BUSY,
        /** A large message waits for room in the gateway's frame budget. */
        MEMORY
    }

    /** Why the backend is not read. */
    enum BackendHold {
        /** The client does not take more: the backend waits rather than the gateway's memory filling. */
        CLIENT_BUSY,
        /** A result's masking plan is being made: no row may pass unplanned. */
        PLANNING
    }

    private final Channel client;
    private final Channel backend;
    private final Set<ClientHold> clientHolds = EnumSet.noneOf(ClientHold.class);
    private final Set<BackendHold> backendHolds = EnumSet.noneOf(BackendHold.class);

    Flow(Channel client, Channel backend) {
        this.client = client;
        this.backend = backend;
    }

    void hold(ClientHold reason) {
        clientHolds.add(reason);
        client.config().setAutoRead(false);
    }

    void release(ClientHold reason) {
        clientHolds.remove(reason);
        client.config().setAutoRead(clientHolds.isEmpty());
    }

    void hold(BackendHold reason) {
        backendHolds.add(reason);
        backend.config().setAutoRead(false);
    }

    void release(BackendHold reason) {
        backendHolds.remove(reason);
        backend.config().setAutoRead(backendHolds.isEmpty());
    }

    boolean holds(ClientHold reason) {
        return clientHolds.contains(reason);
    }

    /** The client's writability changed: the backend is read only while the client takes what it sends. */
    void clientWritability() {
        if (client.isWritable()) {
            release(BackendHold.CLIENT_BUSY);
        } else {
            hold(BackendHold.CLIENT_BUSY);
        }
    }

    /** The backend's writability changed: the client is read only while the backend takes what it sends. */
    void backendWritability() {
        if (backend.isWritable()) {
            release(ClientHold.BACKEND_BUSY);
        } else {
            hold(ClientHold.BACKEND_BUSY);
        }
    }

    /** Reads neither side again (the session is closing). */
    void stop() {
        client.config().setAutoRead(false);
        backend.config().setAutoRead(false);
    }
}
