# May this identity open a session on this connection? Entry point: data.portcullis.session.decision.
#
# Deny by default: only an identity with a role that holds some capability on this kind of connection
# gets in (access.rego). So ci-readonly, which may read outside production only, cannot even connect to
# production, and a role without data access (approver) cannot connect anywhere. Checking this at
# startup as well as per request lets the client see the reason once, at connect time, instead of on its
# first statement.
package portcullis.session

import data.portcullis.access

cache_ttl_s := 300

# Deny unless a branch below decides otherwise; the allow branch repeats every precondition, so a reason
# that fails to render can only fall through to another denial.
default decision := {
	"allow": false,
	"reasons": ["no rule of the session policy decided this input"],
	"policy": "session/default-deny",
	"cache_ttl_s": 300,
}

decision := {
	"allow": false,
	"reasons": [access.contract_reason],
	"policy": "session/contract",
	"cache_ttl_s": cache_ttl_s,
} if {
	not access.contract_ok
} else := {
	"allow": true,
	"reasons": [sprintf("allowed: %s may use %s", [access.roles_phrase, access.connection_phrase])],
	"policy": "session/roles",
	"cache_ttl_s": cache_ttl_s,
} if {
	access.contract_ok
	access.may_connect
} else := {
	"allow": false,
	"reasons": [access.no_access_reason],
	"policy": "session/default-deny",
	"cache_ttl_s": cache_ttl_s,
} if {
	not access.may_connect
}
