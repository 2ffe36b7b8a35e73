use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-KERNEL-SYSCTL",
    title: "Kernel self-protection settings off",
    severity: Medium,
    benchmark: "Kernel Self Protection Project recommended settings; CIS Debian Linux Benchmark, 1.5 (additional process hardening)",
    doc: "One of the kernel settings that make a local attacker's work harder (a process that \
escaped a container is one) is off: `kernel.kptr_restrict` (kernel addresses hidden), \
`kernel.dmesg_restrict` (the kernel log kept from unprivileged users), \
`kernel.unprivileged_bpf_disabled` (no BPF programs from unprivileged users), \
`fs.protected_symlinks` and `fs.protected_hardlinks` (no link tricks in shared directories), \
`fs.suid_dumpable` 0 (no core dumps of setuid programs), `kernel.yama.ptrace_scope` at least 1 \
(no tracing of unrelated processes).\n\n\
Why: each one closes a step kernel exploits and privilege escalations commonly take.\n\n\
Fix: set them in `/etc/sysctl.d/90-hardening.conf` and `sysctl --system`.\n\n\
Example: `kernel.unprivileged_bpf_disabled = 0`.",
}

/// A setting: its name, its file, the check on its value, what it should be.
type Setting = (&'static str, &'static str, fn(i64) -> bool, &'static str);

const SETTINGS: &[Setting] = &[
    (
        "kernel.kptr_restrict",
        "/proc/sys/kernel/kptr_restrict",
        |v| v >= 1,
        "1 or 2",
    ),
    (
        "kernel.dmesg_restrict",
        "/proc/sys/kernel/dmesg_restrict",
        |v| v == 1,
        "1",
    ),
    (
        "kernel.unprivileged_bpf_disabled",
        "/proc/sys/kernel/unprivileged_bpf_disabled",
        |v| v >= 1,
        "1 or 2",
    ),
    (
        "fs.protected_symlinks",
        "/proc/sys/fs/protected_symlinks",
        |v| v == 1,
        "1",
    ),
    (
        "fs.protected_hardlinks",
        "/proc/sys/fs/protected_hardlinks",
        |v| v == 1,
        "1",
    ),
    (
        "fs.suid_dumpable",
        "/proc/sys/fs/suid_dumpable",
        |v| v == 0,
        "0",
    ),
    (
        "kernel.yama.ptrace_scope",
        "/proc/sys/kernel/yama/ptrace_scope",
        |v| v >= 1,
        "1 or more",
    ),
];

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    if !host.exists("/proc/sys/kernel") {
        return Outcome::not_applicable("/proc/sys is not under the audited root");
    }
    let mut off = Vec::new();
    let mut read = 0;
    for (name, path, good, wanted) in SETTINGS {
        // A setting the kernel does not have (Yama not built in) is not judged.
        let Some(text) = host.read(path) else {
            continue;
        };
        read += 1;
        match text.trim().parse::<i64>() {
            Ok(value) if good(value) => {}
            Ok(value) => off.push(format!("{name} = {value} (want {wanted})")),
            Err(_) => off.push(format!("{name} is not a number")),
        }
    }
    if off.is_empty() {
        Outcome::passed(format!("{read} settings read, all on"), Some("/proc/sys"))
    } else {
        Outcome::failed(off.join("; "), Some("/proc/sys"))
    }
}
