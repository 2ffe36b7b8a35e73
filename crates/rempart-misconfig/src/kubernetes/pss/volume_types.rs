use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::{Pod, array, get_str};

check_doc! {
    code: "K8S-PSS-VOLUME-TYPES",
    title: "Volume type outside the restricted allow list (PSS restricted)",
    severity: Medium,
    target: Kubernetes,
    doc: "Pod Security Standards, restricted, Volume Types: every `spec.volumes[*]` must be one of \
configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret.\n\n\
Why: the other in-tree types (hostPath, nfs, iscsi, rbd, gitRepo, flexVolume...) reach node or \
network storage directly from the pod spec, outside the PersistentVolume controls that \
administrators manage.\n\n\
Fix: define the storage as a PersistentVolume and claim it with a persistentVolumeClaim volume.\n\n\
Example: `volumes: [{name: data, nfs: {server: nfs.local, path: /export}}]`.",
}

const ALLOWED: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
    // Read-only OCI image volumes: allowed since the 1.33 release, at every pinned version (the
    // upstream change was not tied to a version).
    "image",
];

pub(crate) fn evaluate(pod: &Pod<'_>, _minor: u32, out: &mut Vec<Violation>) {
    for volume in array(pod.spec, &["volumes"]) {
        let Some(fields) = volume.as_object() else {
            continue;
        };
        let name = get_str(volume, &["name"]).unwrap_or("<unnamed>");
        for key in fields.keys().filter(|k| k.as_str() != "name") {
            if !ALLOWED.contains(&key.as_str()) {
                out.push(Violation::pod(format!(
                    "volume {name} is of type {key}; allowed: {}",
                    ALLOWED.join(", ")
                )));
            }
        }
    }
}
