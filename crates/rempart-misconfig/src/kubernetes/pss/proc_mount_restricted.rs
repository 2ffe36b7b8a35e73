use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::Pod;

check_doc! {
    code: "K8S-PSS-PROC-MOUNT-RESTRICTED",
    title: "Unmasked /proc mount in a user-namespaced pod (PSS restricted)",
    severity: Medium,
    target: Kubernetes,
    doc: "Pod Security Standards, restricted, /proc Mount Type (from 1.35): a pod with its own user \
namespace (`spec.hostUsers: false`) meets baseline with `procMount: Unmasked`, but not \
restricted: every container, init container and ephemeral container must leave \
`securityContext.procMount` undefined or `Default`. (Without `hostUsers: false`, an unmasked \
/proc already fails baseline: K8S-PSS-PROC-MOUNT.)\n\n\
Why: even with its root mapped to an unprivileged node user, an unmasked /proc shows kernel \
interfaces the masks hide; restricted workloads do not need it.\n\n\
Fix: remove `procMount`, or accept the baseline level for nested-container workloads.\n\n\
Example: `hostUsers: false` with `securityContext: {procMount: Unmasked}`.",
}

pub(crate) fn evaluate(pod: &Pod<'_>, minor: u32, out: &mut Vec<Violation>) {
    // Below 1.35, or in the host's user namespace, the baseline control reports it.
    if minor < 35 || !pod.has_own_user_namespace() {
        return;
    }
    super::proc_mount::report_unmasked(pod, " (with hostUsers: false)", out);
}
