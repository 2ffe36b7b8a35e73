//! Host audit of rempart: how the machine that runs containers is set up. Read-only: every
//! check reads files (under a root, `/` on a real host, a directory of fixtures in tests) and
//! never changes anything.
//!
//! Each check has a stable code (`HOST-…`), the CIS benchmark recommendation it follows, and an
//! outcome: passed, failed, or not applicable when what it judges is not there (no Docker
//! engine, no `/proc` under the root): a missing file is never a pass. Failed
//! checks become findings, under the same reports, ignores and gates as any other.

mod checks;
mod containers;
mod host;

pub use checks::{HostCheckDoc, host_checks};
pub use containers::{Container, Isolation, running_containers};
pub use host::Host;

use rempart_core::{Finding, FindingDetails, Location, ScannerKind};
use serde::Serialize;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    /// What the check judges is not on this host (no Docker engine); never a pass.
    NotApplicable,
}

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub code: &'static str,
    pub title: &'static str,
    /// The benchmark recommendation the check follows.
    pub benchmark: &'static str,
    pub status: Status,
    /// What was found, where: the value read, the file, why not applicable.
    pub detail: String,
    /// The file the check read, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What failed the check one by one (each running container and its image), when it
    /// judges several things: one finding each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offenders: Vec<Offender>,
    #[serde(skip)]
    severity: rempart_core::Severity,
}

/// One thing a check failed on: a container, with its image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offender {
    /// The container's name (or id).
    pub name: String,
    /// The image it runs, when the engine's state says.
    pub image: Option<String>,
    /// Its runtime configuration file.
    pub path: String,
    pub detail: String,
}

/// Every check's result.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    /// The root the files were read under (`/` for the host itself).
    pub root: String,
    pub checks: Vec<CheckResult>,
    /// The containers found on the host, each with its image and isolation: what the
    /// container checks judged, so that each one's image report can be put beside it.
    pub containers: Vec<ContainerSummary>,
}

/// A container on the host, as the report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerSummary {
    pub name: String,
    pub image: Option<String>,
    pub isolation: Isolation,
    /// Its runtime configuration file.
    pub path: String,
}

impl HostReport {
    /// The failed checks as findings (misconfigurations of the host), at the file each read.
    pub fn findings(&self) -> Vec<Finding> {
        let finding = |check: &CheckResult, path: &str, resource: String, detail: &str| Finding {
            scanner: ScannerKind::Misconfig,
            id: check.code.to_owned(),
            title: check.title.to_owned(),
            severity: check.severity,
            location: Location::file(path),
            details: FindingDetails::Misconfig {
                resource,
                resolution: Some(format!("{detail} ({})", check.benchmark)),
            },
            primary_url: None,
        };
        let mut findings = Vec::new();
        for check in self.checks.iter().filter(|c| c.status == Status::Failed) {
            if check.offenders.is_empty() {
                findings.push(finding(
                    check,
                    check.path.as_deref().unwrap_or("host"),
                    "host".to_owned(),
                    &check.detail,
                ));
            }
            for offender in &check.offenders {
                let resource = match &offender.image {
                    Some(image) => format!("container {} (image {image})", offender.name),
                    None => format!("container {}", offender.name),
                };
                findings.push(finding(check, &offender.path, resource, &offender.detail));
            }
        }
        findings
    }

    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

/// What to audit.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Ports that may listen on addresses other than loopback (`22`, `443`…); any other is
    /// reported.
    pub allowed_ports: Vec<u16>,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            allowed_ports: vec![22],
        }
    }
}

/// Runs every check against `host`.
pub fn audit(host: &Host, options: &AuditOptions) -> HostReport {
    HostReport {
        root: host.root().display().to_string(),
        checks: checks::run_all(host, options),
        containers: host
            .containers()
            .iter()
            .map(|container| ContainerSummary {
                isolation: container.isolation(),
                name: container.name.clone(),
                image: container.image.clone(),
                path: container.path.clone(),
            })
            .collect(),
    }
}
