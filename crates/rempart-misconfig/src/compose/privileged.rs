use rempart_core::Finding;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "COMPOSE-PRIVILEGED",
    title: "Privileged compose service",
    severity: Critical,
    target: Compose,
    doc: "A service sets `privileged: true`.\n\n\
Why: the container gets every capability and device of the host and no seccomp/AppArmor \
confinement: it is root on the host.\n\n\
Fix: remove `privileged` and grant the one capability or device the service needs \
(`cap_add`, `devices`).\n\n\
Example: `services: {app: {image: x, privileged: true}}`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for service in &context.services {
        if service
            .value
            .get("privileged")
            .and_then(serde_json::Value::as_bool)
            == Some(true)
        {
            out.push(context.finding(&CHECK, service, "remove privileged: true"));
        }
    }
}
