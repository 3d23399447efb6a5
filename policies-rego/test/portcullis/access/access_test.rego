package portcullis.access_test

import data.portcullis.access
import data.portcullis.fixtures as f

connection_tagged(tags) := json.patch(f.session_input(["developers"], "dev"), [{"op": "replace", "path": "/connection/tags", "value": tags}])

test_roles_of_several_groups_are_united if {
	access.roles == {"dba", "approver", "ci-readonly"} with input as f.session_input(["dba", "approvers", "ci-readonly"], "dev")
}

test_roles_ignore_unknown_groups_and_other_spellings if {
	access.roles == {"developer"} with input as f.session_input(["Developers", "developers", "marketing"], "dev")
}

test_no_roles_without_groups if {
	count(access.roles) == 0 with input as {"identity": {}}
}

test_production_for_env_prod if {
	access.production with input as f.session_input(["dba"], "prod")
	access.connection_phrase == "production connection demo-prod" with input as f.session_input(["dba"], "prod")
}

test_non_production_for_env_dev_in_any_case_and_spacing if {
	every env in ["dev", "DEV", " Staging ", "test"] {
		access.non_production with input as connection_tagged({"env": env})
	}
}

test_production_for_missing_empty_unknown_or_non_string_env if {
	every tags in [{}, {"env": ""}, {"env": "PROD"}, {"env": "production"}, {"env": "uat"}, {"env": 1}, {"team": "dev"}] {
		access.production with input as connection_tagged(tags)
	}
}

test_production_without_connection if {
	access.production with input as {"identity": {"groups": ["dba"]}}
	access.connection_phrase == "production connection (unnamed)" with input as {"identity": {"groups": ["dba"]}}
}

test_capabilities_are_the_union_of_the_roles_plus_session_control if {
	caps := access.capabilities with input as f.session_input(["developers", "backup"], "prod")
	caps == {"session", "read", "probe", "export"}
}

test_no_capabilities_for_ci_on_production if {
	count(access.capabilities) == 0 with input as f.session_input(["ci-readonly"], "prod")
	not access.may_connect with input as f.session_input(["ci-readonly"], "prod")
}

test_no_capabilities_for_a_role_without_permissions if {
	caps := access.capabilities with input as f.session_input(["auditors"], "dev")
		with data.portcullis.roles.auditors as ["auditor"]
	count(caps) == 0
	reason := access.no_access_reason with input as f.session_input(["auditors"], "dev")
		with data.portcullis.roles.auditors as ["auditor"]
	reason == "role auditor may not use non-production connection demo-dev (auditor has no permissions defined in data.json)"
}

test_no_access_reason_names_the_identity_and_its_groups if {
	reason := access.no_access_reason with input as {"identity": {"groups": ["marketing", 7]}}
	reason == "identity (unknown) has no group that maps to a Portcullis role (groups: marketing)"
}

test_no_access_reason_names_every_role if {
	reason := access.no_access_reason with input as f.session_input(["ci-readonly", "approvers"], "prod")
	reason == "roles approver, ci-readonly may not use production connection demo-prod (approver approves requests and has no access to data by itself; ci-readonly may only read, and not on production)"
}

test_contract_2_is_accepted_and_anything_else_is_not if {
	access.contract_ok with input as {"contract": 2}
	not access.contract_ok with input as {"contract": 1}
	access.contract_reason == "the gateway sent decision contract 1, but these policies implement contract 2; deploy a gateway and policies that agree" with input as {"contract": 1}
	not access.contract_ok with input as {"contract": "2"}
	access.contract_reason == "the gateway sent decision contract \"2\", but these policies implement contract 2; deploy a gateway and policies that agree" with input as {"contract": "2"}
	not access.contract_ok with input as {}
	access.contract_reason == "the gateway sent decision contract (none), but these policies implement contract 2; deploy a gateway and policies that agree" with input as {}
}
