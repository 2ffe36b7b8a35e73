use serde_json::Value;

use super::kubelet_config::{at, shown, with_kubelet};
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
    with_kubelet(host, |config, path| {
        let key = "authentication.anonymous.enabled";
        // The configuration file's default is false.
        if at(config, key).and_then(Value::as_bool).unwrap_or(false) {
            Outcome::failed(shown(config, key, path), Some(path))
        } else {
            Outcome::passed(shown(config, key, path), Some(path))
        }
    })
}
