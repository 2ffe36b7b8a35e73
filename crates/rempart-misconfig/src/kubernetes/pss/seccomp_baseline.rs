use super::{Violation, shown};
use crate::check::check_doc;
use crate::kubernetes::model::Pod;

check_doc! {
    code: "K8S-PSS-SECCOMP-BASELINE",
    title: "Seccomp explicitly Unconfined (PSS baseline)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, Seccomp: `spec.securityContext.seccompProfile.type` and \
the same field of every container, init container and ephemeral container must be undefined, \
`RuntimeDefault` or `Localhost`.\n\n\
Why: `Unconfined` lets the container call every system call, including the ones behind most \
kernel-exploit container escapes.\n\n\
Fix: `seccompProfile: {type: RuntimeDefault}` at pod level.\n\n\
Example: `seccompProfile: {type: Unconfined}`.",
}

pub(crate) fn allowed(value: &serde_json::Value) -> bool {
    matches!(value.as_str(), Some("RuntimeDefault" | "Localhost"))
}

pub(crate) fn evaluate(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if let Some(kind) = pod.security(&["seccompProfile", "type"])
        && !allowed(kind)
    {
        out.push(Violation::pod(format!(
                "spec.securityContext.seccompProfile.type is {}; allowed: undefined, RuntimeDefault, Localhost",
                shown(kind)
            )));
    }
    for c in pod.containers() {
        if let Some(kind) = c.security(&["seccompProfile", "type"])
            && !allowed(kind)
        {
            out.push(Violation::container(
                    &c,
                    format!("securityContext.seccompProfile.type is {}; allowed: undefined, RuntimeDefault, Localhost", shown(kind)),
                ));
        }
    }
}
