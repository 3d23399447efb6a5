# SSH: what one channel request of input.request does, independent of who sends it. The gateway decides every
# channel request a client makes on a session channel: a pty, each environment variable, then the exec (with its
# command line and its argv as the target's shell would split it), the shell or the subsystem. This package says
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

# SFTP reads and writes files: the write capability.
needs contains need("write", sprintf("%s (reads and writes files)", [operation]), "ssh/sftp") if {
	type == "subsystem"
	name == "sftp"
}

# --- risky on production: needs approval even from a role that may do it ------------------------------

# What is typed in a shell on production is never decided, only recorded: an approver lets it start. Commands sent
# as an exec are decided one by one and need none.
risks contains need("approval", sprintf("%s (its commands are recorded, not decided)", [operation]), "ssh/shell-on-prod") if {
	type == "shell"
}

forbidden contains need("none", operation, "ssh/unknown-subsystem") if {
	type == "subsystem"
	name != "sftp"
}

forbidden contains need("none", operation, "ssh/unknown-request") if {
	not type in {"exec", "shell", "pty-req", "env", "subsystem"}
}
