use super::container_check::{capabilities, judge_containers};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-CONTAINER-NO-SECCOMP",
    title: "Container runs without a seccomp filter",
    severity: Medium,
    benchmark: "CIS Docker Benchmark v1.6.0, 5.21: Ensure the default seccomp profile is not Disabled",
    doc: "A container's runtime configuration has no seccomp filter (`--security-opt \
seccomp=unconfined`, `seccompProfile: Unconfined`). Privileged containers are reported by \
their own check.\n\n\
Why: the engines' default filter blocks the system calls most kernel exploits use from a \
container (`keyctl`, `unshare`, `bpf`, `userfaultfd`…); without it the whole kernel interface \
is open to the container.\n\n\
Fix: remove `unconfined`; use the engine's default profile (`RuntimeDefault` in Kubernetes) or a \
tailored one.\n\n\
Example: `podman run --security-opt seccomp=unconfined …`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    judge_containers(host, |container| {
        let privileged = capabilities(container).len() >= 38;
        (container.spec["linux"]["seccomp"].is_null() && !privileged)
            .then(|| "no seccomp filter".to_owned())
    })
}
