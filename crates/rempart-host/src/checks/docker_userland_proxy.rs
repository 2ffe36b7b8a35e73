use super::docker_daemon::expect_flag;
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-DOCKER-USERLAND-PROXY",
    title: "Published ports go through the userland proxy",
    severity: Low,
    benchmark: "CIS Docker Benchmark v1.6.0, 2.17: Ensure Userland Proxy is Disabled",
    doc: "The Docker engine's `userland-proxy` is on, its default: a `docker-proxy` process \
runs for every published port.\n\n\
Why: each proxy is one more root-started process listening on the host, and it hides the \
client's address from the container; the kernel's NAT rules do the same work.\n\n\
Fix: `\"userland-proxy\": false` in `/etc/docker/daemon.json` (hairpin NAT must work on \
the host's kernel).\n\n\
Example: a `daemon.json` without `userland-proxy`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    expect_flag(host, "userland-proxy", true, false)
}
