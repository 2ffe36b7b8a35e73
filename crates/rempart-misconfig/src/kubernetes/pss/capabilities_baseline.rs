use serde_json::Value;

use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::Pod;

check_doc! {
    code: "K8S-PSS-CAPABILITIES-BASELINE",
    title: "Capability added beyond the default set (PSS baseline)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, Capabilities: `securityContext.capabilities.add` of \
every container, init container and ephemeral container may only list AUDIT_WRITE, CHOWN, \
DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID \
and SYS_CHROOT (the container runtime's default set).\n\n\
Why: capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE or SYS_MODULE each allow well-known \
container escapes or host interference.\n\n\
Fix: remove the capability; find the narrower mechanism the workload needs.\n\n\
Example: `capabilities: {add: [\"SYS_ADMIN\"]}`.",
}

pub(crate) const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

pub(crate) fn evaluate(pod: &Pod<'_>, _minor: u32, out: &mut Vec<Violation>) {
    for c in pod.containers() {
        let added = c
            .security(&["capabilities", "add"])
            .and_then(Value::as_array);
        for capability in added.into_iter().flatten() {
            let name = capability.as_str().unwrap_or("");
            if !BASELINE_CAPABILITIES.contains(&name) {
                out.push(Violation::container(
                    &c,
                    format!("securityContext.capabilities.add has {capability}; allowed: the runtime default set"),
                ));
            }
        }
    }
}
