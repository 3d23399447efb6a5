# SSH channel requests as the gateway sends them (decision contract v2), for the tests of portcullis.ssh and of
# the request decision for SSH.
package portcullis.ssh.fixtures

import data.portcullis.fixtures

# The hosts: a production-tagged and a development-tagged connection of type ssh.
connections := {
	"prod": {"name": "demo-box-prod", "type": "ssh", "tags": {"env": "prod"}},
	"dev": {"name": "demo-box", "type": "ssh", "tags": {"env": "dev"}},
}

request_input(groups, where, request) := object.union(
	fixtures.request_input(groups, "dev", request),
	{"connection": connections[where]},
)

decide(groups, where, request) := d if {
	d := data.portcullis.request.decision with input as request_input(groups, where, request)
}

outcome(decision) := fixtures.outcome(decision)

exec(command, argv, shell_syntax) := {
	"protocol": "ssh",
	"type": "exec",
	"command": command,
	"argv": argv,
	"shell_syntax": shell_syntax,
}

uname := exec("uname -a", ["uname", "-a"], false)

df := exec("df -h", ["df", "-h"], false)

pg_dump := exec("pg_dump orders", ["pg_dump", "orders"], false)

rm := exec("rm -rf /tmp/x", ["rm", "-rf", "/tmp/x"], false)

uname_then_rm := exec("uname; rm -rf /", ["uname;", "rm", "-rf", "/"], true)

uname_with_path := exec("PATH=/tmp uname", ["PATH=/tmp", "uname"], true)

shell := {"protocol": "ssh", "type": "shell"}

pty := {"protocol": "ssh", "type": "pty-req", "name": "xterm-256color"}

env_lang := {"protocol": "ssh", "type": "env", "name": "LANG"}

env_lc := {"protocol": "ssh", "type": "env", "name": "LC_ALL"}

env_preload := {"protocol": "ssh", "type": "env", "name": "LD_PRELOAD"}

sftp := {"protocol": "ssh", "type": "subsystem", "name": "sftp"}

netconf := {"protocol": "ssh", "type": "subsystem", "name": "netconf"}

# One SFTP operation inside an allowed sftp subsystem, as the gateway sends it.
sftp_op(operation, path) := {"protocol": "ssh", "type": "sftp", "operation": operation, "path": path}

sftp_open(path, access) := object.union(sftp_op("open", path), {"access": access})

sftp_rename(path, new_path) := object.union(sftp_op("rename", path), {"new_path": new_path})

backup_read := sftp_open("/var/backups/orders.dump", ["read"])

backup_write := sftp_open("/var/backups/orders.dump", ["write", "create", "truncate"])

etc_read := sftp_open("/etc/shadow", ["read"])

tmp_write := sftp_open("/tmp/upload.txt", ["write", "create", "truncate"])

list_tmp := sftp_op("readdir", "/tmp")

remove_tmp := sftp_op("remove", "/tmp/upload.txt")

pg_dump_to_file := exec("pg_dump -f /home/x/.bashrc orders", ["pg_dump", "-f", "/home/x/.bashrc", "orders"], false)

# A forward (ssh -L) to host:port, and a host that lists two destinations.
forward(host, port) := {"protocol": "ssh", "type": "direct-tcpip", "host": host, "port": port}

with_forwards := {"name": "demo-box", "type": "ssh", "tags": {"env": "dev", "ssh_forwards": "127.0.0.1:8080, metrics.internal:9100"}}

# A remote forward (ssh -R) listening on host:port on the target, and hosts that list listen addresses.
remote_forward(host, port) := {"protocol": "ssh", "type": "tcpip-forward", "host": host, "port": port}

with_remote_forwards(env) := {"name": "demo-box", "type": "ssh", "tags": {"env": env, "ssh_forwards": "127.0.0.1:8080", "ssh_remote_forwards": "127.0.0.1:9000, localhost:0"}}

# A host that holds its commands for approval (tag ssh_exec_approval), by its env.
with_exec_approval(env) := object.union(connections[env], {"tags": {"env": env, "ssh_exec_approval": "true"}})

decide_on(groups, connection, request) := d if {
	d := data.portcullis.request.decision with input as object.union(request_input(groups, "dev", request), {"connection": connection})
}
