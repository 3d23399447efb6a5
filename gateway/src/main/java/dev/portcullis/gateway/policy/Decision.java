package dev.portcullis.gateway.policy;

import java.util.List;

/**
 * The outcome of a policy evaluation, with what the recording needs: which revision and rule decided, and
 * how long it took. A failure to decide is a denial whose reason names the cause.
 *
 * @param approval  present when a human may approve what was denied
 * @param mask      what of the response to mask before the client sees it, or null (Kubernetes: Secret values)
 * @param impersonateGroups the identity's groups the gateway names to the target (Kubernetes: Impersonate-Group); empty
 *                  when the policy names none, which is also what a decision without the field means
 * @param cacheTtlS how long an identical input may reuse this decision
 */
public record Decision(boolean allow, List<String> reasons, String policy, Approval approval, ResponseMask mask,
        List<String> impersonateGroups, int cacheTtlS, String decisionId, String revision, long latencyMicros, boolean cached)
        implements PolicyAnswer {

    /**
     * What a person must do before the request may run.
     *
     * @param approverGroups who may approve: members of any of these groups (OPA's {@code portcullis/approve} decides)
     * @param minApprovals   how many distinct approvers it takes
     * @param expiresInS     how long the request waits for them
     * @param grant          what approving it also grants the requester for a while, or null
     */
    public record Approval(boolean required, List<String> approverGroups, int minApprovals, int expiresInS, Grant grant) {
        /** The default wait for approvers: ten minutes. */
        public static final int DEFAULT_EXPIRES_IN_S = 600;

        public Approval {
            approverGroups = List.copyOf(approverGroups);
        }
    }

    /** A time-boxed grant: {@code scope} on this connection for {@code ttlS} seconds; the policy decides what it allows. */
    public record Grant(String scope, int ttlS) {
    }

    /**
     * What the engine masks in the response (decision.output.schema.json, mask): every value of these top-level fields of
     * each object the response carries, and what the content detectors find in text a workload prints (a container's log,
     * an exec's stdout and stderr).
     *
     * @param detectors the detectors' wire names (email, card, ...), or none
     * @param rule the masking rule's id, for the recording
     */
    public record ResponseMask(List<String> fields, List<String> detectors, String rule) {
        public ResponseMask {
            fields = List.copyOf(fields);
            detectors = List.copyOf(detectors);
        }

        public ResponseMask(List<String> fields, String rule) {
            this(fields, List.of(), rule);
        }
    }

    public Decision {
        reasons = List.copyOf(reasons);
        impersonateGroups = impersonateGroups == null ? List.of() : List.copyOf(impersonateGroups);
    }

    /** A denial the gateway makes itself because no valid decision could be had. */
    public static Decision failClosed(String reason) {
        return new Decision(false, List.of(reason), "gateway/fail-closed", null, null, List.of(), 0, null, null, 0, false);
    }

    Decision served(String decisionId, long latencyMicros, boolean cached) {
        return new Decision(allow, reasons, policy, approval, mask, impersonateGroups, cacheTtlS, decisionId, revision, latencyMicros,
                cached);
    }

    /** The message a client sees when this decision denies it; {@code what} is "this statement", "this session"... */
    public String denialMessage(String what) {
        String why = reasons.isEmpty() ? "no reason given" : String.join("; ", reasons);
        String approvalNote = approval != null && approval.required()
                ? " (approval by " + String.join(", ", approval.approverGroups()) + " is required)" : "";
        return "Portcullis denied " + what + ": " + why + approvalNote + " [policy " + policy + "]";
    }
}
