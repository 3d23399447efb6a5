# Who may call which admin API endpoint: the default roles, every action, and the refusals.
package portcullis.admin_test

import data.portcullis.admin
import data.portcullis.fixtures as f

call(groups, action) := d if {
	d := admin.decision with input as {"contract": 2, "identity": f.identity(groups), "action": action}
}

call_on(groups, action, resource) := d if {
	d := admin.decision with input as {"contract": 2, "identity": f.identity(groups), "action": action, "resource": resource}
}

allowed(groups, action) := call(groups, action).allow

allowed_actions(groups) := {action | some action in admin.actions; allowed(groups, action)}

# --- the role matrix ----------------------------------------------------------------------------------------

auditor_actions := {"whoami", "sessions.read", "recordings.read", "audit.read", "policy.read"}

approver_actions := {"whoami", "approvals.read", "approvals.vote"}

test_allowed_every_action_for_platform_admins if {
	every action in admin.actions {
		allowed(["platform-admins"], action)
	}
}

test_auditors_may_read_sessions_recordings_audit_and_policy_only if {
	allowed_actions(["auditors"]) == auditor_actions
}

test_approvers_may_read_and_vote_on_held_requests_only if {
	allowed_actions(["approvers"]) == approver_actions
}

test_denied_everything_but_whoami_without_an_admin_group if {
	allowed_actions(["developers", "dba"]) == {"whoami"}
}

test_allowed_the_union_of_several_roles if {
	allowed(["auditors", "approvers"], "audit.read")
	allowed(["auditors", "approvers"], "approvals.vote")
	not allowed(["auditors", "approvers"], "sessions.kill")
}

test_allowed_reason_names_the_role if {
	call(["auditors"], "audit.read") == {
		"allow": true,
		"reasons": ["allowed: Some One may audit.read as auditor"],
		"policy": "admin/role",
		"cache_ttl_s": 0,
	}
}

test_denied_reason_names_the_groups_that_would_do if {
	call(["auditors"], "sessions.kill") == {
		"allow": false,
		"reasons": ["Some One may not sessions.kill: that needs membership of group 'platform-admins' (their groups: auditors)"],
		"policy": "admin/no-role",
		"cache_ttl_s": 0,
	}
	call([], "audit.read").reasons == ["Some One may not audit.read: that needs membership of group 'auditors' or 'platform-admins' (their groups: none)"]
}

# --- approvers and the sessions they are asked about ------------------------------------------------------

test_allowed_an_approver_reads_a_session_holding_a_request_for_their_group if {
	d := call_on(["approvers"], "sessions.read", {"session_id": "s1", "approver_groups": ["approvers"]})
	d.allow
	d.policy == "admin/asked-approver"
	call_on(["approvers"], "recordings.read", {"session_id": "s1", "approver_groups": ["approvers"]}).allow
}

test_denied_an_approver_reads_a_session_for_other_groups_or_none if {
	not call_on(["approvers"], "sessions.read", {"session_id": "s1", "approver_groups": ["dba-leads"]}).allow
	not call_on(["approvers"], "sessions.read", {"session_id": "s1", "approver_groups": []}).allow
	not call(["approvers"], "sessions.read").allow
}

test_denied_a_non_approver_in_the_asked_group_reads_the_session if {
	not call_on(["dba"], "sessions.read", {"session_id": "s1", "approver_groups": ["dba"]}).allow
}

test_denied_an_approver_kills_a_session_they_are_asked_about if {
	not call_on(["approvers"], "sessions.kill", {"session_id": "s1", "approver_groups": ["approvers"]}).allow
}

# --- what no role may do -----------------------------------------------------------------------------------

test_denied_an_unknown_action_even_for_platform_admins if {
	d := call(["platform-admins"], "connections.drop-all")
	not d.allow
	d.policy == "admin/unknown-action"
	d.reasons == ["the admin API asked about action \"connections.drop-all\", which this policy does not know"]
}

test_denied_another_contract_version if {
	d := admin.decision with input as {"contract": 1, "identity": f.identity(["platform-admins"]), "action": "audit.read"}
	not d.allow
	d.policy == "admin/contract"
}

test_denied_a_misspelt_group if {
	not allowed(["Platform-Admins"], "audit.read")
}

# --- whoami ------------------------------------------------------------------------------------------------

test_roles_are_the_sorted_admin_roles_of_the_groups if {
	admin.roles == ["approver", "auditor"] with input as {"identity": f.identity(["dba", "auditors", "approvers"])}
	admin.roles == [] with input as {"identity": f.identity(["developers"])}
}

test_denied_reason_names_the_subject_without_a_name if {
	d := admin.decision with input as {
		"contract": 2,
		"identity": {"subject": "svc-1", "name": "", "groups": [], "client_id": "svc-1", "kind": "machine"},
		"action": "audit.read",
	}
	startswith(d.reasons[0], "svc-1 may not audit.read")
}
