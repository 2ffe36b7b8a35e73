use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-KERNEL-LSM",
    title: "No mandatory access control confines containers",
    severity: High,
    benchmark: "CIS Docker Benchmark v1.6.0, 5.1 and 5.2 (AppArmor, SELinux profiles for containers); CIS Debian Linux Benchmark, mandatory access control",
    doc: "Neither AppArmor nor SELinux (in enforcing mode) is active in the kernel.\n\n\
Why: the container engines' default AppArmor profile or SELinux policy is what stops a \
process in a container from writing to `/proc` and `/sys` files, mounting filesystems or \
reaching other containers' files when another protection fails; without one, a \
misconfigured container has only its capabilities and seccomp left.\n\n\
Fix: enable AppArmor (`apparmor=1 security=apparmor` on the kernel command line, the \
`apparmor` package) or put SELinux in enforcing mode (`SELINUX=enforcing`).\n\n\
Example: `/sys/module/apparmor/parameters/enabled` reads `N`.",
}

const APPARMOR: &str = "/sys/module/apparmor/parameters/enabled";
const SELINUX: &str = "/sys/fs/selinux/enforce";

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    if !host.exists("/sys/kernel") {
        return Outcome::not_applicable("/sys is not mounted under the audited root");
    }
    let apparmor = host.read(APPARMOR).map(|text| text.trim().to_owned());
    let selinux = host.read(SELINUX).map(|text| text.trim().to_owned());
    match (apparmor.as_deref(), selinux.as_deref()) {
        (Some("Y"), _) => Outcome::passed("AppArmor is enabled", Some(APPARMOR)),
        (_, Some("1")) => Outcome::passed("SELinux is enforcing", Some(SELINUX)),
        (_, Some(mode)) => Outcome::failed(
            format!(
                "SELinux is present but not enforcing ({SELINUX} reads {mode}), and AppArmor is not enabled"
            ),
            Some(SELINUX),
        ),
        (Some(state), None) => Outcome::failed(
            format!("AppArmor is not enabled ({APPARMOR} reads {state}) and SELinux is absent"),
            Some(APPARMOR),
        ),
        (None, None) => Outcome::failed("the kernel has neither AppArmor nor SELinux active", None),
    }
}
