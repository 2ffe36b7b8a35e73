use super::{Violation, shown};
use crate::check::check_doc;
use crate::kubernetes::model::{Pod, get};

check_doc! {
    code: "K8S-PSS-HOST-PROBES",
    title: "Probe or lifecycle hook aimed at another host (PSS baseline)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, Host Probes / Lifecycle Hooks (from 1.34): the `host` \
field of `httpGet` and `tcpSocket` in the liveness, readiness and startup probes and in the \
`postStart` and `preStop` lifecycle handlers of every container, init container and ephemeral \
container must be undefined or empty.\n\n\
Why: the kubelet makes those requests from the node, so a `host` turns the pod spec into a way \
to reach addresses only the node can reach (cloud metadata, node-local services): a \
server-side request forgery through the kubelet.\n\n\
Fix: remove `host`; probes and hooks then target the pod's own IP.\n\n\
Example: `livenessProbe: {httpGet: {host: 169.254.169.254, path: /, port: 80}}`.",
}

const HANDLERS: &[&[&str]] = &[
    &["livenessProbe"],
    &["readinessProbe"],
    &["startupProbe"],
    &["lifecycle", "postStart"],
    &["lifecycle", "preStop"],
];

pub(crate) fn evaluate(pod: &Pod<'_>, minor: u32, out: &mut Vec<Violation>) {
    if minor < 34 {
        return;
    }
    for c in pod.containers() {
        for handler in HANDLERS {
            let Some(handler_value) = get(c.value, handler) else {
                continue;
            };
            for action in ["httpGet", "tcpSocket"] {
                if let Some(host) = get(handler_value, &[action, "host"])
                    && host.as_str() != Some("")
                {
                    out.push(Violation::container(
                        &c,
                        format!(
                            "{}.{action}.host is {}; allowed: undefined, \"\"",
                            handler.join("."),
                            shown(host)
                        ),
                    ));
                }
            }
        }
    }
}
