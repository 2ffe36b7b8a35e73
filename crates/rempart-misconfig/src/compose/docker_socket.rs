use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "COMPOSE-DOCKER-SOCKET",
    title: "Docker socket mounted into a compose service",
    severity: Critical,
    target: Compose,
    doc: "A service mounts the Docker (or containerd/podman) socket, in short (`/var/run/docker.sock:/var/run/docker.sock`) \
or long (`{type: bind, source: /var/run/docker.sock}`) volume syntax. Read-only mounts are \
reported too: the API is reached over the socket whatever the mount mode.\n\n\
Why: whoever talks to the Docker API can start a privileged container mounting the host's root: \
the socket is root on the host.\n\n\
Fix: remove the mount; for tools that need container metadata use a filtering socket proxy with \
a minimal allow list.\n\n\
Example: `volumes: [\"/var/run/docker.sock:/var/run/docker.sock:ro\"]`.",
}

const SOCKETS: &[&str] = &["docker.sock", "containerd.sock", "podman.sock", "crio.sock"];

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for service in &context.services {
        let volumes = service.value.get("volumes").and_then(Value::as_array);
        for volume in volumes.into_iter().flatten() {
            let source = match volume {
                Value::String(short) => short.split(':').next().unwrap_or("").to_owned(),
                Value::Object(long) => long
                    .get("source")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                _ => continue,
            };
            if SOCKETS.iter().any(|s| source.ends_with(s)) {
                out.push(context.finding(&CHECK, service, format!("remove the {source} mount")));
            }
        }
    }
}
