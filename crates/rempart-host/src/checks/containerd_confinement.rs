use toml::Value;

use super::containerd::{CONFIG, cri, with_containerd};
use super::engine_toml::source;
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-CONTAINERD-CONFINEMENT",
    title: "containerd turns off a confinement every container gets",
    severity: High,
    benchmark: "CIS Docker Benchmark v1.6.0, 5.1 and 5.12 (AppArmor profile; /proc masking), as containerd's CRI plugin applies them to Kubernetes pods",
    doc: "containerd's CRI plugin (`/etc/containerd/config.toml`) sets `disable_apparmor = \
true` (no pod gets the runtime's default AppArmor profile) or `disable_proc_mount = true` \
(pods may ask for an unmasked `/proc`).\n\n\
Why: these are host-wide defaults: one line removes a layer of confinement from every pod on \
the node, including pods whose manifests ask for nothing special, and nothing in Kubernetes \
shows it.\n\n\
Fix: remove the settings (both default to false), and load AppArmor on the node.\n\n\
Example: `[plugins.\"io.containerd.grpc.v1.cri\"]` with `disable_apparmor = true`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    with_containerd(host, |settings, files| {
        let weakened: Vec<&str> = cri(settings)
            .map(|cri| {
                ["disable_apparmor", "disable_proc_mount"]
                    .into_iter()
                    .filter(|key| cri.get(*key).and_then(Value::as_bool) == Some(true))
                    .collect()
            })
            .unwrap_or_default();
        if weakened.is_empty() {
            Outcome::passed(
                format!("AppArmor and /proc masking left on, from {}", source(files)),
                Some(CONFIG),
            )
        } else {
            Outcome::failed(
                format!("{} set to true", weakened.join(" and ")),
                Some(CONFIG),
            )
        }
    })
}
