package dev.portcullis.gateway.policy;

import java.util.List;

/**
 * The outcome of a policy evaluation, with what the recording needs: which revision and rule decided, and
 * how long it took. A failure to decide is a denial whose reason names the cause.
 *
 * @param approval  present when a human may approve what was denied
 * @param cacheTtlS how long an identical input may reuse this decision
 */
public record Decision(boolean allow, List<String> reasons, String policy, Approval approval, int cacheTtlS,
        String decisionId, String revision, long latencyMicros, boolean cached) implements PolicyAnswer {

    public record Approval(boolean required, List<String> approverGroups, int minApprovals, int grantTtlS) {
    }

    public Decision {
        reasons = List.copyOf(reasons);
    }

    /** A denial the gateway makes itself because no valid decision could be had. */
    public static Decision failClosed(String reason) {
        return new Decision(false, List.of(reason), "gateway/fail-closed", null, 0, null, null, 0, false);
    }

    Decision served(String decisionId, long latencyMicros, boolean cached) {
        return new Decision(allow, reasons, policy, approval, cacheTtlS, decisionId, revision, latencyMicros, cached);
    }

    /** The message a client sees when this decision denies it; {@code what} is "this statement", "this session"... */
    public String denialMessage(String what) {
        String why = reasons.isEmpty() ? "no reason given" : String.join("; ", reasons);
        String approvalNote = approval != null && approval.required()
                ? " (approval by " + String.join(", ", approval.approverGroups()) + " is required)" : "";
        return "Portcullis denied " + what + ": " + why + approvalNote + " [policy " + policy + "]";
    }
}
