use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::Pod;

check_doc! {
    code: "K8S-PSS-PRIVILEGED",
    title: "Privileged container (PSS baseline)",
    severity: Critical,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, Privileged Containers: \
`securityContext.privileged` of every container, init container and ephemeral container must be \
undefined or `false`.\n\n\
Why: a privileged container has every capability and every device of the node and no seccomp or \
AppArmor confinement: it is root on the node.\n\n\
Fix: remove `privileged: true` and add only the specific capability the workload needs.\n\n\
Example: `securityContext: {privileged: true}`.",
}

pub(crate) fn evaluate(pod: &Pod<'_>, _minor: u32, out: &mut Vec<Violation>) {
    for c in pod.containers() {
        if c.security(&["privileged"])
            .and_then(serde_json::Value::as_bool)
            == Some(true)
        {
            out.push(Violation::container(
                &c,
                "securityContext.privileged is true; allowed: undefined, false",
            ));
        }
    }
}
