use rempart_core::Finding;

use super::{Context, strings};
use crate::check::check_doc;

check_doc! {
    code: "COMPOSE-UNCONFINED",
    title: "Compose service disables seccomp, AppArmor or SELinux confinement",
    severity: High,
    target: Compose,
    doc: "A service's `security_opt` has `seccomp:unconfined`, `apparmor:unconfined` or \
`label:disable` (either `:` or `=` as separator).\n\n\
Why: these profiles block the system calls and file accesses behind most container escapes; \
turning them off removes a whole layer of defence.\n\n\
Fix: remove the option; if a system call is really needed, write a custom seccomp profile \
that allows just it.\n\n\
Example: `security_opt: [\"seccomp:unconfined\"]`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for service in &context.services {
        for option in strings(service.value, "security_opt") {
            let normalized = option.replace('=', ":").to_ascii_lowercase();
            if matches!(
                normalized.as_str(),
                "seccomp:unconfined" | "apparmor:unconfined" | "label:disable"
            ) {
                out.push(context.finding(&CHECK, service, format!("remove security_opt {option}")));
            }
        }
    }
}
