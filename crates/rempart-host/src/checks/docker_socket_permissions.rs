use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};

use super::docker_daemon::{SOCKETS, installed};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-DOCKER-SOCKET-PERMISSIONS",
    title: "Engine socket open to more than root and the docker group",
    severity: Critical,
    benchmark: "CIS Docker Benchmark v1.6.0, 3.15 and 3.16: Ensure that the Docker socket file ownership is set to root:docker; permissions are set to 660 or more restrictive",
    doc: "The Docker engine's socket (`/run/docker.sock`) is not owned by `root:docker`, or \
its mode gives access to others than them (more than `660`).\n\n\
Why: whoever can write to the socket controls the engine, which is root on the host: a \
world-writable socket makes every local user and every process (a web application, a \
compromised service) root.\n\n\
Fix: `chown root:docker /run/docker.sock && chmod 660 /run/docker.sock` (the engine's \
socket unit sets `SocketMode=0660`, `SocketGroup=docker`), and keep the docker group to the \
people who may be root.\n\n\
Example: `srw-rw-rw- root root /run/docker.sock`.",
}

/// The group id of `name` in the host's `/etc/group`.
pub(crate) fn group_id(host: &Host, name: &str) -> Option<u32> {
    host.read("/etc/group")?.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then_some(())?;
        fields.nth(1)?.parse().ok()
    })
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    if !installed(host) {
        return Outcome::not_applicable("no Docker engine on this host");
    }
    let Some((path, metadata)) = SOCKETS
        .iter()
        .find_map(|path| Some((*path, host.metadata(path)?)))
        .filter(|(_, metadata)| metadata.file_type().is_socket())
    else {
        return Outcome::not_applicable(
            "the engine's socket is not there (the engine is not running)",
        );
    };
    let docker_group = group_id(host, "docker");
    let mode = metadata.mode() & 0o7777;
    let mut wrong = Vec::new();
    if metadata.uid() != 0 {
        wrong.push(format!("owned by uid {}, not root", metadata.uid()));
    }
    if metadata.gid() != 0 && Some(metadata.gid()) != docker_group {
        wrong.push(format!(
            "group {} is neither docker nor root",
            metadata.gid()
        ));
    }
    if mode & !0o660 != 0 {
        wrong.push(format!("mode {mode:o} is wider than 660"));
    }
    if wrong.is_empty() {
        Outcome::passed(format!("mode {mode:o}, owned by root"), Some(path))
    } else {
        Outcome::failed(wrong.join("; "), Some(path))
    }
}
