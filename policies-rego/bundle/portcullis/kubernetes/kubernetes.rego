# Kubernetes: what one API request of input.request does, independent of who sends it. The gateway parses each
# request the way the kube-apiserver's RequestInfo does (verb, API group, resource, subresource, namespace, name);
# this package says which capability that needs (the roles' vocabulary, access.rego), and what is risky enough on
# production to need a human's approval. portcullis.request judges it against the identity's roles through
# `analysis`, the same way as SQL.
#
# As in postgres.rego, every field that is missing or has an unexpected value is read the way that asks for more,
# not less: an unknown verb needs the admin capability, a request without a namespace is cluster-wide.
package portcullis.kubernetes

import data.portcullis.access

# --- what portcullis.request reads (the protocol interface, see request.rego) ------------------------------

analysis := {
	"operations": [operation],
	"complete": true,
	"needs": {0: needs},
	"forbidden": {0: forbidden},
	"risks": {0: risks},
	"operation_noun": "request",
	"default_rule": "k8s/default-deny",
	"empty_rule": "k8s/default-deny",
	"response_mask": response_mask,
	"impersonate_groups": impersonate_groups,
}

# --- the request, canonical -------------------------------------------------------------------------------

req := input.request

verb := lower(text(object.get(req, "verb", "")))

resource := lower(text(object.get(req, "resource", "")))

subresource := lower(text(object.get(req, "subresource", "")))

namespace := text(object.get(req, "namespace", ""))

resource_request := object.get(req, "resource_request", true) != false

# "pods/exec", or "pods" without a subresource
full_resource := sprintf("%s/%s", [resource, subresource]) if subresource != ""

else := resource

# How a reason names the request: "delete pods web-1 in namespace demo-dev", "get /version".
operation := sprintf("%s %s", [verb, text(object.get(req, "path", "?"))]) if {
	not resource_request
} else := sprintf("%s %s%s%s", [verb, full_resource, name_phrase, namespace_phrase])

name_phrase := sprintf(" %s", [req.name]) if {
	is_string(req.name)
	req.name != ""
} else := ""

namespace_phrase := sprintf(" in namespace %s", [namespace]) if namespace != ""

else := " (cluster-wide)"

text(x) := x if is_string(x)

else := ""

need(class, what, policy) := {"class": class, "what": what, "policy": policy}

read_verbs := {"get", "list", "watch"}

write_verbs := {"create", "update", "patch", "delete", "deletecollection"}

# --- what each request needs ------------------------------------------------------------------------------

needs contains need("read", sprintf("%s (reads the API's discovery and version)", [operation]), "k8s/role-read") if {
	not resource_request
	verb in {"get", "head"}
}

needs contains need("admin", sprintf("%s (a non-resource request that is not a read)", [operation]), "k8s/role-admin") if {
	not resource_request
	not verb in {"get", "head"}
}

needs contains need("read", sprintf("%s (reads)", [operation]), "k8s/role-read") if {
	resource_request
	verb in read_verbs
	not resource in data.portcullis.kubernetes.credential_resources
	not connect_subresource
}

# Secret values are credentials: reading them needs the capability that bulk exports need.
needs contains need("export", sprintf("%s (reads credentials)", [operation]), "k8s/role-secrets") if {
	resource_request
	verb in read_verbs
	resource in data.portcullis.kubernetes.credential_resources
}

needs contains need("write", sprintf("%s (changes the cluster's objects)", [operation]), "k8s/role-write") if {
	resource_request
	verb in write_verbs
	namespace != ""
	not review
}

# A cluster-wide change (a Namespace, a ClusterRole, a Node) reaches every namespace.
needs contains need("admin", sprintf("%s (changes a cluster-wide object)", [operation]), "k8s/role-admin") if {
	resource_request
	verb in write_verbs
	namespace == ""
	not review
}

# Asking the cluster who one is or what one may do (kubectl auth whoami, auth can-i) creates nothing: a read.
needs contains need("read", sprintf("%s (asks the cluster about the caller's own identity or access)", [operation]), "k8s/role-read") if {
	review
}

review if {
	resource_request
	verb == "create"
	resource in data.portcullis.kubernetes.review_resources
	subresource == ""
}

# A token request (kubectl create token) mints a credential of the cluster itself: whoever holds it reaches the API
# server without the gateway, so without its decisions, masking and recording. Only a role that may do anything asks.
needs contains need("admin", sprintf("%s (mints a token that reaches the cluster without the gateway)", [operation]), "k8s/token-request") if {
	resource_request
	resource == "serviceaccounts"
	subresource == "token"
}

# exec, attach and port-forward run commands in or open connections into a workload.
needs contains need("exec", sprintf("%s (opens a stream into a workload)", [operation]), "k8s/role-exec") if {
	resource_request
	connect_subresource
	not proxy_request
}

# --- proxy ------------------------------------------------------------------------------------------------
# Through the proxy subresource (pods/proxy, services/proxy, nodes/proxy, and the legacy /api/v1/proxy/... paths,
# which the gateway reads as the same subresource) the caller talks HTTP to a workload's own port past the API server:
# as much a way into the workload as a port-forward, so the same capability. input.request.proxy names the target
# (name, port, scheme, path).

proxy_request if subresource == "proxy"

proxy := object.get(req, "proxy", null)

proxy_target := sprintf("port %s of %s", [proxy.port, proxy.name]) if {
	is_string(proxy.port)
	proxy.port != ""
	is_string(proxy.name)
} else := text(object.get(req, "name", ""))

proxy_path := proxy.path if is_string(proxy.path)

else := "/"

needs contains need("exec", sprintf("%s (talks HTTP to %s, path %s, past the API server)", [operation, proxy_target, proxy_path]), "k8s/role-proxy") if {
	resource_request
	proxy_request
}

# A node's proxy reaches its kubelet, whose API runs commands in every pod on the node and reads its logs and
# metrics: what an administrator may do, never a proxy into one workload.
needs contains need("admin", sprintf("%s (reaches the node's kubelet, which runs commands in every pod on the node)", [operation]), "k8s/node-proxy") if {
	resource_request
	proxy_request
	resource == "nodes"
}

connect_subresource if verb == "connect"

# --- port-forward -----------------------------------------------------------------------------------------
# kubectl names no port when it opens a forward (port_forward.phase "open"); each connection it forwards asks for its
# port inside the forward, and the gateway decides each new port then (phase "stream", ports that one port). Both need
# the exec capability above. A forward to a port where a protocol the gateway itself decides on listens would carry
# that protocol past the gateway's statement-level decisions, masking and recording: only a role that may do anything
# opens one. An unknown phase counts as an opening, which on production needs approval.

port_forward := object.get(req, "port_forward", null)

port_stream if port_forward.phase == "stream"

forward_ports := [p | some p in object.get(port_forward, "ports", [])] if is_object(port_forward)

else := []

needs contains need("admin", sprintf("%s to port %v (%s listens there: the forward would bypass the gateway's own decisions, masking and recording of it)", [operation, p, protocol]), "k8s/port-forward-bypass") if {
	resource_request
	connect_subresource
	some p in forward_ports
	protocol := data.portcullis.kubernetes.forward_bypass_ports[sprintf("%v", [p])]
}

# A port that is not a TCP port is read the way that asks for more.
needs contains need("admin", sprintf("%s to port %v (not a TCP port)", [operation, p]), "k8s/port-forward-bypass") if {
	resource_request
	connect_subresource
	some p in forward_ports
	not valid_port(p)
}

valid_port(p) if {
	is_number(p)
	p == round(p)
	p >= 1
	p <= 65535
}

connect_subresource if subresource in data.portcullis.kubernetes.connect_subresources

# The cluster's own system namespaces are the administrators'.
needs contains need("admin", sprintf("%s (in a system namespace)", [operation]), "k8s/system-namespace") if {
	namespace in data.portcullis.kubernetes.system_namespaces
}

needs contains need("admin", sprintf("%s (a verb the gateway does not classify)", [operation]), "k8s/role-admin") if {
	resource_request
	not verb in read_verbs
	not verb in write_verbs
	verb != "connect"
}

# --- what a write stores ----------------------------------------------------------------------------------
# create, update and patch carry their body (input.request.object: the object, or a JSON Patch's operations), so
# these rules judge what the cluster would store, as an admission controller would.

writes_object if {
	resource_request
	verb in {"create", "update", "patch"}
}

object_error := text(object.get(req, "object_error", ""))

# A body the gateway could not read (too large for the decision input, or not JSON) cannot be checked by the rules
# below: only a role that may do anything sends one. A write without any object counts as unreadable. A review
# stores nothing whatever its body says (kubectl auth whoami sends it as protobuf).
needs contains need("admin", sprintf("%s (its body is %s, so the policies cannot check it)", [operation, object_problem]), "k8s/unreadable-object") if {
	writes_object
	not review
	object_problem
}

object_problem := "larger than the gateway reads" if {
	object_error == "too_large"
} else := "not JSON (send it as application/json)" if {
	object_error != ""
} else := "missing" if {
	not is_object(object.get(req, "object", null))
	not is_array(object.get(req, "object", null))
}

# Nobody runs a privileged container: it is root on the node. Found wherever the object holds one (a Pod's
# containers, initContainers and ephemeralContainers, a Deployment's or a Job's pod template, a patch of any of them).
forbidden contains need("none", sprintf("%s (a privileged container: %s)", [operation, concat(", ", sort(privileged))]), "k8s/privileged-pod") if {
	writes_object
	count(privileged) > 0
}

body := object.get(req, "object", null)

privileged contains concat(".", [sprintf("%v", [p]) | some p in path]) if {
	walk(body, [path, value])
	value == true
	count(path) >= 2
	path[count(path) - 1] == "privileged"
	path[count(path) - 2] == "securityContext"
}

# A JSON Patch sets it through an operation's path ("/spec/containers/0/securityContext/privileged": true) or value.
privileged contains op.path if {
	is_array(body)
	some op in body
	is_string(op.path)
	endswith(op.path, "/securityContext/privileged")
	op.value == true
}

privileged contains op.path if {
	is_array(body)
	some op in body
	is_string(op.path)
	endswith(op.path, "/securityContext")
	op.value.privileged == true
}

# --- risky on production: needs approval even from a role that may do it ------------------------------

risks contains need("approval", operation, "k8s/delete-on-prod") if {
	verb in {"delete", "deletecollection"}
}

# A port-forward is approved once, when it opens; each port it then reaches is judged only on what that port needs.
risks contains need("approval", operation, "k8s/exec-on-prod") if {
	resource_request
	connect_subresource
	not port_stream
}

# --- what the caller sees of the response ---------------------------------------------------------------

# Secret values are credentials even for a role that may read Secrets: every response about a masked resource
# (get, list, watch, and the objects that create, update, patch and delete send back) comes back with the values of
# its fields masked, unless one of the caller's roles sees them (data.json unmasked_roles). The gateway replaces each
# value of data with the base64 of "***" and each value of stringData with "***", keeping the keys, and does the same
# inside the last-applied-configuration annotation, which holds a copy of the object. null: nothing to mask.
response_mask := {"fields": masked.fields, "rule": masked.rule} if {
	resource_request
	masked := data.portcullis.kubernetes.masked_resources[resource]
	not sees_values
} else := {"detectors": data.portcullis.masking.detectors, "rule": "k8s/output-detectors"} if {
	text_output
	has_detectors
} else := null

# A container's log, and what an exec or attach prints, are text of no known shape: for the roles that have content
# detectors (the same masking/data.json detector_roles as SQL results), each line is scanned and what the detectors
# find is masked in place. A grant with scope unmask lifts it, as it does for SQL.
text_output if {
	resource_request
	resource == "pods"
	subresource == "log"
	verb == "get"
}

text_output if {
	resource_request
	resource == "pods"
	subresource in {"exec", "attach"}
}

has_detectors if {
	some role in access.roles
	role in data.portcullis.masking.detector_roles
	not "unmask" in {g.scope | some g in object.get(input, "grants", [])}
}

sees_values if {
	some role in access.roles
	role in data.portcullis.kubernetes.unmasked_roles
}

# --- whom the cluster sees ----------------------------------------------------------------------------------
# The gateway impersonates the identity's user and, of its groups, only those named here: the groups of
# data.json impersonated_groups (the groups the clusters' own RBAC is written for), never a group Kubernetes reserves
# (system:masters, system:nodes, ...), whatever data.json says. Any other group (approvers, a directory group, a
# misspelt one) never reaches the cluster, so nobody gains cluster rights through a group that was not meant for them.
# Sorted, each once: the same identity always sends the same headers.
impersonate_groups := sort({g |
	some g in input.identity.groups
	is_string(g)
	g in data.portcullis.kubernetes.impersonated_groups
	not startswith(g, "system:")
})
