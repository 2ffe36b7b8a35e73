use rempart_core::Finding;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "COMPOSE-HOST-PID-IPC",
    title: "Compose service shares the host PID or IPC namespace",
    severity: High,
    target: Compose,
    doc: "A service sets `pid: host` or `ipc: host`.\n\n\
Why: with the host PID namespace the container sees and can signal (and, with ptrace, inspect) \
every process of the host; with the host IPC namespace it can read shared memory of host \
processes.\n\n\
Fix: remove the setting; share namespaces between services with `pid: service:<name>` only when \
needed.\n\n\
Example: `pid: host`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for service in &context.services {
        for field in ["pid", "ipc"] {
            if service.value.get(field).and_then(serde_json::Value::as_str) == Some("host") {
                out.push(context.finding(&CHECK, service, format!("remove {field}: host")));
            }
        }
    }
}
