use super::docker_daemon::expect_flag;
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-DOCKER-LIVE-RESTORE",
    title: "Containers stop when the engine restarts",
    severity: Low,
    benchmark: "CIS Docker Benchmark v1.6.0, 2.16: Ensure live restore is enabled",
    doc: "The Docker engine's `live-restore` is off, its default.\n\n\
Why: every engine restart (an upgrade, a crash) stops every container; patching the engine \
then means downtime, so it gets postponed.\n\n\
Fix: `\"live-restore\": true` in `/etc/docker/daemon.json` (not available in swarm mode).\n\n\
Example: a `daemon.json` without `live-restore`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    expect_flag(host, "live-restore", false, true)
}
