# Port-forward: the forward is decided when it opens (kubectl names no port then), and each port when a stream of
# the forward first asks for it. Approval on production is asked once, for the opening.
package portcullis.kubernetes.port_forward_test

import data.portcullis.kubernetes.fixtures as f

test_developer_forwards_to_a_web_port_outside_production if {
	f.outcome(f.decide(["developers"], "dev", f.port_forward_stream(80))) == "allow"
}

test_denied_developer_stream_to_postgres_names_the_bypass if {
	d := f.decide(["developers"], "dev", f.port_forward_stream(5432))
	not d.allow
	d.policy == "k8s/port-forward-bypass"
	d.reasons == ["connect pods/portforward web-1 in namespace demo to port 5432 (PostgreSQL listens there: the forward would bypass the gateway's own decisions, masking and recording of it) is not allowed on non-production connection demo-k8s-dev: role developer may read and write data (DML) outside production, and only read on production"]
}

test_denied_developer_stream_to_ssh if {
	d := f.decide(["developers"], "dev", f.port_forward_stream(22))
	not d.allow
	d.policy == "k8s/port-forward-bypass"
}

test_denied_bypass_port_named_in_the_url_of_the_opening if {
	named := object.union(f.port_forward, {"port_forward": {"phase": "open", "ports": [80, 5432]}})
	d := f.decide(["developers"], "dev", named)
	not d.allow
	d.policy == "k8s/port-forward-bypass"
}

test_dba_stream_on_production_needs_no_second_approval if {
	f.outcome(f.decide(["dba"], "prod", f.port_forward_stream(80))) == "allow"
	f.outcome(f.decide(["dba"], "prod", f.port_forward_stream(5432))) == "allow"
}

test_approval_for_opening_a_forward_on_production_by_the_approvers if {
	d := f.decide(["dba"], "prod", f.port_forward)
	not d.allow
	d.approval.required
	d.policy == "k8s/exec-on-prod"
}

test_approval_when_the_phase_is_unknown if {
	odd := object.union(f.port_forward, {"port_forward": {"phase": "later", "ports": [80]}})
	f.outcome(f.decide(["dba"], "prod", odd)) == "approval"
	no_object := object.union(f.port_forward, {"port_forward": "stream"})
	f.outcome(f.decide(["dba"], "prod", no_object)) == "approval"
}

test_denied_developer_stream_on_production if {
	d := f.decide(["developers"], "prod", f.port_forward_stream(80))
	not d.allow
	d.policy == "k8s/role-exec"
}

test_denied_ci_stream_whatever_the_port if {
	f.outcome(f.decide(["ci-readonly"], "dev", f.port_forward_stream(80))) == "deny"
}

test_denied_ports_that_are_not_tcp_ports if {
	every p in [0, -1, 65536, 80.5, "80"] {
		d := f.decide(["developers"], "dev", f.port_forward_stream(p))
		not d.allow
		d.policy == "k8s/port-forward-bypass"
	}
}
