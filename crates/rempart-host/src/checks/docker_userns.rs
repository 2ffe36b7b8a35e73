use serde_json::Value;

use super::docker_daemon::{DAEMON_JSON, shown, with_daemon};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-DOCKER-USERNS",
    title: "Container root is root on the host",
    severity: High,
    benchmark: "CIS Docker Benchmark v1.6.0, 2.10: Enable user namespace support",
    doc: "The Docker engine does not remap users (`userns-remap` unset): user 0 in a container \
is user 0 on the host.\n\n\
Why: a process that escapes its container (a kernel bug, a mounted socket, a writable host \
path) is root on the host. With remapping, container root is an unprivileged user outside.\n\n\
Fix: `\"userns-remap\": \"default\"` in `/etc/docker/daemon.json` (or rootless Docker), and \
check that images and volumes still work with the shifted owners.\n\n\
Example: a `daemon.json` without `userns-remap`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    with_daemon(host, |settings| {
        match settings.get("userns-remap").and_then(Value::as_str) {
            Some(remap) if !remap.is_empty() => Outcome::passed(
                format!("containers' users are remapped (`userns-remap: {remap}`)"),
                Some(DAEMON_JSON),
            ),
            _ => Outcome::failed(shown(settings, "userns-remap"), Some(DAEMON_JSON)),
        }
    })
}
