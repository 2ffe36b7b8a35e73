use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::Pod;

check_doc! {
    code: "K8S-PSS-RUN-AS-USER",
    title: "Container runs as UID 0 (PSS restricted)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, restricted, Running as Non-root user: \
`spec.securityContext.runAsUser` and the same field of every container, init container and \
ephemeral container must be undefined or non-zero.\n\n\
Why: `runAsUser: 0` runs the process as root regardless of the image's USER.\n\n\
Fix: set a non-zero UID (`runAsUser: 10001`) or remove the field and rely on the image's \
non-root USER with `runAsNonRoot: true`.\n\n\
Example: `securityContext: {runAsUser: 0}`.",
}

pub(crate) fn evaluate(pod: &Pod<'_>, minor: u32, out: &mut Vec<Violation>) {
    // From 1.23; from 1.35 a pod in its own user namespace may run as its (mapped) root.
    if minor < 23 || (minor >= 35 && pod.has_own_user_namespace()) {
        return;
    }
    if pod
        .security(&["runAsUser"])
        .and_then(serde_json::Value::as_i64)
        == Some(0)
    {
        out.push(Violation::pod(
            "spec.securityContext.runAsUser is 0; allowed: undefined, non-zero",
        ));
    }
    for c in pod.containers() {
        if c.security(&["runAsUser"])
            .and_then(serde_json::Value::as_i64)
            == Some(0)
        {
            out.push(Violation::container(
                &c,
                "securityContext.runAsUser is 0; allowed: undefined, non-zero",
            ));
        }
    }
}
