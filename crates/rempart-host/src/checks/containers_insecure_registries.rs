use toml::{Table, Value};

use super::engine_toml::{get, judge, source};
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

const CONFIG: &str = "/etc/containers/registries.conf";
const DROP_INS: &str = "/etc/containers/registries.conf.d";

host_check! {
    code: "HOST-CONTAINERS-INSECURE-REGISTRIES",
    title: "Podman and CRI-O pull over plain HTTP or unverified TLS",
    severity: High,
    benchmark: "CIS Docker Benchmark v1.6.0, 2.5: Ensure insecure registries are not used (registries.conf(5) is its equivalent for Podman, CRI-O, Buildah and Skopeo)",
    doc: "`/etc/containers/registries.conf` (or a file of `registries.conf.d`) marks a registry \
`insecure = true` (version 2 format, `[[registry]]`), or lists it under \
`[registries.insecure]` (version 1).\n\n\
Why: anyone on the network path to such a registry can serve their own image for any name the \
host pulls, and read the credentials sent to it.\n\n\
Fix: give the registry a certificate the host trusts (`/etc/containers/certs.d/HOST/ca.crt`) \
and remove `insecure`. Loopback registries are not reported.\n\n\
Example: `[[registry]]` with `location = \"registry.internal:5000\"` and `insecure = true`.",
}

fn loopback(location: &str) -> bool {
    location.starts_with("127.")
        || location.starts_with("localhost")
        || location.starts_with("[::1]")
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    if !(host.exists(CONFIG) || host.exists(DROP_INS)) {
        return Outcome::not_applicable(format!("no {CONFIG} (no Podman, CRI-O or Skopeo)"));
    }
    judge(host, &[CONFIG], Some(DROP_INS), CONFIG, judge_settings)
}

fn judge_settings(settings: &Table, files: &[String]) -> Outcome {
    let mut insecure: Vec<String> = settings
        .get("registry")
        .and_then(Value::as_array)
        .map(|registries| {
            registries
                .iter()
                .filter(|r| r.get("insecure").and_then(Value::as_bool) == Some(true))
                .filter_map(|r| {
                    r.get("location")
                        .or_else(|| r.get("prefix"))
                        .and_then(Value::as_str)
                })
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(listed) =
        get(settings, &["registries", "insecure", "registries"]).and_then(Value::as_array)
    {
        insecure.extend(listed.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    insecure.retain(|location| !loopback(location));
    insecure.sort();
    insecure.dedup();
    let source = source(files);
    if insecure.is_empty() {
        Outcome::passed(format!("no insecure registry, in {source}"), Some(CONFIG))
    } else {
        Outcome::failed(
            format!("insecure: {} (in {source})", insecure.join(", ")),
            Some(CONFIG),
        )
    }
}
