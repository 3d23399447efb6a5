# May this identity open a session on this connection?
# Deny by default: only identities whose groups map to at least one role in data.json get in.
package portcullis.session

import rego.v1

default allow := false

roles contains role if {
	some group in input.identity.groups
	some role in data.portcullis.roles[group]
}

allow if count(roles) > 0

reasons contains "no group of this identity maps to a Portcullis role" if count(roles) == 0

decision := {
	"allow": allow,
	"reasons": [r | some r in reasons],
	"policy": "session/roles",
	"cache_ttl_s": 300,
}
