# PostgreSQL: what each SQL statement of input.request does, independent of who sends it. The capabilities it
# needs (the roles' vocabulary, access.rego), what no role may do, and what is risky enough on production to need
# a human's approval. portcullis.request judges that against the identity's roles, the same way for every
# protocol, through `analysis` below. The function lists and the parameters only an administrator may set are
# protocol data: postgres/data.json, at data.portcullis.postgres.
#
# Every statement is judged by what it actually does, never by its wrapper: the statement inside
# PREPARE, the one an EXECUTE runs, the one inside EXPLAIN (EXPLAIN ANALYZE runs it; plain EXPLAIN
# is judged the same way because the contract does not say which one it was) and the query of a
# DECLARE ... CURSOR each arrive as their own statement with `via` set, and are judged like any other: a
# cursor is allowed to the roles that may run its query. The wrappers themselves only control the
# session (PREPARE, EXECUTE, DECLARE, CLOSE) or read (EXPLAIN; FETCH and MOVE, which read the rows of a
# cursor whose query was judged at its DECLARE).
#
# The gateway already normalises casing, but the policy cases everything again itself: a gateway bug in
# casing must never make a statement look more harmless than it is. For the same reason every field
# that is missing or has an unexpected value is read the way that asks for more, not less.
package portcullis.postgres

import data.portcullis.mask

# --- what portcullis.request reads (the protocol interface, see request.rego) ------------------------------

analysis := {
	"operations": [st.command | some st in items],
	"positions": positions,
	"size": count(list(sequence)) + count(extra_items),
	"complete": complete,
	"needs": needs,
	"forbidden": forbidden,
	"risks": risks,
	"operation_noun": "statement",
	"default_rule": "pg/default-deny",
	"empty_rule": "pg/session-control",
}

# --- the statements -------------------------------------------------------------------------------------

# The statements as judged: each distinct statement of the request, then one item for the part of the text that
# could not be parsed, then one for a FunctionCall message that came without its statement.
items := array.concat(statements, extra_items)

extra_items := array.concat(unparsed, bare_function_call)

statements := [canonical(raw) | some raw in list(input.request.statements)]

# The gateway sends each distinct statement once (a Query of 1,000 INSERTs of one shape is judged once) and
# `sequence`, the statements of the text in order as indexes into `statements`. A request without it (a held
# request stored before it existed) has each statement once, in order.
sequence := input.request.sequence if {
	"sequence" in object.keys(input.request)
} else := [i | some i, _ in list(input.request.statements)]

# Where each item first stands in the request (1 for the first statement of the text), which a reason names. Of the
# (statement, place) pairs sorted, the first pair of each statement holds its first place. Only comprehensions over
# local values and builtins touch the sequence: it is up to 1,000 places long, and a rule per place, or a rule
# referenced per place, costs tens of milliseconds.
first_place := {p[0]: p[1] | some p in firsts} if {
	places := sort([[i, k + 1] | some k, i in list(sequence)])
	firsts := array.concat(
		array.slice(places, 0, 1),
		[p | some j, p in places; j > 0; places[j - 1][0] != p[0]],
	)
}

positions := array.concat(
	[first_place[i] | some i, _ in statements],
	[p | some j, _ in extra_items; p := (count(list(sequence)) + j) + 1],
)

# Every statement the gateway sent became an item: one lost on the way could never be judged.
default complete := false

complete if {
	count(statements) == count(list(input.request.statements))
	sequence_names_every_statement
}

# The sequence holds indexes into the statements only (non-negative integers, the greatest within the list) and
# names every statement at least once.
sequence_names_every_statement if {
	count(statements) == 0
	sequence == []
}

sequence_names_every_statement if {
	is_array(sequence)
	regex.match(`^\[(0|[1-9][0-9]*)(,(0|[1-9][0-9]*))*\]$`, json.marshal(sequence))
	max(sequence) < count(statements)
	count({i | some i in sequence}) == count(statements)
}

unparsed := [item("UNPARSED", {"parse_error": input.request.parse_error})] if {
	input.request.parse_error != null
} else := []

bare_function_call := [item("FUNCTION_CALL", {})] if {
	input.request.message == "function_call"
	count([s | some s in statements; s.command == "FUNCTION_CALL"]) == 0
} else := []

commands := {
	"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "ALTER", "DROP", "TRUNCATE", "COPY",
	"PREPARE", "EXECUTE", "DEALLOCATE", "DO", "CALL", "SET", "RESET", "SHOW", "BEGIN", "COMMIT", "ROLLBACK",
	"SAVEPOINT", "RELEASE", "GRANT", "REVOKE", "EXPLAIN", "VACUUM", "ANALYZE", "LISTEN", "NOTIFY", "UNLISTEN",
	"DISCARD", "LOCK", "DECLARE", "FETCH", "MOVE", "CLOSE", "FUNCTION_CALL", "OTHER",
}

canonical(raw) := item(command(raw), {
	"sent_command": upper(text(object.get(raw, "command", "OTHER"))),
	"tables": [canonical_table(t) | some t in list(raw.tables)],
	"functions": {function_name(f) | some f in list(raw.functions); is_string(f)},
	"has_where": object.get(raw, "has_where", false) == true,
	"normalized": text(object.get(raw, "normalized", "")),
	"via": lower(text(object.get(raw, "via", ""))),
	"copy": canonical_copy(object.get(raw, "copy", null)),
	"set_parameter": lower(trim_space(text(object.get(raw, "set_parameter", "")))),
	"predicate_columns": canonical_predicate_columns(raw),
}) if {
	is_object(raw)
} else := item("OTHER", {})

# The columns the statement's predicates, groupings and orderings read, or "unknown". Anything but a list of
# columns reads as unknown, and so does a missing list on a statement that names tables (a gateway older than
# predicate_columns): it asks for more, not less.
canonical_predicate_columns(raw) := raw.predicate_columns if {
	is_array(raw.predicate_columns)
	count([c | some c in raw.predicate_columns; not source_column(c)]) == 0
} else := [] if {
	not "predicate_columns" in object.keys(raw)
	count(list(raw.tables)) == 0
} else := "unknown"

# Every item has every field, so the rules below never go undefined on a missing one.
item(cmd, fields) := object.union(
	{
		"command": cmd, "tables": [], "functions": set(), "has_where": false, "normalized": "", "via": "",
		"copy": {"reported": false, "direction": "", "program": false}, "set_parameter": "", "parse_error": "",
		"sent_command": cmd, "predicate_columns": [],
	},
	fields,
)

command(raw) := c if {
	c := upper(trim_space(raw.command))
	c in commands
} else := "OTHER"

# A table whose access is anything but "read" counts as written.
canonical_table(t) := {"name": table_name(t), "write": lower(text(object.get(t, "access", ""))) != "read"} if {
	is_object(t)
} else := {"name": "?", "write": true}

table_name(t) := sprintf("%s.%s", [t.schema, t.name]) if {
	is_string(t.schema)
	is_string(t.name)
} else := text(object.get(t, "name", "?"))

# pg_catalog.PG_READ_FILE and "pg_read_file" are both pg_read_file: the schema cannot change what it is.
function_name(f) := last if {
	parts := split(replace(lower(trim_space(f)), "\"", ""), ".")
	last := trim_space(parts[count(parts) - 1])
}

# A COPY without a readable program flag is treated as COPY ... PROGRAM; one without its copy object as
# a COPY nobody can tell anything about.
canonical_copy(c) := {
	"reported": true,
	"direction": lower(text(object.get(c, "direction", ""))),
	"program": object.get(c, "program", true) != false,
} if {
	is_object(c)
} else := {"reported": false, "direction": "", "program": false}

text(x) := x if is_string(x)

else := ""

list(x) := x if is_array(x)

else := []

label(st) := sprintf("%s inside PREPARE", [st.command]) if {
	st.via == "prepare"
} else := sprintf("%s run by EXECUTE", [st.command]) if {
	st.via == "execute"
} else := sprintf("%s inside EXPLAIN", [st.command]) if {
	st.via == "explain"
} else := sprintf("%s inside DECLARE", [st.command]) if {
	st.via == "declare"
} else := st.command

# The capability a statement needs, with the words that explain it and the rule that decides it.
need(class, what, policy) := {"class": class, "what": what, "policy": policy}

# --- session control: allowed to anyone who may use the connection at all ------------------------------

session_commands := {
	"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SHOW", "DEALLOCATE", "LISTEN", "UNLISTEN",
	# The wrappers: what PREPARE prepares, what EXECUTE runs and the query a cursor is declared for are judged
	# as their own statements. CLOSE (and CLOSE ALL) only forgets cursors.
	"PREPARE", "EXECUTE", "DECLARE", "CLOSE",
}

needs[i] contains need("session", sprintf("%s (session control)", [st.command]), "pg/session-control") if {
	some i, st in items
	st.command in session_commands
}

needs[i] contains need("session", sprintf("%s (session setting)", [trim_space(concat(" ", [st.command, st.set_parameter]))]), "pg/session-control") if {
	some i, st in items
	st.command in {"SET", "RESET"}
	not st.set_parameter in data.portcullis.postgres.admin_parameters
}

needs[i] contains need("session", "DISCARD (session state)", "pg/session-control") if {
	some i, st in items
	st.command == "DISCARD"
	not discard_all(st)
}

# --- reads --------------------------------------------------------------------------------------------

needs[i] contains need("read", sprintf("%s (reads data)", [label(st)]), "pg/role-read") if {
	some i, st in items
	st.command in {"SELECT", "EXPLAIN"}
}

# FETCH returns the rows of a cursor and MOVE counts them. The cursor's query was judged at its DECLARE; one the
# gateway never saw declared (a refcursor a function opened) was reached through a call that was judged.
needs[i] contains need("read", sprintf("%s (reads a cursor's rows)", [label(st)]), "pg/role-read") if {
	some i, st in items
	st.command in {"FETCH", "MOVE"}
}

# A predicate, grouping or ordering over a masked column probes its values without returning them
# (WHERE email LIKE 'a%', ORDER BY card_number): it needs the probe capability. Which columns are masked for the
# caller is the mask policy's fact (masking/data.json and the caller's unmask grants), asked here, never repeated.
needs[i] contains need("probe", sprintf("%s (filters, groups or sorts on masked column %s)", [label(st), column_name(c)]), "pg/masked-predicate") if {
	some i, st in items
	is_array(st.predicate_columns)
	some c in st.predicate_columns
	masked_for_caller(c)
}

needs[i] contains need("probe", sprintf("%s (its filters, groupings or orderings read columns the gateway could not resolve, which may be masked)", [label(st)]), "pg/masked-predicate") if {
	some i, st in items
	st.predicate_columns == "unknown"
}

source_column(c) if {
	is_string(c.schema)
	is_string(c.table)
	is_string(c.column)
}

masked_for_caller(c) if {
	count(mask.rules_for(c)) > 0
	not mask.unmasked(c)
}

column_name(c) := concat(".", [c.schema, c.table, c.column])

needs[i] contains need("export", sprintf("%s TO STDOUT (exports data)", [label(st)]), "pg/role-export") if {
	some i, st in items
	copy_stdio(st, "to")
}

# --- writes -------------------------------------------------------------------------------------------

# NOTIFY wakes other sessions' listeners (applications act on it) and LOCK can stall production; both need
# the same trust as changing data.
write_commands := {"INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "NOTIFY", "LOCK"}

needs[i] contains need("write", sprintf("%s (writes data)", [label(st)]), "pg/role-write") if {
	some i, st in items
	st.command in write_commands
}

needs[i] contains need("write", sprintf("%s FROM STDIN (writes data)", [label(st)]), "pg/role-write") if {
	some i, st in items
	copy_stdio(st, "from")
}

# A data-modifying WITH writes even under SELECT (WITH gone AS (DELETE ...) SELECT ...): whatever the
# command, a written table needs the write capability.
needs[i] contains need("write", sprintf("%s (writes %s)", [label(st), concat(", ", written_tables(st))]), "pg/role-write") if {
	some i, st in items
	not own_target(st)
	count(written_tables(st)) > 0
}

written_tables(st) := sort({t.name | some t in st.tables; t.write})

# --- schema and storage -------------------------------------------------------------------------------

ddl_commands := {
	"CREATE": "changes the schema",
	"ALTER": "changes the schema",
	"DROP": "changes the schema",
	"GRANT": "changes privileges",
	"REVOKE": "changes privileges",
	"VACUUM": "maintains storage",
	"ANALYZE": "maintains statistics",
}

needs[i] contains need("ddl", sprintf("%s (%s)", [label(st), what]), "pg/role-ddl") if {
	some i, st in items
	what := ddl_commands[st.command]
}

# --- administration: statements that can step around every other check --------------------------------

needs[i] contains need("admin", sprintf("%s (runs %s the gateway cannot see into)", [label(st), what]), "pg/role-admin") if {
	some i, st in items
	what := {"DO": "server-side code", "CALL": "a procedure"}[st.command]
}

needs[i] contains need("admin", sprintf("%s (a command the gateway does not classify)", [verb(st)]), "pg/role-admin") if {
	some i, st in items
	st.command == "OTHER"
}

needs[i] contains need("admin", "COPY ... PROGRAM (runs a program on the database server)", "pg/role-admin") if {
	some i, st in items
	st.command == "COPY"
	st.copy.program
}

needs[i] contains need("admin", "COPY to or from a server file (reads or writes files on the database server)", "pg/role-admin") if {
	some i, st in items
	st.command == "COPY"
	st.copy.reported
	not st.copy.program
	not copy_stdio(st, st.copy.direction)
}

needs[i] contains need("admin", sprintf("%s %s (%s)", [st.command, parameter_words(st.set_parameter), parameter_effect(st.set_parameter)]), "pg/role-admin") if {
	some i, st in items
	st.command in {"SET", "RESET"}
	st.set_parameter in data.portcullis.postgres.admin_parameters
}

needs[i] contains need("admin", "COPY without its direction (the gateway did not report what it copies)", "pg/role-admin") if {
	some i, st in items
	st.command == "COPY"
	not st.copy.reported
}

# DISCARD ALL includes SET SESSION AUTHORIZATION DEFAULT, so it is judged like RESET SESSION AUTHORIZATION.
needs[i] contains need("admin", "DISCARD ALL (resets the session authorization)", "pg/role-admin") if {
	some i, st in items
	st.command == "DISCARD"
	discard_all(st)
}

# setval can break every insert of a production application; nextval and pg_notify are writes too.
needs[i] contains need("write", sprintf("function %s (changes data)", [f]), "pg/role-write") if {
	some i, st in items
	some f in st.functions
	f in data.portcullis.postgres.functions.writing
}

needs[i] contains need("admin", sprintf("function %s (can switch the database role like SET ROLE)", [f]), "pg/role-admin") if {
	some i, st in items
	some f in st.functions
	f in data.portcullis.postgres.functions.role_switching
}

needs[i] contains need("admin", sprintf("function %s (runs SQL text the gateway cannot analyse)", [f]), "pg/role-admin") if {
	some i, st in items
	some f in st.functions
	f in data.portcullis.postgres.functions.dynamic_sql
}

# What could not be parsed could be anything, so only a role that may do anything may send it.
needs[i] contains need("admin", sprintf("SQL the gateway could not parse (%s)", [text(st.parse_error)]), "pg/parse-error") if {
	some i, st in items
	st.command == "UNPARSED"
}

# --- denied for every role ----------------------------------------------------------------------------

# These reach outside the database (server files, other sessions, the server process, replication,
# other databases), which no data-path role needs and an approval cannot make safe.
forbidden[i] contains need("none", sprintf("function %s (reaches outside the database)", [f]), "pg/superuser-functions") if {
	some i, st in items
	some f in st.functions
	denied_function(f)
}

# A FunctionCall message names its function by OID only, so nobody can tell what it runs.
forbidden[i] contains need("none", "a FunctionCall message (names its function by OID only; call the function in a SELECT instead)", "pg/function-call") if {
	some i, st in items
	st.command == "FUNCTION_CALL"
}

denied_function(f) if f in data.portcullis.postgres.functions.denied

denied_function(f) if {
	some prefix in data.portcullis.postgres.functions.denied_prefixes
	startswith(f, prefix)
}

# --- risky on production: needs approval even from a role that may do it ------------------------------

risks[i] contains need("approval", sprintf("%s without WHERE", [label(st)]), "pg/destructive-on-prod") if {
	some i, st in items
	st.command in {"DELETE", "UPDATE"}
	not st.has_where
}

risks[i] contains need("approval", label(st), "pg/destructive-on-prod") if {
	some i, st in items
	st.command in {"DROP", "TRUNCATE"}
}

# ALTER TABLE ... DROP COLUMN destroys data as surely as DROP does. Without text, it might be one.
risks[i] contains need("approval", sprintf("%s ... DROP", [label(st)]), "pg/destructive-on-prod") if {
	some i, st in items
	st.command == "ALTER"
	alter_drops(st)
}

alter_drops(st) if regex.match(`(?i)\bDROP\b`, st.normalized)

alter_drops(st) if trim_space(st.normalized) == ""

# has_where covers only the top-level UPDATE/DELETE: the WHERE of a DELETE or UPDATE inside WITH cannot be
# checked, so any write the top-level command does not account for is treated as unfiltered.
risks[i] contains need("approval", sprintf("%s writing %s through a statement whose WHERE cannot be checked", [label(st), concat(", ", written_tables(st))]), "pg/destructive-on-prod") if {
	some i, st in items
	hidden_write(st)
}

# The commands that change at most one table through their own target, so that any second written table
# comes from a WITH.
single_target_commands := {"INSERT", "UPDATE", "DELETE", "MERGE"}

hidden_write(st) if {
	not own_target(st)
	count(written_tables(st)) > 0
}

hidden_write(st) if {
	st.command in single_target_commands
	count([t | some t in st.tables; t.write]) > 1
}

hidden_write(st) if {
	count(written_tables(st)) > 0
	regex.match(`(?is)^(\s|/\*.*?\*/|--[^\n]*\n)*WITH\b`, st.normalized)
}

# Whatever only an administrator may do can also step around the checks above, so on production it is
# held for approval too.
risks[i] contains need("approval", n.what, "pg/admin-on-prod") if {
	some i, _ in items
	some n in needs[i]
	n.class == "admin"
}

# --- helpers ------------------------------------------------------------------------------------------

# COPY to the client (TO STDOUT / FROM STDIN), as opposed to a server file or program. The contract's copy
# object does not say which, so the text decides: a server file name is always a literal, which the
# normalised text shows as `?`; anything that might be one counts as a server file.
copy_stdio(st, direction) if {
	st.command == "COPY"
	not st.copy.program
	st.copy.direction == direction
	regex.match({"to": `(?i)\bTO\s+STDOUT\b`, "from": `(?i)\bFROM\s+STDIN\b`}[direction], st.normalized)
	not regex.match(`(?i)\b(TO|FROM)\s+\?`, st.normalized)
}

# The tables a writing or DDL command names are its own target, already judged by its command; a written
# table under any other command (SELECT, COPY TO, EXPLAIN, ...) comes from a data-modifying WITH.
own_target(st) if st.command in write_commands

own_target(st) if ddl_commands[st.command]

own_target(st) if copies_in(st)

copies_in(st) if {
	st.command == "COPY"
	st.copy.direction == "from"
}

discard_all(st) if regex.match(`(?i)^\s*DISCARD\s+ALL\b`, st.normalized)

# DISCARD without text to tell which kind is read as DISCARD ALL.
discard_all(st) if trim_space(st.normalized) == ""

# What an unclassified command calls itself: the first word of its text, else the command it was sent as.
verb(st) := upper(w) if {
	w := regex.find_n(`[A-Za-z_]+`, st.normalized, 1)[0]
} else := st.sent_command

parameter_words(p) := upper(replace(p, "_", " "))

parameter_effect(p) := "switches the database identity" if {
	p in {"role", "session_authorization"}
} else := "a setting only an administrator may change"
