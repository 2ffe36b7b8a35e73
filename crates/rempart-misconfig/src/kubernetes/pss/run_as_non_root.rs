use serde_json::Value;

use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::Pod;

check_doc! {
    code: "K8S-PSS-RUN-AS-NON-ROOT",
    title: "Containers not required to run as non-root (PSS restricted)",
    severity: Medium,
    target: Kubernetes,
    doc: "Pod Security Standards, restricted, Running as Non-root: \
`spec.securityContext.runAsNonRoot` must be `true`, or else every container, init container and \
ephemeral container must set `securityContext.runAsNonRoot: true`; no level may set it to \
`false`. Container fields left undefined inherit the pod-level value.\n\n\
Why: with `runAsNonRoot: true` the kubelet refuses to start a container whose user would be \
root, whatever the image says.\n\n\
Fix: `spec.securityContext.runAsNonRoot: true`, and give the image a numeric non-root USER.\n\n\
Example: a pod without `runAsNonRoot`.",
}

pub(crate) fn evaluate(pod: &Pod<'_>, minor: u32, out: &mut Vec<Violation>) {
    // From 1.35, root inside a pod's own user namespace is not root on the node.
    if minor >= 35 && pod.has_own_user_namespace() {
        return;
    }
    let pod_level = pod.security(&["runAsNonRoot"]);
    if matches!(pod_level, Some(Value::Bool(false))) {
        out.push(Violation::pod(
            "spec.securityContext.runAsNonRoot is false; allowed: true",
        ));
    }
    let pod_true = matches!(pod_level, Some(Value::Bool(true)));
    for c in pod.containers() {
        match c.security(&["runAsNonRoot"]) {
            Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => out.push(Violation::container(
                &c,
                "securityContext.runAsNonRoot is false; allowed: true",
            )),
            Some(other) => out.push(Violation::container(
                &c,
                format!("securityContext.runAsNonRoot is {other}; allowed: true"),
            )),
            None if pod_true => {}
            None => out.push(Violation::container(
                &c,
                "runAsNonRoot is set neither on the container nor on the pod; allowed: true",
            )),
        }
    }
}
