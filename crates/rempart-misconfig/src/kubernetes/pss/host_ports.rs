use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::{Pod, array, get_i64};

check_doc! {
    code: "K8S-PSS-HOST-PORTS",
    title: "Container binds a host port (PSS baseline)",
    severity: Medium,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, Host Ports: `ports[*].hostPort` of every container, \
init container and ephemeral container must be undefined or 0 (the standard also allows a known \
list, which the built-in admission controller does not support; neither does this check).\n\n\
Why: a host port publishes the container on the node's address, bypassing Services and \
NetworkPolicies, and pins the pod to nodes where the port is free.\n\n\
Fix: remove `hostPort`; expose the port through a Service.\n\n\
Example: `ports: [{containerPort: 80, hostPort: 80}]`.",
}

pub(crate) fn evaluate(pod: &Pod<'_>, _minor: u32, out: &mut Vec<Violation>) {
    for c in pod.containers() {
        for port in array(c.value, &["ports"]) {
            match get_i64(port, &["hostPort"]) {
                Some(0) | None if port.get("hostPort").is_none_or(|v| v.as_i64() == Some(0)) => {}
                _ => out.push(Violation::container(
                    &c,
                    format!(
                        "ports[].hostPort is {}; allowed: undefined, 0",
                        port.get("hostPort")
                            .map_or_else(String::new, ToString::to_string)
                    ),
                )),
            }
        }
    }
}
