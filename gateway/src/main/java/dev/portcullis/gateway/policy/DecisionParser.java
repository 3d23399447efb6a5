package dev.portcullis.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Checks OPA's answer against the decision output of contract v1 (policies-rego/schema/decision.output.schema.json)
 * and turns it into a {@link Decision}. Anything that does not match exactly is rejected with a message naming
 * the problem; the caller turns that into a denial.
 */
final class DecisionParser {
    private static final Set<String> FIELDS = Set.of("allow", "reasons", "policy", "approval", "cache_ttl_s");
    private static final Set<String> APPROVAL_FIELDS = Set.of("required", "approver_groups", "min_approvals", "grant_ttl_s");

    static final class InvalidDecisionException extends RuntimeException {
        InvalidDecisionException(String message) {
            super(message, null, false, false);
        }
    }

    private DecisionParser() {
    }

    /** @param body OPA's response to {@code POST /v1/data/...} */
    static Decision parse(JsonNode body, String revision) {
        JsonNode result = body.get("result");
        if (result == null || result.isNull()) {
            throw new InvalidDecisionException("the policy returned no decision (undefined result)");
        }
        if (!result.isObject()) {
            throw new InvalidDecisionException("the policy decision is not an object");
        }
        for (Iterator<String> it = result.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new InvalidDecisionException("the policy decision has an unknown field '" + f + "'");
            }
        }
        boolean allow = bool(result, "allow");
        List<String> reasons = strings(result, "reasons");
        String policy = text(result, "policy");
        int ttl = nonNegative(result, "cache_ttl_s");
        Decision.Approval approval = null;
        JsonNode a = result.get("approval");
        if (a != null && !a.isNull()) {
            if (!a.isObject()) {
                throw new InvalidDecisionException("the policy decision's approval is not an object");
            }
            for (Iterator<String> it = a.fieldNames(); it.hasNext();) {
                String f = it.next();
                if (!APPROVAL_FIELDS.contains(f)) {
                    throw new InvalidDecisionException("the policy decision's approval has an unknown field '" + f + "'");
                }
            }
            approval = new Decision.Approval(bool(a, "required"), strings(a, "approver_groups"), nonNegative(a, "min_approvals"),
                    nonNegative(a, "grant_ttl_s"));
        }
        if (!allow && reasons.isEmpty()) {
            throw new InvalidDecisionException("the policy denied without giving a reason");
        }
        return new Decision(allow, reasons, policy, approval, ttl, null, revision, 0, false);
    }

    private static JsonNode required(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            throw new InvalidDecisionException("the policy decision has no '" + field + "'");
        }
        return v;
    }

    private static boolean bool(JsonNode o, String field) {
        JsonNode v = required(o, field);
        if (!v.isBoolean()) {
            throw new InvalidDecisionException("the policy decision's '" + field + "' is not a boolean");
        }
        return v.booleanValue();
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = required(o, field);
        if (!v.isTextual() || v.textValue().isBlank()) {
            throw new InvalidDecisionException("the policy decision's '" + field + "' is not a non-empty string");
        }
        return v.textValue();
    }

    private static int nonNegative(JsonNode o, String field) {
        JsonNode v = required(o, field);
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.intValue() < 0) {
            throw new InvalidDecisionException("the policy decision's '" + field + "' is not a non-negative integer");
        }
        return v.intValue();
    }

    private static List<String> strings(JsonNode o, String field) {
        JsonNode v = required(o, field);
        if (!v.isArray()) {
            throw new InvalidDecisionException("the policy decision's '" + field + "' is not a list");
        }
        List<String> out = new ArrayList<>(v.size());
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw new InvalidDecisionException("the policy decision's '" + field + "' holds a non-string");
            }
            out.add(e.textValue());
        }
        return out;
    }
}
