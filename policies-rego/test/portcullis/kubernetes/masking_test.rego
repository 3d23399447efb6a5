# Secret values in responses: masked for every role that may read Secrets but does not see their values
# (data.json unmasked_roles), on every verb whose response carries the object, and on no other resource.
package portcullis.kubernetes.masking_test

import data.portcullis.kubernetes.fixtures as f

secret_mask := {"fields": ["data", "stringData"], "rule": "k8s/secret-values"}

test_allowed_secret_read_by_a_developer_is_masked if {
	d := f.decide(["developers"], "dev", f.get_secret)
	d.allow
	d.mask == secret_mask
}

test_allowed_secret_list_and_watch_by_a_developer_are_masked_on_production_too if {
	f.decide(["developers"], "prod", f.list_secrets).mask == secret_mask
	f.decide(["developers"], "dev", object.union(f.list_secrets, {"verb": "watch"})).mask == secret_mask
}

test_allowed_secret_write_is_masked_because_the_response_echoes_the_object if {
	d := f.decide(["developers"], "dev", f.write("patch", "secrets", "db-credentials", {"stringData": {"password": "***"}}))
	d.allow
	d.mask == secret_mask
}

test_allowed_secret_read_by_a_dba_shows_the_values if {
	d := f.decide(["dba"], "prod", f.get_secret)
	d.allow
	not "mask" in object.keys(d)
}

test_allowed_dba_with_another_group_still_sees_the_values if {
	not "mask" in object.keys(f.decide(["developers", "dba"], "dev", f.list_secrets))
}

test_held_secret_delete_on_production_carries_the_mask_for_after_the_approval if {
	d := f.decide(["developers", "dba"], "prod", f.api("delete", "secrets", "", "demo", "db-credentials"))
	d.approval.required
	not "mask" in object.keys(d)
	held := f.decide(["dba"], "prod", f.api("delete", "secrets", "", "demo", "db-credentials")) with data.portcullis.kubernetes.unmasked_roles as []
	held.approval.required
	held.mask == secret_mask
}

test_allowed_other_resources_are_not_masked if {
	d := f.decide(["developers"], "dev", f.get_pod)
	d.allow
	not "mask" in object.keys(d)
	not "mask" in object.keys(f.decide(["developers"], "dev", f.discovery))
}

test_masked_secret_in_other_letter_case if {
	f.decide(["developers"], "dev", object.union(f.get_secret, {"resource": "Secrets"})).mask == secret_mask
}

test_denied_secret_read_carries_no_mask_but_denies if {
	d := f.decide(["ci-readonly"], "dev", f.get_secret)
	not d.allow
	not "mask" in object.keys(d)
}

# A container's log and an exec's output are scanned by the content detectors for the roles that have them (SQL's
# detector_roles).
log_detectors := {"detectors": ["email", "card", "iban", "phone", "national_id", "secret"], "rule": "k8s/output-detectors"}

test_allowed_log_read_by_ci_and_developers_runs_the_detectors if {
	ci := f.decide(["ci-readonly"], "dev", f.pod_logs)
	ci.allow
	ci.mask == log_detectors
	dev := f.decide(["developers"], "dev", f.pod_logs)
	dev.allow
	dev.mask == log_detectors
}

test_allowed_log_read_by_a_dba_is_not_scanned if {
	d := f.decide(["dba"], "prod", f.pod_logs)
	d.allow
	not "mask" in object.keys(d)
}

test_a_grant_with_scope_unmask_lifts_the_log_detectors if {
	granted := object.union(f.request_input(["developers"], "dev", f.pod_logs), {"grants": [{"scope": "unmask", "expires_at": "2099-01-01T00:00:00Z"}]})
	d := data.portcullis.request.decision with input as granted
	d.allow
	not "mask" in object.keys(d)
}

test_allowed_exec_by_a_developer_runs_the_detectors_over_its_output if {
	d := f.decide(["developers"], "dev", f.exec_pod)
	d.allow
	d.mask == log_detectors
	not "mask" in object.keys(f.decide(["dba"], "dev", f.exec_pod))
}

test_other_reads_of_pods_are_not_scanned if {
	not "mask" in object.keys(f.decide(["ci-readonly"], "dev", f.get_pod))
	not "mask" in object.keys(f.decide(["developers"], "dev", object.union(f.pod_logs, {"subresource": "status"})))
}
