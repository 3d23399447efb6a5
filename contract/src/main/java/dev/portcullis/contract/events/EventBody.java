package dev.portcullis.contract.events;

/**
 * The type-specific part of a {@link SessionEvent}. Its record components are the JSON fields (snake_case),
 * next to the envelope's; every field is written, {@code null} included.
 */
public sealed interface EventBody
        permits SessionStarted, Request, Result, Approval, Output, SessionEnded {

    /** The {@code type} on the wire, for example {@code session.started}. */
    String type();
}
