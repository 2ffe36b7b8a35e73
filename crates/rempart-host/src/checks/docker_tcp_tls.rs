use serde_json::Value;

use super::docker_daemon::{DAEMON_JSON, flag, with_daemon};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-DOCKER-TCP-TLS",
    title: "Engine API on TCP without client certificates",
    severity: Critical,
    benchmark: "CIS Docker Benchmark v1.6.0, 2.8: Ensure TLS authentication for Docker daemon is configured",
    doc: "`/etc/docker/daemon.json` makes the engine listen on a TCP address (`hosts: \
[\"tcp://…\"]`) without `tlsverify` and its certificates.\n\n\
Why: the engine's API is root on the host: anyone who reaches the port starts a privileged \
container with the host's disk mounted. Unauthenticated Docker APIs are scanned for and \
taken over within hours of being exposed.\n\n\
Fix: remove the TCP address (use the Unix socket, or SSH: `DOCKER_HOST=ssh://…`), or set \
`tlsverify: true` with `tlscacert`, `tlscert` and `tlskey`, so that only clients with a \
certificate from your CA connect.\n\n\
Example: `\"hosts\": [\"unix:///var/run/docker.sock\", \"tcp://0.0.0.0:2375\"]`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    with_daemon(host, |settings| {
        let tcp: Vec<&str> = settings
            .get("hosts")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|address| address.starts_with("tcp://"))
                    .collect()
            })
            .unwrap_or_default();
        if tcp.is_empty() {
            return Outcome::passed("the engine listens on no TCP address", Some(DAEMON_JSON));
        }
        let verified = flag(settings, "tlsverify", false)
            && ["tlscacert", "tlscert", "tlskey"]
                .iter()
                .all(|key| settings.get(*key).and_then(Value::as_str).is_some());
        if verified {
            Outcome::passed(
                format!(
                    "{} requires client certificates (tlsverify)",
                    tcp.join(", ")
                ),
                Some(DAEMON_JSON),
            )
        } else {
            Outcome::failed(
                format!(
                    "the engine listens on {} without tlsverify and its certificates",
                    tcp.join(", ")
                ),
                Some(DAEMON_JSON),
            )
        }
    })
}
