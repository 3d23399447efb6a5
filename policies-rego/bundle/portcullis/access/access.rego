# Who may do what where: the identity's roles, whether the connection counts as production, and the
# capabilities those roles hold there. Shared by the session and request decisions of every protocol, so
# both always agree on who may use a connection. Organisation data only (portcullis/data.json): groups ->
# roles, each role's capabilities, the non-production environments, the approvers.
#
# Capabilities, from data.json "permissions" (per role, per kind of connection). They are the roles'
# vocabulary; each protocol package says which ones its operations need (for SQL, postgres/postgres.rego):
#   read    read data (SQL: SELECT, EXPLAIN)
#   export  bulk reads, kept apart so a role can read without bulk export (SQL: COPY ... TO STDOUT)
#   write   change data (SQL: INSERT, UPDATE, DELETE, MERGE, TRUNCATE, COPY FROM STDIN, LOCK, NOTIFY,
#           data-modifying WITH)
#   ddl     change the schema, privileges or storage (SQL: CREATE, ALTER, DROP, GRANT, REVOKE, VACUUM, ANALYZE)
#   admin   what can escape every other check (SQL: DO, CALL, COPY PROGRAM or server files, SET ROLE and
#           SESSION AUTHORIZATION, set_config, SQL run from text, unclassified commands, unparsable SQL)
# Holding any capability also allows session control (SQL: BEGIN, SET search_path, SHOW, ...).
# A role's optional "protocols" limits all of it to connections of those types (input.connection.type).
package portcullis.access

# The decision contract version these policies were written for (policies-rego/schema/README.md). A gateway
# speaking another version may mean something else by the same fields, so every decision denies rather than
# guess. Version 2 dropped session.id: no decision may depend on which session asks, so that the gateway's
# shared decision cache serves every session of an identity.
contract := 2

contract_ok if input.contract == contract

contract_reason := sprintf(
	"the gateway sent decision contract %s, but these policies implement contract %d; deploy a gateway and policies that agree",
	[sent_contract, contract],
)

sent_contract := json.marshal(input.contract) if {
	"contract" in object.keys(input)
} else := "(none)"

# Group names match exactly: a group spelled differently only ever loses access, never gains it.
roles contains role if {
	some group in input.identity.groups
	some role in data.portcullis.roles[group]
}

sorted_roles := sort(roles)

# Production unless the env tag names a known non-production environment: a missing, empty, misspelt or
# unknown env tag must never open production to roles that are limited to non-production.
env := lower(trim_space(input.connection.tags.env))

non_production if env in data.portcullis.non_production_envs

production if not non_production

environment := "non_production" if non_production

environment := "production" if production

connection_name := name if {
	name := input.connection.name
	is_string(name)
} else := "(unnamed)"

# e.g. "production connection demo-prod", the place a reason talks about.
connection_phrase := sprintf("%s connection %s", [replace(environment, "_", "-"), connection_name])

capabilities_of_roles contains capability if {
	some role in roles
	serves_this_protocol(role)
	some capability in data.portcullis.permissions[role][environment]
}

# A role whose permissions list "protocols" holds its capabilities only on connections of those types (platform-admin:
# the clusters and hosts, not the databases); without the list, on every type. A list that is not a list of the
# connection's type grants nothing.
serves_this_protocol(role) if not "protocols" in object.keys(data.portcullis.permissions[role])

serves_this_protocol(role) if {
	protocols := data.portcullis.permissions[role].protocols
	is_array(protocols)
	input.connection.type in protocols
}

# The union over all roles: the most permissive role wins. Risky operations on production still need
# approval whoever runs them (request.rego), so the union never skips an approval.
capabilities := capabilities_of_roles | {"session"} if count(capabilities_of_roles) > 0

else := set()

may_connect if count(capabilities) > 0

roles_phrase := sprintf("role %s", [sorted_roles[0]]) if count(sorted_roles) == 1

roles_phrase := sprintf("roles %s", [concat(", ", sorted_roles)]) if count(sorted_roles) > 1

summary(role) := data.portcullis.permissions[role].summary

summary(role) := "has no permissions defined in data.json" if not data.portcullis.permissions[role].summary

# Why the identity may not use this connection at all, said so that the user knows what to ask for.
no_access_reason := sprintf(
	"identity %s has no group that maps to a Portcullis role (groups: %s)",
	[subject, groups_text],
) if {
	count(roles) == 0
} else := sprintf("%s may not use %s (%s)", [roles_phrase, connection_phrase, summaries_text])

summaries_text := concat("; ", [sprintf("%s %s", [role, summary(role)]) | some role in sorted_roles])

subject := s if {
	s := input.identity.subject
	is_string(s)
} else := "(unknown)"

groups_text := concat(", ", [g | some g in input.identity.groups; is_string(g)]) if {
	count([g | some g in input.identity.groups; is_string(g)]) > 0
} else := "none"
