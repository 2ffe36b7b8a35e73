use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::Pod;

check_doc! {
    code: "K8S-PSS-HOST-PROCESS",
    title: "Windows HostProcess container (PSS baseline)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, HostProcess: \
`spec.securityContext.windowsOptions.hostProcess` and the same field of every container, init \
container and ephemeral container must be undefined or `false`.\n\n\
Why: a HostProcess container runs directly on the Windows node with the node's privileges.\n\n\
Fix: remove `windowsOptions.hostProcess: true`; run node agents in a dedicated, privileged \
namespace if they really need it.\n\n\
Example: `securityContext: {windowsOptions: {hostProcess: true}}`.",
}

pub(crate) fn evaluate(pod: &Pod<'_>, _minor: u32, out: &mut Vec<Violation>) {
    if pod
        .security(&["windowsOptions", "hostProcess"])
        .and_then(serde_json::Value::as_bool)
        == Some(true)
    {
        out.push(Violation::pod(
            "spec.securityContext.windowsOptions.hostProcess is true; allowed: undefined, false",
        ));
    }
    for c in pod.containers() {
        if c.security(&["windowsOptions", "hostProcess"])
            .and_then(serde_json::Value::as_bool)
            == Some(true)
        {
            out.push(Violation::container(
                &c,
                "securityContext.windowsOptions.hostProcess is true; allowed: undefined, false",
            ));
        }
    }
}
