package dev.portcullis.gateway.session;

import dev.portcullis.gateway.approval.Hold;
import dev.portcullis.gateway.policy.Decision;
import java.util.concurrent.CompletionStage;

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

    /** The request must not run; {@link #message} says why, for the client, and names the policy. */
    record Deny(Decision decision, long seq, Request request) implements Verdict {
        public String message(String what) {
            return decision.denialMessage(what);
        }
    }

    /**
     * The request waits for a person's approval. The engine keeps it (and what the client sends after it) waiting,
     * tells the client {@link Hold#notice()} at once and every so often, and runs or denies it by {@link #outcome()}:
     * an {@link Allow} or a {@link Deny}, completed on the session's executor. A client that gives up withdraws it.
     */
    record Held(Decision decision, long seq, Request request, Hold hold, CompletionStage<Verdict> outcome) implements Verdict {
    }
}
