use rempart_core::Finding;

use super::Context;
use super::model::array;
use crate::check::check_doc;

check_doc! {
    code: "K8S-RBAC-WILDCARD",
    title: "RBAC rule with wildcards",
    severity: High,
    target: Kubernetes,
    doc: "A Role or ClusterRole has a rule with `*` in `verbs`, `resources` or `apiGroups`.\n\n\
Why: a wildcard grants everything, including resources and verbs added in future versions \
(`escalate`, `impersonate`, new CRDs); it is rarely what was meant.\n\n\
Fix: list the exact apiGroups, resources and verbs needed.\n\n\
Example: `rules: [{apiGroups: [\"*\"], resources: [\"*\"], verbs: [\"*\"]}]`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for object in context
        .objects
        .iter()
        .filter(|o| matches!(o.kind, "Role" | "ClusterRole"))
    {
        for (index, rule) in array(object.value, &["rules"]).iter().enumerate() {
            let wild: Vec<&str> = ["apiGroups", "resources", "verbs"]
                .into_iter()
                .filter(|field| {
                    array(rule, &[field])
                        .iter()
                        .any(|v| v.as_str() == Some("*"))
                })
                .collect();
            if !wild.is_empty() {
                out.push(context.finding(
                    &CHECK,
                    object,
                    None,
                    format!(
                        "rules[{index}] has * in {}: list what is needed",
                        wild.join(", ")
                    ),
                ));
            }
        }
    }
}
