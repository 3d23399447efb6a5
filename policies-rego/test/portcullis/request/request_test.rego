# The request decision itself, whatever the protocol: the contract version, the dispatch on
# input.request.protocol, and the judgement of a protocol's analysis against the identity's roles. The
# PostgreSQL decisions are tested in postgres/.
package portcullis.request_test

import data.portcullis.fixtures as f
import data.portcullis.request

postgres_request := {"protocol": "postgres", "message": "query", "statements": [], "parse_error": null}

# --- the contract -------------------------------------------------------------------------------------

test_denied_for_another_contract_version if {
	inp := object.union(f.request_input(["dba"], "dev", postgres_request), {"contract": 1})
	d := request.decision with input as inp
	d.policy == "request/contract"
	d.reasons == ["the gateway sent decision contract 1, but these policies implement contract 2; deploy a gateway and policies that agree"]
}

test_denied_without_contract_version if {
	inp := json.remove(f.request_input(["dba"], "dev", postgres_request), ["contract"])
	d := request.decision with input as inp
	d.policy == "request/contract"
	not d.allow
}

# Contract v2 names no session, so the gateway shares decisions between sessions; nothing may depend on the rest.
test_allowed_and_denied_alike_from_any_source_ip if {
	every groups in [["ci-readonly"], ["dba"]] {
		every where in ["dev", "prod"] {
			inp := f.request_input(groups, where, postgres_request)
			elsewhere := json.patch(inp, [{"op": "replace", "path": "/session/source_ip", "value": "2001:db8::7"}])
			d := request.decision with input as inp
			d == request.decision with input as elsewhere
		}
	}
}

# --- the dispatch on the protocol -----------------------------------------------------------------------

test_allowed_postgres_request_is_decided_by_the_postgres_package if {
	d := request.decision with input as f.request_input(["ci-readonly"], "dev", postgres_request)
	d.allow
	d.policy == "pg/session-control"
}

test_denied_request_of_a_protocol_without_a_package if {
	every protocol in ["mysql", "POSTGRES", "postgres ", ""] {
		inp := f.request_input(["dba"], "dev", object.union(postgres_request, {"protocol": protocol}))
		d := request.decision with input as inp
		d.policy == "request/unsupported-protocol"
		d.reasons == [sprintf("no policy of this bundle decides requests of protocol %s", [json.marshal(protocol)])]
	}
}

test_denied_request_whose_protocol_is_not_a_string if {
	d := request.decision with input as f.request_input(["dba"], "dev", {"protocol": 7})
	d.reasons == ["no policy of this bundle decides requests of protocol 7"]
}

test_denied_request_without_protocol if {
	d := request.decision with input as f.request_input(["dba"], "dev", {"statements": []})
	d.policy == "request/unsupported-protocol"
	d.reasons == ["the request names no protocol, so no policy can decide it"]
}

test_denied_without_request if {
	d := request.decision with input as f.session_input(["dba"], "dev")
	d.policy == "request/unsupported-protocol"
	d.reasons == ["the request names no protocol, so no policy can decide it"]
}

# --- the judgement, through a stand-in protocol -----------------------------------------------------------
# What a protocol package hands over (see request.rego), here without any protocol behind it: the judgement
# must not depend on PostgreSQL.

need(class, what) := {"class": class, "what": what, "policy": sprintf("demo/%s", [class])}

demo_analysis := {
	"operations": ["GET", "EXEC"],
	"positions": [1, 2],
	"size": 2,
	"complete": true,
	"needs": {0: {need("read", "GET pods")}, 1: {need("admin", "EXEC into a pod")}},
	"forbidden": {},
	"risks": {1: {need("approval", "EXEC into a pod")}},
	"operation_noun": "API request",
	"default_rule": "demo/default-deny",
	"empty_rule": "demo/nothing",
}

# The analysis with these fields replaced (object.union would merge needs and risks instead).
replaced(analysis, fields) := object.union(object.remove(analysis, object.keys(fields)), fields)

demo(groups, where, analysis) := d if {
	d := request.decision with input as f.request_input(groups, where, {"protocol": "demo"})
		with data.portcullis.request.analysis as analysis
}

test_allowed_stand_in_protocol_named_by_its_strongest_capability if {
	d := demo(["dba"], "dev", demo_analysis)
	d == {
		"allow": true,
		"reasons": ["allowed: role dba may run administrative statements on non-production connection demo-dev"],
		"policy": "demo/admin",
		"cache_ttl_s": 300,
	}
}

test_approval_for_stand_in_protocol_risk_on_production_in_its_own_words if {
	d := demo(["dba"], "prod", demo_analysis)
	not d.allow
	d.approval.required
	d.policy == "demo/approval"
	d.reasons == ["API request 2 of 2: EXEC into a pod on production connection demo-prod needs approval by approvers"]
}

# A protocol that sends a repeated operation once: the reason names where it first stands in the whole request.
test_denied_stand_in_protocol_repeated_operation_named_by_its_first_place_in_the_request if {
	d := demo(["developers"], "dev", replaced(demo_analysis, {"positions": [1, 3], "size": 5}))
	d.reasons == ["API request 3 of 5: EXEC into a pod is not allowed on non-production connection demo-dev: role developer may read and write data (DML) outside production, and only read on production"]
}

test_denied_stand_in_protocol_operation_for_a_role_without_the_capability if {
	d := demo(["developers"], "dev", demo_analysis)
	not d.allow
	d.policy == "demo/admin"
	d.reasons == ["API request 2 of 2: EXEC into a pod is not allowed on non-production connection demo-dev: role developer may read and write data (DML) outside production, and only read on production"]
}

test_denied_stand_in_protocol_operation_no_role_may_do if {
	d := demo(["dba"], "dev", replaced(demo_analysis, {"forbidden": {0: {need("none", "GET secrets")}}}))
	not d.allow
	not d.approval
	d.reasons == ["API request 1 of 2: GET secrets is denied for every role"]
}

test_denied_stand_in_protocol_for_a_role_that_may_not_connect_names_its_default_rule if {
	d := demo(["ci-readonly"], "prod", demo_analysis)
	d.policy == "demo/default-deny"
}

test_allowed_stand_in_protocol_request_without_operations_names_its_empty_rule if {
	empty := replaced(demo_analysis, {"operations": [], "needs": {}, "risks": {}})
	demo(["ci-readonly"], "dev", empty).policy == "demo/nothing"
}

test_denied_stand_in_protocol_operation_that_no_rule_covers if {
	d := demo(["dba"], "dev", replaced(demo_analysis, {"needs": {0: {need("read", "GET pods")}}, "risks": {}}))
	d.policy == "demo/default-deny"
	d.reasons == ["API request 2 of 2: EXEC: no rule of these policies covers this API request"]
}

test_denied_stand_in_protocol_operation_that_needs_an_unranked_capability if {
	d := demo(["dba"], "dev", replaced(demo_analysis, {"needs": {0: {need("teleport", "GET pods")}, 1: {need("read", "EXEC")}}, "risks": {}}))
		with data.portcullis.permissions.dba.non_production as ["teleport", "read"]
	d.policy == "demo/default-deny"
	d.reasons == ["API request 1 of 2: GET: no rule of these policies covers this API request"]
}

test_denied_stand_in_protocol_whose_analysis_is_incomplete if {
	d := demo(["dba"], "dev", replaced(demo_analysis, {"complete": false}))
	d == {"allow": false, "reasons": ["no rule of the request policy decided this input"], "policy": "request/default-deny", "cache_ttl_s": 300}
}

# --- the safety net -------------------------------------------------------------------------------------

test_denied_when_an_operation_has_no_outcome if {
	d := request.decision with input as f.request_input(["dba"], "dev", object.union(postgres_request, {"statements": [{"command": "SELECT"}]}))
		with data.portcullis.request.outcomes as []
	d == {"allow": false, "reasons": ["no rule of the request policy decided this input"], "policy": "request/default-deny", "cache_ttl_s": 300}
}
