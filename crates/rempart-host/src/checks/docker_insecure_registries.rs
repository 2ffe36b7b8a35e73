use serde_json::Value;

use super::docker_daemon::{DAEMON_JSON, with_daemon};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-DOCKER-INSECURE-REGISTRIES",
    title: "Images pulled over plain HTTP or unverified TLS",
    severity: High,
    benchmark: "CIS Docker Benchmark v1.6.0, 2.5: Ensure insecure registries are not used",
    doc: "`insecure-registries` in `/etc/docker/daemon.json` lists registries the engine talks \
to without TLS verification (or without TLS).\n\n\
Why: anyone on the network path to such a registry can serve their own image for any tag or \
digest the host pulls, and read the credentials sent to it.\n\n\
Fix: give the registries certificates the host trusts (`/etc/docker/certs.d/HOST/ca.crt`) \
and remove them from `insecure-registries`. Loopback (`127.0.0.0/8`, which the engine \
treats as insecure by itself) is not reported.\n\n\
Example: `\"insecure-registries\": [\"registry.internal:5000\"]`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    with_daemon(host, |settings| {
        let listed: Vec<&str> = settings
            .get("insecure-registries")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let insecure: Vec<&str> = listed
            .into_iter()
            .filter(|registry| {
                !(registry.starts_with("127.")
                    || registry.starts_with("localhost")
                    || *registry == "::1/128")
            })
            .collect();
        if insecure.is_empty() {
            Outcome::passed("no insecure registry is listed", Some(DAEMON_JSON))
        } else {
            Outcome::failed(
                format!("insecure-registries lists {}", insecure.join(", ")),
                Some(DAEMON_JSON),
            )
        }
    })
}
