# The request decision for Kubernetes: every role against every kind of API request on a production and a
# non-production cluster, the words kubectl prints, and the requests that try to look like something else.
package portcullis.kubernetes.decisions_test

import data.portcullis.kubernetes.fixtures as f

# A row is [request, outcome on non-production, outcome on production], per role.
matrix := {
	"ci-readonly": {
		"list pods": [f.list_pods, "allow", "deny"],
		"watch pods": [f.watch_pods, "allow", "deny"],
		"get pod logs": [f.pod_logs, "allow", "deny"],
		"discovery": [f.discovery, "allow", "deny"],
		"get secret": [f.get_secret, "deny", "deny"],
		"list secrets": [f.list_secrets, "deny", "deny"],
		"patch deployment": [f.patch_deployment, "deny", "deny"],
		"delete pod": [f.delete_pod, "deny", "deny"],
		"exec": [f.exec_pod, "deny", "deny"],
		"port-forward": [f.port_forward, "deny", "deny"],
		"pod proxy": [f.pod_proxy, "deny", "deny"],
		"service proxy": [f.service_proxy, "deny", "deny"],
		"node proxy": [f.node_proxy, "deny", "deny"],
		"kube-system": [f.list_kube_system_pods, "deny", "deny"],
		"whoami": [f.self_subject_review, "allow", "deny"],
		"can-i": [f.access_review_in_namespace, "allow", "deny"],
		"delete a review": [f.delete_review, "deny", "deny"],
	},
	"developers": {
		"list pods": [f.list_pods, "allow", "allow"],
		"get secret": [f.get_secret, "allow", "allow"],
		"create deployment": [f.create_deployment, "allow", "deny"],
		"patch deployment": [f.patch_deployment, "allow", "deny"],
		"delete pod": [f.delete_pod, "allow", "deny"],
		"delete all pods": [f.delete_all_pods, "allow", "deny"],
		"exec": [f.exec_pod, "allow", "deny"],
		"port-forward": [f.port_forward, "allow", "deny"],
		"pod proxy": [f.pod_proxy, "allow", "deny"],
		"service proxy": [f.service_proxy, "allow", "deny"],
		"node proxy": [f.node_proxy, "deny", "deny"],
		"kube-system": [f.list_kube_system_pods, "deny", "deny"],
		"create namespace": [f.create_namespace, "deny", "deny"],
		"list nodes": [f.list_nodes, "allow", "allow"],
	},
	"dba": {
		"list pods": [f.list_pods, "allow", "allow"],
		"patch deployment": [f.patch_deployment, "allow", "allow"],
		"delete pod": [f.delete_pod, "allow", "approval"],
		"delete all pods": [f.delete_all_pods, "allow", "approval"],
		"exec": [f.exec_pod, "allow", "approval"],
		"port-forward": [f.port_forward, "allow", "approval"],
		"pod proxy": [f.pod_proxy, "allow", "approval"],
		"service proxy": [f.service_proxy, "allow", "approval"],
		"node proxy": [f.node_proxy, "allow", "approval"],
		"kube-system": [f.list_kube_system_pods, "allow", "allow"],
		"create namespace": [f.create_namespace, "allow", "allow"],
		"post to a non-resource path": [f.post_non_resource, "allow", "allow"],
	},
	"approvers": {
		"list pods": [f.list_pods, "deny", "deny"],
		"discovery": [f.discovery, "deny", "deny"],
	},
}

mismatches := [sprintf("%s %s on %s: want %s, got %s", [group, row, where, want, got]) |
	some group, rows in matrix
	some row, cell in rows
	some i, where in ["dev", "prod"]
	want := cell[i + 1]
	got := f.outcome(f.decide([group], where, cell[0]))
	want != got
]

test_matrix_every_role_every_request_on_both_kinds_of_cluster if {
	print(mismatches)
	count(mismatches) == 0
}

test_denied_delete_names_the_rule_and_the_role_in_words_kubectl_prints if {
	d := f.decide(["ci-readonly"], "dev", f.delete_pod)
	not d.allow
	d.policy == "k8s/role-write"
	d.reasons == ["delete pods web-1 in namespace demo (changes the cluster's objects) is not allowed on non-production connection demo-k8s-dev: role ci-readonly may only read, and not on production"]
}

test_allowed_list_names_the_read_rule if {
	d := f.decide(["ci-readonly"], "dev", f.list_pods)
	d.allow
	d.policy == "k8s/role-read"
	d.reasons == ["allowed: role ci-readonly may read on non-production connection demo-k8s-dev"]
}

test_allowed_exec_says_it_runs_commands_in_workloads if {
	d := f.decide(["developers"], "dev", f.exec_pod)
	d.allow
	d.policy == "k8s/role-exec"
	d.reasons == ["allowed: role developer may run commands in workloads on non-production connection demo-k8s-dev"]
}

test_approval_for_exec_on_production_by_the_approvers if {
	d := f.decide(["dba"], "prod", f.exec_pod)
	not d.allow
	d.policy == "k8s/exec-on-prod"
	d.approval.required
	d.approval.approver_groups == ["approvers"]
	d.reasons == ["connect pods/exec web-1 in namespace demo on production connection demo-k8s-prod needs approval by approvers"]
}

test_denied_secret_read_for_a_role_that_may_only_read if {
	d := f.decide(["ci-readonly"], "dev", f.get_secret)
	d.policy == "k8s/role-secrets"
}

# --- requests that try to look like something else --------------------------------------------------------

test_denied_verb_in_other_letter_case_is_still_a_delete if {
	upper_delete := object.union(f.delete_pod, {"verb": "DELETE"})
	f.outcome(f.decide(["ci-readonly"], "dev", upper_delete)) == "deny"
	f.outcome(f.decide(["dba"], "prod", upper_delete)) == "approval"
}

test_denied_unknown_verb_needs_the_admin_capability if {
	d := f.decide(["developers"], "dev", f.options_pods)
	not d.allow
	d.policy == "k8s/role-admin"
}

test_denied_secret_read_in_other_letter_case if {
	f.outcome(f.decide(["ci-readonly"], "dev", object.union(f.get_secret, {"resource": "Secrets"}))) == "deny"
}

test_denied_exec_sent_with_another_verb if {
	as_get := object.union(f.exec_pod, {"verb": "get"})
	f.outcome(f.decide(["ci-readonly"], "dev", as_get)) == "deny"
	f.outcome(f.decide(["dba"], "prod", as_get)) == "approval"
}

test_denied_request_without_a_verb if {
	f.outcome(f.decide(["developers"], "dev", json.remove(f.list_pods, ["verb"]))) == "deny"
}

test_denied_request_without_namespace_is_cluster_wide if {
	write := json.remove(f.patch_deployment, ["namespace"])
	d := f.decide(["developers"], "dev", write)
	not d.allow
	d.policy == "k8s/role-admin"
}

test_denied_request_without_resource_request_flag_is_judged_as_a_resource_request if {
	f.outcome(f.decide(["ci-readonly"], "dev", json.remove(f.delete_pod, ["resource_request"]))) == "deny"
}
