package dev.portcullis.gateway.policy;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Pass-through: allows every request. It stands in only until decisions come from OPA (issue #4), and it
 * exists so the relay's wait-for-decision path is already the real one.
 */
@ApplicationScoped
public class AllowAllPolicy implements RequestPolicy {
    private static final CompletionStage<Decision> ALLOWED = CompletableFuture.completedFuture(Decision.ALLOW);

    @Override
    public CompletionStage<Decision> decide(PolicyRequest request) {
        return ALLOWED;
    }
}
