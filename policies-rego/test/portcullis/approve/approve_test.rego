# Who may vote on a held request: an approver of one of its approver groups, never on their own request.
package portcullis.approve_test

import data.portcullis.approve
import data.portcullis.fixtures as f

# The approve input as the admin API sends it: carol (approvers) votes on alice's DELETE on demo-prod.
carol := {"subject": "carol", "name": "carol", "groups": ["approvers"], "client_id": "portcullis-cli", "kind": "human"}

held := {
	"id": "7d3c2a10-5b7e-4f0e-9a43-1c2d3e4f5a6b",
	"requester": {"subject": "alice", "name": "alice", "groups": ["dba", "approvers"], "kind": "human"},
	"connection": f.connections.prod,
	"protocol": "postgres",
	"summary": "DELETE FROM orders",
	"request": {"protocol": "postgres", "message": "query", "statements": [], "parse_error": null},
	"policy": "pg/destructive-on-prod",
	"reasons": ["DELETE without WHERE on production connection demo-prod needs approval by approvers"],
	"approver_groups": ["approvers"],
	"min_approvals": 1,
	"grant": null,
	"votes": [],
}

vote_input(identity, approval, vote) := {"contract": 2, "identity": identity, "approval": approval, "vote": vote}

decide(identity, approval, vote) := d if {
	d := approve.decision with input as vote_input(identity, approval, vote)
}

# --- allowed ------------------------------------------------------------------------------------------------

test_allowed_approval_by_a_member_of_an_approver_group if {
	decide(carol, held, "approve") == {
		"allow": true,
		"reasons": ["allowed: carol may approve request 7d3c2a10-5b7e-4f0e-9a43-1c2d3e4f5a6b as a member of approvers"],
		"policy": "approve/approver-group",
		"cache_ttl_s": 0,
	}
}

test_allowed_denial_by_a_member_of_an_approver_group if {
	d := decide(carol, held, "deny")
	d.allow
	d.reasons == ["allowed: carol may deny request 7d3c2a10-5b7e-4f0e-9a43-1c2d3e4f5a6b as a member of approvers"]
}

test_allowed_approval_by_a_member_of_any_of_several_approver_groups if {
	dba := object.union(carol, {"subject": "dave", "name": "dave", "groups": ["developers", "dba"]})
	d := decide(dba, object.union(held, {"approver_groups": ["approvers", "dba"]}), "approve")
	d.allow
	d.reasons == ["allowed: dave may approve request 7d3c2a10-5b7e-4f0e-9a43-1c2d3e4f5a6b as a member of dba"]
}

test_allowed_second_approval_after_another_approvers_vote if {
	two := object.union(held, {"min_approvals": 2, "votes": [{"approver": "erin", "verdict": "approve"}]})
	decide(carol, two, "approve").allow
}

test_allowed_approval_named_by_subject_when_the_approver_has_no_name if {
	d := decide(object.union(carol, {"name": null}), held, "approve")
	d.allow
	d.reasons == ["allowed: carol may approve request 7d3c2a10-5b7e-4f0e-9a43-1c2d3e4f5a6b as a member of approvers"]
}

# --- refused ------------------------------------------------------------------------------------------------

test_denied_self_approval if {
	alice := object.union(carol, {"subject": "alice", "name": "alice", "groups": ["dba", "approvers"]})
	decide(alice, held, "approve") == {
		"allow": false,
		"reasons": ["alice may not approve request 7d3c2a10-5b7e-4f0e-9a43-1c2d3e4f5a6b: it is their own, and nobody votes on their own request"],
		"policy": "approve/self-approval",
		"cache_ttl_s": 0,
	}
}

test_denied_self_denial if {
	alice := object.union(carol, {"subject": "alice", "name": "alice"})
	d := decide(alice, held, "deny")
	d.policy == "approve/self-approval"
	not d.allow
}

# The subject decides, never the display name: another person called "alice" is not the requester.
test_allowed_approval_by_someone_who_only_shares_the_requesters_name if {
	decide(object.union(carol, {"name": "alice"}), held, "approve").allow
}

test_denied_approver_outside_the_approver_groups if {
	bob := {"subject": "bob", "name": "bob", "groups": ["developers"], "client_id": "portcullis-cli", "kind": "human"}
	decide(bob, held, "approve") == {
		"allow": false,
		"reasons": ["bob is in none of the approver groups of request 7d3c2a10-5b7e-4f0e-9a43-1c2d3e4f5a6b (approvers); their groups: developers"],
		"policy": "approve/not-an-approver",
		"cache_ttl_s": 0,
	}
}

test_denied_approver_without_groups if {
	d := decide(object.union(carol, {"groups": []}), held, "deny")
	d.policy == "approve/not-an-approver"
	d.reasons == ["carol is in none of the approver groups of request 7d3c2a10-5b7e-4f0e-9a43-1c2d3e4f5a6b (approvers); their groups: none"]
}

test_denied_approver_of_a_differently_spelled_group if {
	every groups in [["Approvers"], ["approvers "], ["/approvers"]] {
		decide(object.union(carol, {"groups": groups}), held, "approve").policy == "approve/not-an-approver"
	}
}

test_denied_when_the_request_names_no_approver_groups if {
	decide(carol, object.union(held, {"approver_groups": []}), "approve").policy == "approve/not-an-approver"
}

test_denied_vote_that_is_neither_approve_nor_deny if {
	every vote in ["APPROVE", "yes", "", 1, null] {
		d := decide(carol, held, vote)
		d.policy == "approve/vote"
		not d.allow
	}
	decide(carol, held, "abstain").reasons == ["a vote is \"approve\" or \"deny\", not \"abstain\""]
}

test_denied_vote_without_vote if {
	d := approve.decision with input as json.remove(vote_input(carol, held, "approve"), ["vote"])
	d.reasons == ["a vote is \"approve\" or \"deny\", not null"]
}

test_denied_when_self_approval_cannot_be_ruled_out if {
	no_requester := json.patch(held, [{"op": "replace", "path": "/requester/subject", "value": ""}])
	every d in [
		decide(object.union(carol, {"subject": null}), held, "approve"),
		decide(object.union(carol, {"subject": " "}), held, "approve"),
		decide(carol, no_requester, "approve"),
		decide(carol, json.remove(held, ["requester"]), "approve"),
	] {
		d.policy == "approve/unknown-identity"
		not d.allow
	}
}

test_denied_for_another_contract_version if {
	d := approve.decision with input as object.union(vote_input(carol, held, "approve"), {"contract": 1})
	d.policy == "approve/contract"
	d.reasons == ["the gateway sent decision contract 1, but these policies implement contract 2; deploy a gateway and policies that agree"]
}

test_denied_approver_outside_the_groups_names_only_the_groups_that_are_names if {
	d := decide(object.union(carol, {"groups": ["developers", 7]}), object.union(held, {"approver_groups": ["approvers", 7]}), "approve")
	d.policy == "approve/not-an-approver"
	d.reasons == ["carol is in none of the approver groups of request 7d3c2a10-5b7e-4f0e-9a43-1c2d3e4f5a6b (approvers); their groups: developers"]
}

test_denied_without_approval if {
	d := approve.decision with input as {"contract": 2, "identity": carol, "vote": "approve"}
	not d.allow
	d.policy == "approve/unknown-identity"
}

test_denied_vote_on_a_request_without_id_names_it_unknown if {
	d := decide(object.union(carol, {"groups": ["developers"]}), json.remove(held, ["id"]), "approve")
	d.reasons == ["carol is in none of the approver groups of request (unknown) (approvers); their groups: developers"]
}

# --- the safety net -------------------------------------------------------------------------------------

test_denied_when_the_allowing_reason_cannot_be_rendered if {
	d := approve.decision with input as vote_input(carol, held, "approve")
		with data.portcullis.approve.approver_group as {7}
	d == {"allow": false, "reasons": ["no rule of the approve policy decided this input"], "policy": "approve/default-deny", "cache_ttl_s": 0}
}
