use serde_json::Value;

use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::Pod;

check_doc! {
    code: "K8S-PSS-CAPABILITIES-RESTRICTED",
    title: "Capabilities not dropped to the minimum (PSS restricted)",
    severity: Medium,
    target: Kubernetes,
    doc: "Pod Security Standards, restricted, Capabilities: every container, init container and \
ephemeral container must list `ALL` in `securityContext.capabilities.drop`, and may only add \
`NET_BIND_SERVICE`. Pods with `spec.os.name: windows` are exempt.\n\n\
Why: the runtime's default capability set (CHOWN, DAC_OVERRIDE, SETUID, NET_RAW...) is more than \
almost any application needs, and each one widens what an attacker can do after a compromise.\n\n\
Fix: `capabilities: {drop: [\"ALL\"], add: [\"NET_BIND_SERVICE\"]}` (the add only when binding \
ports below 1024).\n\n\
Example: `capabilities: {drop: [\"NET_RAW\"]}`.",
}

pub(crate) fn evaluate(pod: &Pod<'_>, minor: u32, out: &mut Vec<Violation>) {
    if minor < 22 || (minor >= 25 && pod.is_windows()) {
        return;
    }
    for c in pod.containers() {
        let drops_all = c
            .security(&["capabilities", "drop"])
            .and_then(Value::as_array)
            .is_some_and(|drop| drop.iter().any(|cap| cap.as_str() == Some("ALL")));
        if !drops_all {
            out.push(Violation::container(
                &c,
                "securityContext.capabilities.drop does not include ALL",
            ));
        }
        let added = c
            .security(&["capabilities", "add"])
            .and_then(Value::as_array);
        for capability in added.into_iter().flatten() {
            if capability.as_str() != Some("NET_BIND_SERVICE") {
                out.push(Violation::container(
                    &c,
                    format!("securityContext.capabilities.add has {capability}; allowed: NET_BIND_SERVICE"),
                ));
            }
        }
    }
}
