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
}

list_pods := api("list", "pods", "", "demo", "")

watch_pods := api("watch", "pods", "", "demo", "")

get_pod := api("get", "pods", "", "demo", "web-1")

pod_logs := api("get", "pods", "log", "demo", "web-1")

get_secret := api("get", "secrets", "", "demo", "db-credentials")

list_secrets := api("list", "secrets", "", "demo", "")

create_deployment := object.union(api("create", "deployments", "", "demo", ""), {"api_group": "apps"})

patch_deployment := object.union(api("patch", "deployments", "", "demo", "web"), {"api_group": "apps"})

delete_pod := api("delete", "pods", "", "demo", "web-1")

delete_all_pods := api("deletecollection", "pods", "", "demo", "")

exec_pod := object.union(api("connect", "pods", "exec", "demo", "web-1"), {"exec": {"container": "web", "command": ["sh"], "stdin": true, "tty": true}})

port_forward := api("connect", "pods", "portforward", "demo", "web-1")

list_kube_system_pods := api("list", "pods", "", "kube-system", "")

create_namespace := api("create", "namespaces", "", "", "")

list_nodes := api("list", "nodes", "", "", "")

discovery := non_resource("get", "/api")

version := non_resource("get", "/version")

post_non_resource := non_resource("post", "/logs")

options_pods := api("options", "pods", "", "demo", "")

self_subject_review := object.union(api("create", "selfsubjectreviews", "", "", ""), {"api_group": "authentication.k8s.io"})

access_review_in_namespace := object.union(api("create", "selfsubjectaccessreviews", "", "demo", ""), {"api_group": "authorization.k8s.io"})

delete_review := object.union(api("delete", "selfsubjectreviews", "", "", "x"), {"api_group": "authentication.k8s.io"})
