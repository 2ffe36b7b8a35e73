//! docker-compose checks (`COMPOSE-...`).

mod cap_add;
mod docker_socket;
mod host_network;
mod host_pid_ipc;
mod privileged;
mod unconfined;

use rempart_core::{Finding, Location};
use serde_json::Value;

use crate::check::CheckDoc;
use crate::error::MisconfigError;
use crate::kubernetes::load_yaml;

/// One service of a compose file.
pub(crate) struct Service<'a> {
    pub(crate) name: &'a str,
    pub(crate) value: &'a Value,
    pub(crate) line: u32,
}

pub(crate) struct Context<'a> {
    pub(crate) path: &'a str,
    pub(crate) services: Vec<Service<'a>>,
}

impl Context<'_> {
    pub(crate) fn finding(
        &self,
        check: &CheckDoc,
        service: &Service<'_>,
        message: impl Into<String>,
    ) -> Finding {
        check.finding(
            Location::file(self.path).with_line(service.line),
            format!("compose service {}", service.name),
            message,
        )
    }
}

/// Strings of a field that may be a list of strings.
pub(crate) fn strings(value: &Value, field: &str) -> Vec<String> {
    value
        .get(field)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

type Rule = fn(&Context<'_>, &mut Vec<Finding>);

const RULES: &[(CheckDoc, Rule)] = &[
    (privileged::CHECK, privileged::run),
    (host_network::CHECK, host_network::run),
    (host_pid_ipc::CHECK, host_pid_ipc::run),
    (docker_socket::CHECK, docker_socket::run),
    (cap_add::CHECK, cap_add::run),
    (unconfined::CHECK, unconfined::run),
];

pub(crate) fn docs() -> impl Iterator<Item = CheckDoc> {
    RULES.iter().map(|(doc, _)| *doc)
}

/// Checks a docker-compose file.
pub fn scan_compose(path: &str, text: &str) -> Result<Vec<Finding>, MisconfigError> {
    let documents = load_yaml(path, text)?;
    let lines: Vec<&str> = text.lines().collect();
    let mut findings = Vec::new();
    for document in &documents {
        let Some(services) = document.value.get("services").and_then(Value::as_object) else {
            continue;
        };
        let services_line = lines
            .iter()
            .position(|l| l.trim_end() == "services:")
            .unwrap_or(0);
        let services = services
            .iter()
            .map(|(name, value)| {
                let line = lines
                    .iter()
                    .enumerate()
                    .skip(services_line)
                    .find(|(_, l)| {
                        let t = l.trim();
                        t.strip_suffix(':')
                            .is_some_and(|k| k.trim_matches(|c| c == '"' || c == '\'') == name)
                    })
                    .map_or(document.line, |(i, _)| {
                        u32::try_from(i + 1).unwrap_or(u32::MAX)
                    });
                Service { name, value, line }
            })
            .collect();
        let context = Context { path, services };
        for (_, rule) in RULES {
            rule(&context, &mut findings);
        }
    }
    findings.sort_by(|a, b| (a.location.line, &a.id).cmp(&(b.location.line, &b.id)));
    Ok(findings)
}
