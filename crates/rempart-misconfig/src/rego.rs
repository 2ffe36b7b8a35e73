//! User policies written in Rego (v1 syntax), evaluated over the same inputs as the built-in
//! checks.
//!
//! # Policy contract
//!
//! A policy module declares `package rempart.user.<name>` and a `deny` rule: a set (or array) of
//! objects, one per problem found:
//!
//! ```rego
//! package rempart.user.team_labels
//!
//! deny contains {"code": "USR-TEAM-LABEL", "message": msg, "severity": "LOW", "resource": name} if {
//!     input.kind == "kubernetes"
//!     some doc in input.documents
//!     doc.kind == "Deployment"
//!     not doc.metadata.labels.team
//!     name := sprintf("Deployment/%s", [doc.metadata.name])
//!     msg := "every Deployment needs a team label"
//! }
//! ```
//!
//! Fields: `code` (required, must start with `USR-` so user codes never collide with built-in
//! ones), `message` (required), `severity` (`INFO`, `LOW`, `MEDIUM`, `HIGH`, `CRITICAL`; default
//! `MEDIUM`), `title` (default: the message), `resource` and `line` (optional).
//!
//! # Input shape
//!
//! Every input has `kind` and `path`, plus:
//! - `kubernetes`: `documents`, the YAML documents of the file as JSON, and `lines`, the start
//!   line of each document.
//! - `compose`: `document`, the compose file as JSON.
//! - `dockerfile`: `stages`, each `{index, name, base, line, instructions}`, with instructions as
//!   `{line, keyword, flags: {name: value}, form: "exec"|"shell", args: [words], text,
//!   heredocs: [{name, body}]}`; `global_args` holds the ARG instructions before the first FROM.
//!   ARG/ENV substitution is already applied where `BuildKit` applies it.
//! - `image`: `metadata` (the image config as rempart reads it: user, env, exposed ports,
//!   history, labels...), `os` (`{id, version_id}` or null), `packages` (name, version, ecosystem
//!   of each package). The filesystem listing is not included: it can hold millions of entries.

use std::num::NonZeroU32;
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;
use rempart_core::{Finding, FindingDetails, ImageContext, Location, ScannerKind, Severity};
use serde_json::{Value, json};

use crate::detect::{ConfigKind, detect_kind};
use crate::dockerfile::{self, parse::Args};
use crate::error::MisconfigError;
use crate::kubernetes::{MAX_MANIFEST_BYTES, load_yaml};

/// The package prefix user policies live under.
const PACKAGE_PREFIX: &str = "data.rempart.user.";
/// One user policy file.
pub const MAX_POLICY_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Limits on user policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegoLimits {
    /// Wall-clock limit of one evaluation of one input (all packages together).
    pub eval_time: Duration,
    /// Findings one evaluation may return; more is an error (a policy gone wrong).
    pub max_findings: usize,
}

impl Default for RegoLimits {
    fn default() -> Self {
        RegoLimits {
            eval_time: Duration::from_secs(2),
            max_findings: 10_000,
        }
    }
}

/// Compiled user policies.
#[derive(Clone)]
pub struct RegoPolicies {
    engine: regorus::Engine,
    packages: Vec<String>,
    limits: RegoLimits,
}

impl std::fmt::Debug for RegoPolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoPolicies")
            .field("packages", &self.packages)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

fn policy_error(path: &str, error: impl std::fmt::Display) -> MisconfigError {
    MisconfigError::Policy {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

impl RegoPolicies {
    /// Compiles policies given as `(file name, Rego source)`. Every module must declare a
    /// package under `rempart.user.`.
    pub fn from_sources(
        sources: &[(String, String)],
        limits: RegoLimits,
    ) -> Result<RegoPolicies, MisconfigError> {
        let mut engine = regorus::Engine::new();
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: limits.eval_time,
            check_interval: NonZeroU32::new(64).unwrap_or(NonZeroU32::MIN),
        });
        let mut packages = Vec::new();
        for (path, source) in sources {
            let package = engine
                .add_policy(path.clone(), source.clone())
                .map_err(|e| policy_error(path, e))?;
            if !package.starts_with(PACKAGE_PREFIX) {
                return Err(policy_error(
                    path,
                    format!("package {package} is not under rempart.user"),
                ));
            }
            if !packages.contains(&package) {
                packages.push(package);
            }
        }
        Ok(RegoPolicies {
            engine,
            packages,
            limits,
        })
    }

    /// Reads and compiles policy files.
    pub fn from_files(
        paths: &[std::path::PathBuf],
        limits: RegoLimits,
    ) -> Result<RegoPolicies, MisconfigError> {
        let mut sources = Vec::new();
        for path in paths {
            let shown = path.display().to_string();
            let text = rempart_core::read_regular_text(path, MAX_POLICY_FILE_BYTES)
                .map_err(|e| policy_error(&shown, e))?;
            sources.push((shown, text));
        }
        RegoPolicies::from_sources(&sources, limits)
    }

    /// The packages loaded, as `data.rempart.user.<name>`.
    pub fn packages(&self) -> &[String] {
        &self.packages
    }

    /// Evaluates the policies over a configuration file (Dockerfile, compose file, Kubernetes
    /// manifest). Files of no known kind give no findings.
    pub fn evaluate_config_file(
        &self,
        path: &std::path::Path,
        bytes: &[u8],
    ) -> Result<Vec<Finding>, MisconfigError> {
        let shown = path.to_string_lossy().into_owned();
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(MisconfigError::TooLarge {
                path: shown,
                size: bytes.len(),
                limit: MAX_MANIFEST_BYTES,
            });
        }
        let Some(kind) = detect_kind(path, bytes) else {
            return Ok(Vec::new());
        };
        let text = std::str::from_utf8(bytes).map_err(|_| MisconfigError::NotUtf8 {
            path: shown.clone(),
        })?;
        let input = match kind {
            ConfigKind::Kubernetes => {
                let documents = load_yaml(&shown, text)?;
                json!({
                    "kind": "kubernetes",
                    "path": shown,
                    "lines": documents.iter().map(|d| d.line).collect::<Vec<_>>(),
                    "documents": documents.into_iter().map(|d| d.value).collect::<Vec<_>>(),
                })
            }
            ConfigKind::Compose => {
                let document = load_yaml(&shown, text)?
                    .into_iter()
                    .next()
                    .map_or(Value::Null, |d| d.value);
                json!({"kind": "compose", "path": shown, "document": document})
            }
            ConfigKind::Dockerfile => dockerfile_input(&shown, text)?,
            // User policies see a workflow as its YAML document.
            ConfigKind::GithubWorkflow => {
                let document = load_yaml(&shown, text)?
                    .into_iter()
                    .next()
                    .map_or(Value::Null, |d| d.value);
                json!({"kind": "github_workflow", "path": shown, "document": document})
            }
            ConfigKind::GitlabCi => {
                let document = load_yaml(&shown, text)?
                    .into_iter()
                    .next()
                    .map_or(Value::Null, |d| d.value);
                json!({"kind": "gitlab_ci", "path": shown, "document": document})
            }
        };
        self.evaluate(&shown, &input)
    }

    /// Evaluates the policies over an image's config, OS and packages.
    pub fn evaluate_image(&self, image: &ImageContext<'_>) -> Result<Vec<Finding>, MisconfigError> {
        let input = json!({
            "kind": "image",
            "path": image.metadata.name,
            "metadata": image.metadata,
            "os": image.os,
            "packages": image.packages.iter().map(|p| json!({
                "name": p.name,
                "version": p.version,
                "ecosystem": p.ecosystem,
            })).collect::<Vec<_>>(),
        });
        self.evaluate(&image.metadata.name, &input)
    }

    fn evaluate(&self, path: &str, input: &Value) -> Result<Vec<Finding>, MisconfigError> {
        let mut engine = self.engine.clone();
        let input =
            regorus::Value::from_json_str(&input.to_string()).map_err(|e| policy_error(path, e))?;
        engine.set_input(input);
        let mut findings = Vec::new();
        for package in &self.packages {
            let query = format!("{package}.deny");
            let results = engine
                .eval_query(query, false)
                .map_err(|e| policy_error(path, format!("{package}: {e}")))?;
            for result in &results.result {
                for expression in &result.expressions {
                    let json = expression
                        .value
                        .to_json_str()
                        .map_err(|e| policy_error(path, e))?;
                    let value: Value =
                        serde_json::from_str(&json).map_err(|e| policy_error(path, e))?;
                    let items = match value {
                        Value::Array(items) => items,
                        Value::Null => Vec::new(),
                        other => {
                            return Err(policy_error(
                                path,
                                format!("{package}.deny is not a set: {other}"),
                            ));
                        }
                    };
                    for item in items {
                        findings.push(to_finding(path, package, &item)?);
                        if findings.len() > self.limits.max_findings {
                            return Err(policy_error(
                                path,
                                format!("more than {} findings", self.limits.max_findings),
                            ));
                        }
                    }
                }
            }
        }
        Ok(findings)
    }
}

fn to_finding(path: &str, package: &str, item: &Value) -> Result<Finding, MisconfigError> {
    let field = |name: &str| item.get(name).and_then(Value::as_str);
    let code = field("code").ok_or_else(|| {
        policy_error(
            path,
            format!("{package}.deny has an entry without a code: {item}"),
        )
    })?;
    if !code.starts_with("USR-") {
        return Err(policy_error(
            path,
            format!("{package}: code {code} must start with USR-"),
        ));
    }
    let message = field("message")
        .ok_or_else(|| policy_error(path, format!("{package}.deny entry {code} has no message")))?;
    let severity = match field("severity") {
        Some(text) => text
            .parse::<Severity>()
            .map_err(|e| policy_error(path, format!("{package}: {e}")))?,
        None => Severity::Medium,
    };
    let mut location = Location::file(path);
    if let Some(line) = item.get("line").and_then(Value::as_u64) {
        location.line = u32::try_from(line).ok();
    }
    Ok(Finding {
        scanner: ScannerKind::Misconfig,
        id: code.to_owned(),
        title: field("title").unwrap_or(message).to_owned(),
        severity,
        location,
        details: FindingDetails::Misconfig {
            resource: field("resource").unwrap_or(package).to_owned(),
            resolution: Some(message.to_owned()),
        },
        primary_url: None,
    })
}

fn dockerfile_input(path: &str, text: &str) -> Result<Value, MisconfigError> {
    let file = dockerfile::parse_for_policies(path, text)?;
    let instruction = |i: &dockerfile::parse::Instruction| {
        let (form, args) = match &i.args {
            Args::Exec(words) => ("exec", words.clone()),
            Args::Shell(_) => ("shell", i.args.words()),
        };
        let flags: serde_json::Map<String, Value> = i
            .flags
            .iter()
            .map(|(name, value)| (name.clone(), json!(value.clone().unwrap_or_default())))
            .collect();
        json!({
            "line": i.line,
            "keyword": i.keyword,
            "flags": flags,
            "form": form,
            "args": args,
            "text": i.args.text(),
            "heredocs": i.heredocs.iter().map(|h| json!({"name": h.name, "body": h.body})).collect::<Vec<_>>(),
        })
    };
    Ok(json!({
        "kind": "dockerfile",
        "path": path,
        "global_args": file.global_args.iter().map(instruction).collect::<Vec<_>>(),
        "stages": file.stages.iter().map(|s| json!({
            "index": s.index,
            "name": s.name,
            "base": s.base,
            "line": s.from_line,
            "instructions": s.instructions.iter().map(instruction).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))
}
