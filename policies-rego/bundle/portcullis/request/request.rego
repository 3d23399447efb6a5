# May this request run? Entry point: data.portcullis.request.decision, for every protocol.
#
# What a request does is the protocol's business; who may do it is decided here, the same way for every
# protocol. The protocol package named by input.request.protocol (portcullis.postgres, ...) breaks the request
# into operations (SQL statements; later one Kubernetes API request, one SSH channel request) and says of each
# which capabilities it needs, why no role may do it, and why it is risky on production. This package judges
# them against the identity's roles on this connection (access.rego).
#
# Deny by default. A request is allowed only when every one of its operations is: a harmless statement
# must never carry a harmful one through (SELECT 1; DROP TABLE users). Each operation gets one of three
# outcomes and the most severe one decides:
#   deny      something no role may do, or a capability none of the identity's roles holds here
#   approval  allowed to one of the roles, but risky on production
#   allow     otherwise
# When the worst is approval, the decision carries the approval object: a human may let it through. A
# plain deny never does, because approving it would not make it allowed.
#
# Every decision here depends only on the input and the bundle, never on time or external data, so the
# gateway may cache it (cache_ttl_s). Grants (input.grants) are not consulted yet; a rule that does
# consult them depends on time and must return cache_ttl_s 0.
package portcullis.request

import data.portcullis.access

cache_ttl_s := 300

# --- the protocols ----------------------------------------------------------------------------------------
# Each protocol the gateway speaks has a package portcullis.<protocol> (bundle/portcullis/<protocol>/, its data
# beside it at data.portcullis.<protocol>) that exports `analysis`, always defined for a request of its protocol:
#   operations      the request's operations, each by the name a reason calls it ("SELECT"); an operation
#                   the request repeats may stand once (the gateway sends a repeated SQL statement once)
#   positions[i]    where operation i first stands in the request, from 1; a reason names it
#   size            how many operations the request has, repeats included
#   complete        true when every operation the gateway sent became one (a lost one could never be judged)
#   needs[i]        the capabilities operation i needs, a set of {"class", "what", "policy"}; class is one of
#                   the roles' capabilities (data.json "permissions"), what is how a reason says it, and
#                   policy is the id of the rule
#   forbidden[i]    what no role may do, in the same form (class "none")
#   risks[i]        what needs approval on production even from a role that may do it (class "approval")
#   operation_noun  what an operation is called when a request has several ("statement 2 of 3: ...")
#   default_rule    the rule id of a denial no capability explains (a role that may not use the connection)
#   empty_rule      the rule id of an allowed request without operations
#   response_mask   optional: what of the response to mask for this caller ({"fields", "rule"}), or null
#   impersonate_groups  optional: the identity's groups the gateway names to the target (Kubernetes impersonation)
# Adding a protocol is its package plus one line here.
analysis := data.portcullis.postgres.analysis if input.request.protocol == "postgres"

analysis := data.portcullis.kubernetes.analysis if input.request.protocol == "kubernetes"

analysis := data.portcullis.ssh.analysis if input.request.protocol == "ssh"

# Deny unless a branch below decides otherwise. Each branch guards itself completely (the allow branch
# repeats every precondition), so that a reason that fails to render can only ever fall through to
# another denial, never to an allow.
default decision := {
	"allow": false,
	"reasons": ["no rule of the request policy decided this input"],
	"policy": "request/default-deny",
	"cache_ttl_s": 300,
}

decision := deny([access.contract_reason], "request/contract") if {
	not access.contract_ok
} else := deny([protocol_reason], "request/unsupported-protocol") if {
	not analysis
} else := deny([access.no_access_reason], analysis.default_rule) if {
	not access.may_connect
} else := deny(reasons, deciding.policy) if {
	worst == "deny"
} else := object.union_n([deny(reasons, deciding.policy), {"approval": approval}, response_mask, upstream]) if {
	worst == "approval"
} else := object.union_n([
	{
		"allow": true,
		"reasons": [allowed_reason],
		"policy": allowed_policy,
		"cache_ttl_s": cache_ttl_s,
	},
	response_mask,
	upstream,
]) if {
	access.contract_ok
	access.may_connect
	worst == "allow"
	analysis.complete == true
	count(outcomes) == count(analysis.operations)
}

# What of the response the gateway masks before the caller sees it (decision.output.schema.json, mask), when the
# protocol says (Kubernetes: Secret values); it rides on the allowed decision and on a held one, whose approval lets
# the same request run.
response_mask := {"mask": m} if {
	m := object.get(analysis, "response_mask", null)
	m != null
} else := {}

# Whom the gateway names to the target when it calls it as itself (Kubernetes: the groups it impersonates,
# decision.output.schema.json impersonate_groups); on the allowed decision and on a held one, like the mask. A
# protocol without it says nothing, and the gateway then sends no groups.
upstream := {"impersonate_groups": g} if {
	g := analysis.impersonate_groups
	is_array(g)
} else := {}

deny(why, policy) := {"allow": false, "reasons": why, "policy": policy, "cache_ttl_s": cache_ttl_s}

protocol_reason := sprintf("no policy of this bundle decides requests of protocol %s", [json.marshal(input.request.protocol)]) if {
	"protocol" in object.keys(input.request)
} else := "the request names no protocol, so no policy can decide it"

# What a human must do to let the request run (decision.output.schema.json, approval): approvers of
# data.json "approval", as many as the riskiest operation needs, within expires_in_s. A grant is asked for only
# when data.json names one.
approval := object.union(
	{
		"required": true,
		"approver_groups": data.portcullis.approval.approver_groups,
		"min_approvals": max({approvals_needed(i) | some i, _ in analysis.operations; count(risks_on_this_connection(i)) > 0}),
		"expires_in_s": data.portcullis.approval.expires_in_s,
	},
	grant,
)

grant := {"grant": data.portcullis.approval.grant} if data.portcullis.approval.grant

else := {}

# Distinct approvers operation i needs: the protocol's entry in data.json min_approvals_by_operation (DROP and
# TRUNCATE on PostgreSQL need two), else min_approvals.
approvals_needed(i) := object.get(
	data.portcullis.approval.min_approvals_by_operation,
	[input.request.protocol, analysis.operations[i]],
	data.portcullis.approval.min_approvals,
)

# --- each operation's outcome, in order -----------------------------------------------------

# One outcome per operation; an operation without one can never be allowed (see the allow branch above).
outcomes := [judge(i, rules) | some i, _ in analysis.operations; rules := rules_of(i)]

# Everything that applies to operation i, worked out once.
rules_of(i) := {
	"forbidden": object.get(analysis.forbidden, i, set()),
	"needs": needs,
	"missing": {n | some n in needs; not n.class in access.capabilities},
	"risks": risks,
} if {
	needs := object.get(analysis.needs, i, set())
	risks := risks_on_this_connection(i)
}

# Risks only matter on production.
risks_on_this_connection(i) := object.get(analysis.risks, i, set()) if {
	access.production
} else := set()

severity := {"allow": 0, "approval": 1, "deny": 2}

worst := o.outcome if {
	top := max([severity[o.outcome] | some o in outcomes])
	some o in outcomes
	severity[o.outcome] == top
} else := "allow"

# The first operation with the worst outcome names the deciding rule.
deciding := [o | some o in outcomes; o.outcome == worst][0]

# Every operation that did not pass says why, in order: with several, the client sees all of them at once.
reasons := [r | some o in outcomes; o.outcome != "allow"; some r in o.reasons]

judge(i, r) := outcome("deny", [prefix(i, sprintf("%s is denied for every role", [n.what])) | some n in r.forbidden], r.forbidden) if {
	count(r.forbidden) > 0
} else := outcome("deny", [prefix(i, missing_reason(n)) | some n in r.missing], r.missing) if {
	count(r.missing) > 0
} else := outcome("approval", [prefix(i, approval_reason(n, approvals_needed(i))) | some n in r.risks], r.risks) if {
	count(r.forbidden) == 0
	count(r.missing) == 0
	count(r.risks) > 0
} else := outcome("allow", [], r.needs) if {
	count(r.forbidden) == 0
	count(r.missing) == 0
	count(r.risks) == 0
	count(r.needs) > 0
} else := outcome("deny", [prefix(i, sprintf("%s: no rule of these policies covers this %s", [analysis.operations[i], analysis.operation_noun]))], set())

# Among several rules that apply to one operation, the one with the highest capability (and then the
# first by name) is named, so the same input always names the same rule.
outcome(kind, why, rules) := {
	"outcome": kind,
	"reasons": why,
	"policy": [r.policy | some r in rules; rank(r) == max({rank(x) | some x in rules})][0],
	"rank": max({rank(x) | some x in rules}),
} if {
	count(rules) > 0
} else := {"outcome": kind, "reasons": why, "policy": analysis.default_rule, "rank": 0} if {
	# Only without rules: a rule of an unranked capability leaves the outcome undefined, and so the operation
	# falls to judge's last branch, a denial, rather than passing with the lowest rank.
	count(rules) == 0
}

# The capabilities (access.rego), weakest first; "none" (forbidden) and "approval" (risks) rank lowest, and so does
# "probe", which only ever comes with another capability (a statement that filters also reads or writes). A protocol
# whose operations need a new capability ranks it here and says it in `verbs`; an unranked one decides nothing.
class_rank := {"none": 0, "approval": 0, "session": 0, "probe": 0, "read": 1, "export": 2, "write": 3, "exec": 4, "ddl": 5, "admin": 6}

rank(rule) := class_rank[rule.class]

# "statement 2 of 2: " only when there are several: with one it would be noise.
prefix(i, why) := sprintf("%s %d of %d: %s", [analysis.operation_noun, analysis.positions[i], analysis.size, why]) if {
	analysis.size > 1
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

approval_reason(r, approvers) := sprintf("%s on %s needs approval by %s", [
	r.what, access.connection_phrase, approver_groups_phrase,
]) if {
	approvers == 1
} else := sprintf("%s on %s needs approval by %d members of %s", [
	r.what, access.connection_phrase, approvers, approver_groups_phrase,
])

approver_groups_phrase := concat(" or ", data.portcullis.approval.approver_groups)

# --- the allowed decision -------------------------------------------------------------------------------

# The most powerful capability the request used names the rule, so a recording shows at a glance
# whether an allowed request only read or also wrote.
allowed_top := max({o.rank | some o in outcomes}) if count(outcomes) > 0

else := 0

allowed_policy := [o.policy | some o in outcomes; o.rank == allowed_top][0] if {
	count(outcomes) > 0
} else := analysis.empty_rule

# How an allowed decision says what the strongest capability used let the role do, by rank.
verbs := [
	"control the session", "read", "export data", "write data", "run commands in workloads", "change the schema",
	"run administrative statements",
]

allowed_reason := sprintf("allowed: %s may %s on %s", [access.roles_phrase, verbs[allowed_top], access.connection_phrase])
