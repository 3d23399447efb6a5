# The proxy subresource (pods/proxy, services/proxy, nodes/proxy): HTTP to a workload's own port past the API server,
# decided like a port-forward. The target (name, port, path) is in the input and in the reason.
package portcullis.kubernetes.proxy_test

import data.portcullis.kubernetes.fixtures as f

test_allowed_developer_proxy_to_a_pod_outside_production_names_the_proxy_rule if {
	d := f.decide(["developers"], "dev", f.pod_proxy)
	d.allow
	d.policy == "k8s/role-proxy"
	d.reasons == ["allowed: role developer may run commands in workloads on non-production connection demo-k8s-dev"]
}

test_denied_developer_proxy_on_production_names_the_target if {
	d := f.decide(["developers"], "prod", f.pod_proxy)
	not d.allow
	not d.approval
	d.policy == "k8s/role-proxy"
	d.reasons == ["connect pods/proxy web-1:8080 in namespace demo (talks HTTP to port 8080 of web-1, path /healthz, past the API server) is not allowed on production connection demo-k8s-prod: role developer may read and write data (DML) outside production, and only read on production"]
}

test_denied_ci_proxy_to_pods_and_services_anywhere if {
	every request in [f.pod_proxy, f.service_proxy] {
		every where in ["dev", "prod"] {
			d := f.decide(["ci-readonly"], where, request)
			not d.allow
			not d.approval
		}
	}
	f.decide(["ci-readonly"], "dev", f.service_proxy).policy == "k8s/role-proxy"
}

test_approval_for_a_dba_proxy_on_production if {
	d := f.decide(["dba"], "prod", f.service_proxy)
	not d.allow
	d.approval.required
	d.policy == "k8s/exec-on-prod"
	f.outcome(f.decide(["dba"], "dev", f.service_proxy)) == "allow"
}

# nodes/proxy reaches the kubelet, which runs commands in every pod on the node.
test_denied_node_proxy_for_developers_even_outside_production if {
	d := f.decide(["developers"], "dev", f.node_proxy)
	not d.allow
	d.policy == "k8s/node-proxy"
}

test_node_proxy_only_for_a_role_that_may_do_anything if {
	f.outcome(f.decide(["dba"], "dev", f.node_proxy)) == "allow"
	f.outcome(f.decide(["dba"], "prod", f.node_proxy)) == "approval"
}

# A proxy request whose verb is not connect (as RequestInfo itself would read GET .../proxy) is still a proxy.
test_denied_proxy_subresource_whatever_the_verb if {
	as_get := object.union(f.pod_proxy, {"verb": "get"})
	d := f.decide(["ci-readonly"], "dev", as_get)
	not d.allow
	d.policy == "k8s/role-proxy"
}

test_denied_proxy_subresource_in_any_letter_case if {
	upper := object.union(f.pod_proxy, {"subresource": "Proxy", "verb": "get"})
	not f.decide(["ci-readonly"], "dev", upper).allow
}

# Without a target object (an older gateway, a malformed input) the proxy is still decided, named by RequestInfo's name.
test_denied_proxy_without_a_target_names_the_request_name if {
	bare := object.union(f.pod_proxy, {"proxy": null})
	d := f.decide(["developers"], "prod", bare)
	not d.allow
	contains(d.reasons[0], "(talks HTTP to web-1:8080, path /, past the API server)")
}

test_proxy_to_a_kube_system_pod_needs_admin if {
	in_system := proxy_in("kube-system")
	d := f.decide(["developers"], "dev", in_system)
	not d.allow
	d.policy == "k8s/system-namespace"
}

proxy_in(namespace) := f.proxy("pods", namespace, "coredns-1", "9153", "/metrics")
