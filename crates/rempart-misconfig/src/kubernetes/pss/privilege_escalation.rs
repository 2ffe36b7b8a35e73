use super::{Violation, shown};
use crate::check::check_doc;
use crate::kubernetes::model::Pod;

check_doc! {
    code: "K8S-PSS-PRIVILEGE-ESCALATION",
    title: "Privilege escalation not disabled (PSS restricted)",
    severity: Medium,
    target: Kubernetes,
    doc: "Pod Security Standards, restricted, Privilege Escalation: \
`securityContext.allowPrivilegeEscalation` of every container, init container and ephemeral \
container must be `false` (set explicitly: the default allows escalation). Pods with \
`spec.os.name: windows` are exempt.\n\n\
Why: without `no_new_privs`, a setuid binary or file capability in the image turns a \
compromised process into root.\n\n\
Fix: `securityContext: {allowPrivilegeEscalation: false}` on every container.\n\n\
Example: a container without `allowPrivilegeEscalation`.",
}

pub(crate) fn evaluate(pod: &Pod<'_>, minor: u32, out: &mut Vec<Violation>) {
    if minor < 8 || (minor >= 25 && pod.is_windows()) {
        return;
    }
    for c in pod.containers() {
        match c.security(&["allowPrivilegeEscalation"]) {
            Some(serde_json::Value::Bool(false)) => {}
            Some(value) => out.push(Violation::container(
                &c,
                format!(
                    "securityContext.allowPrivilegeEscalation is {}; allowed: false",
                    shown(value)
                ),
            )),
            None => out.push(Violation::container(
                &c,
                "securityContext.allowPrivilegeEscalation is not set; allowed: false",
            )),
        }
    }
}
