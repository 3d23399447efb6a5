package dev.portcullis.gateway.session;

import dev.portcullis.gateway.policy.Decision;

/**
 * What a session may do with a {@link Request}, once decided and recorded. {@code seq} is the recording's sequence
 * number of the request event, which results and output refer to (0 when the session is not recorded).
 */
public sealed interface Verdict {
    Decision decision();

    long seq();

    /** The request for which it was decided: the engine's, or an equal earlier one the session remembered. */
    Request request();

    /** The request may run. */
    record Allow(Decision decision, long seq, Request request) implements Verdict {
    }

    /** The request must not run; {@link #message()} says why, for the client, and names the policy. */
    record Deny(Decision decision, long seq, Request request) implements Verdict {
        public String message(String what) {
            return decision.denialMessage(what);
        }
    }
}
