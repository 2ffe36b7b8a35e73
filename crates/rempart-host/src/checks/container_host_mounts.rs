use serde_json::Value;

use super::container_check::judge_containers;
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-CONTAINER-HOST-MOUNTS",
    title: "Container writes to the host's files",
    severity: High,
    benchmark: "CIS Docker Benchmark v1.6.0, 5.5 and 5.31: Ensure sensitive host system directories are not mounted on containers; the Docker socket is not mounted inside any containers",
    doc: "A container has a host directory or file bind-mounted without `ro`, other than the \
engine's own per-container files (its `hosts`, `resolv.conf`, volumes under the engine's and \
the kubelet's storage).\n\n\
Why: a writable host path is a way out: a container that writes to `/etc`, to a directory on \
root's `PATH`, or to the engine's socket (`/var/run/docker.sock`, which is root on the host) \
changes the host itself.\n\n\
Fix: mount read-only (`:ro`, `readOnly: true`), mount only the files needed, use volumes \
instead of host paths, and never mount an engine's socket into a container.\n\n\
Example: `podman run -v /etc:/host-etc …`.",
}

/// Host paths the engines bind into every container of their own (per-container files and
/// managed volumes): not the host's own files.
const ENGINE_STORAGE: [&str; 7] = [
    "/var/lib/containers/",
    "/run/containers/",
    "/var/lib/docker/",
    "/var/lib/containerd/",
    "/run/containerd/",
    "/var/lib/kubelet/pods/",
    "/run/user/",
];

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    judge_containers(host, |container| {
        let writable: Vec<String> = container.spec["mounts"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|mount| {
                let options: Vec<&str> = mount["options"]
                    .as_array()
                    .map(|o| o.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let bind = mount["type"].as_str() == Some("bind")
                    || options.iter().any(|o| *o == "bind" || *o == "rbind");
                let source = mount["source"].as_str()?;
                let destination = mount["destination"].as_str().unwrap_or("?");
                let engine_owned = ENGINE_STORAGE
                    .iter()
                    .any(|prefix| source.starts_with(prefix));
                (bind && !options.contains(&"ro") && source.starts_with('/') && !engine_owned)
                    .then(|| format!("{source} on {destination}"))
            })
            .collect();
        (!writable.is_empty()).then(|| format!("writable host paths: {}", writable.join(", ")))
    })
}
