use super::kubelet_config::expect_bool;
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-KUBELET-ROTATE-CERTIFICATES",
    title: "Kubelet client certificate not rotated",
    severity: Low,
    benchmark: "CIS Kubernetes Benchmark v1.8, 4.2: Ensure that the --rotate-certificates argument is not set to false",
    doc: "The kubelet's `rotateCertificates` is not true (the configuration file's default is \
false).\n\n\
Why: without rotation the kubelet keeps its client certificate until it expires: a stolen one \
stays valid as long, and an expired one takes the node out of the cluster.\n\n\
Fix: `rotateCertificates: true` (kubeadm sets it), with the API server's certificate signing \
approving the renewals.\n\n\
Example: a kubelet configuration without `rotateCertificates`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    expect_bool(host, "rotateCertificates", false, true)
}
