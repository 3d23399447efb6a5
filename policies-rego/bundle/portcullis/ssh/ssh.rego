# SSH: what one channel request of input.request does, independent of who sends it. The gateway decides every
# channel request a client makes on a session channel: a pty, each environment variable, then the exec (with its
# command line and its argv as the target's shell would split it), the shell or the subsystem; and inside an allowed
# sftp subsystem every file operation on its own (type sftp: open with its access, readdir, remove, rename, mkdir,
# rmdir, setstat, symlink, link, with their paths). This package says
# which capability each needs (the roles' vocabulary, access.rego); portcullis.request judges it against the
# identity's roles through `analysis`, the same way as SQL and Kubernetes.
#
# What cannot be decided: the commands typed inside an allowed shell. They are recorded, not decided; so a shell
# needs the exec capability, like any command that is not on the read-only list, and on production a person must
# approve it even for a role that may have one (dba).
#
# As elsewhere, anything missing or unexpected is read the way that asks for more: a command line with shell syntax
# (pipes, redirections, substitutions, several commands, VAR=value) is an arbitrary command whatever its first word.
package portcullis.ssh

import data.portcullis.access

# --- what portcullis.request reads (the protocol interface, see request.rego) ------------------------------

analysis := {
	"operations": [operation],
	"complete": true,
	"needs": {0: needs},
	"forbidden": {0: forbidden},
	"risks": {0: risks},
	"operation_noun": "channel request",
	"default_rule": "ssh/default-deny",
	"empty_rule": "ssh/default-deny",
}

# --- the request, canonical -------------------------------------------------------------------------------

req := input.request

type := text(object.get(req, "type", ""))

name := text(object.get(req, "name", ""))

command := text(object.get(req, "command", ""))

argv := req.argv if is_array(req.argv)

else := []

# Only a command line the gateway found free of shell syntax can be judged by its words.
plain_words if object.get(req, "shell_syntax", true) == false

operation := sprintf("exec %s", [json.marshal(command)]) if {
	type == "exec"
} else := "an interactive shell" if {
	type == "shell"
} else := sprintf("a terminal (pty-req %s)", [name]) if {
	type == "pty-req"
} else := sprintf("environment variable %s", [name]) if {
	type == "env"
} else := sprintf("subsystem %s", [name]) if {
	type == "subsystem"
} else := sftp_phrase if {
	type == "sftp"
} else := sprintf("a forward to %s", [destination]) if {
	type == "direct-tcpip"
} else := sprintf("a remote forward listening on %s on the host", [destination]) if {
	type == "tcpip-forward"
} else := sprintf("channel request %s", [json.marshal(type)])

text(x) := x if is_string(x)

else := ""

need(class, what, policy) := {"class": class, "what": what, "policy": policy}

# --- what each channel request needs ----------------------------------------------------------------------

read_only_command if {
	type == "exec"
	plain_words
	count(argv) > 0
	is_string(argv[0])
	argv[0] in data.portcullis.ssh.read_only_commands
}

needs contains need("read", sprintf("%s (a read-only command)", [operation]), "ssh/read-only-command") if {
	read_only_command
}

needs contains need("exec", sprintf("%s (runs a command on the host)", [operation]), "ssh/exec") if {
	type == "exec"
	not read_only_command
	not export_command
}

# A database export to stdout (pg_dump): what the backup role runs. One that writes a file on the host (-f, --file, or
# a short option cluster with f; getopt also takes any unambiguous prefix of --file) is an arbitrary command.
export_command if {
	type == "exec"
	plain_words
	count(argv) > 0
	is_string(argv[0])
	argv[0] in data.portcullis.ssh.export_commands
	not export_writes_a_file
}

export_writes_a_file if {
	some arg in array.slice(argv, 1, count(argv))
	regex.match(`^-[^-]*f`, arg)
}

export_writes_a_file if {
	some arg in array.slice(argv, 1, count(argv))
	startswith(arg, "--f")
	not startswith(arg, "--fo") # --format
}

export_writes_a_file if {
	some arg in argv
	not is_string(arg)
}

needs contains need("export", sprintf("%s (a database export to stdout)", [operation]), "ssh/export-command") if {
	export_command
}

# Whatever is typed in a shell is recorded, never decided: a shell is as strong as any command.
needs contains need("exec", sprintf("%s (its commands are recorded, not decided)", [operation]), "ssh/shell") if {
	type == "shell"
}

needs contains need("session", operation, "ssh/pty") if {
	type == "pty-req"
}

needs contains need("session", operation, "ssh/env") if {
	type == "env"
	allowed_env
}

# Any other variable can change what a program does (LD_PRELOAD, PATH, BASH_ENV).
needs contains need("exec", sprintf("%s (it can change what the host runs)", [operation]), "ssh/env-other") if {
	type == "env"
	not allowed_env
}

allowed_env if name in data.portcullis.ssh.plain_env

allowed_env if {
	some prefix in data.portcullis.ssh.plain_env_prefixes
	startswith(name, prefix)
}

# The sftp subsystem itself only looks: its stat, realpath and readlink are not decided one by one. Every operation
# that lists, reads or changes something is (type sftp, below).
needs contains need("read", sprintf("%s (each file operation is decided on its own)", [operation]), "ssh/sftp") if {
	type == "subsystem"
	name == "sftp"
}

# --- risky on production: needs approval even from a role that may do it ------------------------------

# What is typed in a shell on production is never decided, only recorded: an approver lets it start. Commands sent
# as an exec are decided one by one and need none.
risks contains need("approval", sprintf("%s (its commands are recorded, not decided)", [operation]), "ssh/shell-on-prod") if {
	type == "shell"
}

# A production host registered with the tag ssh_exec_approval "true" (a database host, a bastion) holds every command
# for an approver too, except the read-only ones and exports; by default a command sent as an exec is decided by its
# words and needs none.
risks contains need("approval", sprintf("%s (this host holds its commands for approval)", [operation]), "ssh/exec-on-prod") if {
	type == "exec"
	not read_only_command
	not export_command
	object.get(input.connection.tags, "ssh_exec_approval", "") == "true"
}

forbidden contains need("none", operation, "ssh/unknown-subsystem") if {
	type == "subsystem"
	name != "sftp"
}

forbidden contains need("none", operation, "ssh/unknown-request") if {
	not type in {"exec", "shell", "pty-req", "env", "subsystem", "sftp", "direct-tcpip", "tcpip-forward"}
}

# --- port forwarding: ssh -L, to the destinations the connection lists -----------------------------------------
# The connection's tag ssh_forwards lists them ("host:port,host:port"): the one place they live, next to its env tag,
# set by whoever registers the connection. A destination is compared as the client named it (the target's sshd
# resolves the name); nothing else is reachable, whatever the role.

destination := sprintf("%s:%d", [text(object.get(req, "host", "")), port]) if {
	port := object.get(req, "port", 0)
	is_number(port)
} else := sprintf("%s:?", [text(object.get(req, "host", ""))])

listed_destinations := {trim_space(d) | some d in split(object.get(input.connection.tags, "ssh_forwards", ""), ","); trim_space(d) != ""}

needs contains need("read", sprintf("%s (a destination this connection lists)", [operation]), "ssh/forward") if {
	type == "direct-tcpip"
	destination in listed_destinations
}

forbidden contains need("none", sprintf("%s (not among the destinations connection %s lists in its ssh_forwards tag)", [operation, access.connection_name]), "ssh/forward-unlisted") if {
	type == "direct-tcpip"
	not destination in listed_destinations
}

# --- remote forwarding: ssh -R, on the listen addresses the connection lists ----------------------------------
# A remote forward (the tcpip-forward global request) makes the target's sshd listen on host:port and carries each
# connection made there back to the client: the host then serves whatever the client's side serves, so it needs exec
# (never ci-readonly or backup; developers outside production; dba). The connection's tag ssh_remote_forwards lists
# the listen addresses ("host:port,host:port", compared as the client names them; port 0, the host picks one, only if
# listed so): the one place they live, beside ssh_forwards. Any other is denied for every role. Each connection the
# target then opens back is not decided again: it is the forward's, and its bytes are the forward's result.

listed_listen_addresses := {trim_space(d) | some d in split(object.get(input.connection.tags, "ssh_remote_forwards", ""), ","); trim_space(d) != ""}

needs contains need("exec", sprintf("%s (a listen address this connection lists)", [operation]), "ssh/remote-forward") if {
	type == "tcpip-forward"
	destination in listed_listen_addresses
}

forbidden contains need("none", sprintf("%s (not among the listen addresses connection %s lists in its ssh_remote_forwards tag)", [operation, access.connection_name]), "ssh/remote-forward-unlisted") if {
	type == "tcpip-forward"
	not destination in listed_listen_addresses
}

# --- SFTP: one file operation inside an allowed sftp subsystem ----------------------------------------------
# A file is read through the handle of an open for reading and written through the handle of an open for writing:
# the gateway lets a handle's reads and writes through only as its open was decided. Paths are as the client named
# them: the gateway does not resolve the target's symbolic links.

sftp_operation := text(object.get(req, "operation", ""))

path := text(object.get(req, "path", ""))

new_path := text(object.get(req, "new_path", ""))

sftp_access := req.access if is_array(req.access)

else := []

sftp_phrase := sprintf("sftp %s %s to %s", [sftp_operation, json.marshal(path), json.marshal(new_path)]) if {
	sftp_operation in {"rename", "symlink", "link"}
} else := sprintf("sftp open %s for %s", [json.marshal(path), concat(", ", [text(a) | some a in sftp_access])]) if {
	sftp_operation == "open"
	count(sftp_access) > 0
} else := sprintf("sftp %s %s", [sftp_operation, json.marshal(path)])

sftp_changes := {"remove", "rename", "mkdir", "rmdir", "setstat", "symlink", "link"}

sftp_known := sftp_changes | {"open", "readdir"}

sftp_writes if {
	type == "sftp"
	sftp_operation in sftp_changes
}

# Anything but read in an open's access (write, create, truncate, append, exclusive, or what the gateway did not know).
sftp_writes if {
	type == "sftp"
	sftp_operation == "open"
	some a in sftp_access
	a != "read"
}

sftp_reads_file if {
	type == "sftp"
	sftp_operation == "open"
	not sftp_writes
}

# Under one of data.json's backup_paths (each ends with /), and no .. can lead out of it.
under_backup_path(p) if {
	some prefix in data.portcullis.ssh.backup_paths
	startswith(p, prefix)
	not ".." in split(p, "/")
}

needs contains need("read", sprintf("%s (lists a directory)", [operation]), "ssh/sftp-list") if {
	type == "sftp"
	sftp_operation == "readdir"
}

needs contains need("export", sprintf("%s (reads a file under a backup path)", [operation]), "ssh/sftp-read-backup") if {
	sftp_reads_file
	under_backup_path(path)
}

# Reading any file is as strong as running cat, which is no read-only command either.
needs contains need("exec", sprintf("%s (reads a file outside the backup paths)", [operation]), "ssh/sftp-read") if {
	sftp_reads_file
	not under_backup_path(path)
}

needs contains need("write", sprintf("%s (changes files on the host)", [operation]), "ssh/sftp-write") if {
	sftp_writes
}

forbidden contains need("none", operation, "ssh/sftp-unknown-operation") if {
	type == "sftp"
	not sftp_operation in sftp_known
}
