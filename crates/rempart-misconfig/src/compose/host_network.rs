use rempart_core::Finding;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "COMPOSE-HOST-NETWORK",
    title: "Compose service uses the host network",
    severity: High,
    target: Compose,
    doc: "A service sets `network_mode: host`.\n\n\
Why: the container shares the host's network stack: it can bind any host port, reach services \
listening on localhost of the host, and is not isolated by Docker's networks or firewall rules.\n\n\
Fix: use the default bridge or a user-defined network and publish ports with `ports:`.\n\n\
Example: `network_mode: host`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for service in &context.services {
        if service
            .value
            .get("network_mode")
            .and_then(serde_json::Value::as_str)
            == Some("host")
        {
            out.push(context.finding(
                &CHECK,
                service,
                "remove network_mode: host and publish ports instead",
            ));
        }
    }
}
