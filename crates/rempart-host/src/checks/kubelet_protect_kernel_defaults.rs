use serde_json::Value;

use super::kubelet_config::{at, shown, with_kubelet};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-KUBELET-PROTECT-KERNEL-DEFAULTS",
    title: "Kubelet may change the kernel's settings",
    severity: Low,
    benchmark: "CIS Kubernetes Benchmark v1.8, 4.2: Ensure that the --protect-kernel-defaults argument is set to true",
    doc: "The kubelet's `protectKernelDefaults` is not true (the default is false).\n\n\
Why: without it the kubelet silently changes kernel settings it wants (overcommit, panic on \
OOM) instead of failing: the node then runs with settings its owners did not choose, and a \
hardening baseline drifts without anyone seeing it.\n\n\
Fix: set the kernel settings the kubelet needs in `/etc/sysctl.d/`, then \
`protectKernelDefaults: true`.\n\n\
Example: a kubelet configuration without `protectKernelDefaults`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    with_kubelet(host, |config, path| {
        let key = "protectKernelDefaults";
        if at(config, key).and_then(Value::as_bool).unwrap_or(false) {
            Outcome::passed(shown(config, key, path), Some(path))
        } else {
            Outcome::failed(shown(config, key, path), Some(path))
        }
    })
}
