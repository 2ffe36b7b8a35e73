use serde_json::Value;

use super::{Violation, shown};
use crate::check::check_doc;
use crate::kubernetes::model::{Pod, get};

check_doc! {
    code: "K8S-PSS-SELINUX",
    title: "Custom SELinux type, user or role (PSS baseline)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, SELinux: in `spec.securityContext.seLinuxOptions` and \
the same field of every container, init container and ephemeral container, `type` must be \
undefined, empty, `container_t`, `container_init_t`, `container_kvm_t` or `container_engine_t`, \
and `user` and `role` must be undefined or empty.\n\n\
Why: other SELinux types (`spc_t`, `unconfined_t`) run the container unconfined; a custom user or \
role changes what the policy grants.\n\n\
Fix: remove `seLinuxOptions`, or keep only `level` (MCS labels are allowed).\n\n\
Example: `seLinuxOptions: {type: spc_t}`.",
}

const ALLOWED_TYPES: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
/// Allowed from 1.31.
const ENGINE_TYPE: &str = "container_engine_t";

fn check(options: Option<&Value>, prefix: &str, minor: u32) -> Vec<String> {
    let Some(options) = options else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    let engine = minor >= 31;
    if let Some(kind) = get(options, &["type"])
        && !kind
            .as_str()
            .is_some_and(|t| ALLOWED_TYPES.contains(&t) || (engine && t == ENGINE_TYPE))
    {
        problems.push(format!(
            "{prefix}seLinuxOptions.type is {}; allowed: undefined, \"\", container_t, container_init_t, container_kvm_t{}",
            shown(kind),
            if engine { ", container_engine_t" } else { "" }
        ));
    }
    for field in ["user", "role"] {
        if let Some(value) = get(options, &[field])
            && value.as_str() != Some("")
        {
            problems.push(format!(
                "{prefix}seLinuxOptions.{field} is {}; allowed: undefined, \"\"",
                shown(value)
            ));
        }
    }
    problems
}

pub(crate) fn evaluate(pod: &Pod<'_>, minor: u32, out: &mut Vec<Violation>) {
    for problem in check(
        pod.security(&["seLinuxOptions"]),
        "spec.securityContext.",
        minor,
    ) {
        out.push(Violation::pod(problem));
    }
    for c in pod.containers() {
        for problem in check(c.security(&["seLinuxOptions"]), "securityContext.", minor) {
            out.push(Violation::container(&c, problem));
        }
    }
}
