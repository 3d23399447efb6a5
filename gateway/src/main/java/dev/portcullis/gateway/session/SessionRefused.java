package dev.portcullis.gateway.session;

/**
 * A session could not be opened; the message is safe to show the client and says what to do. Engines render it in
 * their protocol (PostgreSQL: a FATAL ErrorResponse with the SQLSTATE of its {@link Reason}).
 */
public final class SessionRefused extends RuntimeException {
    public enum Reason {
        /** The access token failed a check (expired, wrong audience, bad signature, ...). */
        AUTHENTICATION,
        /** The user name the client logged in with is not the name of the token's identity. */
        WRONG_USER,
        /** No registered connection has that name. */
        UNKNOWN_CONNECTION,
        /** The connection exists but speaks another protocol. */
        WRONG_PROTOCOL,
        /** The policy denied the session. */
        DENIED,
        /** The connection's stored credentials cannot be opened. */
        CREDENTIALS,
        /** Something the gateway needs is unavailable (registry, issuer): try again later. */
        UNAVAILABLE
    }

    private final Reason reason;
    private final String hint;

    public SessionRefused(Reason reason, String message, String hint) {
        super(message, null, false, false);
        this.reason = reason;
        this.hint = hint;
    }

    public Reason reason() {
        return reason;
    }

    /** What the client can do about it, or null. */
    public String hint() {
        return hint;
    }
}
