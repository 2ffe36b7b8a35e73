use super::{Violation, seccomp_baseline::allowed, shown};
use crate::check::check_doc;
use crate::kubernetes::model::Pod;

check_doc! {
    code: "K8S-PSS-SECCOMP-RESTRICTED",
    title: "Seccomp profile not set (PSS restricted)",
    severity: Medium,
    target: Kubernetes,
    doc: "Pod Security Standards, restricted, Seccomp: `spec.securityContext.seccompProfile.type` \
must be `RuntimeDefault` or `Localhost`, or else every container, init container and ephemeral \
container must set `securityContext.seccompProfile.type` to one of them. Container fields left \
undefined inherit a valid pod-level value. Pods with `spec.os.name: windows` are exempt.\n\n\
Why: Kubernetes runs containers without any seccomp filter unless told otherwise (or unless the \
kubelet's SeccompDefault is on), leaving the full kernel attack surface open.\n\n\
Fix: `spec.securityContext.seccompProfile: {type: RuntimeDefault}`.\n\n\
Example: a pod without `seccompProfile`.",
}

pub(crate) fn evaluate(pod: &Pod<'_>, minor: u32, out: &mut Vec<Violation>) {
    if minor < 19 || (minor >= 25 && pod.is_windows()) {
        return;
    }
    let pod_valid = pod
        .security(&["seccompProfile", "type"])
        .is_some_and(allowed);
    for c in pod.containers() {
        match c.security(&["seccompProfile", "type"]) {
            Some(kind) if allowed(kind) => {}
            Some(kind) => out.push(Violation::container(
                &c,
                format!("securityContext.seccompProfile.type is {}; allowed: RuntimeDefault, Localhost", shown(kind)),
            )),
            None if pod_valid => {}
            None => out.push(Violation::container(
                &c,
                "seccompProfile.type is set neither on the container nor on the pod; allowed: RuntimeDefault, Localhost",
            )),
        }
    }
}
