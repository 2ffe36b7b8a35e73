use rempart_core::Finding;

use super::Context;
use super::model::get;
use crate::check::check_doc;

check_doc! {
    code: "K8S-NO-REQUESTS",
    title: "Container without CPU or memory requests",
    severity: Low,
    target: Kubernetes,
    doc: "A container (or init container) sets no `resources.requests.cpu` or \
`resources.requests.memory` (a limit alone also sets the request, so limits count).\n\n\
Why: the scheduler places pods by their requests; without them pods land on full nodes and are \
the first evicted under pressure.\n\n\
Fix: set `resources.requests` from measured usage.\n\n\
Example: a container with no `resources` at all.",
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
                .filter(|r| {
                    get(c.value, &["resources", "requests", r]).is_none()
                        && get(c.value, &["resources", "limits", r]).is_none()
                })
                .collect();
            if !missing.is_empty() {
                out.push(context.finding(
                    &CHECK,
                    object,
                    Some(&c.label()),
                    format!(
                        "set resources.requests.{}",
                        missing.join(" and resources.requests.")
                    ),
                ));
            }
        }
    }
}
