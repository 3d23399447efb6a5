# The request decision for PostgreSQL: every role against every kind of statement on both kinds of connection, the
# words the client sees, requests of several statements and identities of several groups.
package portcullis.postgres.decisions_test

import data.portcullis.postgres.fixtures as f
import data.portcullis.request

# --- the role matrix: every role, every kind of statement, both kinds of connection -------------------
# A row is [statement(s), non-production outcome, production outcome]. A failing row is printed.

matrix_rows := {
	"select": [[f.select_users], "allow", "allow"],
	"explain select": [f.explain_select, "allow", "allow"],
	"cursor": [f.cursor_lifetime, "allow", "allow"],
	"cursor over data-modifying with": [f.declare_cte_delete, "allow", "approval"],
	"copy to stdout": [[f.copy_out], "allow", "allow"],
	"session control": [[f.begin, f.set_search_path, f.show, f.savepoint, f.release, f.commit], "allow", "allow"],
	"insert": [[f.insert_users], "allow", "allow"],
	"update with where": [[f.update_where], "allow", "allow"],
	"update without where": [[f.update_all], "allow", "approval"],
	"delete with where": [[f.delete_where], "allow", "allow"],
	"delete without where": [[f.delete_all], "allow", "approval"],
	"merge": [[f.merge_users], "allow", "allow"],
	"truncate": [[f.truncate_users], "allow", "approval"],
	"copy from stdin": [[f.copy_in], "allow", "allow"],
	"lock": [[f.lock_users], "allow", "allow"],
	"notify": [[f.notify], "allow", "allow"],
	"data-modifying with": [[f.cte_delete], "allow", "approval"],
	"create": [[f.create_table], "allow", "allow"],
	"alter add column": [[f.alter_add_column], "allow", "allow"],
	"alter drop column": [[f.alter_drop_column], "allow", "approval"],
	"drop": [[f.drop_users], "allow", "approval"],
	"grant": [[f.grant_select], "allow", "allow"],
	"vacuum": [[f.vacuum_users], "allow", "allow"],
	"do": [[f.do_block], "allow", "approval"],
	"call": [[f.call_procedure], "allow", "approval"],
	"copy program": [[f.copy_program], "allow", "approval"],
	"copy to server file": [[f.copy_to_server_file], "allow", "approval"],
	"set role": [[f.set_role], "allow", "approval"],
	"reset role": [[f.reset_role], "allow", "approval"],
	"set session authorization": [[f.set_session_authorization], "allow", "approval"],
	"set_config": [[f.set_config], "allow", "approval"],
	"query_to_xml": [[f.query_to_xml], "allow", "approval"],
	"discard all": [[f.discard_all], "allow", "approval"],
	"unclassified command": [[f.refresh_view], "allow", "approval"],
	"pg_read_file": [[f.pg_read_file], "deny", "deny"],
	"function call message": [[f.function_call], "deny", "deny"],
}

# What each role may do, as [non-production, production]; "dba" is the matrix_rows columns themselves.
expected_for_role(role, row) := [dev, prod] if {
	role == "dba"
	[_, dev, prod] := matrix_rows[row]
} else := [only_if(row, {"select", "explain select", "cursor", "session control"}), "deny"] if {
	role == "ci-readonly"
} else := [only_if(row, reads), only_if(row, reads)] if {
	role == "backup"
} else := [only_if(row, reads | writes), only_if(row, reads)] if {
	role == "developers"
}

reads := {"select", "explain select", "cursor", "copy to stdout", "session control"}

writes := {
	"insert", "update with where", "update without where", "delete with where", "delete without where",
	"merge", "truncate", "copy from stdin", "lock", "notify", "data-modifying with", "cursor over data-modifying with",
}

only_if(row, allowed) := "allow" if row in allowed

else := "deny"

mismatches(group) := [sprintf("%s %s: want %s, got %s", [group, row, want, got]) |
	some row, cell in matrix_rows
	some i, where in ["dev", "prod"]
	want := expected_for_role(group, row)[i]
	got := f.outcome(f.decide([group], where, cell[0]))
	want != got
]

test_matrix_ci_readonly_reads_on_non_production_only if {
	print(mismatches("ci-readonly"))
	count(mismatches("ci-readonly")) == 0
}

test_matrix_backup_reads_and_exports_everywhere_and_never_writes if {
	print(mismatches("backup"))
	count(mismatches("backup")) == 0
}

test_matrix_developers_write_on_non_production_and_read_on_production if {
	print(mismatches("developers"))
	count(mismatches("developers")) == 0
}

test_matrix_dba_does_everything_with_approval_for_the_risky_on_production if {
	print(mismatches("dba"))
	count(mismatches("dba")) == 0
}

test_denied_everything_for_approvers_without_a_data_role if {
	every cell in matrix_rows {
		f.outcome(f.decide(["approvers"], "dev", cell[0])) == "deny"
	}
}

# --- named outcomes, with the words the client sees ---------------------------------------------------

test_allowed_select_for_ci_on_dev if {
	d := f.decide(["ci-readonly"], "dev", [f.select_users])
	d == {
		"allow": true,
		"reasons": ["allowed: role ci-readonly may read on non-production connection demo-dev"],
		"policy": "pg/role-read",
		"cache_ttl_s": 300,
	}
}

test_denied_select_for_ci_on_prod if {
	d := f.decide(["ci-readonly"], "prod", [f.select_users])
	d == {
		"allow": false,
		"reasons": ["role ci-readonly may not use production connection demo-prod (ci-readonly may only read, and not on production)"],
		"policy": "pg/default-deny",
		"cache_ttl_s": 300,
	}
}

test_denied_delete_for_ci_on_dev_says_the_role_may_only_read if {
	d := f.decide(["ci-readonly"], "dev", [f.delete_where])
	d == {
		"allow": false,
		"reasons": ["DELETE (writes data) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"],
		"policy": "pg/role-write",
		"cache_ttl_s": 300,
	}
}

test_denied_delete_without_where_on_prod_for_dba_needs_approval if {
	d := f.decide(["dba"], "prod", [f.delete_all])
	d == {
		"allow": false,
		"reasons": ["DELETE without WHERE on production connection demo-prod needs approval by approvers"],
		"policy": "pg/destructive-on-prod",
		"approval": {"required": true, "approver_groups": ["approvers"], "min_approvals": 1, "expires_in_s": 600},
		"cache_ttl_s": 300,
	}
}

test_allowed_delete_with_where_on_prod_for_dba if {
	d := f.decide(["dba"], "prod", [f.delete_where])
	d.allow
	d.policy == "pg/role-write"
	d.reasons == ["allowed: role dba may write data on production connection demo-prod"]
}

test_denied_delete_without_where_on_prod_for_developers_without_approval if {
	d := f.decide(["developers"], "prod", [f.delete_all])
	not d.allow
	not d.approval
	d.policy == "pg/role-write"
}

test_denied_writes_for_backup_without_approval if {
	d := f.decide(["backup"], "prod", [f.truncate_users])
	not d.allow
	not d.approval
	d.reasons == ["TRUNCATE (writes data) is not allowed on production connection demo-prod: role backup may read and export (COPY TO STDOUT) everything, production included, and never write"]
}

test_allowed_copy_to_stdout_for_backup_on_prod if {
	d := f.decide(["backup"], "prod", [f.copy_out])
	d.allow
	d.policy == "pg/role-export"
	d.reasons == ["allowed: role backup may export data on production connection demo-prod"]
}

test_denied_copy_to_stdout_for_ci_which_may_only_select if {
	d := f.decide(["ci-readonly"], "dev", [f.copy_out])
	d.policy == "pg/role-export"
	not d.allow
}

test_allowed_writes_for_developers_on_dev_named_by_the_strongest_capability if {
	d := f.decide(["developers"], "dev", [f.select_users, f.insert_users, f.begin])
	d.allow
	d.policy == "pg/role-write"
	d.reasons == ["allowed: role developer may write data on non-production connection demo-dev"]
}

test_denied_ddl_for_developers_on_dev if {
	d := f.decide(["developers"], "dev", [f.create_table])
	not d.allow
	d.policy == "pg/role-ddl"
}

test_allowed_session_control_alone_with_its_own_policy if {
	d := f.decide(["ci-readonly"], "dev", [f.begin, f.rollback, f.reset_all, f.discard_plans, f.deallocate, f.listen, f.unlisten, f.select_current_setting])
	d.allow
	d.policy == "pg/role-read"
	f.decide(["ci-readonly"], "dev", [f.begin]).policy == "pg/session-control"
	f.decide(["ci-readonly"], "dev", [f.begin]).reasons == ["allowed: role ci-readonly may control the session on non-production connection demo-dev"]
}

test_allowed_empty_query_for_a_role_that_may_connect if {
	d := f.decide(["ci-readonly"], "dev", [])
	d.allow
	d.policy == "pg/session-control"
}

test_denied_empty_query_on_a_connection_the_role_may_not_use if {
	d := f.decide(["ci-readonly"], "prod", [])
	not d.allow
	d.policy == "pg/default-deny"
}

# --- several statements: every one must pass, the most severe outcome decides ---------------------------

test_denied_select_then_drop_as_a_whole_request if {
	d := f.decide(["ci-readonly"], "dev", [f.select_one, f.drop_users])
	not d.allow
	d.policy == "pg/role-ddl"
	d.reasons == ["statement 2 of 2: DROP (changes the schema) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
}

test_approval_for_select_then_drop_on_prod_for_dba if {
	d := f.decide(["dba"], "prod", [f.select_one, f.drop_users])
	not d.allow
	d.approval.required
	d.policy == "pg/destructive-on-prod"
	d.reasons == ["statement 2 of 2: DROP on production connection demo-prod needs approval by 2 members of approvers"]
	d.approval.min_approvals == 2
}

test_denied_without_approval_when_one_statement_is_denied_and_another_needs_approval if {
	d := f.decide(["dba"], "prod", [f.drop_users, f.pg_read_file])
	not d.allow
	not d.approval
	d.policy == "pg/superuser-functions"
	d.reasons == [
		"statement 1 of 2: DROP on production connection demo-prod needs approval by 2 members of approvers",
		"statement 2 of 2: function pg_read_file (reaches outside the database) is denied for every role",
	]
}

test_approval_lists_every_statement_that_needs_it if {
	d := f.decide(["dba"], "prod", [f.delete_all, f.select_one, f.truncate_users])
	d.approval.required
	d.reasons == [
		"statement 1 of 3: DELETE without WHERE on production connection demo-prod needs approval by approvers",
		"statement 3 of 3: TRUNCATE on production connection demo-prod needs approval by 2 members of approvers",
	]
	d.approval.min_approvals == 2
}

# --- repeated statements: sent once each, with the text's order in sequence ---------------------------------

test_allowed_a_thousand_repeats_of_one_select_judged_once if {
	inp := f.sequenced_input(["ci-readonly"], "dev", [f.select_one], [0 | some _ in numbers.range(1, 1000)])
	d := request.decision with input as inp
	d.allow
	d.policy == "pg/role-read"
}

test_denied_repeated_drop_named_by_its_first_place_in_the_text if {
	inp := f.sequenced_input(["ci-readonly"], "dev", [f.select_one, f.drop_users], [0, 0, 1, 0, 1])
	d := request.decision with input as inp
	not d.allow
	d.reasons == ["statement 3 of 5: DROP (changes the schema) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
}

test_parse_error_stands_after_every_statement_of_the_text if {
	inp := object.union(
		f.sequenced_input(["ci-readonly"], "dev", [f.select_one], [0, 0, 0]),
		{"request": {"parse_error": "syntax error at end of input"}},
	)
	d := request.decision with input as inp
	d.reasons == ["statement 4 of 4: SQL the gateway could not parse (syntax error at end of input) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
}

# --- how many approvers, how long, and grants ---------------------------------------------------------------

test_approval_by_one_approver_for_destructive_statements_but_drop_and_truncate if {
	every st in [f.delete_all, f.update_all, f.alter_drop_column, f.cte_delete, f.do_block, f.set_role] {
		a := f.decide(["dba"], "prod", [st]).approval
		a == {"required": true, "approver_groups": ["approvers"], "min_approvals": 1, "expires_in_s": 600}
	}
}

test_approval_by_two_approvers_for_drop_and_truncate if {
	every st in [f.drop_users, f.truncate_users] {
		f.decide(["dba"], "prod", [st]).approval.min_approvals == 2
	}
}

test_approval_by_as_many_approvers_as_the_riskiest_statement_needs if {
	f.decide(["dba"], "prod", [f.delete_all, f.drop_users]).approval.min_approvals == 2
	f.decide(["dba"], "prod", [f.drop_users, f.delete_all]).approval.min_approvals == 2
	f.decide(["dba"], "prod", [f.delete_all, f.update_all]).approval.min_approvals == 1
}

test_approval_without_grant_by_default if {
	a := f.decide(["dba"], "prod", [f.delete_all]).approval
	not a.grant
}

test_approval_asks_for_the_grant_data_names if {
	g := {"scope": "unmask", "ttl_s": 3600}
	a := f.decide(["dba"], "prod", [f.delete_all]).approval with data.portcullis.approval.grant as g
	a.grant == g
}

test_approval_by_the_groups_and_within_the_time_data_names if {
	d := f.decide(["dba"], "prod", [f.drop_users]) with data.portcullis.approval.approver_groups as ["dba", "approvers"]
		with data.portcullis.approval.expires_in_s as 900
		with data.portcullis.approval.min_approvals_by_operation as {}
	d.approval == {"required": true, "approver_groups": ["dba", "approvers"], "min_approvals": 1, "expires_in_s": 900}
	d.reasons == ["DROP on production connection demo-prod needs approval by dba or approvers"]
}

# --- several groups: the most permissive role allows, risky statements on production still wait -------

test_allowed_write_on_dev_for_ci_who_is_also_a_developer if {
	f.decide(["ci-readonly", "developers"], "dev", [f.update_all]).allow
}

test_approval_for_delete_without_where_on_prod_for_backup_who_is_also_dba if {
	d := f.decide(["backup", "dba"], "prod", [f.delete_all])
	d.approval.required
	f.decide(["backup", "dba"], "prod", [f.copy_out]).allow
}

test_denied_write_on_prod_for_backup_who_is_also_a_developer_names_both_roles if {
	d := f.decide(["developers", "backup"], "prod", [f.insert_users])
	not d.allow
	d.reasons == ["INSERT (writes data) is not allowed on production connection demo-prod for any of the roles backup, developer"]
	d.policy == "pg/role-write"
}

test_allowed_read_for_a_known_group_among_unknown_ones if {
	f.decide(["marketing", "ci-readonly", "ACME/DBA"], "dev", [f.select_users]).allow
}

# --- who may not use the connection at all ------------------------------------------------------------

test_denied_for_empty_groups if {
	d := f.decide([], "dev", [f.select_one])
	d.policy == "pg/default-deny"
	d.reasons == ["identity someone has no group that maps to a Portcullis role (groups: none)"]
}

test_denied_for_unknown_groups if {
	d := f.decide(["marketing", "DBA"], "dev", [f.select_one])
	d.policy == "pg/default-deny"
	d.reasons == ["identity someone has no group that maps to a Portcullis role (groups: marketing, DBA)"]
}

test_denied_for_missing_groups if {
	inp := json.remove(f.request_input([], "dev", [f.select_one]), ["identity/groups"])
	d := request.decision with input as inp
	d.policy == "pg/default-deny"
	not d.allow
}

test_denied_select_for_ci_on_a_connection_without_env_tag if {
	d := f.decide(["ci-readonly"], "untagged", [f.select_users])
	d.policy == "pg/default-deny"
	d.reasons == ["role ci-readonly may not use production connection demo-untagged (ci-readonly may only read, and not on production)"]
}

test_denied_write_for_developers_on_a_connection_without_env_tag if {
	d := f.decide(["developers"], "untagged", [f.insert_users])
	not d.allow
	d.policy == "pg/role-write"
}

test_approval_for_drop_by_dba_on_a_connection_without_env_tag if {
	f.decide(["dba"], "untagged", [f.drop_users]).approval.required
}

# --- the safety nets, through PostgreSQL ---------------------------------------------------------------

test_denied_when_no_rule_covers_a_statement if {
	d := request.decision with input as f.request_input(["dba"], "dev", [f.select_one])
		with data.portcullis.postgres.needs as {}
	d == {"allow": false, "reasons": ["SELECT: no rule of these policies covers this statement"], "policy": "pg/default-deny", "cache_ttl_s": 300}
}

test_denied_when_a_statement_was_lost_on_the_way if {
	d := request.decision with input as f.request_input(["dba"], "dev", [f.select_one])
		with data.portcullis.postgres.complete as false
	d == {"allow": false, "reasons": ["no rule of the request policy decided this input"], "policy": "request/default-deny", "cache_ttl_s": 300}
}

test_denied_setval_for_developers_on_prod if {
	st := f.statement("SELECT", {"functions": ["setval"], "normalized": "SELECT setval(?, ?)"})
	d := f.decide(["developers"], "prod", [st])
	d.reasons == ["function setval (changes data) is not allowed on production connection demo-prod: role developer may read and write data (DML) outside production, and only read on production"]
}
