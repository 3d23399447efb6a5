# The request decision for SSH: every role against every kind of channel request on a production and a
# non-production host, the words the client reads on stderr, and the command lines that try to look harmless.
package portcullis.ssh.decisions_test

import data.portcullis.ssh.fixtures as f

# A row is [request, outcome on non-production, outcome on production], per role.
matrix := {
	"ci-readonly": {
		"uname": [f.uname, "allow", "deny"],
		"df": [f.df, "allow", "deny"],
		"pg_dump": [f.pg_dump, "deny", "deny"],
		"rm": [f.rm, "deny", "deny"],
		"shell": [f.shell, "deny", "deny"],
		"pty": [f.pty, "allow", "deny"],
		"env LANG": [f.env_lang, "allow", "deny"],
		"env LD_PRELOAD": [f.env_preload, "deny", "deny"],
		"sftp": [f.sftp, "deny", "deny"],
	},
	"developers": {
		"uname": [f.uname, "allow", "allow"],
		"rm": [f.rm, "allow", "deny"],
		"shell": [f.shell, "allow", "deny"],
		"pty": [f.pty, "allow", "allow"],
		"env LD_PRELOAD": [f.env_preload, "allow", "deny"],
		"sftp": [f.sftp, "allow", "deny"],
		"netconf": [f.netconf, "deny", "deny"],
	},
	"dba": {
		"uname": [f.uname, "allow", "allow"],
		"rm": [f.rm, "allow", "allow"],
		"shell": [f.shell, "allow", "approval"],
		"pty": [f.pty, "allow", "allow"],
		"sftp": [f.sftp, "allow", "allow"],
		"netconf": [f.netconf, "deny", "deny"],
	},
	"approvers": {
		"uname": [f.uname, "deny", "deny"],
		"shell": [f.shell, "deny", "deny"],
	},
}

mismatches := [sprintf("%s %s on %s: want %s, got %s", [group, row, where, want, got]) |
	some group, rows in matrix
	some row, cell in rows
	some i, where in ["dev", "prod"]
	want := cell[i + 1]
	got := f.outcome(f.decide([group], where, cell[0]))
	want != got
]

test_matrix_every_role_every_channel_request_on_both_kinds_of_host if {
	print(mismatches)
	count(mismatches) == 0
}

test_allowed_read_only_command_names_the_read_rule if {
	d := f.decide(["ci-readonly"], "dev", f.uname)
	d.allow
	d.policy == "ssh/read-only-command"
	d.reasons == ["allowed: role ci-readonly may read on non-production connection demo-box"]
}

test_denied_shell_for_ci_names_the_rule_and_the_role if {
	d := f.decide(["ci-readonly"], "dev", f.shell)
	not d.allow
	d.policy == "ssh/shell"
	d.reasons == ["an interactive shell (its commands are recorded, not decided) is not allowed on non-production connection demo-box: role ci-readonly may only read, and not on production"]
}

test_approval_for_a_dba_shell_on_production_by_the_approvers if {
	d := f.decide(["dba"], "prod", f.shell)
	not d.allow
	d.policy == "ssh/shell-on-prod"
	d.approval.required
	d.approval.approver_groups == ["approvers"]
	d.approval.min_approvals == 1
	d.reasons == ["an interactive shell (its commands are recorded, not decided) on production connection demo-box-prod needs approval by approvers"]
}

test_allowed_dba_command_on_production_needs_no_approval if {
	d := f.decide(["dba"], "prod", f.rm)
	d.allow
	not d.approval
}

test_denied_developer_shell_on_production_is_no_approval if {
	d := f.decide(["developers"], "prod", f.shell)
	not d.allow
	not d.approval
	d.policy == "ssh/shell"
}

test_denied_command_off_the_read_only_list if {
	d := f.decide(["ci-readonly"], "dev", f.rm)
	not d.allow
	d.policy == "ssh/exec"
}

test_allowed_shell_for_developers_says_it_runs_commands if {
	d := f.decide(["developers"], "dev", f.shell)
	d.allow
	d.policy == "ssh/shell"
}

# --- command lines that try to look like something else ---------------------------------------------------

test_denied_read_only_command_followed_by_another if {
	f.outcome(f.decide(["ci-readonly"], "dev", f.uname_then_rm)) == "deny"
}

test_denied_read_only_command_with_changed_environment if {
	f.outcome(f.decide(["ci-readonly"], "dev", f.uname_with_path)) == "deny"
}

test_denied_exec_without_the_shell_syntax_flag_is_arbitrary if {
	d := f.decide(["ci-readonly"], "dev", json.remove(f.uname, ["shell_syntax"]))
	not d.allow
	d.policy == "ssh/exec"
}

test_denied_exec_without_argv if {
	f.outcome(f.decide(["ci-readonly"], "dev", json.remove(f.uname, ["argv"]))) == "deny"
}

test_denied_read_only_name_as_a_path_is_not_on_the_list if {
	f.outcome(f.decide(["ci-readonly"], "dev", f.exec("/tmp/uname", ["/tmp/uname"], false))) == "deny"
}

test_allowed_locale_variables_by_prefix if {
	f.outcome(f.decide(["ci-readonly"], "dev", f.env_lc)) == "allow"
}

test_denied_unknown_channel_request_for_every_role if {
	d := f.decide(["dba"], "dev", {"protocol": "ssh", "type": "x11-req"})
	not d.allow
	d.policy == "ssh/unknown-request"
}

test_denied_request_without_a_type if {
	f.outcome(f.decide(["dba"], "dev", {"protocol": "ssh"})) == "deny"
}
