# May this caller do this on the admin API? Entry point: data.portcullis.admin.decision, asked by the admin API for
# every call before it does anything. Input: policies-rego/schema/admin.input.schema.json: the caller as `identity`
# (from their verified access token), the `action` (one per kind of endpoint, listed in `actions` below) and, for an
# action on one session, the `resource` (the session and the approver groups of the requests it holds).
#
# Who may do what is organisation data: data.json "admin_api" maps groups to admin roles and gives each role its
# actions ("*": all of them). The default roles:
#   admin (platform-admins)   everything;
#   auditor (auditors)        read sessions, recordings, the audit log and policy status;
#   approver (approvers)      read and vote on held requests, and read a session (and its recording) that holds a
#                             request they are asked to approve (one of its approver groups is theirs).
# Every authenticated caller may ask who they are (whoami). Deny by default; an action this policy does not know is
# refused even for admin, so that a typo in the admin API can never open an endpoint.
package portcullis.admin

import data.portcullis.access

actions := {
	"whoami",
	"connections.read", "connections.write", "connections.test",
	"sessions.read", "sessions.kill",
	"recordings.read", "recordings.parked.read", "recordings.parked.replay",
	"audit.read", "policy.read",
	"approvals.read", "approvals.vote",
	"grants.read", "grants.revoke",
}

default decision := {
	"allow": false,
	"reasons": ["no rule of the admin policy decided this input"],
	"policy": "admin/default-deny",
	"cache_ttl_s": 0,
}

decision := refuse(access.contract_reason, "admin/contract") if {
	not access.contract_ok
} else := refuse(unknown_action_reason, "admin/unknown-action") if {
	not input.action in actions
} else := allow(sprintf("allowed: every authenticated caller may %s", [input.action]), "admin/anyone") if {
	input.action == "whoami"
} else := allow(role_reason, "admin/role") if {
	count(granting_roles) > 0
} else := allow(asked_reason, "admin/asked-approver") if {
	asked_approver
} else := refuse(no_role_reason, "admin/no-role")

allow(why, policy) := {"allow": true, "reasons": [why], "policy": policy, "cache_ttl_s": 0}

refuse(why, policy) := {"allow": false, "reasons": [why], "policy": policy, "cache_ttl_s": 0}

# The caller's admin roles, sorted (GET /whoami shows them). Group names match exactly.
roles := sort([role |
	some role in {r |
		some group in input.identity.groups
		is_string(group)
		some r in data.portcullis.admin_api.roles[group]
	}
])

granting_roles contains role if {
	some role in roles
	some granted in data.portcullis.admin_api.permissions[role].actions
	granted in {"*", input.action}
}

# An approver reads a session, and its recording, when it holds a request one of their groups is asked to approve.
asked_approver if {
	input.action in {"sessions.read", "recordings.read"}
	"approver" in roles
	some group in input.identity.groups
	group in input.resource.approver_groups
}

# The roles that would do, for the refusal: the caller knows whom to ask.
roles_for_action := sort([role |
	some role, permission in data.portcullis.admin_api.permissions
	some granted in permission.actions
	granted in {"*", input.action}
])

groups_for_action := sort({group |
	some group, group_roles in data.portcullis.admin_api.roles
	some role in group_roles
	role in roles_for_action
})

unknown_action_reason := sprintf("the admin API asked about action %s, which this policy does not know", [
	json.marshal(object.get(input, "action", null)),
])

role_reason := sprintf("allowed: %s may %s as %s", [who, input.action, concat(", ", sort(granting_roles))])

asked_reason := sprintf("allowed: %s may %s: it holds a request their group is asked to approve", [who, input.action])

no_role_reason := sprintf("%s may not %s: that needs membership of group %s (their groups: %s)", [
	who, input.action, concat(" or ", [sprintf("'%s'", [g]) | some g in groups_for_action]), access.groups_text,
])

who := input.identity.name if {
	is_string(input.identity.name)
	trim_space(input.identity.name) != ""
} else := access.subject
