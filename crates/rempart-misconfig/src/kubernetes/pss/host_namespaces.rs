use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::{Pod, get_bool};

check_doc! {
    code: "K8S-PSS-HOST-NAMESPACES",
    title: "Pod shares host namespaces (PSS baseline)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, Host Namespaces: `spec.hostNetwork`, `spec.hostPID` and \
`spec.hostIPC` must be undefined or `false`.\n\n\
Why: sharing the node's network namespace exposes node-local services and lets the pod sniff \
traffic; sharing PID or IPC lets it see, signal and read the memory of every process on the \
node.\n\n\
Fix: remove these fields; expose ports through Services instead of the host network.\n\n\
Example: `spec: {hostNetwork: true}`.",
}

pub(crate) fn evaluate(pod: &Pod<'_>, _minor: u32, out: &mut Vec<Violation>) {
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if get_bool(pod.spec, &[field]) == Some(true) {
            out.push(Violation::pod(format!(
                "spec.{field} is true; allowed: undefined, false"
            )));
        }
    }
}
