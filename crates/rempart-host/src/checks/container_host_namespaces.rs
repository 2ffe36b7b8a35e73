use super::container_check::{judge_containers, own_namespaces};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-CONTAINER-HOST-NAMESPACES",
    title: "Container shares the host's process, network or IPC namespace",
    severity: High,
    benchmark: "CIS Docker Benchmark v1.6.0, 5.9, 5.15, 5.16: Ensure that the host's network, process and IPC namespaces are not shared",
    doc: "A container has no `pid`, `network` or `ipc` namespace of its own (`--pid=host`, \
`--network=host`, `--ipc=host`; `hostPID`, `hostNetwork`, `hostIPC` in Kubernetes).\n\n\
Why: with the host's process namespace it sees (and, as root, signals and traces) every \
process of the host; with its network, it reaches services bound to the host's loopback and \
can sniff its interfaces; with its IPC, it reads the host's shared memory.\n\n\
Fix: drop the `host` modes; publish the ports needed instead of sharing the network.\n\n\
Example: `podman run --network=host …`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    judge_containers(host, |container| {
        let own = own_namespaces(container);
        let shared: Vec<&str> = ["pid", "network", "ipc"]
            .into_iter()
            .filter(|kind| !own.contains(kind))
            .collect();
        (!shared.is_empty()).then(|| format!("shares the host's {}", shared.join(", ")))
    })
}
