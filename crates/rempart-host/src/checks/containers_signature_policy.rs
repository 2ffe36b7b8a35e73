use serde_json::Value;

use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

const POLICY: &str = "/etc/containers/policy.json";

host_check! {
    code: "HOST-CONTAINERS-SIGNATURE-POLICY",
    title: "Podman and CRI-O run images nobody signed",
    severity: Medium,
    benchmark: "CIS Docker Benchmark v1.6.0, 4.5: Ensure Content trust for Docker is Enabled (containers-policy.json(5) is its equivalent for Podman, CRI-O, Buildah and Skopeo)",
    doc: "`/etc/containers/policy.json` accepts any image by default (`insecureAcceptAnything`) \
and no registry scope of the `docker` transport requires a signature (`signedBy`, \
`sigstoreSigned`).\n\n\
Why: the host pulls and runs whatever a registry (or anyone between it and the host) serves \
under a name: a tag moved by an intruder, a typo-squatted repository.\n\n\
Fix: require signatures for the registries you run from, and reject the rest: \
`\"default\": [{\"type\": \"reject\"}]` with a `transports.docker` entry per registry \
holding a `sigstoreSigned` requirement with your key or keyless identity. Admission control \
(`rempart admit`, the server's webhook with `images.trust`) does the same for Kubernetes.\n\n\
Example: Debian's and Ubuntu's default `{\"default\": [{\"type\": \"insecureAcceptAnything\"}]}`.",
}

fn requires_signature(requirements: &Value) -> bool {
    requirements.as_array().is_some_and(|list| {
        list.iter().any(|requirement| {
            matches!(
                requirement["type"].as_str(),
                Some("signedBy" | "sigstoreSigned")
            )
        })
    })
}

fn accepts_anything(requirements: &Value) -> bool {
    requirements.as_array().is_some_and(|list| {
        list.iter()
            .any(|requirement| requirement["type"] == "insecureAcceptAnything")
    })
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    if !host.exists(POLICY) {
        return Outcome::not_applicable(format!("no {POLICY} (no Podman, CRI-O or Skopeo)"));
    }
    let Some(policy) = host
        .read(POLICY)
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .filter(Value::is_object)
    else {
        return Outcome::failed(
            format!("{POLICY} cannot be judged: it is not a readable JSON object"),
            Some(POLICY),
        );
    };
    let docker = policy["transports"]["docker"].as_object();
    let signed: Vec<&str> = docker
        .map(|scopes| {
            scopes
                .iter()
                .filter(|(_, requirements)| requires_signature(requirements))
                .map(|(scope, _)| scope.as_str())
                .collect()
        })
        .unwrap_or_default();
    let open_by_default = accepts_anything(&policy["default"]);
    if open_by_default && signed.is_empty() {
        Outcome::failed(
            "the default accepts any image (insecureAcceptAnything) and no registry requires a signature",
            Some(POLICY),
        )
    } else if open_by_default {
        Outcome::passed(
            format!(
                "signatures required for {}; other registries are accepted unsigned",
                signed.join(", ")
            ),
            Some(POLICY),
        )
    } else {
        Outcome::passed("the default does not accept unsigned images", Some(POLICY))
    }
}
