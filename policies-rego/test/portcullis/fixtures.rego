# Inputs as the gateway sends them (decision contract v2), shared by the tests of every package: who asks, on
# which connection. Each protocol's own requests are in its fixtures (postgres/fixtures.rego, ...).
package portcullis.fixtures

connections := {
	"prod": {"name": "demo-prod", "type": "postgres", "tags": {"env": "prod"}},
	"dev": {"name": "demo-dev", "type": "postgres", "tags": {"env": "dev"}},
	"untagged": {"name": "demo-untagged", "type": "postgres", "tags": {}},
}

identity(groups) := {"subject": "someone", "name": "Some One", "groups": groups, "client_id": "someone", "kind": "machine"}

session_input(groups, where) := {
	"contract": 2,
	"identity": identity(groups),
	"connection": connections[where],
	"session": {"source_ip": "127.0.0.1"},
	"grants": [],
}

# A request of any protocol: request is what input.request holds.
request_input(groups, where, request) := object.union(session_input(groups, where), {"request": request})

# "allow", "approval" or "deny": what the client experiences.
outcome(decision) := "allow" if {
	decision.allow
} else := "approval" if {
	decision.approval.required
} else := "deny"
