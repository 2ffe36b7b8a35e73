use super::docker_daemon::expect_flag;
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-DOCKER-NO-NEW-PRIVILEGES",
    title: "Containers may gain privileges through setuid programs",
    severity: Medium,
    benchmark: "CIS Docker Benchmark v1.6.0, 2.15: Ensure containers are restricted from acquiring new privileges",
    doc: "The Docker engine does not set `no-new-privileges` for every container.\n\n\
Why: without it, a process in a container can raise its privileges through setuid and \
setgid programs (`su`, `sudo`, a planted binary), which is the usual second step of an \
attack.\n\n\
Fix: `\"no-new-privileges\": true` in `/etc/docker/daemon.json`.\n\n\
Example: a `daemon.json` without `no-new-privileges`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    expect_flag(host, "no-new-privileges", false, true)
}
