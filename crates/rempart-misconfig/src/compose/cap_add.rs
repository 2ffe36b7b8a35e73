use rempart_core::Finding;

use super::{Context, strings};
use crate::check::check_doc;

check_doc! {
    code: "COMPOSE-CAP-ADD",
    title: "Compose service adds a dangerous capability",
    severity: High,
    target: Compose,
    doc: "A service's `cap_add` lists ALL, SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, SYS_RAWIO, \
DAC_READ_SEARCH, BPF or SYS_BOOT (with or without the `CAP_` prefix). Narrow capabilities such as \
NET_BIND_SERVICE are not reported.\n\n\
Why: each of these has known container escapes or lets the container reconfigure the host \
(SYS_ADMIN alone is close to privileged; NET_ADMIN rewrites host networking with host \
network).\n\n\
Fix: remove the capability, or add only the narrowest one the service needs.\n\n\
Example: `cap_add: [SYS_ADMIN]`.",
}

const DANGEROUS: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "NET_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "SYS_RAWIO",
    "DAC_READ_SEARCH",
    "BPF",
    "SYS_BOOT",
];

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for service in &context.services {
        for cap in strings(service.value, "cap_add") {
            let upper = cap.to_ascii_uppercase();
            let name = upper.strip_prefix("CAP_").unwrap_or(&upper);
            if DANGEROUS.contains(&name) {
                out.push(context.finding(&CHECK, service, format!("remove cap_add {cap}")));
            }
        }
    }
}
