use rempart_core::Finding;

use super::Context;
use super::model::get;
use crate::check::check_doc;

check_doc! {
    code: "K8S-NO-LIMITS",
    title: "Container without CPU or memory limits",
    severity: Low,
    target: Kubernetes,
    doc: "A container (or init container) sets no `resources.limits.memory` or no \
`resources.limits.cpu`.\n\n\
Why: without a memory limit one leaking or compromised container can exhaust the node and get \
its neighbours evicted; without a CPU limit it can starve them.\n\n\
Fix: set `resources.limits` (at least memory) from measured usage, or enforce defaults with a \
LimitRange in the namespace.\n\n\
Example: `resources: {requests: {cpu: 100m}}` with no limits.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for object in &context.objects {
        let Some(pod) = object.pod() else { continue };
        for c in pod
            .containers()
            .iter()
            .filter(|c| c.list != "ephemeralContainers")
        {
            let missing: Vec<&str> = ["cpu", "memory"]
                .into_iter()
                .filter(|r| get(c.value, &["resources", "limits", r]).is_none())
                .collect();
            if !missing.is_empty() {
                out.push(context.finding(
                    &CHECK,
                    object,
                    Some(&c.label()),
                    format!(
                        "set resources.limits.{}",
                        missing.join(" and resources.limits.")
                    ),
                ));
            }
        }
    }
}
