# Predicates that probe masked values: a WHERE, JOIN condition, HAVING, GROUP BY or ORDER BY over a masked column
# tells a caller about values it only sees masked (WHERE email LIKE 'a%' finds the addresses letter by letter). That
# needs the probe capability, which ci-readonly lacks; which columns are masked is the mask policy's fact.
package portcullis.postgres.predicates_test

import data.portcullis.postgres.fixtures as f
import data.portcullis.request

column(schema, table, name) := {"schema": schema, "table": table, "column": name}

email := column("public", "users", "email")

user_id := column("public", "users", "id")

probe(columns) := f.statement("SELECT", {
	"tables": [f.reads("users")],
	"normalized": "SELECT id FROM users WHERE email LIKE ?",
	"predicate_columns": columns,
})

with_grant(input_doc, scope) := object.union(input_doc, {"grants": [{"scope": scope, "expires_at": "2099-01-01T00:00:00Z"}]})

decide_with_grant(groups, statements, scope) := d if {
	d := request.decision with input as with_grant(f.request_input(groups, "dev", statements), scope)
}

test_denied_filter_on_masked_column_for_ci if {
	d := f.decide(["ci-readonly"], "dev", [probe([email])])
	d == {
		"allow": false,
		"reasons": ["SELECT (filters, groups or sorts on masked column public.users.email) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"],
		"policy": "pg/masked-predicate",
		"cache_ttl_s": 300,
	}
}

test_allowed_filter_on_unmasked_column_for_ci if {
	d := f.decide(["ci-readonly"], "dev", [probe([user_id])])
	d.allow
	d.policy == "pg/role-read"
}

test_allowed_no_predicates_for_ci if {
	f.outcome(f.decide(["ci-readonly"], "dev", [probe([])])) == "allow"
}

test_allowed_the_same_probes_for_every_other_reading_role if {
	every groups in [["dba"], ["developers"], ["backup"]] {
		d := f.decide(groups, "dev", [probe([email]), probe("unknown")])
		d.allow
		d.policy == "pg/role-read"
	}
}

# The rules hold however the gateway cased the names, and a rule without a table holds in every table.
test_denied_masked_column_of_any_casing_or_table_for_ci if {
	f.outcome(f.decide(["ci-readonly"], "dev", [probe([column("public", "Users", "EMAIL")])])) == "deny"
	f.outcome(f.decide(["ci-readonly"], "dev", [probe([column("hr", "staff", "ssn")])])) == "deny"
}

test_denied_unknown_predicate_columns_for_ci if {
	d := f.decide(["ci-readonly"], "dev", [probe("unknown")])
	d.reasons == ["SELECT (its filters, groupings or orderings read columns the gateway could not resolve, which may be masked) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
	d.policy == "pg/masked-predicate"
}

# A gateway that does not say what the predicates of a statement naming tables read: they may read anything.
test_denied_missing_predicate_columns_on_a_table_for_ci if {
	missing := object.remove(probe([]), ["predicate_columns"])
	f.outcome(f.decide(["ci-readonly"], "dev", [missing])) == "deny"
	no_table := object.remove(f.select_one, ["predicate_columns"])
	f.outcome(f.decide(["ci-readonly"], "dev", [no_table])) == "allow"
}

test_denied_malformed_predicate_columns_for_ci if {
	every malformed in [null, "none", 7, {"schema": "public"}, [null], ["public.users.email"], [{"schema": "public", "table": "users"}], [{"schema": "public", "table": "users", "column": 1}]] {
		f.outcome(f.decide(["ci-readonly"], "dev", [probe(malformed)])) == "deny"
	}
}

# Wrapped and several: each statement is judged by its own predicates, and a harmless one carries nothing through.
test_denied_probe_behind_a_harmless_statement_and_inside_explain_for_ci if {
	d := f.decide(["ci-readonly"], "dev", [f.select_one, probe([email])])
	d.reasons == ["statement 2 of 2: SELECT (filters, groups or sorts on masked column public.users.email) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
	explained := [f.explain_select[0], object.union(f.explain_select[1], {"predicate_columns": "unknown"})]
	f.outcome(f.decide(["ci-readonly"], "dev", explained)) == "deny"
}

# A write that filters on a masked column is denied for what it writes first.
test_denied_update_filtering_on_masked_column_names_the_write_for_ci if {
	d := f.decide(["ci-readonly"], "dev", [object.union(f.update_where, {"predicate_columns": [email]})])
	d.policy == "pg/role-write"
	count(d.reasons) == 2
}

# What the caller sees unmasked it may filter on: an unmask grant lifts the rule here as it does for the result.
test_allowed_filter_on_a_column_an_unmask_grant_lifts_for_ci if {
	decide_with_grant(["ci-readonly"], [probe([email])], "unmask:users.email").allow
	decide_with_grant(["ci-readonly"], [probe([email])], "unmask").allow
	not decide_with_grant(["ci-readonly"], [probe([email])], "unmask:users.phone").allow
}
