use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};

use super::containerd::{SOCKET, installed};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-CONTAINERD-SOCKET-PERMISSIONS",
    title: "containerd's socket open to more than root",
    severity: Critical,
    benchmark: "CIS Docker Benchmark v1.6.0, 3.15 and 3.16 (ownership and mode of the engine's socket), for containerd's socket",
    doc: "containerd's socket (`/run/containerd/containerd.sock`) is not owned by root, or its \
mode lets others than root and its group use it (more than `660`).\n\n\
Why: the socket is containerd's full API: whoever can write to it starts a privileged \
container with the host's disk, which is root on the node.\n\n\
Fix: `chown root:root /run/containerd/containerd.sock && chmod 660 …`; containerd creates it \
so (`[grpc] uid`, `gid`), and keep any group given to it to the people who may be root.\n\n\
Example: `srw-rw-rw- root root /run/containerd/containerd.sock`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    if !installed(host) {
        return Outcome::not_applicable("no containerd on this host");
    }
    let Some(metadata) = host
        .metadata(SOCKET)
        .filter(|metadata| metadata.file_type().is_socket())
    else {
        return Outcome::not_applicable("containerd's socket is not there (it is not running)");
    };
    let mode = metadata.mode() & 0o7777;
    let mut wrong = Vec::new();
    if metadata.uid() != 0 {
        wrong.push(format!("owned by uid {}, not root", metadata.uid()));
    }
    if mode & !0o660 != 0 {
        wrong.push(format!("mode {mode:o} is wider than 660"));
    }
    if wrong.is_empty() {
        Outcome::passed(format!("mode {mode:o}, owned by root"), Some(SOCKET))
    } else {
        Outcome::failed(wrong.join("; "), Some(SOCKET))
    }
}
