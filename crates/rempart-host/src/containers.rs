//! The containers on the host, from the engines' state on disk: each container's OCI runtime
//! configuration (`config.json`, the file the runtime itself starts it from), which every
//! engine writes: containerd (and Docker and Kubernetes through it) in its task bundles, Podman
//! and CRI-O in `containers/storage`. Reading the runtime's own input judges what runs,
//! whatever engine asked for it, without talking to any engine's socket.

use serde_json::Value;

use crate::Host;

/// Where bundles are: a pattern of directories under which each entry is a container
/// (`*` one level of names), and the file in it.
const BUNDLES: &[(&str, &str)] = &[
    // containerd: one directory per namespace (`moby` for Docker, `k8s.io` for Kubernetes).
    (
        "/run/containerd/io.containerd.runtime.v2.task/*",
        "config.json",
    ),
    // Podman (rootful) and CRI-O.
    (
        "/var/lib/containers/storage/overlay-containers",
        "userdata/config.json",
    ),
    (
        "/run/containers/storage/overlay-containers",
        "userdata/config.json",
    ),
];

/// Containers read at most: a bound on a hostile or huge state directory.
const MAX_CONTAINERS: usize = 2_000;

/// One container, as its runtime configuration describes it.
#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    /// Its name, when the engine records one; else a short id.
    pub name: String,
    pub image: Option<String>,
    /// The runtime configuration file, as a host path.
    pub path: String,
    /// The OCI runtime specification.
    pub spec: Value,
}

/// How a container is isolated from the host's kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Namespaces and cgroups on the host's kernel (runc, crun): a kernel flaw is a way out.
    SharedKernel,
    /// A virtual machine per pod or container (Kata Containers).
    VirtualMachine,
    /// A user-space kernel between the container and the host's (gVisor).
    UserSpaceKernel,
}

impl Container {
    /// The isolation the runtime gives the container, from the annotations the VM-isolated
    /// runtimes' shims add to the configuration.
    pub fn isolation(&self) -> Isolation {
        let keys: Vec<&str> = self.spec["annotations"]
            .as_object()
            .map(|map| map.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if keys.iter().any(|key| key.starts_with("io.katacontainers.")) {
            Isolation::VirtualMachine
        } else if keys.iter().any(|key| key.starts_with("dev.gvisor.")) {
            Isolation::UserSpaceKernel
        } else {
            Isolation::SharedKernel
        }
    }
}

/// Every container whose runtime configuration is on the host.
pub fn running_containers(host: &Host) -> Vec<Container> {
    let mut found = Vec::new();
    let podman_names = podman_names(host);
    for (pattern, file) in BUNDLES {
        for parent in expand(host, pattern) {
            let Ok(entries) = std::fs::read_dir(host.path(&parent)) else {
                continue;
            };
            let mut ids: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            ids.sort();
            for id in ids {
                if found.len() >= MAX_CONTAINERS {
                    return found;
                }
                let path = format!("{parent}/{id}/{file}");
                let Some(text) = host.read(&path) else {
                    continue;
                };
                let Ok(spec) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if found.iter().any(|c: &Container| c.id == id) {
                    continue;
                }
                let annotations = &spec["annotations"];
                let annotation = |key: &str| annotations.get(key).and_then(Value::as_str);
                let (podman_name, podman_image) = podman_names
                    .iter()
                    .find(|(known, _, _)| *known == id)
                    .map(|(_, name, image)| (name.clone(), image.clone()))
                    .unwrap_or_default();
                let name = annotation("io.kubernetes.cri.container-name")
                    .map(|container| {
                        let pod = annotation("io.kubernetes.cri.sandbox-name").unwrap_or("");
                        format!("{pod}/{container}")
                    })
                    .or(podman_name)
                    .unwrap_or_else(|| id.chars().take(12).collect());
                let image = annotation("io.kubernetes.cri.image-name")
                    .map(str::to_owned)
                    .or(podman_image);
                found.push(Container {
                    id,
                    name,
                    image,
                    path,
                    spec,
                });
            }
        }
    }
    found
}

/// `dir/*` as the directories it names (one level), or the directory itself.
fn expand(host: &Host, pattern: &str) -> Vec<String> {
    let Some(parent) = pattern.strip_suffix("/*") else {
        return vec![pattern.to_owned()];
    };
    let Ok(entries) = std::fs::read_dir(host.path(parent)) else {
        return Vec::new();
    };
    let mut dirs: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| format!("{parent}/{}", e.file_name().to_string_lossy()))
        .collect();
    dirs.sort();
    dirs
}

/// Podman's and CRI-O's names for their containers and images: (id, name, image name).
fn podman_names(host: &Host) -> Vec<(String, Option<String>, Option<String>)> {
    let read = |path: &str| -> Vec<Value> {
        host.read(path)
            .and_then(|text| serde_json::from_str::<Vec<Value>>(&text).ok())
            .unwrap_or_default()
    };
    let images = read("/var/lib/containers/storage/overlay-images/images.json");
    read("/var/lib/containers/storage/overlay-containers/containers.json")
        .iter()
        .filter_map(|container| {
            let id = container["id"].as_str()?.to_owned();
            let name = container["names"][0].as_str().map(str::to_owned);
            let image_id = container["image"].as_str().unwrap_or_default();
            let image = images
                .iter()
                .find(|image| image["id"].as_str() == Some(image_id))
                .and_then(|image| image["names"][0].as_str())
                .map(str::to_owned)
                .or_else(|| (!image_id.is_empty()).then(|| format!("sha256:{image_id}")));
            Some((id, name, image))
        })
        .collect()
}
