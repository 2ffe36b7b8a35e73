use super::{Violation, shown};
use crate::check::check_doc;
use crate::kubernetes::model::{Pod, get};

check_doc! {
    code: "K8S-PSS-SECCOMP-BASELINE",
    title: "Seccomp explicitly Unconfined (PSS baseline)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, Seccomp: `spec.securityContext.seccompProfile.type` and \
the same field of every container, init container and ephemeral container must be undefined, \
`RuntimeDefault` or `Localhost`.\n\n\
Why: `Unconfined` lets the container call every system call, including the ones behind most \
kernel-exploit container escapes.\n\n\
Before 1.19 (a namespace pinned to an older `enforce-version`), the profiles were annotations: \
`seccomp.security.alpha.kubernetes.io/pod` and `container.seccomp.security.alpha.kubernetes.io/<name>` \
must be `runtime/default`, `docker/default` or `localhost/<profile>`; the fields are not read.\n\n\
Fix: `seccompProfile: {type: RuntimeDefault}` at pod level.\n\n\
Example: `seccompProfile: {type: Unconfined}`.",
}

pub(crate) fn allowed(value: &serde_json::Value) -> bool {
    matches!(value.as_str(), Some("RuntimeDefault" | "Localhost"))
}

/// The annotation values allowed before 1.19.
fn allowed_annotation(value: &str) -> bool {
    matches!(value, "runtime/default" | "docker/default") || value.starts_with("localhost/")
}

/// Before 1.19 the API server read the profile from annotations only: the pod's, and one per
/// container name (annotations naming no container are not looked at).
fn evaluate_annotations(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    const POD: &str = "seccomp.security.alpha.kubernetes.io/pod";
    const CONTAINER: &str = "container.seccomp.security.alpha.kubernetes.io/";
    let annotation = |key: &str| get(pod.metadata, &["annotations", key]);
    if let Some(value) = annotation(POD)
        && !value.as_str().is_some_and(allowed_annotation)
    {
        out.push(Violation::pod(format!(
            "annotation {POD} is {}; allowed: runtime/default, docker/default, localhost/<profile>",
            shown(value)
        )));
    }
    for c in pod.containers() {
        let key = format!("{CONTAINER}{}", c.name);
        if let Some(value) = annotation(&key)
            && !value.as_str().is_some_and(allowed_annotation)
        {
            out.push(Violation::container(
                &c,
                format!(
                    "annotation {key} is {}; allowed: runtime/default, docker/default, localhost/<profile>",
                    shown(value)
                ),
            ));
        }
    }
}

pub(crate) fn evaluate(pod: &Pod<'_>, minor: u32, out: &mut Vec<Violation>) {
    if minor < 19 {
        evaluate_annotations(pod, out);
        return;
    }
    if let Some(kind) = pod.security(&["seccompProfile", "type"])
        && !allowed(kind)
    {
        out.push(Violation::pod(format!(
                "spec.securityContext.seccompProfile.type is {}; allowed: undefined, RuntimeDefault, Localhost",
                shown(kind)
            )));
    }
    for c in pod.containers() {
        if let Some(kind) = c.security(&["seccompProfile", "type"])
            && !allowed(kind)
        {
            out.push(Violation::container(
                    &c,
                    format!("securityContext.seccompProfile.type is {}; allowed: undefined, RuntimeDefault, Localhost", shown(kind)),
                ));
        }
    }
}
