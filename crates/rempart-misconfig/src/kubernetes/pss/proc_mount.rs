use super::{Violation, shown};
use crate::check::check_doc;
use crate::kubernetes::model::Pod;

check_doc! {
    code: "K8S-PSS-PROC-MOUNT",
    title: "Unmasked /proc mount (PSS baseline)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, /proc Mount Type: `securityContext.procMount` of every \
container, init container and ephemeral container must be undefined or `Default`.\n\n\
Why: `Unmasked` removes the masks the runtime puts over sensitive `/proc` paths \
(`/proc/kcore`, `/proc/sysrq-trigger`...).\n\n\
Fix: remove `procMount` (it is only meant for nested, user-namespaced containers).\n\n\
Example: `securityContext: {procMount: Unmasked}`.",
}

pub(crate) fn evaluate(pod: &Pod<'_>, minor: u32, out: &mut Vec<Violation>) {
    // From 1.35 baseline allows an unmasked /proc in a pod with its own user namespace (nested
    // containers need it); restricted still does not (K8S-PSS-PROC-MOUNT-RESTRICTED).
    if minor >= 35 && pod.has_own_user_namespace() {
        return;
    }
    report_unmasked(pod, "", out);
}

/// Every container whose `procMount` is set to anything but `Default`; `context` is added to
/// the message.
pub(super) fn report_unmasked(pod: &Pod<'_>, context: &str, out: &mut Vec<Violation>) {
    for c in pod.containers() {
        if let Some(mount) = c.security(&["procMount"])
            && mount.as_str() != Some("Default")
        {
            out.push(Violation::container(
                &c,
                format!(
                    "securityContext.procMount is {}{context}; allowed: undefined, Default",
                    shown(mount)
                ),
            ));
        }
    }
}
