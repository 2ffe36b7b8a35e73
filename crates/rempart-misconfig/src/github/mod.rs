//! GitHub Actions workflow checks (`CI-GHA-…`): the token's permissions (and scopes no step
//! uses), untrusted input run as code, untrusted code run with secrets or on self-hosted
//! runners, what a workflow runs without pinning it, secrets printed or left on disk, and
//! images pushed before anything vetted them.

mod cache_poisoning;
mod default_permissions;
mod expressions;
mod known_bad_actions;
mod persist_credentials;
mod push_without_scan;
mod secret_in_log;
mod secret_to_unpinned;
mod secrets_inherit;
mod self_hosted;
mod steps;
mod template_injection;
mod unpinned;
mod unsecure_commands;
mod untrusted_checkout;
mod unused_packages_write;
mod write_all;

use rempart_core::{Finding, Location};
use serde_json::Value;

use crate::check::CheckDoc;
use crate::error::MisconfigError;
use crate::kubernetes::load_yaml;

/// One job of a workflow.
pub(crate) struct Job<'a> {
    pub(crate) id: &'a str,
    pub(crate) value: &'a Value,
}

impl<'a> Job<'a> {
    pub(crate) fn steps(&self) -> &'a [Value] {
        self.value
            .get("steps")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }
}

pub(crate) struct Context<'a> {
    pub(crate) path: &'a str,
    lines: Vec<&'a str>,
    pub(crate) workflow: &'a Value,
    pub(crate) jobs: Vec<Job<'a>>,
}

impl Context<'_> {
    /// The events that start the workflow (`on: push`, `on: [push, pull_request]`, or the keys
    /// of `on: {…}`).
    pub(crate) fn triggers(&self) -> Vec<&str> {
        match self.workflow.get("on") {
            Some(Value::String(event)) => vec![event.as_str()],
            Some(Value::Array(events)) => events.iter().filter_map(Value::as_str).collect(),
            Some(Value::Object(events)) => events.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// The first line holding `needle` at or after the line holding `anchor` (1-based), or the
    /// anchor's line: findings point at the line a code-scanning view should annotate.
    pub(crate) fn line_of(&self, anchor: &str, needle: &str) -> u32 {
        let start = self
            .lines
            .iter()
            .position(|line| line.contains(anchor))
            .unwrap_or(0);
        crate::common::line_holding(&self.lines, start, needle)
    }

    pub(crate) fn finding(
        &self,
        check: &CheckDoc,
        line: u32,
        resource: String,
        message: impl Into<String>,
    ) -> Finding {
        check.finding(Location::file(self.path).with_line(line), resource, message)
    }
}

type Rule = fn(&Context<'_>, &mut Vec<Finding>);

const RULES: &[(CheckDoc, Rule)] = &[
    (default_permissions::CHECK, default_permissions::run),
    (write_all::CHECK, write_all::run),
    (template_injection::CHECK, template_injection::run),
    (untrusted_checkout::CHECK, untrusted_checkout::run),
    (unpinned::CHECK, unpinned::run),
    (unsecure_commands::CHECK, unsecure_commands::run),
    (secrets_inherit::CHECK, secrets_inherit::run),
    (secret_in_log::CHECK, secret_in_log::run),
    (self_hosted::CHECK, self_hosted::run),
    (persist_credentials::CHECK, persist_credentials::run),
    (unused_packages_write::CHECK, unused_packages_write::run),
    (push_without_scan::CHECK, push_without_scan::run),
    (known_bad_actions::CHECK, known_bad_actions::run),
    (cache_poisoning::CHECK, cache_poisoning::run),
    (secret_to_unpinned::CHECK, secret_to_unpinned::run),
];

pub(crate) fn docs() -> impl Iterator<Item = CheckDoc> {
    RULES.iter().map(|(doc, _)| *doc)
}

/// Whether a path is a GitHub Actions workflow: a `.yml` or `.yaml` file directly in
/// `.github/workflows/` (GitHub runs no other, and matches the extension as written).
#[allow(clippy::case_sensitive_file_extension_comparisons)]
pub(crate) fn is_workflow_path(path: &str) -> bool {
    let path = path.replace('\\', "/");
    let Some((directory, file)) = path.rsplit_once('/') else {
        return false;
    };
    (directory == ".github/workflows" || directory.ends_with("/.github/workflows"))
        && (file.ends_with(".yml") || file.ends_with(".yaml"))
}

/// Checks a GitHub Actions workflow file.
pub fn scan_workflow(path: &str, text: &str) -> Result<Vec<Finding>, MisconfigError> {
    let documents = load_yaml(path, text)?;
    let mut findings = Vec::new();
    for document in &documents {
        let jobs = document
            .value
            .get("jobs")
            .and_then(Value::as_object)
            .map(|jobs| jobs.iter().map(|(id, value)| Job { id, value }).collect())
            .unwrap_or_default();
        let context = Context {
            path,
            lines: text.lines().collect(),
            workflow: &document.value,
            jobs,
        };
        for (_, rule) in RULES {
            rule(&context, &mut findings);
        }
    }
    findings.sort_by(|a, b| (a.location.line, &a.id).cmp(&(b.location.line, &b.id)));
    Ok(findings)
}
