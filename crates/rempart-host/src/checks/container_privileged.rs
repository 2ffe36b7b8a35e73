use super::container_check::{capabilities, judge_containers};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-CONTAINER-PRIVILEGED",
    title: "Privileged container running",
    severity: Critical,
    benchmark: "CIS Docker Benchmark v1.6.0, 5.5: Ensure that privileged containers are not used",
    doc: "A container on the host runs privileged (`--privileged`, `privileged: true`): every \
capability, no seccomp filter, no masked `/proc` and `/sys` paths. Read from the container's OCI \
runtime configuration.\n\n\
Why: a privileged container is root on the host with a different root directory: it can load \
kernel modules, mount the host's disks, and reach every device. Escaping it is a matter of \
minutes.\n\n\
Fix: give the container the one capability or device it needs (`--cap-add`, `--device`), \
never `--privileged`; in Kubernetes, the Pod Security Standards' baseline level forbids it.\n\n\
Example: `podman run --privileged …`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    judge_containers(host, |container| {
        let all_capabilities = capabilities(container).contains(&"CAP_SYS_ADMIN")
            && capabilities(container).len() >= 38;
        let unfiltered = container.spec["linux"]["seccomp"].is_null();
        let unmasked = container.spec["linux"]["maskedPaths"]
            .as_array()
            .is_none_or(Vec::is_empty);
        (all_capabilities && unfiltered && unmasked)
            .then(|| "every capability, no seccomp, nothing masked".to_owned())
    })
}
