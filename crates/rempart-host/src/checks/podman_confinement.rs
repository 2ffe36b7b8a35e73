use toml::{Table, Value};

use super::engine_toml::{dangerous_capabilities, get, judge, source};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

/// containers.conf in the order Podman reads it: the distribution's, then the administrator's,
/// then drop-ins.
const FILES: [&str; 2] = [
    "/usr/share/containers/containers.conf",
    "/etc/containers/containers.conf",
];
const DROP_INS: &str = "/etc/containers/containers.conf.d";

host_check! {
    code: "HOST-PODMAN-CONFINEMENT",
    title: "Podman weakens the confinement every container gets",
    severity: High,
    benchmark: "CIS Docker Benchmark v1.6.0, 5.1, 5.3 and 5.21 (AppArmor, capabilities, seccomp), as containers.conf applies them to Podman's containers",
    doc: "`containers.conf` (`/usr/share/containers/`, `/etc/containers/` and \
`containers.conf.d/*.conf`, merged in that order) runs containers unconfined by default: \
`seccomp_profile = \"unconfined\"`, `apparmor_profile = \"unconfined\"`, or \
`default_capabilities` with a capability that reaches the host (`SYS_ADMIN`, `NET_ADMIN`, \
`SYS_PTRACE`, …).\n\n\
Why: every container Podman (and Buildah) starts on the host gets these defaults, whatever \
its command line asks.\n\n\
Fix: remove the settings (Podman's defaults confine), and add a capability on the command \
line of the one container that needs it (`--cap-add`).\n\n\
Example: `[containers]` with `seccomp_profile = \"unconfined\"`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    let installed = host.exists("/usr/bin/podman")
        || FILES.iter().any(|file| host.exists(file))
        || host.exists(DROP_INS);
    if !installed {
        return Outcome::not_applicable("no Podman on this host");
    }
    judge(host, &FILES, Some(DROP_INS), FILES[1], judge_settings)
}

fn judge_settings(settings: &Table, files: &[String]) -> Outcome {
    let containers = |key: &str| get(settings, &["containers", key]);
    let mut weakened = Vec::new();
    for key in ["seccomp_profile", "apparmor_profile"] {
        if containers(key).and_then(Value::as_str) == Some("unconfined") {
            weakened.push(format!("{key} = \"unconfined\""));
        }
    }
    let capabilities = dangerous_capabilities(containers("default_capabilities"));
    if !capabilities.is_empty() {
        weakened.push(format!(
            "default_capabilities holds {}",
            capabilities.join(", ")
        ));
    }
    let source = source(files);
    if weakened.is_empty() {
        Outcome::passed(format!("confined by default, from {source}"), None)
    } else {
        Outcome::failed(
            format!("{} (from {source})", weakened.join("; ")),
            files.last().map(String::as_str),
        )
    }
}
