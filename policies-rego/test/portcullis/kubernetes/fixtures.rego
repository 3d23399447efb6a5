# Kubernetes API requests as the gateway sends them (decision contract v2): the apiserver's RequestInfo of each
# request, for the tests of portcullis.kubernetes and of the request decision for Kubernetes.
package portcullis.kubernetes.fixtures

import data.portcullis.fixtures

# The clusters: a production-tagged and a development-tagged connection of type kubernetes.
connections := {
	"prod": {"name": "demo-k8s-prod", "type": "kubernetes", "tags": {"env": "prod"}},
	"dev": {"name": "demo-k8s-dev", "type": "kubernetes", "tags": {"env": "dev"}},
}

request_input(groups, where, request) := object.union(
	fixtures.request_input(groups, "dev", request),
	{"connection": connections[where]},
)

decide(groups, where, request) := d if {
	d := data.portcullis.request.decision with input as request_input(groups, where, request)
}

outcome(decision) := fixtures.outcome(decision)

api(verb, resource, subresource, namespace, name) := {
	"protocol": "kubernetes",
	"verb": verb,
	"resource_request": true,
	"path": "/api/v1/...",
	"api_group": "",
	"api_version": "v1",
	"resource": resource,
	"subresource": subresource,
	"namespace": namespace,
	"name": name,
	"label_selector": "",
	"field_selector": "",
	"dry_run": false,
	"exec": null,
	"port_forward": null,
	"proxy": null,
	"object": null,
	"object_error": null,
}

non_resource(verb, path) := {
	"protocol": "kubernetes",
	"verb": verb,
	"resource_request": false,
	"path": path,
	"api_group": null,
	"api_version": null,
	"resource": null,
	"subresource": null,
	"namespace": null,
	"name": null,
	"label_selector": null,
	"field_selector": null,
	"dry_run": false,
	"exec": null,
	"port_forward": null,
	"proxy": null,
	"object": null,
	"object_error": null,
}

list_pods := api("list", "pods", "", "demo", "")

watch_pods := api("watch", "pods", "", "demo", "")

get_pod := api("get", "pods", "", "demo", "web-1")

pod_logs := api("get", "pods", "log", "demo", "web-1")

get_secret := api("get", "secrets", "", "demo", "db-credentials")

list_secrets := api("list", "secrets", "", "demo", "")

# A write carries its body: the object, or a patch of it.
write(verb, resource, name, body) := object.union(api(verb, resource, "", "demo", name), {"object": body})

container(name, security_context) := {"name": name, "image": "nginx", "securityContext": security_context}

pod_spec(containers) := {"containers": containers}

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "demo"}, "spec": spec}

create_pod := write("create", "pods", "", pod(pod_spec([container("web", {"runAsNonRoot": true})])))

deployment(spec) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": spec}}}

create_deployment := object.union(write("create", "deployments", "", deployment(pod_spec([container("web", {})]))), {"api_group": "apps"})

patch_deployment := object.union(write("patch", "deployments", "web", {"spec": {"replicas": 3}}), {"api_group": "apps"})

delete_pod := api("delete", "pods", "", "demo", "web-1")

delete_all_pods := api("deletecollection", "pods", "", "demo", "")

exec_pod := object.union(api("connect", "pods", "exec", "demo", "web-1"), {"exec": {"container": "web", "command": ["sh"], "stdin": true, "tty": true}})

# kubectl opens a forward without naming a port; each new port is decided when a stream first asks for it.
port_forward := object.union(api("connect", "pods", "portforward", "demo", "web-1"), {"port_forward": {"phase": "open", "ports": []}})

port_forward_stream(port) := object.union(port_forward, {"port_forward": {"phase": "stream", "ports": [port]}})

# The proxy subresource: HTTP to a workload's own port past the API server (name "web-1:8080" as RequestInfo reads it).
proxy(resource, namespace, target, port, path) := object.union(
	api("connect", resource, "proxy", namespace, concat(":", [x | some x in [target, port]; x != ""])),
	{"proxy": {"scheme": "", "name": target, "port": port, "path": path}},
)

pod_proxy := proxy("pods", "demo", "web-1", "8080", "/healthz")

service_proxy := proxy("services", "demo", "web", "http", "/")

node_proxy := proxy("nodes", "", "kwok-node-0", "", "/exec/demo/web-1/web")

list_kube_system_pods := api("list", "pods", "", "kube-system", "")

create_namespace := object.union(api("create", "namespaces", "", "", ""), {"object": {"kind": "Namespace", "metadata": {"name": "x"}}})

list_nodes := api("list", "nodes", "", "", "")

discovery := non_resource("get", "/api")

version := non_resource("get", "/version")

post_non_resource := non_resource("post", "/logs")

options_pods := api("options", "pods", "", "demo", "")

self_subject_review := object.union(api("create", "selfsubjectreviews", "", "", ""), {
	"api_group": "authentication.k8s.io",
	"object": {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
})

access_review_in_namespace := object.union(api("create", "selfsubjectaccessreviews", "", "demo", ""), {
	"api_group": "authorization.k8s.io",
	"object": {"kind": "SelfSubjectAccessReview", "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}},
})

delete_review := object.union(api("delete", "selfsubjectreviews", "", "", "x"), {"api_group": "authentication.k8s.io"})
