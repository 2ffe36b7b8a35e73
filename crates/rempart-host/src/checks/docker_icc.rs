use super::docker_daemon::expect_flag;
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-DOCKER-ICC",
    title: "Containers on the default bridge talk to each other freely",
    severity: Medium,
    benchmark: "CIS Docker Benchmark v1.6.0, 2.2: Ensure network traffic is restricted between containers on the default bridge",
    doc: "The Docker engine's `icc` (inter-container communication) is on, its default.\n\n\
Why: every container on the default bridge network reaches every other one's ports: one \
compromised container probes and attacks the rest, databases and admin interfaces included.\n\n\
Fix: `\"icc\": false` in `/etc/docker/daemon.json`, and user-defined networks for the \
containers that must talk (with `--link` or published ports only where needed).\n\n\
Example: a `daemon.json` without `icc`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    expect_flag(host, "icc", true, false)
}
