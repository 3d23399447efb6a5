# May this approver vote on this held request? Entry point: data.portcullis.approve.decision, asked by the admin API
# before it records a vote (approve or deny). Input: policies-rego/schema/approve.input.schema.json: the approver as
# `identity`, the held request as `approval` (who asked, on which connection, what, why it was held, who may vote,
# the votes so far) and the `vote`.
#
# The default policy:
#   - the approver is in one of the request's approver groups (set by the request policy, data.json "approval");
#   - nobody votes on their own request, neither to approve nor to deny it;
#   - anything else is refused, with a reason that names the rule.
# How many approvals a request needs is the request policy's answer (min_approvals); that they come from distinct
# approvers is guaranteed by the admin API (one vote per approver and request). A single denial ends a request.
#
# Deny by default, and every branch guards itself completely, so that a reason that fails to render can only fall
# through to another refusal. Votes are never cached (cache_ttl_s 0): each one is asked afresh.
package portcullis.approve

import data.portcullis.access

default decision := {
	"allow": false,
	"reasons": ["no rule of the approve policy decided this input"],
	"policy": "approve/default-deny",
	"cache_ttl_s": 0,
}

decision := refuse(access.contract_reason, "approve/contract") if {
	not access.contract_ok
} else := refuse(vote_reason, "approve/vote") if {
	not valid_vote
} else := refuse(unknown_reason, "approve/unknown-identity") if {
	not known_subjects
} else := refuse(own_reason, "approve/self-approval") if {
	own_request
} else := refuse(group_reason, "approve/not-an-approver") if {
	not in_approver_group
} else := {
	"allow": true,
	"reasons": [allowed_reason],
	"policy": "approve/approver-group",
	"cache_ttl_s": 0,
} if {
	access.contract_ok
	valid_vote
	known_subjects
	not own_request
	in_approver_group
}

refuse(why, policy) := {"allow": false, "reasons": [why], "policy": policy, "cache_ttl_s": 0}

valid_vote if input.vote in {"approve", "deny"}

vote_reason := sprintf("a vote is \"approve\" or \"deny\", not %s", [json.marshal(object.get(input, "vote", null))])

# --- whose request -----------------------------------------------------------------------------------------

approver := input.identity.subject

requester := input.approval.requester.subject

# Without both subjects nobody can tell whether the approver asked for this request, so nothing is allowed.
known_subjects if {
	non_empty_string(approver)
	non_empty_string(requester)
}

non_empty_string(s) if {
	is_string(s)
	trim_space(s) != ""
}

unknown_reason := "the vote names no approver, or the request no requester (identity.subject, approval.requester.subject), so self-approval cannot be ruled out"

own_request if approver == requester

own_reason := sprintf("%s may not %s request %s: it is their own, and nobody votes on their own request", [
	who, input.vote, request_id,
])

# --- the approver groups -----------------------------------------------------------------------------------

# Group names match exactly, as in access.rego: a group spelled differently only ever loses the right to vote.
approver_group contains group if {
	some group in input.identity.groups
	is_string(group)
	group in input.approval.approver_groups
}

in_approver_group if count(approver_group) > 0

group_reason := sprintf("%s is in none of the approver groups of request %s (%s); their groups: %s", [
	who, request_id, concat(", ", [g | some g in input.approval.approver_groups; is_string(g)]), access.groups_text,
])

allowed_reason := sprintf("allowed: %s may %s request %s as a member of %s", [
	who, input.vote, request_id, concat(", ", sort(approver_group)),
])

# --- how reasons name things -------------------------------------------------------------------------------

# Only reasons given after known_subjects name the approver, so the subject is always there to fall back on.
who := input.identity.name if {
	non_empty_string(input.identity.name)
} else := approver

request_id := input.approval.id if {
	non_empty_string(input.approval.id)
} else := "(unknown)"
