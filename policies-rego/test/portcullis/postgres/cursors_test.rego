# Cursors: DECLARE ... CURSOR FOR query is a wrapper whose query arrives as its own statement (via declare), so a
# cursor is allowed exactly to the roles that may run its query, and denied with the same rule and words when they
# may not; FETCH and MOVE read a cursor's rows; CLOSE only forgets.
package portcullis.postgres.cursors_test

import data.portcullis.postgres
import data.portcullis.postgres.fixtures as f

email := {"schema": "public", "table": "users", "column": "email"}

declare(query) := [
	f.statement("DECLARE", {"normalized": sprintf("DECLARE c CURSOR FOR %s", [query.normalized])}),
	object.union(query, {"via": "declare"}),
]

needs_of(statements) := {i: {n.class | some n in needs[i]} | some i, _ in statements} if {
	needs := postgres.needs with input as f.request_input(["dba"], "dev", statements)
}

test_allowed_cursor_over_a_read_for_every_reading_role if {
	every group in ["ci-readonly", "backup", "developers", "dba"] {
		f.decide([group], "dev", f.cursor_lifetime).allow
	}
}

test_cursor_wrappers_control_the_session_and_fetch_and_move_read if {
	needs_of(f.cursor_lifetime) == {0: {"session"}, 1: {"read"}, 2: {"read"}, 3: {"read"}, 4: {"session"}}
}

test_denied_cursor_over_a_probe_of_a_masked_column_for_ci_as_the_query_would_be if {
	probe := f.statement("SELECT", {
		"tables": [f.reads("users")],
		"normalized": "SELECT id FROM users WHERE email LIKE ?",
		"predicate_columns": [email],
	})
	d := f.decide(["ci-readonly"], "dev", declare(probe))
	not d.allow
	d.policy == "pg/masked-predicate"
	d.policy == f.decide(["ci-readonly"], "dev", [probe]).policy
	d.reasons == ["statement 2 of 2: SELECT inside DECLARE (filters, groups or sorts on masked column public.users.email) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
}

test_denied_cursor_over_sql_run_from_text_for_developers_as_the_query_would_be if {
	d := f.decide(["developers"], "dev", declare(f.query_to_xml))
	not d.allow
	d.policy == "pg/role-admin"
	d.policy == f.decide(["developers"], "dev", [f.query_to_xml]).policy
	d.reasons == ["statement 2 of 2: function query_to_xml (runs SQL text the gateway cannot analyse) is not allowed on non-production connection demo-dev: role developer may read and write data (DML) outside production, and only read on production"]
}

test_denied_cursor_over_a_denied_function_for_dba if {
	d := f.decide(["dba"], "dev", declare(f.pg_read_file))
	not d.allow
	d.policy == "pg/superuser-functions"
}

test_denied_cursor_over_a_data_modifying_with_for_read_only_roles if {
	d := f.decide(["ci-readonly"], "dev", f.declare_cte_delete)
	not d.allow
	d.policy == "pg/role-write"
	d.reasons == ["statement 2 of 2: SELECT inside DECLARE (writes users) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
	not f.decide(["developers"], "prod", f.declare_cte_delete).allow
	not f.decide(["backup"], "prod", f.declare_cte_delete).allow
}

test_approval_for_cursor_over_a_data_modifying_with_on_prod_for_dba if {
	d := f.decide(["dba"], "prod", f.declare_cte_delete)
	d.approval.required
	d.policy == "pg/destructive-on-prod"
}

test_label_says_the_query_is_a_cursors if {
	postgres.label(object.union(f.select_users, {"via": "declare"})) == "SELECT inside DECLARE"
}

# A gateway that still sent DECLARE, FETCH and CLOSE as OTHER (before cursors were classified) is judged as before:
# an unclassified command, for admin only.
test_denied_unclassified_cursor_statements_for_developers if {
	d := f.decide(["developers"], "dev", [f.statement("OTHER", {"tables": [f.reads("users")], "normalized": "DECLARE c CURSOR FOR SELECT * FROM users"})])
	not d.allow
	d.policy == "pg/role-admin"
}
