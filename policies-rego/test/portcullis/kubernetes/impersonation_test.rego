# Which of the identity's groups the gateway impersonates: those of data.json impersonated_groups, never a group
# Kubernetes reserves, on every decision that lets the request run (allowed, or held for approval).
package portcullis.kubernetes.impersonation_test

import data.portcullis.kubernetes.fixtures as f

test_allowed_request_names_only_the_groups_the_clusters_know if {
	d := f.decide(["dba", "approvers", "some-directory-group"], "dev", f.list_pods)
	d.allow
	d.impersonate_groups == ["dba"]
}

test_groups_are_sorted_and_named_once if {
	d := f.decide(["developers", "ci-readonly", "developers"], "dev", f.list_pods)
	d.impersonate_groups == ["ci-readonly", "developers"]
}

test_reserved_groups_never_pass_even_when_data_lists_them if {
	d := f.decide(["dba", "system:masters"], "dev", f.list_pods) with data.portcullis.kubernetes.impersonated_groups as ["dba", "system:masters"]
	d.impersonate_groups == ["dba"]
}

test_group_names_match_exactly if {
	d := f.decide(["dba", "DBA", "dba "], "dev", f.list_pods)
	d.impersonate_groups == ["dba"]
}

test_held_request_names_the_groups_its_approval_lets_through if {
	d := f.decide(["dba", "approvers"], "prod", f.delete_pod)
	d.approval.required
	d.impersonate_groups == ["dba"]
}

test_denied_request_names_no_groups if {
	d := f.decide(["ci-readonly"], "dev", f.delete_pod)
	not d.allow
	not d.impersonate_groups
}

test_a_group_list_that_is_not_a_list_passes_no_group if {
	d := f.decide(["dba"], "dev", f.list_pods) with data.portcullis.kubernetes.impersonated_groups as "dba"
	d.allow
	d.impersonate_groups == []
}

test_other_protocols_name_no_groups if {
	d := data.portcullis.request.decision with input as object.union(
		f.request_input(["dba"], "dev", f.list_pods),
		{"connection": {"name": "demo-box", "type": "ssh", "tags": {"env": "dev"}}, "request": {"protocol": "ssh", "type": "shell"}},
	)
	not d.impersonate_groups
}
