# platform-admins on the data path: role platform-admin, the dba's capabilities on Kubernetes clusters and SSH hosts
# (data.json permissions protocols), and nothing on PostgreSQL, where the data is the dba role's.
package portcullis.access.platform_admin_test

import data.portcullis.fixtures
import data.portcullis.kubernetes.decisions_test as kube
import data.portcullis.kubernetes.fixtures as kf
import data.portcullis.postgres.fixtures as pf
import data.portcullis.ssh.decisions_test as ssh
import data.portcullis.ssh.fixtures as sf

# Every Kubernetes request of the dba's matrix row: the same outcome for platform-admins, in both environments.
test_platform_admins_get_the_dba_kubernetes_outcomes if {
	mismatches := [row |
		some row, cell in kube.matrix.dba
		some where in ["dev", "prod"]
		kf.outcome(kf.decide(["platform-admins"], where, cell[0])) != kf.outcome(kf.decide(["dba"], where, cell[0]))
	]
	print(mismatches)
	count(mismatches) == 0
	count(kube.matrix.dba) > 5
}

test_approval_for_platform_admin_exec_and_delete_on_production if {
	every request in [kf.exec_pod, kf.delete_pod] {
		d := kf.decide(["platform-admins"], "prod", request)
		d.approval.required
		d.approval.approver_groups == ["approvers"]
	}
}

test_platform_admin_sees_secret_values_as_dba_does if {
	d := kf.decide(["platform-admins"], "prod", kf.get_secret)
	d.allow
	not d.mask
	d.impersonate_groups == ["platform-admins"]
}

test_platform_admins_get_the_dba_ssh_outcomes if {
	mismatches := [row |
		some row, cell in ssh.matrix.dba
		some where in ["dev", "prod"]
		sf.outcome(sf.decide(["platform-admins"], where, cell[0])) != sf.outcome(sf.decide(["dba"], where, cell[0]))
	]
	print(mismatches)
	count(mismatches) == 0
	count(ssh.matrix.dba) > 5
}

test_denied_platform_admin_session_on_postgres_says_whose_data_it_is if {
	d := data.portcullis.session.decision with input as fixtures.session_input(["platform-admins"], "dev")
	not d.allow
	d.reasons == ["role platform-admin may not use non-production connection demo-dev (platform-admin may do everything on Kubernetes clusters and SSH hosts (exec, delete and shells on production need approval), and nothing on PostgreSQL: the data in the databases is the dba role's)"]
}

test_denied_platform_admin_select_on_postgres if {
	not pf.decide(["platform-admins"], "dev", [pf.select_users]).allow
	not pf.decide(["platform-admins"], "prod", [pf.select_users]).allow
}

# A platform admin who is also in dba has the dba role there, and the platform role adds nothing on PostgreSQL.
test_platform_admin_in_dba_keeps_the_dba_rights_on_postgres if {
	pf.decide(["platform-admins", "dba"], "dev", [pf.select_users]).allow
}

test_a_protocols_list_that_is_not_a_list_grants_nothing if {
	d := kf.decide(["platform-admins"], "dev", kf.list_pods) with data.portcullis.permissions["platform-admin"].protocols as "kubernetes"
	not d.allow
}

test_a_role_without_a_protocols_list_serves_every_protocol if {
	pf.decide(["dba"], "dev", [pf.select_users]).allow
	sf.outcome(sf.decide(["dba"], "dev", sf.uname)) == "allow"
	kf.decide(["dba"], "dev", kf.list_pods).allow
}
