package dev.portcullis.contract;

/** PostgreSQL NOTIFY channels the apps use to reach every gateway replica. */
public final class Channels {
    /** Payload: a connection name. Sent by a trigger on {@code connections} whenever a row changes. */
    public static final String CONNECTION_CHANGED = "portcullis_connections";
    /** Payload: a session id. The replica holding that session ends it with a FATAL error. */
    public static final String KILL_SESSION = "portcullis_kill";

    private Channels() {
    }
}
