use rempart_core::Finding;

use super::Context;
use super::model::{array, get_str};
use crate::check::check_doc;
use crate::common::{is_placeholder_value, is_secret_name};

check_doc! {
    code: "K8S-ENV-SECRET",
    title: "Secret written as a literal container environment value",
    severity: High,
    target: Kubernetes,
    doc: "A container's `env` entry has a secret-like name (PASSWORD, SECRET, TOKEN, API_KEY, ...) \
and a literal `value` that is not an obvious placeholder. Entries using `valueFrom` are fine. \
The value is never shown.\n\n\
Why: the manifest, and every copy of it in Git, CI logs and `kubectl get -o yaml` output, holds \
the secret in clear; anyone who can read the workload object can read it.\n\n\
Fix: store it in a Secret (or an external secret store) and reference it: \
`valueFrom: {secretKeyRef: {name: db, key: password}}`.\n\n\
Example: `env: [{name: DB_PASSWORD, value: hunter2}]`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for object in &context.objects {
        let Some(pod) = object.pod() else { continue };
        for c in pod.containers() {
            for entry in array(c.value, &["env"]) {
                let Some(name) = get_str(entry, &["name"]) else {
                    continue;
                };
                let Some(value) = get_str(entry, &["value"]) else {
                    continue;
                };
                if is_secret_name(name) && !is_placeholder_value(value) {
                    out.push(context.finding(
                        &CHECK,
                        object,
                        Some(&c.label()),
                        format!("env {name} holds a literal value: reference a Secret with valueFrom.secretKeyRef"),
                    ));
                }
            }
        }
    }
}
