use toml::{Table, Value};

use super::engine_toml::{dangerous_capabilities, get, judge, source};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

const CONFIG: &str = "/etc/crio/crio.conf";
const DROP_INS: &str = "/etc/crio/crio.conf.d";

host_check! {
    code: "HOST-CRIO-CONFINEMENT",
    title: "CRI-O weakens the confinement every container gets",
    severity: High,
    benchmark: "CIS Docker Benchmark v1.6.0, 5.1, 5.3 and 5.21 (AppArmor, capabilities, seccomp), as CRI-O applies them to Kubernetes pods",
    doc: "CRI-O's configuration (`/etc/crio/crio.conf` and `crio.conf.d/*.conf`, merged in \
name order) runs containers unconfined by default: `apparmor_profile = \"unconfined\"`, \
`seccomp_use_default_when_empty = false` (pods that name no profile get none), \
`default_capabilities` with a capability that reaches the host (`SYS_ADMIN`, `NET_ADMIN`, \
`SYS_PTRACE`, `SYS_MODULE`, …), or `no_pivot = true`.\n\n\
Why: these defaults apply to every pod on the node, including pods whose manifests ask for \
nothing special, and nothing in Kubernetes shows them.\n\n\
Fix: remove the settings (CRI-O's defaults confine), and give a capability to the pods that \
need it in their `securityContext`.\n\n\
Example: `[crio.runtime]` with `default_capabilities = [\"CHOWN\", \"SYS_ADMIN\"]`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    if !(host.exists(CONFIG) || host.exists("/usr/bin/crio") || host.exists(DROP_INS)) {
        return Outcome::not_applicable("no CRI-O on this host");
    }
    judge(host, &[CONFIG], Some(DROP_INS), CONFIG, judge_settings)
}

fn judge_settings(settings: &Table, files: &[String]) -> Outcome {
    let runtime = |key: &str| get(settings, &["crio", "runtime", key]);
    let mut weakened = Vec::new();
    if runtime("apparmor_profile").and_then(Value::as_str) == Some("unconfined") {
        weakened.push("apparmor_profile = \"unconfined\"".to_owned());
    }
    if runtime("seccomp_use_default_when_empty").and_then(Value::as_bool) == Some(false) {
        weakened.push("seccomp_use_default_when_empty = false".to_owned());
    }
    let capabilities = dangerous_capabilities(runtime("default_capabilities"));
    if !capabilities.is_empty() {
        weakened.push(format!(
            "default_capabilities holds {}",
            capabilities.join(", ")
        ));
    }
    if runtime("no_pivot").and_then(Value::as_bool) == Some(true) {
        weakened.push("no_pivot = true".to_owned());
    }
    let source = source(files);
    if weakened.is_empty() {
        Outcome::passed(format!("confined by default, from {source}"), Some(CONFIG))
    } else {
        Outcome::failed(
            format!("{} (from {source})", weakened.join("; ")),
            files.last().map(String::as_str).or(Some(CONFIG)),
        )
    }
}
