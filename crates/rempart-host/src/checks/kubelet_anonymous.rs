use super::kubelet_config::expect_bool;
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-KUBELET-ANONYMOUS",
    title: "Kubelet answers anonymous requests",
    severity: Critical,
    benchmark: "CIS Kubernetes Benchmark v1.8, 4.2.1: Ensure that the --anonymous-auth argument is set to false",
    doc: "The kubelet's configuration enables anonymous authentication \
(`authentication.anonymous.enabled: true`).\n\n\
Why: the kubelet's API (port 10250) lists pods, reads their logs and runs commands in their \
containers; with anonymous requests allowed, whoever reaches the node's port is a client, and \
only the authorization mode stands between them and every container on the node.\n\n\
Fix: `authentication: {anonymous: {enabled: false}, webhook: {enabled: true}}` in the kubelet's \
configuration, then restart the kubelet.\n\n\
Example: `authentication.anonymous.enabled: true` in `/var/lib/kubelet/config.yaml`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    // The configuration file's default is false.
    expect_bool(host, "authentication.anonymous.enabled", false, false)
}
