package dev.portcullis.gateway.session;

/**
 * A protocol engine: owns a listener and its codec, turns wire messages into {@link Request}s for its
 * {@link Session}s, and renders a {@link Verdict.Deny} in its own protocol (PostgreSQL: ErrorResponse 42501;
 * Kubernetes: 403 with a Status; SSH: exit status 126). Everything else (identity, connections, decisions,
 * approvals, recording, kill) comes from the spine ({@link Sessions}). One CDI bean per protocol, in
 * {@code protocol/<name>/}.
 */
public interface Engine {
    /** The protocol, as in {@code connections.type} and the decision input's {@code request.protocol}. */
    String protocol();

    /** Stops taking new sessions (graceful drain); the live ones go on until they end or are ended. */
    void stopAccepting();

    /** Client connections still open, and backend connections still being stopped. */
    int openConnections();

    /**
     * Ends every connection now (the end of a drain): a session as a kill would, with reason {@link Session#END_SHUTDOWN}
     * and its backend work cancelled; a connection still starting up with the same error. Returns at once.
     */
    void endAll(String message);
}
