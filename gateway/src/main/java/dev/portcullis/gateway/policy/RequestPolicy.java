package dev.portcullis.gateway.policy;

import java.util.concurrent.CompletionStage;

/**
 * Decides whether a request may run. Engines call it for every message that carries meaning and wait for
 * the answer before forwarding. Implementations never complete exceptionally: a failure is a denial.
 */
public interface RequestPolicy {
    CompletionStage<Decision> decide(PolicyRequest request);
}
