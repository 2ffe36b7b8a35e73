use super::kubelet_config::expect_bool;
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
    expect_bool(host, "protectKernelDefaults", false, true)
}
