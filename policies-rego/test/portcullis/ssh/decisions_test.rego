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
		"sftp": [f.sftp, "allow", "deny"],
		"sftp readdir": [f.list_tmp, "allow", "deny"],
		"sftp read /etc": [f.etc_read, "deny", "deny"],
		"sftp read backup": [f.backup_read, "deny", "deny"],
		"sftp write": [f.tmp_write, "deny", "deny"],
		"sftp remove": [f.remove_tmp, "deny", "deny"],
	},
	"backup": {
		"pg_dump": [f.pg_dump, "allow", "allow"],
		"pg_dump -f": [f.pg_dump_to_file, "deny", "deny"],
		"rm": [f.rm, "deny", "deny"],
		"shell": [f.shell, "deny", "deny"],
		"sftp": [f.sftp, "allow", "allow"],
		"sftp readdir": [f.list_tmp, "allow", "allow"],
		"sftp read backup": [f.backup_read, "allow", "allow"],
		"sftp read /etc": [f.etc_read, "deny", "deny"],
		"sftp write backup": [f.backup_write, "deny", "deny"],
		"sftp write": [f.tmp_write, "deny", "deny"],
		"sftp remove": [f.remove_tmp, "deny", "deny"],
	},
	"developers": {
		"uname": [f.uname, "allow", "allow"],
		"rm": [f.rm, "allow", "deny"],
		"shell": [f.shell, "allow", "deny"],
		"pty": [f.pty, "allow", "allow"],
		"env LD_PRELOAD": [f.env_preload, "allow", "deny"],
		"sftp": [f.sftp, "allow", "allow"],
		"sftp read backup": [f.backup_read, "allow", "allow"],
		"sftp read /etc": [f.etc_read, "allow", "deny"],
		"sftp write": [f.tmp_write, "allow", "deny"],
		"pg_dump": [f.pg_dump, "allow", "allow"],
		"netconf": [f.netconf, "deny", "deny"],
	},
	"dba": {
		"uname": [f.uname, "allow", "allow"],
		"rm": [f.rm, "allow", "allow"],
		"shell": [f.shell, "allow", "approval"],
		"pty": [f.pty, "allow", "allow"],
		"sftp": [f.sftp, "allow", "allow"],
		"sftp read /etc": [f.etc_read, "allow", "allow"],
		"sftp write": [f.tmp_write, "allow", "allow"],
		"sftp remove": [f.remove_tmp, "allow", "allow"],
		"sftp rename": [f.sftp_rename("/tmp/a", "/tmp/b"), "allow", "allow"],
		"sftp mkdir": [f.sftp_op("mkdir", "/tmp/d"), "allow", "allow"],
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

test_approval_for_a_dba_command_on_a_production_host_that_holds_its_commands if {
	d := f.decide_on(["dba"], f.with_exec_approval("prod"), f.rm)
	not d.allow
	d.policy == "ssh/exec-on-prod"
	d.approval.required
	d.approval.approver_groups == ["approvers"]
	d.reasons == [sprintf("exec %s (this host holds its commands for approval) on production connection demo-box-prod needs approval by approvers", [json.marshal(f.rm.command)])]
}

test_a_host_that_holds_its_commands_still_runs_read_only_ones_and_exports_at_once if {
	f.decide_on(["dba"], f.with_exec_approval("prod"), f.uname).allow
	f.decide_on(["backup"], f.with_exec_approval("prod"), f.exec("pg_dump db", ["pg_dump", "db"], false)).allow
}

test_a_non_production_host_with_the_tag_holds_nothing if {
	f.decide_on(["dba"], f.with_exec_approval("dev"), f.rm).allow
}

test_the_tag_never_turns_a_denial_into_an_approval if {
	d := f.decide_on(["developers"], f.with_exec_approval("prod"), f.rm)
	not d.allow
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

# --- SFTP: each file operation ---------------------------------------------------------------------------

test_allowed_backup_reads_a_file_under_a_backup_path_on_production if {
	d := f.decide(["backup"], "prod", f.backup_read)
	d.allow
	d.policy == "ssh/sftp-read-backup"
}

test_denied_backup_reads_a_file_outside_the_backup_paths_with_the_reason if {
	d := f.decide(["backup"], "prod", f.etc_read)
	not d.allow
	d.policy == "ssh/sftp-read"
	d.reasons == ["sftp open \"/etc/shadow\" for read (reads a file outside the backup paths) is not allowed on production connection demo-box-prod: role backup may read and export (COPY TO STDOUT) everything, production included, and never write"]
}

test_denied_backup_path_with_dot_dot_leading_out if {
	f.outcome(f.decide(["backup"], "prod", f.sftp_open("/var/backups/../../etc/shadow", ["read"]))) == "deny"
}

test_denied_backup_path_prefix_without_its_slash if {
	f.outcome(f.decide(["backup"], "prod", f.sftp_open("/var/backups-other/x", ["read"]))) == "deny"
}

test_denied_relative_path_is_not_under_a_backup_path if {
	f.outcome(f.decide(["backup"], "prod", f.sftp_open("var/backups/x", ["read"]))) == "deny"
}

test_open_without_access_is_a_read if {
	f.outcome(f.decide(["backup"], "prod", f.sftp_open("/var/backups/x", []))) == "allow"
	f.outcome(f.decide(["backup"], "prod", json.remove(f.backup_read, ["access"]))) == "allow"
}

test_denied_open_with_any_access_beyond_read_is_a_write if {
	f.outcome(f.decide(["backup"], "prod", f.sftp_open("/var/backups/x", ["read", "append"]))) == "deny"
	f.outcome(f.decide(["backup"], "prod", f.sftp_open("/var/backups/x", ["read", "something-new"]))) == "deny"
}

test_denied_ci_upload_names_the_write_rule if {
	d := f.decide(["ci-readonly"], "dev", f.tmp_write)
	not d.allow
	d.policy == "ssh/sftp-write"
	startswith(d.reasons[0], "sftp open \"/tmp/upload.txt\" for write, create, truncate (changes files on the host)")
}

test_denied_rename_out_of_the_way_for_backup if {
	d := f.decide(["backup"], "dev", f.sftp_rename("/var/backups/a", "/var/backups/b"))
	not d.allow
	d.policy == "ssh/sftp-write"
	contains(d.reasons[0], "sftp rename \"/var/backups/a\" to \"/var/backups/b\"")
}

test_denied_unknown_sftp_operation_for_every_role if {
	d := f.decide(["dba"], "dev", f.sftp_op("extension copy-everything@example.com", "/"))
	not d.allow
	d.policy == "ssh/sftp-unknown-operation"
}

test_allowed_developer_lists_a_directory_on_production if {
	d := f.decide(["developers"], "prod", f.list_tmp)
	d.allow
	d.policy == "ssh/sftp-list"
}

test_denied_pg_dump_writing_a_file_in_any_spelling if {
	every argv in [
		["pg_dump", "--file=/tmp/x", "db"],
		["pg_dump", "--fil", "/tmp/x", "db"],
		["pg_dump", "-af", "/tmp/x", "db"],
		["pg_dump", "-f/tmp/x", "db"],
	] {
		f.outcome(f.decide(["backup"], "prod", f.exec(concat(" ", argv), argv, false))) == "deny"
	}
}

test_allowed_pg_dump_with_a_format_option if {
	d := f.decide(["backup"], "prod", f.exec("pg_dump -Fc --format=custom db", ["pg_dump", "-Fc", "--format=custom", "db"], false))
	d.allow
	d.policy == "ssh/export-command"
}

test_denied_pg_dump_with_shell_syntax if {
	f.outcome(f.decide(["backup"], "prod", f.exec("pg_dump db > /tmp/x", ["pg_dump", "db", ">", "/tmp/x"], true))) == "deny"
}

# --- port forwarding --------------------------------------------------------------------------------------

test_allowed_forward_to_a_destination_the_connection_lists if {
	d := f.decide_on(["ci-readonly"], f.with_forwards, f.forward("metrics.internal", 9100))
	d.allow
	d.policy == "ssh/forward"
}

test_denied_forward_to_an_unlisted_destination_for_every_role if {
	d := f.decide_on(["dba"], f.with_forwards, f.forward("127.0.0.1", 5432))
	not d.allow
	d.policy == "ssh/forward-unlisted"
	d.reasons == ["a forward to 127.0.0.1:5432 (not among the destinations connection demo-box lists in its ssh_forwards tag) is denied for every role"]
}

test_denied_forward_on_a_connection_that_lists_none if {
	f.outcome(f.decide(["dba"], "dev", f.forward("127.0.0.1", 8080))) == "deny"
}

test_denied_forward_that_only_resembles_a_listed_one if {
	every request in [
		f.forward("127.0.0.1", 80800),
		f.forward("127.0.0.1:8080", 0),
		f.forward("127.0.0.1", "8080"),
		{"protocol": "ssh", "type": "direct-tcpip", "host": "127.0.0.1"},
	] {
		f.outcome(f.decide_on(["dba"], f.with_forwards, request)) == "deny"
	}
}

test_denied_listed_forward_for_a_role_without_the_connection if {
	f.outcome(f.decide_on(["approvers"], f.with_forwards, f.forward("127.0.0.1", 8080))) == "deny"
}

# --- remote forwarding (ssh -R) -------------------------------------------------------------------------------

# A listed listen address, by role: [non-production, production].
remote_forward_matrix := {
	"ci-readonly": ["deny", "deny"],
	"backup": ["deny", "deny"],
	"developers": ["allow", "deny"],
	"dba": ["allow", "allow"],
	"approvers": ["deny", "deny"],
}

test_remote_forward_to_a_listed_listen_address_by_role if {
	every role, outcomes in remote_forward_matrix {
		f.outcome(f.decide_on([role], f.with_remote_forwards("dev"), f.remote_forward("127.0.0.1", 9000))) == outcomes[0]
		f.outcome(f.decide_on([role], f.with_remote_forwards("prod"), f.remote_forward("127.0.0.1", 9000))) == outcomes[1]
	}
}

test_allowed_remote_forward_names_its_policy if {
	d := f.decide_on(["developers"], f.with_remote_forwards("dev"), f.remote_forward("127.0.0.1", 9000))
	d.allow
	d.policy == "ssh/remote-forward"
}

test_denied_remote_forward_to_an_unlisted_listen_address_for_every_role if {
	d := f.decide_on(["dba"], f.with_remote_forwards("dev"), f.remote_forward("0.0.0.0", 9000))
	not d.allow
	d.policy == "ssh/remote-forward-unlisted"
	d.reasons == ["a remote forward listening on 0.0.0.0:9000 on the host (not among the listen addresses connection demo-box lists in its ssh_remote_forwards tag) is denied for every role"]
}

test_denied_ci_readonly_remote_forward_even_where_listed if {
	d := f.decide_on(["ci-readonly"], f.with_remote_forwards("dev"), f.remote_forward("127.0.0.1", 9000))
	not d.allow
	d.policy == "ssh/remote-forward"
}

# A destination listed for ssh -L is no listen address for ssh -R, and the reverse; nor is anything that only
# resembles a listed one, or names no port.
test_denied_remote_forward_bypass_attempts if {
	every request in [
		f.remote_forward("127.0.0.1", 8080),
		f.remote_forward("127.0.0.1", 90000),
		f.remote_forward("127.0.0.1:9000", 0),
		f.remote_forward("127.0.0.1", "9000"),
		f.remote_forward("", 9000),
		f.remote_forward("localhost", 9000),
		{"protocol": "ssh", "type": "tcpip-forward", "host": "127.0.0.1"},
	] {
		f.outcome(f.decide_on(["dba"], f.with_remote_forwards("dev"), request)) == "deny"
	}
	f.outcome(f.decide_on(["dba"], f.with_remote_forwards("dev"), f.forward("127.0.0.1", 9000))) == "deny"
}

test_denied_remote_forward_on_a_connection_that_lists_none if {
	f.outcome(f.decide_on(["dba"], f.with_forwards, f.remote_forward("127.0.0.1", 8080))) == "deny"
}

test_allowed_remote_forward_with_a_port_the_host_picks_only_where_listed if {
	f.outcome(f.decide_on(["developers"], f.with_remote_forwards("dev"), f.remote_forward("localhost", 0))) == "allow"
	f.outcome(f.decide_on(["developers"], f.with_remote_forwards("dev"), f.remote_forward("127.0.0.1", 0))) == "deny"
}
