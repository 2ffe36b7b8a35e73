use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-KERNEL-USERNS",
    title: "User namespaces unavailable",
    severity: Medium,
    benchmark: "CIS Docker Benchmark v1.6.0, 2.10: Enable user namespace support (which needs them)",
    doc: "`user.max_user_namespaces` is 0: the kernel creates no user namespaces.\n\n\
Why: user namespaces are what maps container root to an unprivileged host user \
(`userns-remap`, rootless engines, Kubernetes' `hostUsers: false`); without them, root in a \
container is root on the host.\n\n\
Fix: `sysctl -w user.max_user_namespaces=15000` (and in `/etc/sysctl.d/`), then enable \
remapping in the engine.\n\n\
Example: `/proc/sys/user/max_user_namespaces` reads `0`.",
}

const PATH: &str = "/proc/sys/user/max_user_namespaces";

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    let Some(text) = host.read(PATH) else {
        return Outcome::not_applicable(format!("{PATH} is not under the audited root"));
    };
    match text.trim().parse::<u64>() {
        Ok(0) => Outcome::failed("user.max_user_namespaces is 0", Some(PATH)),
        Ok(count) => Outcome::passed(format!("user.max_user_namespaces is {count}"), Some(PATH)),
        Err(_) => Outcome::failed(format!("{PATH} does not hold a number"), Some(PATH)),
    }
}
