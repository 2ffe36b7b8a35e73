use toml::Value;

use super::containerd::{CONFIG, with_containerd};
use super::engine_toml::get;
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-CONTAINERD-TCP",
    title: "containerd's API on TCP without client certificates",
    severity: Critical,
    benchmark: "CIS Docker Benchmark v1.6.0, 2.8 (TLS authentication of the engine's API), for containerd's own API",
    doc: "`/etc/containerd/config.toml` makes containerd serve its gRPC API on a TCP address \
(`[grpc] tcp_address`) without TLS and a client certificate authority (`tcp_tls_cert`, \
`tcp_tls_key`, `tcp_tls_ca`).\n\n\
Why: containerd's API starts any container with any mount and capability: whoever reaches \
the port is root on the node, and can read every container's memory and secrets.\n\n\
Fix: remove `tcp_address` (the Unix socket is what the kubelet and `ctr` use), or set all \
three TLS settings, so that only clients with a certificate from your CA connect.\n\n\
Example: `[grpc]` with `tcp_address = \"0.0.0.0:10010\"`.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    with_containerd(host, |settings, _| {
        let text = |key: &str| {
            get(settings, &["grpc", key])
                .and_then(Value::as_str)
                .filter(|value| !value.trim().is_empty())
        };
        let Some(address) = text("tcp_address") else {
            return Outcome::passed("no TCP address: the Unix socket only", Some(CONFIG));
        };
        let missing: Vec<&str> = ["tcp_tls_cert", "tcp_tls_key", "tcp_tls_ca"]
            .into_iter()
            .filter(|key| text(key).is_none())
            .collect();
        if missing.is_empty() {
            Outcome::passed(
                format!("{address} with TLS and client certificates"),
                Some(CONFIG),
            )
        } else {
            Outcome::failed(
                format!("tcp_address {address} without {}", missing.join(", ")),
                Some(CONFIG),
            )
        }
    })
}
