package dev.portcullis.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks OPA's answer against the outputs of decision contract v2 (policies-rego/schema/decision.output.schema.json and
 * mask.output.schema.json) and turns it into a {@link Decision} or a {@link MaskDecision}. Every constraint of those
 * schemas is checked here, and DecisionParserTest holds this to every example of them, valid and invalid. Anything
 * that does not match is rejected with a message naming the problem; the caller turns that into a denial.
 * <p>
 * Where the schemas are silent, the gateway is stricter: an integer must fit a Java {@code int}, and a masking plan
 * may name a column only once (mask.output.schema.json says so in words).
 */
final class DecisionParser {
    private static final Set<String> FIELDS = Set.of("allow", "reasons", "policy", "approval", "mask", "impersonate_groups",
            "cache_ttl_s");
    /** At most this many impersonated groups, each at most this long (decision.output.schema.json, impersonate_groups). */
    private static final int MAX_IMPERSONATE_GROUPS = 64;
    private static final int MAX_GROUP_CHARS = 256;
    /** Kubernetes reserves these group names (system:masters, system:nodes, ...): never impersonated. */
    private static final String RESERVED_GROUP_PREFIX = "system:";
    private static final Set<String> RESPONSE_MASK_FIELDS = Set.of("fields", "detectors", "rule");
    /** A masked field is a plain top-level name of an object (decision.output.schema.json, mask.fields). */
    private static final Pattern FIELD_NAME = Pattern.compile("^[A-Za-z][A-Za-z0-9]{0,62}$");
    private static final int MAX_MASKED_FIELDS = 16;
    private static final Set<String> APPROVAL_FIELDS = Set.of("required", "approver_groups", "min_approvals", "expires_in_s", "grant");
    private static final Set<String> GRANT_FIELDS = Set.of("scope", "ttl_s");
    /** A held request waits at most a day; a grant lasts at most a week (decision.output.schema.json). */
    private static final int MAX_EXPIRES_IN_S = 86_400;
    private static final int MAX_GRANT_TTL_S = 604_800;
    private static final int MAX_GRANT_SCOPE_CHARS = 256;
    private static final Set<String> MASK_FIELDS = Set.of("plan", "detectors", "policy", "cache_ttl_s");
    private static final Set<String> PLAN_FIELDS = Set.of("column", "method", "params", "rule");
    private static final Set<String> PARAM_FIELDS = Set.of("keep_first", "keep_last", "mask_char");
    private static final Set<String> METHODS = Set.of("redact", "null", "hash", "partial", "email", "card");
    private static final Set<String> DETECTORS = Set.of("email", "card", "iban", "phone", "national_id", "secret");
    /** The rule id of a decision: lower-case path segments, at least two ({@code pg/role-read}). */
    private static final Pattern POLICY_ID = Pattern.compile("^[a-z0-9_.-]+(/[a-z0-9_.-]+)+$");

    static final class InvalidDecisionException extends RuntimeException {
        InvalidDecisionException(String message) {
            super(message, null, false, false);
        }
    }

    private DecisionParser() {
    }

    /** @param body OPA's response to {@code POST /v1/data/portcullis/{session,request}/decision} */
    static Decision parse(JsonNode body, String revision) {
        JsonNode result = result(body, FIELDS);
        boolean allow = bool(result, "allow", "the policy decision");
        List<String> reasons = strings(result, "reasons", "the policy decision", 0);
        String policy = policyId(result, "the policy decision");
        int ttl = count(result, "cache_ttl_s", 0, "the policy decision");
        Decision.Approval approval = null;
        JsonNode a = result.get("approval");
        if (a != null) {
            if (!a.isObject()) {
                throw new InvalidDecisionException("the policy decision's 'approval' is not an object");
            }
            onlyFields(a, APPROVAL_FIELDS, "the policy decision's approval");
            if (!bool(a, "required", "the policy decision's approval")) {
                throw new InvalidDecisionException("the policy decision's approval is not required (an approval says 'required': true or is left out)");
            }
            String what = "the policy decision's approval";
            int expiresInS = a.has("expires_in_s") ? bounded(a, "expires_in_s", 1, MAX_EXPIRES_IN_S, what)
                    : Decision.Approval.DEFAULT_EXPIRES_IN_S;
            approval = new Decision.Approval(true, strings(a, "approver_groups", what, 1), count(a, "min_approvals", 1, what),
                    expiresInS, a.has("grant") ? grant(a.get("grant")) : null);
            if (allow) {
                throw new InvalidDecisionException("the policy decision allows and asks for an approval at once");
            }
        }
        if (!allow && reasons.isEmpty()) {
            throw new InvalidDecisionException("the policy denied without giving a reason");
        }
        Decision.ResponseMask mask = result.has("mask") ? responseMask(result.get("mask")) : null;
        List<String> groups = result.has("impersonate_groups") ? impersonateGroups(result) : List.of();
        return new Decision(allow, reasons, policy, approval, mask, groups, ttl, null, revision, 0, false);
    }

    /** The answer to {@code portcullis/mask} (mask.output.schema.json), checked as strictly as a decision. */
    static MaskDecision parseMask(JsonNode body, String revision) {
        JsonNode result = result(body, MASK_FIELDS);
        JsonNode planNode = required(result, "plan", "the masking decision");
        if (!planNode.isArray()) {
            throw new InvalidDecisionException("the masking decision's 'plan' is not a list");
        }
        List<MaskDecision.Entry> plan = new ArrayList<>(planNode.size());
        Set<Integer> columns = new HashSet<>();
        for (JsonNode e : planNode) {
            if (!e.isObject()) {
                throw new InvalidDecisionException("a masking plan entry is not an object");
            }
            onlyFields(e, PLAN_FIELDS, "a masking plan entry");
            int column = count(e, "column", 0, "a masking plan entry");
            if (!columns.add(column)) {
                throw new InvalidDecisionException("the masking plan names column " + column + " twice");
            }
            String method = string(e, "method", "a masking plan entry");
            if (!METHODS.contains(method)) {
                throw new InvalidDecisionException("the masking plan has an unknown method '" + method + "'");
            }
            Integer keepFirst = null;
            Integer keepLast = null;
            Character maskChar = null;
            JsonNode params = e.get("params");
            if (params != null) {
                if (!params.isObject()) {
                    throw new InvalidDecisionException("a masking plan entry's 'params' is not an object");
                }
                onlyFields(params, PARAM_FIELDS, "a masking plan entry's params");
                keepFirst = params.has("keep_first") ? count(params, "keep_first", 0, "the masking params") : null;
                keepLast = params.has("keep_last") ? count(params, "keep_last", 0, "the masking params") : null;
                if (params.has("mask_char")) {
                    String m = string(params, "mask_char", "the masking params");
                    // one character as JSON Schema counts them (code points); the gateway masks with a Java char
                    if (m.codePointCount(0, m.length()) != 1) {
                        throw new InvalidDecisionException("the masking params' 'mask_char' is not one character");
                    }
                    if (m.length() != 1) {
                        throw new InvalidDecisionException("the masking params' 'mask_char' is outside the Basic Multilingual Plane");
                    }
                    maskChar = m.charAt(0);
                }
            }
            String rule = string(e, "rule", "a masking plan entry");
            if (rule.isEmpty()) {
                throw new InvalidDecisionException("a masking plan entry's 'rule' is empty");
            }
            plan.add(new MaskDecision.Entry(column, method, keepFirst, keepLast, maskChar, rule));
        }
        List<String> detectors = detectors(result, "the masking decision");
        String policy = policyId(result, "the masking decision");
        return new MaskDecision(plan, detectors, policy, count(result, "cache_ttl_s", 0, "the masking decision"), revision, null);
    }

    private static JsonNode result(JsonNode body, Set<String> fields) {
        JsonNode result = body.get("result");
        if (result == null || result.isNull()) {
            throw new InvalidDecisionException("the policy returned no decision (undefined result)");
        }
        if (!result.isObject()) {
            throw new InvalidDecisionException("the policy decision is not an object");
        }
        onlyFields(result, fields, "the policy decision");
        return result;
    }

    private static void onlyFields(JsonNode o, Set<String> fields, String what) {
        for (Iterator<String> it = o.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!fields.contains(f)) {
                throw new InvalidDecisionException(what + " has an unknown field '" + f + "'");
            }
        }
    }

    /** A field that must be present; JSON null is a value of the wrong type, reported by the caller's type check. */
    private static JsonNode required(JsonNode o, String field, String what) {
        JsonNode v = o.get(field);
        if (v == null) {
            throw new InvalidDecisionException(what + " has no '" + field + "'");
        }
        return v;
    }

    private static boolean bool(JsonNode o, String field, String what) {
        JsonNode v = required(o, field, what);
        if (!v.isBoolean()) {
            throw new InvalidDecisionException(what + "'s '" + field + "' is not a boolean");
        }
        return v.booleanValue();
    }

    private static String string(JsonNode o, String field, String what) {
        JsonNode v = required(o, field, what);
        if (!v.isTextual()) {
            throw new InvalidDecisionException(what + "'s '" + field + "' is not a string");
        }
        return v.textValue();
    }

    private static String policyId(JsonNode o, String what) {
        return policyId(o, "policy", what);
    }

    private static String policyId(JsonNode o, String field, String what) {
        String policy = string(o, field, what);
        if (!POLICY_ID.matcher(policy).matches()) {
            throw new InvalidDecisionException(what + "'s '" + field + "' is not a rule id like pg/role-read: '" + policy + "'");
        }
        return policy;
    }

    private static Decision.ResponseMask responseMask(JsonNode m) {
        String what = "the policy decision's mask";
        if (!m.isObject()) {
            throw new InvalidDecisionException(what + " is not an object");
        }
        onlyFields(m, RESPONSE_MASK_FIELDS, what);
        if (!m.has("fields") && !m.has("detectors")) {
            throw new InvalidDecisionException(what + " names neither fields nor detectors");
        }
        List<String> fields = m.has("fields") ? strings(m, "fields", what, 1) : List.of();
        List<String> detectors = m.has("detectors") ? detectors(m, what) : List.of();
        if (fields.size() > MAX_MASKED_FIELDS) {
            throw new InvalidDecisionException(what + " names more than " + MAX_MASKED_FIELDS + " fields");
        }
        if (new HashSet<>(fields).size() != fields.size()) {
            throw new InvalidDecisionException(what + " names a field twice");
        }
        for (String f : fields) {
            if (!FIELD_NAME.matcher(f).matches()) {
                throw new InvalidDecisionException(what + " names '" + f + "', which is not a plain field name");
            }
        }
        return new Decision.ResponseMask(fields, detectors, policyId(m, "rule", what));
    }

    /**
     * The groups to impersonate. Anything off (not a list, a group twice, too many, a reserved name) makes the whole
     * decision invalid, so a denial: a policy that gets this wrong never sends more groups than it meant.
     */
    private static List<String> impersonateGroups(JsonNode result) {
        String what = "the policy decision";
        List<String> groups = strings(result, "impersonate_groups", what, 0);
        if (groups.size() > MAX_IMPERSONATE_GROUPS) {
            throw new InvalidDecisionException(what + " names more than " + MAX_IMPERSONATE_GROUPS + " groups to impersonate");
        }
        if (new HashSet<>(groups).size() != groups.size()) {
            throw new InvalidDecisionException(what + " names a group to impersonate twice");
        }
        for (String g : groups) {
            if (g.length() > MAX_GROUP_CHARS) {
                throw new InvalidDecisionException(what + " names a group to impersonate longer than " + MAX_GROUP_CHARS + " characters");
            }
            if (g.startsWith(RESERVED_GROUP_PREFIX)) {
                throw new InvalidDecisionException(what + " names " + g + " to impersonate, which Kubernetes reserves");
            }
        }
        return groups;
    }

    /** An integer of at least {@code minimum}; like JSON Schema, 300.0 is the integer 300. */
    private static Decision.Grant grant(JsonNode g) {
        String what = "the policy decision's approval's grant";
        if (!g.isObject()) {
            throw new InvalidDecisionException(what + " is not an object");
        }
        onlyFields(g, GRANT_FIELDS, what);
        String scope = string(g, "scope", what);
        if (scope.isEmpty() || scope.length() > MAX_GRANT_SCOPE_CHARS) {
            throw new InvalidDecisionException(what + "'s 'scope' is not 1 to " + MAX_GRANT_SCOPE_CHARS + " characters");
        }
        return new Decision.Grant(scope, bounded(g, "ttl_s", 1, MAX_GRANT_TTL_S, what));
    }

    private static int bounded(JsonNode o, String field, int minimum, int maximum, String what) {
        int v = count(o, field, minimum, what);
        if (v > maximum) {
            throw new InvalidDecisionException(what + "'s '" + field + "' is more than " + maximum);
        }
        return v;
    }

    private static int count(JsonNode o, String field, int minimum, String what) {
        JsonNode v = required(o, field, what);
        if (v.isFloatingPointNumber() && !v.isBigDecimal() && !Double.isFinite(v.doubleValue())) {
            // 1e400 reads as an infinite double, which has no decimal value
            throw new InvalidDecisionException(what + "'s '" + field + "' is " + (v.doubleValue() > 0
                    ? "larger than the gateway supports (" + Integer.MAX_VALUE + ")" : "less than " + minimum));
        }
        boolean integral = v.isIntegralNumber() || (v.isFloatingPointNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0);
        if (!integral) {
            throw new InvalidDecisionException(what + "'s '" + field + "' is not an integer");
        }
        if (v.decimalValue().compareTo(java.math.BigDecimal.valueOf(minimum)) < 0) {
            throw new InvalidDecisionException(what + "'s '" + field + "' is less than " + minimum);
        }
        if (v.decimalValue().compareTo(java.math.BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) {
            throw new InvalidDecisionException(what + "'s '" + field + "' is larger than the gateway supports (" + Integer.MAX_VALUE + ")");
        }
        return v.decimalValue().intValueExact();
    }

    /** The detectors a decision names: each one the contract defines, none twice. */
    private static List<String> detectors(JsonNode o, String what) {
        List<String> detectors = strings(o, "detectors", what, 0);
        Set<String> distinct = new HashSet<>();
        for (String d : detectors) {
            if (!DETECTORS.contains(d)) {
                throw new InvalidDecisionException(what + " has an unknown detector '" + d + "'");
            }
            if (!distinct.add(d)) {
                throw new InvalidDecisionException(what + " names detector '" + d + "' twice");
            }
        }
        return detectors;
    }

    /** A list of strings, each at least one character long, with at least {@code minItems} of them. */
    private static List<String> strings(JsonNode o, String field, String what, int minItems) {
        JsonNode v = required(o, field, what);
        if (!v.isArray()) {
            throw new InvalidDecisionException(what + "'s '" + field + "' is not a list");
        }
        if (v.size() < minItems) {
            throw new InvalidDecisionException(what + "'s '" + field + "' is empty");
        }
        List<String> out = new ArrayList<>(v.size());
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw new InvalidDecisionException(what + "'s '" + field + "' holds a non-string");
            }
            if (e.textValue().isEmpty()) {
                throw new InvalidDecisionException(what + "'s '" + field + "' holds an empty string");
            }
            out.add(e.textValue());
        }
        return out;
    }
}
