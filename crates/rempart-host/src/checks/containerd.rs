//! containerd as the checks see it: whether it is installed, and its `config.toml` (version 2
//! or 3; the CRI plugin's table moved between them).

use toml::{Table, Value};

use super::Outcome;
use super::engine_toml;
use crate::Host;

pub(crate) const CONFIG: &str = "/etc/containerd/config.toml";
pub(crate) const SOCKET: &str = "/run/containerd/containerd.sock";

pub(crate) fn installed(host: &Host) -> bool {
    host.exists(CONFIG)
        || host.exists("/usr/bin/containerd")
        || host.exists("/usr/local/bin/containerd")
        || host.exists(SOCKET)
}

/// Runs `judge` on containerd's settings (empty when it has no file: its defaults apply), with
/// the not-applicable and unreadable cases said the same way by every check.
pub(crate) fn with_containerd(
    host: &Host,
    judge: impl FnOnce(&Table, &[String]) -> Outcome,
) -> Outcome {
    if !installed(host) {
        return Outcome::not_applicable("no containerd on this host");
    }
    engine_toml::judge(host, &[CONFIG], None, CONFIG, judge)
}

/// The CRI plugin's settings: `io.containerd.grpc.v1.cri` (config version 2) or
/// `io.containerd.cri.v1.runtime` (version 3).
pub(crate) fn cri(settings: &Table) -> Option<&Table> {
    let plugins = settings.get("plugins")?.as_table()?;
    ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"]
        .iter()
        .find_map(|name| plugins.get(*name).and_then(Value::as_table))
}
