use super::{Violation, shown};
use crate::check::check_doc;
use crate::kubernetes::model::Pod;

check_doc! {
    code: "K8S-PSS-APPARMOR",
    title: "AppArmor profile overridden or disabled (PSS baseline)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, AppArmor: `spec.securityContext.appArmorProfile.type` \
and the same field of every container, init container and ephemeral container must be \
undefined, `RuntimeDefault` or `Localhost`; the annotations \
`container.apparmor.security.beta.kubernetes.io/*` must be undefined, `runtime/default` or \
`localhost/*`.\n\n\
Why: `Unconfined` removes the AppArmor confinement the runtime applies by default, reopening \
paths such as writes to `/proc/sys` and mounts.\n\n\
Fix: remove the override, or use `RuntimeDefault` or a `Localhost` profile.\n\n\
Example: `appArmorProfile: {type: Unconfined}` or the annotation \
`container.apparmor.security.beta.kubernetes.io/app: unconfined`.",
}

const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn type_allowed(value: &serde_json::Value) -> bool {
    matches!(value.as_str(), Some("RuntimeDefault" | "Localhost"))
}

pub(crate) fn evaluate(pod: &Pod<'_>, _minor: u32, out: &mut Vec<Violation>) {
    if let Some(kind) = pod.security(&["appArmorProfile", "type"])
        && !type_allowed(kind)
    {
        out.push(Violation::pod(format!(
                "spec.securityContext.appArmorProfile.type is {}; allowed: undefined, RuntimeDefault, Localhost",
                shown(kind)
            )));
    }
    for c in pod.containers() {
        if let Some(kind) = c.security(&["appArmorProfile", "type"])
            && !type_allowed(kind)
        {
            out.push(Violation::container(
                    &c,
                    format!("securityContext.appArmorProfile.type is {}; allowed: undefined, RuntimeDefault, Localhost", shown(kind)),
                ));
        }
    }
    for (key, value) in pod.annotations().into_iter().flatten() {
        if let Some(container) = key.strip_prefix(ANNOTATION_PREFIX) {
            let profile = value.as_str().unwrap_or("");
            if profile != "runtime/default" && !profile.starts_with("localhost/") {
                out.push(Violation {
                    container: Some(format!("container {container}")),
                    message: format!(
                        "annotation {key} is {}; allowed: undefined, runtime/default, localhost/*",
                        shown(value)
                    ),
                });
            }
        }
    }
}
