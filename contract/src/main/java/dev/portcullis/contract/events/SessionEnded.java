package dev.portcullis.contract.events;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * {@code session.ended}: the last event of a session.
 *
 * @param reason     {@code client_terminate}, {@code client_disconnect}, {@code killed}, {@code idle_timeout}, {@code gateway_shutdown},
 *                   {@code backend_closed}, {@code connect_failed}, {@code too_many_connections} or {@code error}
 * @param durationMs from start to end
 * @param requests   request events in the session
 * @param denials    of those, how many were not allowed
 */
public record SessionEnded(String reason, long durationMs, long requests, long denials) implements EventBody {
    public static final String TYPE = "session.ended";

    @JsonIgnore
    @Override
    public String type() {
        return TYPE;
    }
}
