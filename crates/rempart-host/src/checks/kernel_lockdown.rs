use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-KERNEL-LOCKDOWN",
    title: "Kernel lockdown off",
    severity: Low,
    benchmark: "Linux kernel lockdown LSM (kernel.org documentation: kernel_lockdown(7))",
    doc: "The kernel's lockdown mode is `none`.\n\n\
Why: lockdown (`integrity`) stops even root from changing the running kernel: loading \
unsigned modules, writing `/dev/mem`, kexec of unsigned kernels. A process that escaped a \
container as root then cannot plant a rootkit in the kernel.\n\n\
Fix: boot with `lockdown=integrity` (Secure Boot enables it on many distributions); check \
that the drivers and tools you need (unsigned modules, some tracing) still work.\n\n\
Example: `/sys/kernel/security/lockdown` reads `[none] integrity confidentiality`.",
}

const PATH: &str = "/sys/kernel/security/lockdown";

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    let Some(text) = host.read(PATH) else {
        return Outcome::not_applicable(format!(
            "{PATH} does not exist (no lockdown support, or securityfs not mounted)"
        ));
    };
    let active = text
        .split_whitespace()
        .find_map(|mode| mode.strip_prefix('[').and_then(|m| m.strip_suffix(']')))
        .unwrap_or("unknown")
        .to_owned();
    if active == "integrity" || active == "confidentiality" {
        Outcome::passed(format!("lockdown is {active}"), Some(PATH))
    } else {
        Outcome::failed(format!("lockdown is {active}"), Some(PATH))
    }
}
