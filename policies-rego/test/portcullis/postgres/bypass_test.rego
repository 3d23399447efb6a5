# Bypass attempts against the request policy, each as the analysed input the gateway would send for it:
# odd casing, comments, data-modifying WITH, wrappers (PREPARE, EXECUTE, EXPLAIN), COPY variants, role
# switching, server-side code, unparsable SQL, and fields that are missing or malformed.
package portcullis.postgres.bypass_test

import data.portcullis.postgres.fixtures as f
import data.portcullis.request

test_denied_function_in_odd_case_and_with_schema if {
	every name in ["PG_READ_FILE", "Pg_Catalog.Pg_Read_File", "\"pg_read_file\"", " pg_read_binary_file "] {
		st := f.statement("SELECT", {"functions": [name], "normalized": "SELECT x(?)"})
		d := f.decide(["dba"], "dev", [st])
		not d.allow
		d.policy == "pg/superuser-functions"
	}
}

test_denied_superuser_functions_for_dba_everywhere if {
	every name in ["pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export", "dblink", "dblink_exec", "pg_logical_slot_get_changes"] {
		every where in ["dev", "prod"] {
			st := f.statement("SELECT", {"functions": ["now", name], "normalized": "SELECT x(?)"})
			d := f.decide(["dba"], where, [st])
			not d.allow
			not d.approval
			d.reasons == [sprintf("function %s (reaches outside the database) is denied for every role", [name])]
		}
	}
}

test_denied_lo_import_hidden_in_a_subquery if {
	st := f.statement("SELECT", {
		"tables": [f.reads("users")],
		"functions": ["lo_import"],
		"normalized": "SELECT * FROM users WHERE id = (SELECT lo_import(?))",
	})
	f.decide(["developers"], "dev", [st]).policy == "pg/superuser-functions"
}

test_denied_write_whatever_the_command_casing_and_table_casing if {
	st := f.statement("delete", {"tables": [{"schema": "Public", "name": "USERS", "access": "WRITE"}], "has_where": true})
	d := f.decide(["ci-readonly"], "dev", [st])
	not d.allow
	d.policy == "pg/role-write"
}

test_denied_comments_change_nothing if {
	st := object.union(f.delete_where, {"normalized": "/* harmless */ DELETE -- really\n FROM users WHERE id > ?"})
	not f.decide(["ci-readonly"], "dev", [st]).allow
	f.decide(["dba"], "prod", [st]).allow
}

test_denied_delete_hidden_in_with_under_select if {
	d := f.decide(["ci-readonly"], "dev", [f.cte_delete])
	not d.allow
	d.reasons == ["SELECT (writes users) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
}

test_approval_for_delete_hidden_in_with_on_prod_for_dba if {
	d := f.decide(["dba"], "prod", [f.cte_delete])
	d.approval.required
	d.reasons == ["SELECT writing users through a statement whose WHERE cannot be checked on production connection demo-prod needs approval by approvers"]
}

test_approval_for_a_second_written_table_under_delete_on_prod if {
	# WITH d AS (DELETE FROM audit) DELETE FROM users WHERE id = ?
	st := object.union(f.delete_where, {"tables": [f.writes("audit"), f.writes("users")], "normalized": "WITH d AS (DELETE FROM audit) DELETE FROM users WHERE id = ?"})
	f.decide(["dba"], "prod", [st]).approval.required
	st2 := object.union(st, {"normalized": "DELETE FROM users WHERE id = ?"})
	f.decide(["dba"], "prod", [st2]).approval.required
}

test_approval_for_with_before_a_filtered_delete_on_prod if {
	st := object.union(f.delete_where, {"normalized": "/* x */ WITH d AS (DELETE FROM users) DELETE FROM users WHERE id = ?"})
	f.decide(["dba"], "prod", [st]).approval.required
}

test_denied_prepare_of_a_delete_for_ci if {
	d := f.decide(["ci-readonly"], "dev", f.prepare_delete_all)
	not d.allow
	d.reasons == ["statement 2 of 2: DELETE inside PREPARE (writes data) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
}

test_denied_execute_of_a_prepared_delete_for_ci if {
	d := f.decide(["ci-readonly"], "dev", f.execute_delete_all)
	not d.allow
	d.reasons == ["statement 2 of 2: DELETE run by EXECUTE (writes data) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
}

test_approval_for_execute_of_a_prepared_delete_without_where_on_prod_for_dba if {
	d := f.decide(["dba"], "prod", f.execute_delete_all)
	d.reasons == ["statement 2 of 2: DELETE run by EXECUTE without WHERE on production connection demo-prod needs approval by approvers"]
}

test_allowed_prepare_of_a_delete_for_developers_on_dev if {
	f.decide(["developers"], "dev", f.prepare_delete_all).allow
}

test_denied_execute_of_an_unknown_prepared_name_for_developers if {
	inp := f.unparsable_input(["developers"], "dev", [f.statement("EXECUTE", {"prepared_name": "nope", "normalized": "EXECUTE nope"})], "prepared statement \"nope\" does not exist in this session")
	d := request.decision with input as inp
	not d.allow
	d.policy == "pg/parse-error"
}

test_denied_explain_analyze_of_a_delete_for_ci if {
	d := f.decide(["ci-readonly"], "dev", f.explain_analyze_delete_all)
	not d.allow
	d.reasons == ["statement 2 of 2: DELETE inside EXPLAIN (writes data) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
}

test_denied_explain_wrapper_that_lists_the_written_table_itself if {
	wrapper := f.statement("EXPLAIN", {"tables": [f.writes("users")], "normalized": "EXPLAIN ANALYZE DELETE FROM users"})
	not f.decide(["ci-readonly"], "dev", [wrapper]).allow
	f.decide(["dba"], "prod", [wrapper]).approval.required
}

test_denied_copy_program_for_developers if {
	d := f.decide(["developers"], "dev", [f.copy_program])
	not d.allow
	d.policy == "pg/role-admin"
	d.reasons == ["COPY ... PROGRAM (runs a program on the database server) is not allowed on non-production connection demo-dev: role developer may read and write data (DML) outside production, and only read on production"]
}

test_approval_for_copy_program_on_prod_for_dba if {
	d := f.decide(["dba"], "prod", [f.copy_program])
	d.policy == "pg/admin-on-prod"
	d.reasons == ["COPY ... PROGRAM (runs a program on the database server) on production connection demo-prod needs approval by approvers"]
}

test_denied_copy_to_a_server_file_for_backup if {
	d := f.decide(["backup"], "prod", [f.copy_to_server_file])
	not d.allow
	d.policy == "pg/role-admin"
}

test_denied_copy_to_stdout_whose_text_also_names_a_server_file if {
	st := object.union(f.copy_out, {"normalized": "COPY (SELECT ? AS \"x TO STDOUT\") TO ?"})
	not f.decide(["backup"], "prod", [st]).allow
}

test_denied_copy_without_copy_details_for_backup if {
	st := object.union(f.copy_out, {"copy": null})
	d := f.decide(["backup"], "prod", [st])
	not d.allow
	d.reasons == ["COPY without its direction (the gateway did not report what it copies) is not allowed on production connection demo-prod: role backup may read and export (COPY TO STDOUT) everything, production included, and never write"]
}

test_denied_copy_without_program_flag_as_if_it_ran_a_program if {
	st := json.remove(f.copy_out, ["copy/program"])
	d := f.decide(["backup"], "prod", [st])
	not d.allow
	d.policy == "pg/role-admin"
}

test_denied_copy_returning_rows_of_a_delete_for_backup if {
	# COPY (DELETE FROM users RETURNING *) TO STDOUT
	st := object.union(f.copy_out, {"tables": [f.writes("users")], "normalized": "COPY (DELETE FROM users RETURNING *) TO STDOUT"})
	d := f.decide(["backup"], "prod", [st])
	d.policy == "pg/role-write"
	f.decide(["dba"], "prod", [st]).approval.required
}

test_denied_set_role_for_developers if {
	d := f.decide(["developers"], "dev", [f.set_role])
	d.reasons == ["SET ROLE (switches the database identity) is not allowed on non-production connection demo-dev: role developer may read and write data (DML) outside production, and only read on production"]
}

test_denied_set_role_in_upper_case_parameter if {
	st := object.union(f.set_role, {"set_parameter": "ROLE"})
	not f.decide(["developers"], "dev", [st]).allow
}

test_denied_set_session_authorization_and_replication_role_for_developers if {
	not f.decide(["developers"], "dev", [f.set_session_authorization]).allow
	not f.decide(["developers"], "dev", [f.set_replication_role]).allow
}

test_approval_for_set_role_on_prod_for_dba if {
	d := f.decide(["dba"], "prod", [f.set_role])
	d.reasons == ["SET ROLE (switches the database identity) on production connection demo-prod needs approval by approvers"]
}

test_denied_set_config_for_ci_but_current_setting_is_fine if {
	d := f.decide(["ci-readonly"], "dev", [f.set_config])
	d.reasons == ["function set_config (can switch the database role like SET ROLE) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
	f.decide(["ci-readonly"], "dev", [f.select_current_setting]).allow
}

test_denied_do_block_for_developers if {
	d := f.decide(["developers"], "dev", [f.do_block])
	d.reasons == ["DO (runs server-side code the gateway cannot see into) is not allowed on non-production connection demo-dev: role developer may read and write data (DML) outside production, and only read on production"]
}

test_denied_query_to_xml_which_runs_sql_text_for_ci if {
	d := f.decide(["ci-readonly"], "dev", [f.query_to_xml])
	d.reasons == ["function query_to_xml (runs SQL text the gateway cannot analyse) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
}

test_denied_discard_all_for_developers_but_discard_plans_is_fine if {
	not f.decide(["developers"], "dev", [f.discard_all]).allow
	f.decide(["developers"], "dev", [f.discard_plans]).allow
}

test_denied_unclassified_command_for_developers_naming_its_verb if {
	d := f.decide(["developers"], "dev", [f.refresh_view])
	d.reasons == ["REFRESH (a command the gateway does not classify) is not allowed on non-production connection demo-dev: role developer may read and write data (DML) outside production, and only read on production"]
}

test_denied_unknown_command_as_unclassified if {
	d := f.decide(["developers"], "dev", [f.statement("FROBNICATE", {})])
	d.reasons == ["FROBNICATE (a command the gateway does not classify) is not allowed on non-production connection demo-dev: role developer may read and write data (DML) outside production, and only read on production"]
}

test_denied_function_call_message_for_dba if {
	d := f.decide(["dba"], "dev", [f.function_call])
	d.reasons == ["a FunctionCall message (names its function by OID only; call the function in a SELECT instead) is denied for every role"]
	d.policy == "pg/function-call"
}

test_denied_function_call_message_without_its_statement if {
	inp := object.union(f.request_input(["dba"], "dev", []), {"request": {"message": "function_call"}})
	d := request.decision with input as inp
	d.policy == "pg/function-call"
}

test_denied_parse_error_for_developers if {
	inp := f.unparsable_input(["developers"], "dev", [], "syntax error at or near \"SELEKT\"")
	d := request.decision with input as inp
	d == {
		"allow": false,
		"reasons": ["SQL the gateway could not parse (syntax error at or near \"SELEKT\") is not allowed on non-production connection demo-dev: role developer may read and write data (DML) outside production, and only read on production"],
		"policy": "pg/parse-error",
		"cache_ttl_s": 300,
	}
}

test_denied_parse_error_even_after_parsed_harmless_statements_for_ci if {
	inp := f.unparsable_input(["ci-readonly"], "dev", [f.select_one], "syntax error at end of input")
	d := request.decision with input as inp
	d.reasons == ["statement 2 of 2: SQL the gateway could not parse (syntax error at end of input) is not allowed on non-production connection demo-dev: role ci-readonly may only read, and not on production"]
}

test_allowed_parse_error_for_dba_on_dev if {
	inp := f.unparsable_input(["dba"], "dev", [], "syntax error")
	d := request.decision with input as inp
	d.allow
	d.policy == "pg/parse-error"
	d.reasons == ["allowed: role dba may run administrative statements on non-production connection demo-dev"]
}

test_approval_for_parse_error_for_dba_on_prod if {
	inp := f.unparsable_input(["dba"], "prod", [], "syntax error")
	d := request.decision with input as inp
	d.approval.required
	d.policy == "pg/admin-on-prod"
}

test_approval_for_a_statement_with_only_its_command if {
	# Every missing field reads the way that asks for more: no has_where means no WHERE.
	f.decide(["dba"], "prod", [{"command": "DELETE"}]).approval.required
	not f.decide(["ci-readonly"], "dev", [{"command": "COPY"}]).allow
}

# The sequence only says where statements stand; every statement sent is judged whatever it says, and a sequence
# that does not name exactly the statements sent (one left out, one that was never sent, not an index) decides
# nothing, so the request is denied even for a role that may do anything.
test_denied_sequence_that_leaves_out_a_statement if {
	d := request.decision with input as f.sequenced_input(["dba"], "dev", [f.select_one, f.drop_users], [0, 0])
	d.policy == "request/default-deny"
}

test_denied_sequence_that_names_a_statement_never_sent if {
	every sequence in [[0, 1], [0, -1], [0, 0.5], [0, "1"], [0, null], {"0": 0}, "0", null] {
		d := request.decision with input as f.sequenced_input(["dba"], "dev", [f.select_one], sequence)
		d.policy == "request/default-deny"
	}
}

test_denied_drop_left_out_of_the_sequence_is_still_judged if {
	d := request.decision with input as f.sequenced_input(["ci-readonly"], "dev", [f.select_one, f.drop_users], [0])
	not d.allow
}
