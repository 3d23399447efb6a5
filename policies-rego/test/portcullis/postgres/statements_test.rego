# What portcullis.postgres reads from statements, whatever shape they arrive in, and what it makes of them: the
# capabilities each needs and what is risky on production.
package portcullis.postgres.statements_test

import data.portcullis.postgres
import data.portcullis.postgres.fixtures as f

items_of(statements) := items if {
	items := postgres.items with input as f.request_input(["dba"], "dev", statements)
}

classes_of(st) := {n.class | some n in needs} if {
	needs := postgres.needs[0] with input as f.request_input(["dba"], "dev", [st])
}

risky(st) if {
	risks := postgres.risks[0] with input as f.request_input(["dba"], "prod", [st])
	count(risks) > 0
}

test_command_is_upper_cased_and_unknown_ones_are_other if {
	[a, b, c, d] := items_of([{"command": " delete "}, {"command": "FROBNICATE"}, {"command": 7}, {}])
	[a.command, b.command, c.command, d.command] == ["DELETE", "OTHER", "OTHER", "OTHER"]
	b.sent_command == "FROBNICATE"
}

test_function_names_lose_case_quotes_and_schema if {
	[st] := items_of([f.statement("SELECT", {"functions": ["PG_CATALOG.\"Set_Config\"", "lower", 3]})])
	st.functions == {"set_config", "lower"}
}

test_tables_count_as_written_unless_read if {
	[st] := items_of([f.statement("SELECT", {"tables": [
		{"schema": "public", "name": "a", "access": "READ"},
		{"schema": null, "name": "b", "access": "write"},
		{"name": "c", "access": "update"},
		{"name": "d"},
	]})])
	st.tables == [
		{"name": "public.a", "write": false},
		{"name": "b", "write": true},
		{"name": "c", "write": true},
		{"name": "d", "write": true},
	]
}

test_statements_that_are_not_a_list_are_none if {
	items := postgres.items with input as {"request": {"protocol": "postgres", "statements": null, "parse_error": null}}
	items == []
}

test_parse_error_adds_an_item_after_the_statements if {
	inp := f.unparsable_input(["dba"], "dev", [f.select_one], "syntax error")
	items := postgres.items with input as inp
	[items[0].command, items[1].command, items[1].parse_error] == ["SELECT", "UNPARSED", "syntax error"]
}

test_classes_of_reads_and_writes if {
	classes_of(f.select_users) == {"read"}
	classes_of(f.copy_out) == {"export"}
	classes_of(f.copy_in) == {"write"}
	classes_of(f.cte_delete) == {"read", "write"}
	classes_of(f.insert_users) == {"write"}
	classes_of(f.notify) == {"write"}
}

test_classes_of_ddl_and_admin if {
	classes_of(f.drop_users) == {"ddl"}
	classes_of(f.vacuum_users) == {"ddl"}
	classes_of(f.do_block) == {"admin"}
	classes_of(f.set_config) == {"read", "admin"}
	classes_of(f.copy_program) == {"admin"}
	classes_of(f.copy_to_server_file) == {"admin"}
}

test_classes_of_session_control if {
	every st in [f.begin, f.commit, f.show, f.set_search_path, f.reset_all, f.discard_plans, f.deallocate, f.listen, f.unlisten] {
		classes_of(st) == {"session"}
	}
}

test_discard_without_text_counts_as_discard_all if {
	classes_of(f.statement("DISCARD", {})) == {"admin"}
	classes_of(f.statement("DISCARD", {"normalized": "discard   all"})) == {"admin"}
	classes_of(f.statement("DISCARD", {"normalized": "DISCARD TEMP"})) == {"session"}
}

test_copy_to_stdout_needs_stdout_in_the_text if {
	st := object.union(f.copy_out, {"normalized": "COPY users TO ? WITH (FORMAT csv)"})
	classes_of(st) == {"admin"}
	classes_of(object.union(f.copy_out, {"normalized": "copy users to stdout"})) == {"export"}
	classes_of(object.union(f.copy_out, {"copy": {"direction": "sideways"}})) == {"admin"}
}

test_risky_on_production if {
	every st in [f.delete_all, f.update_all, f.drop_users, f.truncate_users, f.alter_drop_column, f.cte_delete, f.do_block, f.set_role] {
		risky(st)
	}
}

test_not_risky_on_production if {
	every st in [f.delete_where, f.update_where, f.insert_users, f.merge_users, f.copy_in, f.alter_add_column, f.create_table, f.select_users, f.lock_users] {
		not risky(st)
	}
}

test_labels_say_how_a_statement_was_reached if {
	labels := [postgres.label(st) | some st in items_of(array.concat(f.prepare_delete_all, array.concat(f.execute_delete_all, f.explain_analyze_delete_all)))]
	labels == ["PREPARE", "DELETE inside PREPARE", "EXECUTE", "DELETE run by EXECUTE", "EXPLAIN", "DELETE inside EXPLAIN"]
}

test_statement_that_is_not_an_object_is_unclassified if {
	[a, b] := items_of(["DELETE FROM users", f.select_one])
	[a.command, b.command] == ["OTHER", "SELECT"]
	postgres.complete with input as f.request_input(["dba"], "dev", ["DELETE FROM users", f.select_one])
}

test_table_that_is_not_an_object_counts_as_written if {
	[st] := items_of([f.statement("SELECT", {"tables": ["users"]})])
	st.tables == [{"name": "?", "write": true}]
}

test_writing_functions_need_write if {
	classes_of(f.statement("SELECT", {"functions": ["SetVal"], "normalized": "SELECT setval(?, ?)"})) == {"read", "write"}
}

test_alter_without_text_might_drop if {
	risky(f.statement("ALTER", {"tables": [f.writes("users")]}))
}

test_incomplete_when_a_statement_was_lost_on_the_way if {
	inp := f.request_input(["dba"], "dev", [f.select_one])
	postgres.complete with input as inp
	postgres.analysis.complete == false with input as inp with postgres.statements as []
}
