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
    private static final Set<String> MASK_FIELDS = Set.of("plan", "detectors", "policy", "cache_ttl_s");
    private static final Set<String> PLAN_FIELDS = Set.of("column", "method", "params", "rule");
    private static final Set<String> PARAM_FIELDS = Set.of("keep_first", "keep_last", "mask_char");
    private static final Set<String> METHODS = Set.of("redact", "null", "hash", "partial", "email", "card");
    private static final Set<String> DETECTORS = Set.of("email", "card", "iban", "phone", "national_id", "secret");

    static final class InvalidDecisionException extends RuntimeException {
        InvalidDecisionException(String message) {
            super(message, null, false, false);
        }
    }

    private DecisionParser() {
    }

    /** @param body OPA's response to {@code POST /v1/data/...} */
    static Decision parse(JsonNode body, String revision) {
        JsonNode result = result(body, FIELDS);
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
            onlyFields(a, APPROVAL_FIELDS, "approval");
            approval = new Decision.Approval(bool(a, "required"), strings(a, "approver_groups"), nonNegative(a, "min_approvals"),
                    nonNegative(a, "grant_ttl_s"));
        }
        if (!allow && reasons.isEmpty()) {
            throw new InvalidDecisionException("the policy denied without giving a reason");
        }
        return new Decision(allow, reasons, policy, approval, ttl, null, revision, 0, false);
    }

    /** The answer to {@code portcullis/mask} (mask.output.schema.json), checked as strictly as a decision. */
    static MaskDecision parseMask(JsonNode body, String revision) {
        JsonNode result = result(body, MASK_FIELDS);
        JsonNode planNode = required(result, "plan");
        if (!planNode.isArray()) {
            throw new InvalidDecisionException("the masking plan is not a list");
        }
        List<MaskDecision.Entry> plan = new ArrayList<>(planNode.size());
        Set<Integer> columns = new java.util.HashSet<>();
        for (JsonNode e : planNode) {
            if (!e.isObject()) {
                throw new InvalidDecisionException("a masking plan entry is not an object");
            }
            onlyFields(e, PLAN_FIELDS, "masking plan entry");
            int column = nonNegative(e, "column");
            if (!columns.add(column)) {
                throw new InvalidDecisionException("the masking plan names column " + column + " twice");
            }
            String method = text(e, "method");
            if (!METHODS.contains(method)) {
                throw new InvalidDecisionException("the masking plan has an unknown method '" + method + "'");
            }
            Integer keepFirst = null;
            Integer keepLast = null;
            Character maskChar = null;
            JsonNode params = e.get("params");
            if (params != null && !params.isNull()) {
                if (!params.isObject()) {
                    throw new InvalidDecisionException("a masking plan entry's params is not an object");
                }
                onlyFields(params, PARAM_FIELDS, "masking params");
                keepFirst = params.has("keep_first") ? nonNegative(params, "keep_first") : null;
                keepLast = params.has("keep_last") ? nonNegative(params, "keep_last") : null;
                if (params.has("mask_char")) {
                    String m = text(params, "mask_char");
                    if (m.length() != 1) {
                        throw new InvalidDecisionException("the masking params' 'mask_char' is not one character");
                    }
                    maskChar = m.charAt(0);
                }
            }
            plan.add(new MaskDecision.Entry(column, method, keepFirst, keepLast, maskChar, text(e, "rule")));
        }
        List<String> detectors = strings(result, "detectors");
        for (String d : detectors) {
            if (!DETECTORS.contains(d)) {
                throw new InvalidDecisionException("the masking decision has an unknown detector '" + d + "'");
            }
        }
        return new MaskDecision(plan, detectors, text(result, "policy"), nonNegative(result, "cache_ttl_s"), revision, null);
    }

    private static JsonNode result(JsonNode body, Set<String> fields) {
        JsonNode result = body.get("result");
        if (result == null || result.isNull()) {
            throw new InvalidDecisionException("the policy returned no decision (undefined result)");
        }
        if (!result.isObject()) {
            throw new InvalidDecisionException("the policy decision is not an object");
        }
        onlyFields(result, fields, "decision");
        return result;
    }

    private static void onlyFields(JsonNode o, Set<String> fields, String what) {
        for (Iterator<String> it = o.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!fields.contains(f)) {
                throw new InvalidDecisionException("the policy " + what + " has an unknown field '" + f + "'");
            }
        }
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
