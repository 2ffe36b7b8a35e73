use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::{Pod, array, get_str};

check_doc! {
    code: "K8S-PSS-HOSTPATH",
    title: "hostPath volume (PSS baseline)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, HostPath Volumes: `spec.volumes[*].hostPath` must be \
undefined.\n\n\
Why: a hostPath volume mounts a directory of the node; `/`, `/var/run/docker.sock`, `/etc` or \
`/var/lib/kubelet` hand over the node, and even harmless-looking paths can be combined with \
symlinks to escape.\n\n\
Fix: use emptyDir, a ConfigMap/Secret, a PersistentVolumeClaim or a CSI driver.\n\n\
Example: `volumes: [{name: sock, hostPath: {path: /var/run/docker.sock}}]`.",
}

pub(crate) fn evaluate(pod: &Pod<'_>, _minor: u32, out: &mut Vec<Violation>) {
    for volume in array(pod.spec, &["volumes"]) {
        if let Some(host_path) = volume.get("hostPath") {
            let name = get_str(volume, &["name"]).unwrap_or("<unnamed>");
            let path = get_str(host_path, &["path"]).unwrap_or("?");
            out.push(Violation::pod(format!(
                "volume {name} is hostPath {path}; allowed: undefined"
            )));
        }
    }
}
