package dev.portcullis.admin.policy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What OPA answered, read strictly as {@code policies-rego/schema/decision.output.schema.json}: anything else is no
 * answer at all ({@link #unavailable}), so a malformed policy can never let an action through.
 *
 * @param allowed  the policy allows the action
 * @param reasons  why (non-empty when refused)
 * @param policy   the rule that decided; null when there was no usable answer
 * @param problem  why there was no usable answer (OPA down, slow, undefined, malformed); null otherwise
 */
public record PolicyDecision(boolean allowed, List<String> reasons, String policy, String problem) {
    private static final Set<String> FIELDS = Set.of("allow", "reasons", "policy", "cache_ttl_s", "approval");
    private static final Pattern RULE_ID = Pattern.compile("[a-z0-9_.-]+(/[a-z0-9_.-]+)+");

    public static PolicyDecision unavailable(String problem) {
        return new PolicyDecision(false, List.of(), null, problem);
    }

    /** Whether OPA gave a usable answer (allowing or refusing). */
    public boolean answered() {
        return problem == null;
    }

    /**
     * @param body  OPA's whole answer to a decision request, {@code {"result": ...}}
     * @param entry the entry point, for messages ({@code portcullis/approve})
     */
    static PolicyDecision parse(JsonNode body, String entry) {
        JsonNode result = body == null ? null : body.get("result");
        if (result == null || result.isNull()) {
            return unavailable("the policy engine has no " + entry + " decision (undefined: is the policy bundle deployed?)");
        }
        if (!result.isObject()) {
            return malformed(entry, "is not a JSON object");
        }
        for (var names = result.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                return malformed(entry, "has an unknown field '" + name + "'");
            }
        }
        JsonNode allow = result.get("allow");
        JsonNode reasons = result.get("reasons");
        JsonNode policy = result.get("policy");
        JsonNode ttl = result.get("cache_ttl_s");
        if (allow == null || !allow.isBoolean()) {
            return malformed(entry, "has no boolean 'allow'");
        }
        if (reasons == null || !reasons.isArray()) {
            return malformed(entry, "has no 'reasons' list");
        }
        List<String> why = new ArrayList<>();
        for (JsonNode reason : reasons) {
            if (!reason.isTextual() || reason.asText().isEmpty()) {
                return malformed(entry, "has a reason that is not a non-empty string");
            }
            why.add(reason.asText());
        }
        if (policy == null || !policy.isTextual() || !RULE_ID.matcher(policy.asText()).matches()) {
            return malformed(entry, "names no rule in 'policy' (such as approve/approver-group)");
        }
        if (ttl == null || !ttl.isNumber() || ttl.asDouble() < 0 || ttl.asDouble() != Math.rint(ttl.asDouble())) {
            return malformed(entry, "has no whole, non-negative 'cache_ttl_s'");
        }
        if (!allow.asBoolean() && why.isEmpty()) {
            return malformed(entry, "refuses without a reason");
        }
        // An approval belongs to request decisions: on any other entry point it makes no sense, so it is no answer.
        if (result.has("approval")) {
            return malformed(entry, "carries an 'approval', which only portcullis/request decisions may");
        }
        return new PolicyDecision(allow.asBoolean(), List.copyOf(why), policy.asText(), null);
    }

    private static PolicyDecision malformed(String entry, String what) {
        return unavailable("the policy engine's " + entry + " decision " + what);
    }
}
