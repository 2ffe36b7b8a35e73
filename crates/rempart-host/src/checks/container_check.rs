//! What the container checks share: each judges every container on the host and fails on the
//! ones that do what it forbids, one offender each.

use serde_json::Value;

use super::Outcome;
use crate::{Container, Host, Offender};

/// Judges every container with `fault` (why it fails, or `None`); not applicable without
/// containers.
pub(crate) fn judge_containers(
    host: &Host,
    fault: impl Fn(&Container) -> Option<String>,
) -> Outcome {
    let containers = host.containers();
    if containers.is_empty() {
        return Outcome::not_applicable(
            "no container runtime configuration on this host (containerd, Docker, Podman, CRI-O)",
        );
    }
    let offenders: Vec<Offender> = containers
        .iter()
        .filter_map(|container| {
            fault(container).map(|detail| Offender {
                name: container.name.clone(),
                image: container.image.clone(),
                path: container.path.clone(),
                detail,
            })
        })
        .collect();
    if offenders.is_empty() {
        return Outcome::passed(format!("{} containers judged", containers.len()), None);
    }
    let mut outcome = Outcome::failed(
        format!(
            "{} of {} containers: {}",
            offenders.len(),
            containers.len(),
            offenders
                .iter()
                .map(|o| format!("{} ({})", o.name, o.detail))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        None,
    );
    outcome.offenders = offenders;
    outcome
}

/// The container's capabilities: the bounding set (what it may ever hold).
pub(crate) fn capabilities(container: &Container) -> Vec<&str> {
    container.spec["process"]["capabilities"]["bounding"]
        .as_array()
        .map(|caps| caps.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The namespace types the container has of its own (`pid`, `network`, `ipc`, `uts`, `mount`,
/// `user`, `cgroup`); a type absent from the list is shared with the host.
pub(crate) fn own_namespaces(container: &Container) -> Vec<&str> {
    container.spec["linux"]["namespaces"]
        .as_array()
        .map(|namespaces| {
            namespaces
                .iter()
                // A namespace with a path joins an existing one (another container's, or the
                // host's when the path is one of PID 1's).
                .filter(|ns| {
                    ns.get("path")
                        .and_then(Value::as_str)
                        .is_none_or(|path| !path.starts_with("/proc/1/"))
                })
                .filter_map(|ns| ns["type"].as_str())
                .collect()
        })
        .unwrap_or_default()
}
