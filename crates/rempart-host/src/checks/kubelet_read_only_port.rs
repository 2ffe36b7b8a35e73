use serde_json::Value;

use super::kubelet_config::{at, shown, with_kubelet};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-KUBELET-READ-ONLY-PORT",
    title: "Kubelet serves its read-only port without authentication",
    severity: Medium,
    benchmark: "CIS Kubernetes Benchmark v1.8, 4.2.4: Verify that the --read-only-port argument is set to 0",
    doc: "The kubelet's `readOnlyPort` is set (10255 traditionally).\n\n\
Why: that port answers without any authentication: the pods of the node, their specs \
(environment variables included) and metrics, to anyone who reaches it.\n\n\
Fix: `readOnlyPort: 0` (the configuration file's default), and monitoring through the \
authenticated port.\n\n\
Example: `readOnlyPort: 10255`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    with_kubelet(host, |config, path| {
        let key = "readOnlyPort";
        if at(config, key).and_then(Value::as_u64).unwrap_or(0) > 0 {
            Outcome::failed(shown(config, key, path), Some(path))
        } else {
            Outcome::passed(shown(config, key, path), Some(path))
        }
    })
}
