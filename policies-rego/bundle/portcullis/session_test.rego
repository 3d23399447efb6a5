package portcullis.session_test

import rego.v1

import data.portcullis.session

test_allowed_for_a_known_group if {
	session.allow with input as {"identity": {"groups": ["ci-readonly"]}}
}

test_denied_without_groups if {
	not session.allow with input as {"identity": {"groups": []}}
	session.decision.reasons == ["no group of this identity maps to a Portcullis role"] with input as {"identity": {"groups": []}}
}

test_denied_for_unknown_group_only if {
	not session.allow with input as {"identity": {"groups": ["marketing"]}}
}

test_denied_when_groups_missing if {
	not session.allow with input as {"identity": {}}
}
