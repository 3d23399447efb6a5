# How to mask this result shape? Entry point: data.portcullis.mask.decision. Asked when a result's columns
# are known (RowDescription, or the columns of a COPY ... TO STDOUT), before any row reaches the client.
#
# The masking rules are their own data document (masking/data.json, at data.portcullis.masking). Column rules
# ("columns") name a source column, so they hold however the query names it: SELECT email AS e still reads
# users.email. Values that leave their column (lower(email), concat(...), row_to_json(u)) are computed columns;
# the content detectors catch those, and run for the roles in "detector_roles". A grant with scope "unmask"
# lifts every rule and the detectors; a grant "unmask:<table>.<column>" lifts the rules of that column.
#
# Undefined when the contract does not match: the gateway then refuses the result rather than guess.
package portcullis.mask

import data.portcullis.access

cache_ttl_s := 300

decision := {
	"plan": plan,
	"detectors": detectors,
	"policy": "mask/columns",
	"cache_ttl_s": cache_ttl_s,
} if access.contract_ok

# One entry per masked column, in column order, with the first matching rule.
plan := [entry |
	some i, column in input.result.columns
	rules := matching_rules(column)
	count(rules) > 0
	not unmasked(column)
	entry := {
		"column": i,
		"method": rules[0].method,
		"params": object.get(rules[0], "params", {}),
		"rule": rules[0].rule,
	}
]

matching_rules(column) := [rule |
	not column.computed
	some rule in data.portcullis.masking.columns
	rule.column == lower(column.column)
	matches_optional(rule, "table", lower(column.table))
	matches_optional(rule, "schema", lower(column.schema))
]

matches_optional(rule, key, _) if not key in object.keys(rule)

matches_optional(rule, key, value) if rule[key] == value

unmasked(_) if "unmask" in grant_scopes

unmasked(column) if sprintf("unmask:%s.%s", [lower(column.table), lower(column.column)]) in grant_scopes

grant_scopes contains grant.scope if some grant in input.grants

detectors := data.portcullis.masking.detectors if {
	some role in access.roles
	role in data.portcullis.masking.detector_roles
	not "unmask" in grant_scopes
} else := []
