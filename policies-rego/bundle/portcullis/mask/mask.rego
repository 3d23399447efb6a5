# How to mask this result shape? Entry point: data.portcullis.mask.decision. Asked when a result's columns
# are known (RowDescription, or the columns of a COPY ... TO STDOUT), before any row reaches the client.
#
# The masking rules are their own data document (masking/data.json, at data.portcullis.masking). Column rules
# ("columns") name a source column, so they hold however the query names it: SELECT email AS e still reads
# users.email. Each column also carries its lineage from the gateway's parse (the source columns that flow into
# it) and whether it is derived (anything but a plain column reference):
#   - a column a rule names keeps that rule's method;
#   - any other column with a masked source in its lineage (split_part(email, '@', 1), email::bytea,
#     row_to_json(u)) is masked as a whole: redact for text-like types, null for the others;
#   - a column whose lineage is "unknown" is masked as a whole for the roles that have detectors;
#   - the content detectors run over every other text-like column for the roles in "detector_roles".
# A grant with scope "unmask" lifts every rule, the lineage rules and the detectors; a grant
# "unmask:<table>.<column>" lifts the rules of that column wherever it flows.
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

# One entry per masked column, in column order.
plan := [entry |
	some i, column in input.result.columns
	entry := column_entry(i, column)
]

# A column a rule names: the first matching rule.
column_entry(i, column) := entry if {
	rules := matching_rules(column)
	count(rules) > 0
	not unmasked(column)
	entry := {
		"column": i,
		"method": rules[0].method,
		"params": object.get(rules[0], "params", {}),
		"rule": rules[0].rule,
	}
} else := entry if {
	# Values of a masked column, reshaped: masked as a whole, under the rule of the first masked source.
	rules := lineage_rules(column)
	count(rules) > 0
	entry := {"column": i, "method": whole_method(column), "params": {}, "rule": rules[0].rule}
} else := entry if {
	unknown_lineage(column)
	count(detectors) > 0
	entry := {"column": i, "method": whole_method(column), "params": {}, "rule": "mask/unknown-lineage"}
}

matching_rules(column) := rules_for(column) if not column.computed

rules_for(source) := [rule |
	some rule in data.portcullis.masking.columns
	rule.column == lower(source.column)
	matches_optional(rule, "table", lower(source.table))
	matches_optional(rule, "schema", lower(source.schema))
]

# The rules of the column's masked sources that no grant lifts, in lineage order.
lineage_rules(column) := [rules_for(source)[0] |
	some source in lineage(column)
	count(rules_for(source)) > 0
	not unmasked(source)
]

# An input without lineage (a gateway older than the lineage contract) counts as unknown: it fails closed.
lineage(column) := column.lineage if is_array(column.lineage)

unknown_lineage(column) if not is_array(object.get(column, "lineage", "unknown"))

whole_method(column) := "redact" if {
	lower(column.type) in data.portcullis.masking.text_types
} else := "null"

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
