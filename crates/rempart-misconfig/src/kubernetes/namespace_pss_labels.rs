use rempart_core::Finding;

use super::Context;
use super::model::get;
use super::pss::PssVersion;
use crate::check::check_doc;

check_doc! {
    code: "K8S-NAMESPACE-PSS-LABEL",
    title: "Namespace Pod Security label the API server refuses",
    severity: Medium,
    target: Kubernetes,
    doc: "A Namespace has a `pod-security.kubernetes.io/` label whose value is not one the API \
server accepts: levels must be `privileged`, `baseline` or `restricted`, versions `latest` or \
`v1.N` (`v1.25`; not `1.25`, `v1.25.0` or `v1.05`).\n\n\
Why: the API server refuses to create the namespace with such a label, so the deployment fails; \
where the label got in another way, an unknown enforce level is applied as `restricted` and an \
unknown version as `latest`, which is not what the author pinned.\n\n\
Fix: correct the value (`pod-security.kubernetes.io/enforce-version: v1.30`).\n\n\
Example: `pod-security.kubernetes.io/enforce-version: \"1.30\"`.",
}

/// The Pod Security admission labels of a namespace.
pub(super) const MODES: [&str; 3] = ["enforce", "audit", "warn"];
pub(super) const PREFIX: &str = "pod-security.kubernetes.io/";

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for object in context.objects.iter().filter(|o| o.kind == "Namespace") {
        let Some(labels) = get(object.value, &["metadata", "labels"]).and_then(|l| l.as_object())
        else {
            continue;
        };
        for mode in MODES {
            let level_key = format!("{PREFIX}{mode}");
            if let Some(level) = labels.get(&level_key)
                && !matches!(
                    level.as_str(),
                    Some("privileged" | "baseline" | "restricted")
                )
            {
                out.push(context.finding(
                    &CHECK,
                    object,
                    None,
                    format!(
                        "label {level_key} is {level}; allowed: privileged, baseline, restricted"
                    ),
                ));
            }
            let version_key = format!("{PREFIX}{mode}-version");
            if let Some(version) = labels.get(&version_key)
                && version.as_str().and_then(PssVersion::parse).is_none()
            {
                out.push(context.finding(
                    &CHECK,
                    object,
                    None,
                    format!("label {version_key} is {version}; allowed: latest, v1.N (v1.30)"),
                ));
            }
        }
    }
}
