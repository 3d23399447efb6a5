package dev.portcullis.contract.events;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * One event of a session's recording: the envelope every event shares, and the part that depends on its type.
 * On the wire the two are one flat JSON object, {@code {"v":2,"session_id":…,"seq":…,"at":…,"type":…, …body}}
 * (contract/EVENTS.md); {@link SessionEvents} writes and reads that form.
 *
 * @param sessionId the gateway's session id; also the Kafka key, which keeps a session's events in order
 * @param seq       1 for {@code session.started}, then +1 per event of the session, without gaps
 * @param at        when the gateway saw what the event describes (written with millisecond precision, UTC)
 * @param body      what happened
 */
public record SessionEvent(UUID sessionId, long seq, Instant at, EventBody body) {
    /** The contract version the gateway writes, {@code v} on the wire. A reader refuses a version it does not know. */
    public static final int VERSION = 2;
    /** The oldest version readers still accept: recordings made before version 2 stay readable. */
    public static final int OLDEST_VERSION = 1;

    public SessionEvent {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(body, "body");
        if (seq < 1 || seq > SessionEvents.MAX_SAFE_INTEGER) {
            throw new IllegalArgumentException("seq must be between 1 and 2^53-1, got " + seq);
        }
    }

    public String type() {
        return body.type();
    }
}
