# May this request run? Entry point: data.portcullis.request.decision (decision contract v1).
#
# Deny by default. A request is allowed only when every one of its statements is: a harmless statement
# must never carry a harmful one through (SELECT 1; DROP TABLE users). Each statement gets one of three
# outcomes and the most severe one decides:
#   deny      a function no role may call, or a capability none of the identity's roles holds here
#   approval  allowed to one of the roles, but destructive or administrative on production
#   allow     otherwise
# When the worst is approval, the decision carries the approval object: a human may let it through. A
# plain deny never does, because approving it would not make it allowed.
#
# Every decision here depends only on the input and the bundle, never on time or external data, so the
# gateway may cache it (cache_ttl_s). Grants (input.grants) are not consulted yet; a rule that does
# consult them depends on time and must return cache_ttl_s 0.
package portcullis.request

import data.portcullis.access
import data.portcullis.sql

cache_ttl_s := 300

# Deny unless a branch below decides otherwise. Each branch guards itself completely (the allow branch
# repeats every precondition), so that a reason that fails to render can only ever fall through to
# another denial, never to an allow.
default decision := {
	"allow": false,
	"reasons": ["no rule of the request policy decided this input"],
	"policy": "pg/default-deny",
	"cache_ttl_s": 300,
}

decision := deny([access.contract_reason], "request/contract") if {
	not access.contract_ok
} else := deny([protocol_reason], "request/unsupported-protocol") if {
	not postgres
} else := deny([access.no_access_reason], "pg/default-deny") if {
	not access.may_connect
} else := deny(reasons, deciding.policy) if {
	worst == "deny"
} else := object.union(deny(reasons, deciding.policy), {"approval": approval}) if {
	worst == "approval"
} else := {
	"allow": true,
	"reasons": [allowed_reason],
	"policy": allowed_policy,
	"cache_ttl_s": cache_ttl_s,
} if {
	access.contract_ok
	postgres
	access.may_connect
	worst == "allow"
	sql.complete
	count(outcomes) == count(sql.items)
}

deny(why, policy) := {"allow": false, "reasons": why, "policy": policy, "cache_ttl_s": cache_ttl_s}

postgres if input.request.protocol == "postgres"

protocol_reason := sprintf("these policies decide PostgreSQL requests only, not protocol %v", [object.get(input, ["request", "protocol"], "(none)")])

approval := object.union({"required": true}, data.portcullis.approval)

# --- each statement's outcome, in statement order -----------------------------------------------------

# One outcome per item; a statement without one can never be allowed (see the allow branch above).
outcomes := [judge(i, rules) | some i, _ in sql.items; rules := rules_of(i)]

# Everything that applies to item i, worked out once.
rules_of(i) := {
	"forbidden": object.get(sql.forbidden, i, set()),
	"needs": needs,
	"missing": {n | some n in needs; not n.class in access.capabilities},
	"risks": risks,
} if {
	needs := object.get(sql.needs, i, set())
	risks := risks_on_this_connection(i)
}

# Risks only matter on production.
risks_on_this_connection(i) := object.get(sql.risks, i, set()) if {
	access.production
} else := set()

severity := {"allow": 0, "approval": 1, "deny": 2}

worst := o.outcome if {
	top := max([severity[o.outcome] | some o in outcomes])
	some o in outcomes
	severity[o.outcome] == top
} else := "allow"

# The first statement with the worst outcome names the deciding rule.
deciding := [o | some o in outcomes; o.outcome == worst][0]

# Every statement that did not pass says why, in order: with several, the client sees all of them at once.
reasons := [r | some o in outcomes; o.outcome != "allow"; some r in o.reasons]

judge(i, r) := outcome("deny", [prefix(i, sprintf("%s is denied for every role", [n.what])) | some n in r.forbidden], r.forbidden) if {
	count(r.forbidden) > 0
} else := outcome("deny", [prefix(i, missing_reason(n)) | some n in r.missing], r.missing) if {
	count(r.missing) > 0
} else := outcome("approval", [prefix(i, approval_reason(n)) | some n in r.risks], r.risks) if {
	count(r.forbidden) == 0
	count(r.missing) == 0
	count(r.risks) > 0
} else := outcome("allow", [], r.needs) if {
	count(r.forbidden) == 0
	count(r.missing) == 0
	count(r.risks) == 0
	count(r.needs) > 0
} else := outcome("deny", [prefix(i, sprintf("%s: no rule of these policies covers this statement", [sql.items[i].command]))], set())

# Among several rules that apply to one statement, the one with the highest capability (and then the
# first by name) is named, so the same input always names the same rule.
outcome(kind, why, rules) := {
	"outcome": kind,
	"reasons": why,
	"policy": [r.policy | some r in rules; rank(r) == max({rank(x) | some x in rules})][0],
	"rank": max({rank(x) | some x in rules}),
} if {
	count(rules) > 0
} else := {"outcome": kind, "reasons": why, "policy": "pg/default-deny", "rank": 0}

class_rank := {"none": 0, "approval": 0, "session": 0, "read": 1, "export": 2, "write": 3, "ddl": 4, "admin": 5}

rank(rule) := class_rank[rule.class]

# "statement 2 of 2: " only when there are several: with one it would be noise.
prefix(i, why) := sprintf("statement %d of %d: %s", [i + 1, count(sql.items), why]) if {
	count(sql.items) > 1
} else := why

missing_reason(n) := sprintf("%s is not allowed on %s: role %s %s", [
	n.what, access.connection_phrase,
	access.sorted_roles[0], access.summary(access.sorted_roles[0]),
]) if {
	count(access.sorted_roles) == 1
} else := sprintf("%s is not allowed on %s for any of the roles %s", [
	n.what, access.connection_phrase,
	concat(", ", access.sorted_roles),
])

approval_reason(r) := sprintf("%s on %s needs approval by %s", [
	r.what, access.connection_phrase,
	concat(" or ", data.portcullis.approval.approver_groups),
])

# --- the allowed decision -------------------------------------------------------------------------------

# The most powerful capability the request used names the rule, so a recording shows at a glance
# whether an allowed request only read or also wrote.
allowed_top := max({o.rank | some o in outcomes}) if count(outcomes) > 0

else := 0

allowed_policy := [o.policy | some o in outcomes; o.rank == allowed_top][0] if {
	count(outcomes) > 0
} else := "pg/session-control"

verbs := ["control the session", "read", "export data", "write data", "change the schema", "run administrative statements"]

allowed_reason := sprintf("allowed: %s may %s on %s", [access.roles_phrase, verbs[allowed_top], access.connection_phrase])
