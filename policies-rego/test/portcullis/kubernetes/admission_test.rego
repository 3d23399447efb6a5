# What a write stores: nobody creates a privileged container, wherever the object or the patch puts it, and a body
# the gateway could not read passes only for a role that may do anything.
package portcullis.kubernetes.admission_test

import data.portcullis.kubernetes.fixtures as f

privileged := {"privileged": true}

privileged_pod(spec) := f.write("create", "pods", "", f.pod(spec))

test_denied_privileged_pod_for_every_role_with_the_rules_message if {
	request := privileged_pod(f.pod_spec([f.container("web", privileged)]))
	every group in ["developers", "dba"] {
		denied := f.decide([group], "dev", request)
		not denied.allow
		not denied.approval
		denied.policy == "k8s/privileged-pod"
	}
	d := f.decide(["developers"], "dev", request)
	d.reasons == ["create pods in namespace demo (a privileged container: spec.containers.0.securityContext.privileged) is denied for every role"]
}

test_denied_privileged_init_and_ephemeral_containers if {
	init := privileged_pod({"containers": [f.container("web", {})], "initContainers": [f.container("init", privileged)]})
	f.decide(["dba"], "dev", init).policy == "k8s/privileged-pod"
	ephemeral := f.write("patch", "pods", "web-1", {"spec": {"ephemeralContainers": [f.container("debug", privileged)]}})
	f.outcome(f.decide(["dba"], "dev", object.union(ephemeral, {"subresource": "ephemeralcontainers"}))) == "deny"
}

test_denied_privileged_pod_template_of_a_deployment if {
	request := object.union(f.write("create", "deployments", "", f.deployment(f.pod_spec([f.container("web", privileged)]))), {"api_group": "apps"})
	f.decide(["dba"], "dev", request).policy == "k8s/privileged-pod"
}

test_denied_privileged_set_by_a_merge_patch_or_a_json_patch if {
	merge := f.write("patch", "deployments", "web", {"spec": {"template": {"spec": {"containers": [{"name": "web", "securityContext": privileged}]}}}})
	f.decide(["dba"], "dev", merge).policy == "k8s/privileged-pod"
	by_path := f.write("patch", "pods", "web-1", [{"op": "add", "path": "/spec/containers/0/securityContext/privileged", "value": true}])
	f.decide(["dba"], "dev", by_path).policy == "k8s/privileged-pod"
	by_value := f.write("patch", "pods", "web-1", [{"op": "replace", "path": "/spec/containers/0/securityContext", "value": privileged}])
	f.decide(["dba"], "dev", by_value).policy == "k8s/privileged-pod"
	whole := f.write("patch", "pods", "web-1", [{"op": "add", "path": "/spec/initContainers", "value": [f.container("x", privileged)]}])
	f.decide(["dba"], "dev", whole).policy == "k8s/privileged-pod"
}

test_allowed_pod_that_is_not_privileged if {
	d := f.decide(["developers"], "dev", f.create_pod)
	d.allow
	d.policy == "k8s/role-write"
	f.decide(["developers"], "dev", privileged_pod(f.pod_spec([f.container("web", {"privileged": false})]))).allow
}

test_allowed_privileged_key_outside_a_security_context if {
	config := f.write("create", "configmaps", "", {"kind": "ConfigMap", "data": {"privileged": "true"}})
	f.decide(["developers"], "dev", config).allow
}

test_denied_unreadable_or_too_large_body_for_all_but_administrators if {
	every problem in ["too_large", "not_json"] {
		request := object.union(f.api("create", "configmaps", "", "demo", ""), {"object_error": problem})
		denied := f.decide(["developers"], "dev", request)
		not denied.allow
		denied.policy == "k8s/unreadable-object"
		f.decide(["dba"], "dev", request).allow
	}
	d := f.decide(["developers"], "dev", object.union(f.api("update", "configmaps", "", "demo", "c"), {"object_error": "too_large"}))
	d.reasons == ["update configmaps c in namespace demo (its body is larger than the gateway reads, so the policies cannot check it) is not allowed on non-production connection demo-k8s-dev: role developer may read and write data (DML) outside production, and only read on production"]
}

test_denied_write_without_an_object_for_all_but_administrators if {
	request := f.api("create", "pods", "", "demo", "")
	f.decide(["developers"], "dev", request).policy == "k8s/unreadable-object"
	f.decide(["dba"], "dev", request).allow
	f.decide(["developers"], "dev", object.union(request, {"object": "a string"})).policy == "k8s/unreadable-object"
}

test_allowed_review_whose_body_is_not_json if {
	whoami := object.union(f.self_subject_review, {"object": null, "object_error": "not_json"})
	f.decide(["ci-readonly"], "dev", whoami).allow
	f.decide(["ci-readonly"], "dev", object.union(f.access_review_in_namespace, {"object": null, "object_error": "too_large"})).allow
}

test_allowed_delete_and_reads_need_no_object if {
	f.decide(["developers"], "dev", f.delete_pod).allow
	f.decide(["developers"], "dev", f.get_pod).allow
}

test_denied_token_request_for_all_but_administrators if {
	request := f.write("create", "serviceaccounts", "ci", {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
	token := object.union(request, {"subresource": "token"})
	denied := f.decide(["developers"], "dev", token)
	not denied.allow
	denied.policy == "k8s/token-request"
	f.decide(["dba"], "dev", token).allow
	f.decide(["developers"], "dev", request).allow
}
