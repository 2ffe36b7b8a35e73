use super::container_check::{capabilities, judge_containers};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-CONTAINER-CAPABILITIES",
    title: "Container holds a capability that reaches the host",
    severity: High,
    benchmark: "CIS Docker Benchmark v1.6.0, 5.3: Ensure that Linux kernel capabilities are restricted within containers",
    doc: "A container's capabilities include one that crosses its boundary: `CAP_SYS_ADMIN` \
(mounts, namespaces, much of the kernel), `CAP_SYS_MODULE` (kernel modules), `CAP_SYS_PTRACE` \
(other processes' memory), `CAP_SYS_RAWIO`, `CAP_DAC_READ_SEARCH` (read any file by handle, the \
\"shocker\" escape), `CAP_NET_ADMIN`, `CAP_BPF`, `CAP_PERFMON`, `CAP_SYS_BOOT`. Privileged \
containers are reported by their own check.\n\n\
Why: each is a known step out of a container onto the host.\n\n\
Fix: drop them (`--cap-drop`, `securityContext.capabilities.drop: [ALL]`) and add back only \
what the process needs (`NET_BIND_SERVICE`).\n\n\
Example: `podman run --cap-add SYS_ADMIN …`.",
}

pub(crate) const DANGEROUS: [&str; 9] = [
    "CAP_SYS_ADMIN",
    "CAP_SYS_MODULE",
    "CAP_SYS_PTRACE",
    "CAP_SYS_RAWIO",
    "CAP_DAC_READ_SEARCH",
    "CAP_NET_ADMIN",
    "CAP_BPF",
    "CAP_PERFMON",
    "CAP_SYS_BOOT",
];

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    judge_containers(host, |container| {
        let held = capabilities(container);
        // Every capability: the privileged check says it.
        if held.len() >= 38 {
            return None;
        }
        let dangerous: Vec<&str> = DANGEROUS
            .into_iter()
            .filter(|cap| held.contains(cap))
            .collect();
        (!dangerous.is_empty()).then(|| format!("holds {}", dangerous.join(", ")))
    })
}
