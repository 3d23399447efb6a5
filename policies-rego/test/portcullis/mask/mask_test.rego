package portcullis.mask_test

import data.portcullis.fixtures
import data.portcullis.mask

column(schema, table, name, type) := {"schema": schema, "table": table, "column": name, "name": name, "type": type, "computed": false}

computed(label, type) := {"schema": null, "table": null, "column": null, "name": label, "type": type, "computed": true}

mask_input(groups, columns) := object.union(
	object.remove(fixtures.session_input(groups, "dev"), {"session"}),
	{"result": {"columns": columns}},
)

decide(groups, columns) := d if {
	d := mask.decision with input as mask_input(groups, columns)
}

users := [
	column("public", "users", "id", "int4"),
	column("public", "users", "name", "text"),
	column("public", "users", "email", "text"),
	column("public", "users", "phone", "text"),
]

test_default_rules_mask_email_and_phone_for_a_dba if {
	d := decide(["dba"], users)
	d.plan == [
		{"column": 2, "method": "email", "params": {}, "rule": "pii/email"},
		{"column": 3, "method": "partial", "params": {"keep_last": 2}, "rule": "pii/phone"},
	]
	d.detectors == []
	d.policy == "mask/columns"
	d.cache_ttl_s > 0
}

test_card_numbers_keep_the_last_four if {
	d := decide(["backup"], [column("public", "payments", "card_number", "text")])
	d.plan == [{"column": 0, "method": "card", "params": {"keep_last": 4}, "rule": "pci/card-number"}]
}

test_rules_without_table_match_the_column_anywhere if {
	d := decide(["dba"], [
		column("crm", "customers", "ssn", "text"),
		column("app", "accounts", "password_hash", "text"),
		column("app", "accounts", "api_key", "text"),
		column("crm", "customers", "tax_id", "text"),
	])
	[e.method | some e in d.plan] == ["partial", "null", "redact", "hash"]
	[e.rule | some e in d.plan] == ["pii/national-id", "secrets/password-hash", "secrets/api-key", "pii/tax-id"]
}

test_an_alias_does_not_hide_the_source_column if {
	aliased := object.union(column("public", "users", "email", "text"), {"name": "e"})
	d := decide(["dba"], [aliased])
	d.plan[0].method == "email"
}

test_names_match_case_insensitively if {
	d := decide(["dba"], [column("public", "Users", "EMAIL", "text")])
	d.plan[0].rule == "pii/email"
}

test_a_column_of_another_table_is_not_masked if {
	d := decide(["dba"], [column("public", "orders", "email", "text")])
	d.plan == []
}

test_computed_columns_are_left_to_the_detectors if {
	d := decide(["developers"], [computed("lower", "text"), computed("row_to_json", "json")])
	d.plan == []
	d.detectors == ["email", "card", "iban", "phone", "national_id", "secret"]
}

test_detectors_run_for_ci_and_developers_only if {
	decide(["ci-readonly"], users).detectors != []
	decide(["developers"], users).detectors != []
	decide(["dba"], users).detectors == []
	decide(["backup"], users).detectors == []
	decide(["developers", "dba"], users).detectors != []
}

test_an_unmask_grant_lifts_every_rule_and_the_detectors if {
	granted := object.union(mask_input(["developers"], users), {"grants": [{"scope": "unmask", "expires_at": "2026-12-01T00:00:00Z"}]})
	d := mask.decision with input as granted
	d.plan == []
	d.detectors == []
}

test_a_column_grant_lifts_that_column_only if {
	granted := object.union(mask_input(["dba"], users), {"grants": [{"scope": "unmask:users.phone", "expires_at": "2026-12-01T00:00:00Z"}]})
	d := mask.decision with input as granted
	[e.rule | some e in d.plan] == ["pii/email"]
}

test_a_schema_qualified_rule_matches_that_schema_only if {
	rules := [{"rule": "t/hash", "schema": "billing", "table": "invoices", "column": "customer_ref", "method": "hash"}]
	d1 := mask.decision with input as mask_input(["dba"], [column("billing", "invoices", "customer_ref", "text")])
		with data.portcullis.masking.columns as rules
	d1.plan == [{"column": 0, "method": "hash", "params": {}, "rule": "t/hash"}]
	d2 := mask.decision with input as mask_input(["dba"], [column("public", "invoices", "customer_ref", "text")])
		with data.portcullis.masking.columns as rules
	d2.plan == []
}

test_the_first_matching_rule_wins if {
	rules := [
		{"rule": "t/specific", "table": "users", "column": "email", "method": "redact"},
		{"rule": "t/generic", "column": "email", "method": "null"},
	]
	d := mask.decision with input as mask_input(["dba"], users) with data.portcullis.masking.columns as rules
	d.plan == [{"column": 2, "method": "redact", "params": {}, "rule": "t/specific"}]
}

test_another_contract_gets_no_plan_so_the_gateway_refuses_the_result if {
	other := object.union(mask_input(["dba"], users), {"contract": 1})
	not mask.decision with input as other
}
