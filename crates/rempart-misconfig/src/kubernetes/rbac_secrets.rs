use rempart_core::Finding;

use super::Context;
use super::model::array;
use crate::check::check_doc;

check_doc! {
    code: "K8S-RBAC-SECRETS",
    title: "RBAC rule grants read access to Secrets",
    severity: Medium,
    target: Kubernetes,
    doc: "A Role or ClusterRole lets its subjects `get`, `list` or `watch` Secrets (rules naming \
`secrets` or `*` among the resources of the core API group, with one of those verbs or `*`). \
Rules limited by `resourceNames` are not reported.\n\n\
Why: `list` and `watch` return every Secret of the namespace (or cluster, for a ClusterRole \
bound cluster-wide): service account tokens, TLS keys, database passwords.\n\n\
Fix: mount the specific Secrets the workload needs instead of reading them through the API, or \
restrict the rule with `resourceNames`.\n\n\
Example: `{apiGroups: [\"\"], resources: [\"secrets\"], verbs: [\"get\", \"list\"]}`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for object in context
        .objects
        .iter()
        .filter(|o| matches!(o.kind, "Role" | "ClusterRole"))
    {
        for (index, rule) in array(object.value, &["rules"]).iter().enumerate() {
            let has = |field: &str, wanted: &[&str]| {
                array(rule, &[field])
                    .iter()
                    .any(|v| v.as_str().is_some_and(|s| wanted.contains(&s)))
            };
            let core = has("apiGroups", &["", "*"]);
            let secrets = has("resources", &["secrets", "*"]);
            let reads = has("verbs", &["get", "list", "watch", "*"]);
            let named = !array(rule, &["resourceNames"]).is_empty();
            if core && secrets && reads && !named {
                out.push(context.finding(
                    &CHECK,
                    object,
                    None,
                    format!(
                        "rules[{index}] can read Secrets: restrict with resourceNames or remove"
                    ),
                ));
            }
        }
    }
}
