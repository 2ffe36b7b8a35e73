use serde_json::Value;

use super::kubelet_config::{at, shown, with_kubelet};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-KUBELET-AUTHORIZATION",
    title: "Kubelet authorizes every request",
    severity: Critical,
    benchmark: "CIS Kubernetes Benchmark v1.8, 4.2.2: Ensure that the --authorization-mode argument is not set to AlwaysAllow",
    doc: "The kubelet's `authorization.mode` is `AlwaysAllow`.\n\n\
Why: every authenticated client (and every anonymous one, if allowed) may then use the whole \
kubelet API: exec into any container on the node, read its secrets, start what it wants.\n\n\
Fix: `authorization: {mode: Webhook}`, so that the API server decides with the cluster's RBAC.\n\n\
Example: `authorization.mode: AlwaysAllow`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    with_kubelet(host, |config, path| {
        let key = "authorization.mode";
        // The configuration file's default is Webhook.
        let mode = at(config, key).and_then(Value::as_str).unwrap_or("Webhook");
        if mode.eq_ignore_ascii_case("AlwaysAllow") {
            Outcome::failed(shown(config, key, path), Some(path))
        } else {
            Outcome::passed(shown(config, key, path), Some(path))
        }
    })
}
