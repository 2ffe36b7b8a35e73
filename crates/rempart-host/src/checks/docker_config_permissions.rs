use std::os::unix::fs::MetadataExt as _;

use super::docker_daemon::{DAEMON_JSON, installed};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-DOCKER-CONFIG-PERMISSIONS",
    title: "Engine configuration writable by others than root",
    severity: High,
    benchmark: "CIS Docker Benchmark v1.6.0, 3.17 and 3.18: Ensure that the daemon.json file ownership is set to root:root; permissions are set to 644 or more restrictive",
    doc: "`/etc/docker/daemon.json` is not owned by `root:root`, or others than root may write \
to it (a mode wider than `644`).\n\n\
Why: whoever writes the engine's configuration decides, at its next start, which registries \
it trusts, whether its API listens on the network, and how containers are confined.\n\n\
Fix: `chown root:root /etc/docker/daemon.json && chmod 644 /etc/docker/daemon.json`.\n\n\
Example: `-rw-rw-rw- root root /etc/docker/daemon.json`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    if !installed(host) {
        return Outcome::not_applicable("no Docker engine on this host");
    }
    let Some(metadata) = host.metadata(DAEMON_JSON) else {
        return Outcome::not_applicable(format!("{DAEMON_JSON} does not exist"));
    };
    let mode = metadata.mode() & 0o7777;
    let mut wrong = Vec::new();
    if metadata.uid() != 0 || metadata.gid() != 0 {
        wrong.push(format!(
            "owned by {}:{}, not root:root",
            metadata.uid(),
            metadata.gid()
        ));
    }
    if mode & !0o644 != 0 {
        wrong.push(format!("mode {mode:o} is wider than 644"));
    }
    if wrong.is_empty() {
        Outcome::passed(
            format!("mode {mode:o}, owned by root:root"),
            Some(DAEMON_JSON),
        )
    } else {
        Outcome::failed(wrong.join("; "), Some(DAEMON_JSON))
    }
}
