use serde_json::Value;

use super::container_check::{judge_containers, own_namespaces};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-CONTAINER-ROOT",
    title: "Container process runs as root on the host",
    severity: High,
    benchmark: "CIS Docker Benchmark v1.6.0, 4.1: Ensure that a user for the container has been created; 5 (container runtime)",
    doc: "A container's process runs as user 0 and the container has no user namespace of its \
own: root in the container is root on the host.\n\n\
Why: what the container can still reach on the host (a mounted path, a device, a kernel flaw \
to escape through) it reaches as root.\n\n\
Fix: run as a non-root user (`USER` in the image, `runAsNonRoot` in Kubernetes, `--user`), or \
map users (`userns-remap`, rootless engines, `hostUsers: false`).\n\n\
Example: a container whose `process.user.uid` is 0 without a `user` namespace.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    judge_containers(host, |container| {
        let uid = container.spec["process"]["user"]["uid"]
            .as_u64()
            .unwrap_or(0);
        let remapped = own_namespaces(container).contains(&"user")
            && container.spec["linux"]["uidMappings"]
                .as_array()
                .is_some_and(|maps| {
                    maps.iter().all(|map| {
                        map["containerID"].as_u64() != Some(0) || map["hostID"].as_u64() != Some(0)
                    })
                });
        (uid == 0 && !remapped).then(|| {
            format!(
                "runs as uid 0 ({}) without a user namespace",
                container.spec["process"]["args"][0]
                    .as_str()
                    .map_or_else(|| Value::Null.to_string(), str::to_owned)
            )
        })
    })
}
