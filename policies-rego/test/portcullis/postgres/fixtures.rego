# PostgreSQL requests as the gateway sends them (decision contract v2), for the tests of portcullis.postgres and
# of the request decision for PostgreSQL. Each statement is what the gateway's SQL analysis makes of a piece of
# SQL, named after that SQL.
package portcullis.postgres.fixtures

import data.portcullis.fixtures

request_input(groups, where, statements) := fixtures.request_input(groups, where, {
	"protocol": "postgres",
	"message": "query",
	"statements": statements,
	"parse_error": null,
})

unparsable_input(groups, where, statements, parse_error) := object.union(
	request_input(groups, where, statements),
	{"request": {"parse_error": parse_error}},
)

# A request whose statements the gateway sent each once, with the text's order in sequence.
sequenced_input(groups, where, statements, sequence) := object.union(
	request_input(groups, where, statements),
	{"request": {"sequence": sequence}},
)

decide(groups, where, statements) := d if {
	d := data.portcullis.request.decision with input as request_input(groups, where, statements)
}

outcome(decision) := fixtures.outcome(decision)

statement(command, fields) := object.union(
	{
		"command": command, "tables": [], "functions": [], "has_where": false, "normalized": "",
		"via": null, "copy": null, "set_parameter": null, "prepared_name": null, "predicate_columns": [],
	},
	fields,
)

reads(name) := {"schema": null, "name": name, "access": "read"}

writes(name) := {"schema": null, "name": name, "access": "write"}

# --- reads --------------------------------------------------------------------------------------------

select_users := statement("SELECT", {"tables": [reads("users")], "normalized": "SELECT * FROM users WHERE id = ?"})

select_one := statement("SELECT", {"normalized": "SELECT ?"})

select_current_setting := statement("SELECT", {"functions": ["current_setting"], "normalized": "SELECT current_setting(?)"})

explain_select := [
	statement("EXPLAIN", {"normalized": "EXPLAIN SELECT * FROM users"}),
	statement("SELECT", {"tables": [reads("users")], "normalized": "SELECT * FROM users", "via": "explain"}),
]

copy_out := statement("COPY", {
	"tables": [reads("users")],
	"normalized": "COPY users TO STDOUT WITH (FORMAT csv)",
	"copy": {"direction": "to", "program": false},
})

# --- writes -------------------------------------------------------------------------------------------

insert_users := statement("INSERT", {"tables": [writes("users")], "normalized": "INSERT INTO users VALUES (?, ?)"})

update_where := statement("UPDATE", {"tables": [writes("users")], "has_where": true, "normalized": "UPDATE users SET name = ? WHERE id = ?"})

update_all := statement("UPDATE", {"tables": [writes("users")], "normalized": "UPDATE users SET name = ?"})

delete_where := statement("DELETE", {"tables": [writes("users")], "has_where": true, "normalized": "DELETE FROM users WHERE id = ?"})

delete_all := statement("DELETE", {"tables": [writes("users")], "normalized": "DELETE FROM users"})

merge_users := statement("MERGE", {
	"tables": [writes("users"), reads("staged_users")],
	"normalized": "MERGE INTO users u USING staged_users s ON u.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name",
})

truncate_users := statement("TRUNCATE", {"tables": [writes("users")], "normalized": "TRUNCATE users"})

lock_users := statement("LOCK", {"tables": [writes("users")], "normalized": "LOCK TABLE users IN ACCESS EXCLUSIVE MODE"})

notify := statement("NOTIFY", {"normalized": "NOTIFY orders, ?"})

copy_in := statement("COPY", {
	"tables": [writes("users")],
	"normalized": "COPY users FROM STDIN WITH (FORMAT csv)",
	"copy": {"direction": "from", "program": false},
})

# WITH gone AS (DELETE FROM users RETURNING *) SELECT count(*) FROM gone
cte_delete := statement("SELECT", {
	"tables": [writes("users")],
	"normalized": "WITH gone AS (DELETE FROM users RETURNING *) SELECT count(*) FROM gone",
})

# --- schema and storage -------------------------------------------------------------------------------

create_table := statement("CREATE", {"tables": [writes("notes")], "normalized": "CREATE TABLE notes (id int)"})

alter_add_column := statement("ALTER", {"tables": [writes("users")], "normalized": "ALTER TABLE users ADD COLUMN nick text"})

alter_drop_column := statement("ALTER", {"tables": [writes("users")], "normalized": "ALTER TABLE users DROP COLUMN email"})

drop_users := statement("DROP", {"tables": [writes("users")], "normalized": "DROP TABLE users"})

grant_select := statement("GRANT", {"tables": [reads("users")], "normalized": "GRANT SELECT ON users TO reporting"})

vacuum_users := statement("VACUUM", {"tables": [writes("users")], "normalized": "VACUUM users"})

# --- escapes ------------------------------------------------------------------------------------------

do_block := statement("DO", {"normalized": "DO ?"})

call_procedure := statement("CALL", {"functions": ["archive_orders"], "normalized": "CALL archive_orders(?)"})

copy_program := statement("COPY", {
	"tables": [writes("users")],
	"normalized": "COPY users FROM PROGRAM ?",
	"copy": {"direction": "from", "program": true},
})

copy_to_server_file := statement("COPY", {
	"tables": [reads("users")],
	"normalized": "COPY users TO ?",
	"copy": {"direction": "to", "program": false},
})

set_role := statement("SET", {"set_parameter": "role", "normalized": "SET ROLE postgres"})

reset_role := statement("RESET", {"set_parameter": "role", "normalized": "RESET ROLE"})

set_session_authorization := statement("SET", {"set_parameter": "session_authorization", "normalized": "SET SESSION AUTHORIZATION postgres"})

set_replication_role := statement("SET", {"set_parameter": "session_replication_role", "normalized": "SET session_replication_role = replica"})

set_config := statement("SELECT", {"functions": ["set_config"], "normalized": "SELECT set_config(?, ?, ?)"})

query_to_xml := statement("SELECT", {"functions": ["query_to_xml"], "normalized": "SELECT query_to_xml(?, ?, ?, ?)"})

discard_all := statement("DISCARD", {"normalized": "DISCARD ALL"})

refresh_view := statement("OTHER", {"normalized": "REFRESH MATERIALIZED VIEW order_totals"})

pg_read_file := statement("SELECT", {"functions": ["pg_read_file"], "normalized": "SELECT pg_read_file(?)"})

function_call := statement("FUNCTION_CALL", {"functions": ["764"]})

# --- session control ----------------------------------------------------------------------------------

begin := statement("BEGIN", {"normalized": "BEGIN"})

commit := statement("COMMIT", {"normalized": "COMMIT"})

rollback := statement("ROLLBACK", {"normalized": "ROLLBACK"})

savepoint := statement("SAVEPOINT", {"normalized": "SAVEPOINT s1"})

release := statement("RELEASE", {"normalized": "RELEASE SAVEPOINT s1"})

show := statement("SHOW", {"normalized": "SHOW search_path"})

set_search_path := statement("SET", {"set_parameter": "search_path", "normalized": "SET search_path = ?"})

reset_all := statement("RESET", {"set_parameter": "all", "normalized": "RESET ALL"})

discard_plans := statement("DISCARD", {"normalized": "DISCARD PLANS"})

deallocate := statement("DEALLOCATE", {"prepared_name": "p", "normalized": "DEALLOCATE p"})

listen := statement("LISTEN", {"normalized": "LISTEN orders"})

unlisten := statement("UNLISTEN", {"normalized": "UNLISTEN *"})

# PREPARE p AS DELETE FROM users: the wrapper and the statement it prepares.
prepare_delete_all := [
	statement("PREPARE", {"prepared_name": "p", "normalized": "PREPARE p AS DELETE FROM users"}),
	statement("DELETE", {"tables": [writes("users")], "normalized": "DELETE FROM users", "via": "prepare"}),
]

# EXECUTE p, remembered from the PREPARE above.
execute_delete_all := [
	statement("EXECUTE", {"prepared_name": "p", "normalized": "EXECUTE p"}),
	statement("DELETE", {"tables": [writes("users")], "normalized": "DELETE FROM users", "via": "execute"}),
]

# EXPLAIN ANALYZE DELETE FROM users: EXPLAIN ANALYZE runs it.
explain_analyze_delete_all := [
	statement("EXPLAIN", {"normalized": "EXPLAIN ANALYZE DELETE FROM users"}),
	statement("DELETE", {"tables": [writes("users")], "normalized": "DELETE FROM users", "via": "explain"}),
]

# DECLARE c CURSOR FOR SELECT * FROM users WHERE id = ?: the wrapper and the query it declares the cursor for.
declare_cursor := [
	statement("DECLARE", {"normalized": "DECLARE c CURSOR FOR SELECT * FROM users WHERE id = ?"}),
	statement("SELECT", {"tables": [reads("users")], "normalized": "SELECT * FROM users WHERE id = ?", "via": "declare"}),
]

fetch_cursor := statement("FETCH", {"normalized": "FETCH ? FROM c"})

move_cursor := statement("MOVE", {"normalized": "MOVE BACKWARD ? IN c"})

close_cursor := statement("CLOSE", {"normalized": "CLOSE c"})

# psql's FETCH_COUNT, for instance: declare, fetch, move, close.
cursor_lifetime := array.concat(declare_cursor, [fetch_cursor, move_cursor, close_cursor])

# DECLARE c CURSOR FOR WITH gone AS (DELETE ... RETURNING *) SELECT ...: PostgreSQL refuses it, and it writes.
declare_cte_delete := [
	statement("DECLARE", {"normalized": "DECLARE c CURSOR FOR WITH gone AS (DELETE FROM users RETURNING *) SELECT count(*) FROM gone"}),
	object.union(cte_delete, {"via": "declare"}),
]
