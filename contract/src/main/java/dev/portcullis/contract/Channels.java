package dev.portcullis.contract;

/** PostgreSQL NOTIFY channels the apps use to reach every gateway replica. */
public final class Channels {
    /** Payload: a connection name. Sent by a trigger on {@code connections} whenever a row changes. */
    public static final String CONNECTION_CHANGED = "portcullis_connections";
    /** Payload: a session id. The replica holding that session ends it with a FATAL error. */
    public static final String KILL_SESSION = "portcullis_kill";
    /**
     * Payload: an approval request id. Sent by triggers on {@code approval_requests} and {@code approval_votes}
     * whenever a request or its votes change; the gateway holding the request releases or records it.
     */
    public static final String APPROVALS = "portcullis_approvals";
    /** Payload: an identity subject. Sent by a trigger on {@code grants}: that identity's active grants changed. */
    public static final String GRANTS = "portcullis_grants";

    private Channels() {
    }
}
