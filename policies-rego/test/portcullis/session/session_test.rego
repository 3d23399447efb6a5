package portcullis.session_test

import data.portcullis.fixtures as f
import data.portcullis.session

decide(groups, where) := d if {
	d := session.decision with input as f.session_input(groups, where)
}

test_allowed_session_for_ci_on_dev if {
	decide(["ci-readonly"], "dev") == {
		"allow": true,
		"reasons": ["allowed: role ci-readonly may use non-production connection demo-dev"],
		"policy": "session/roles",
		"cache_ttl_s": 300,
	}
}

test_denied_session_for_ci_on_prod if {
	decide(["ci-readonly"], "prod") == {
		"allow": false,
		"reasons": ["role ci-readonly may not use production connection demo-prod (ci-readonly may only read, and not on production)"],
		"policy": "session/default-deny",
		"cache_ttl_s": 300,
	}
}

test_denied_session_for_ci_on_a_connection_without_env_tag if {
	not decide(["ci-readonly"], "untagged").allow
}

test_allowed_session_on_prod_for_backup_developers_and_dba if {
	every group in ["backup", "developers", "dba"] {
		decide([group], "prod").allow
	}
}

test_allowed_session_for_several_groups_names_every_role if {
	decide(["dba", "approvers"], "prod").reasons == ["allowed: roles approver, dba may use production connection demo-prod"]
}

test_denied_session_for_approvers_without_a_data_role if {
	d := decide(["approvers"], "dev")
	not d.allow
	d.reasons == ["role approver may not use non-production connection demo-dev (approver approves requests and has no access to data by itself)"]
}

test_denied_session_for_empty_groups if {
	d := decide([], "dev")
	not d.allow
	d.reasons == ["identity someone has no group that maps to a Portcullis role (groups: none)"]
}

test_denied_session_for_unknown_groups if {
	d := decide(["marketing"], "dev")
	not d.allow
	d.policy == "session/default-deny"
}

test_denied_session_when_groups_missing if {
	d := session.decision with input as {"contract": 2, "identity": {}}
	not d.allow
}

test_denied_session_for_a_gateway_of_contract_1 if {
	d := session.decision with input as object.union(f.session_input(["dba"], "dev"), {"contract": 1})
	not d.allow
	d.policy == "session/contract"
}

test_denied_session_when_no_rule_decides if {
	d := session.decision with input as f.session_input(["dba"], "dev")
		with data.portcullis.access.may_connect as false
		with data.portcullis.access.sorted_roles as []
	d == {"allow": false, "reasons": ["no rule of the session policy decided this input"], "policy": "session/default-deny", "cache_ttl_s": 300}
}
