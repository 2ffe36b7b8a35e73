//! `rempart host`: the machine audited as a container host.

use std::fmt::Write as _;

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use rempart::{AnalyzerConfig, Policy, Scanner, build_analyzers};
use rempart_core::ScannerKind;
use rempart_host::{AuditOptions, Host, HostReport, Status};
use serde::Serialize;

use crate::Outcome;
use crate::cli::HostArgs;
use crate::commands::scan::{load_ignores, report_policy};
use crate::context::{Output, cache_root, db_path, parse_severities};

/// The files the OS package catalogers read, and the os-release files that say which
/// distribution's advisories apply. Only these are read for the patch level: walking the whole
/// host (container layers, home directories) would take minutes and judge more than the host.
const PACKAGE_DATABASES: &[&str] = &[
    "etc/os-release",
    "usr/lib/os-release",
    "etc/debian_version",
    "etc/alpine-release",
    "var/lib/dpkg/status",
    "lib/apk/db/installed",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
];
/// Directories of package records (distroless-style `status.d`).
const PACKAGE_DATABASE_DIRS: &[&str] = &["var/lib/dpkg/status.d"];
/// A package database larger than this is not copied.
const MAX_DATABASE_BYTES: u64 = 512 * 1024 * 1024;

/// What `--format json` prints: every check, and the package scan as a scan report.
#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    host: &'a HostReport,
    /// The host's OS packages and their vulnerabilities (the documented scan schema), when
    /// they were matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    packages: Option<&'a rempart_core::ScanResult>,
}

pub(crate) fn run(args: &HostArgs) -> Result<Outcome> {
    if !args.root.is_dir() {
        bail!("--root {}: not a directory", args.root.display());
    }
    let options = AuditOptions {
        allowed_ports: if args.allow_ports.is_empty() {
            AuditOptions::default().allowed_ports
        } else {
            args.allow_ports.clone()
        },
    };
    let report = rempart_host::audit(&Host::new(&args.root), &options);
    let packages = if args.skip_packages {
        None
    } else {
        Some(scan_packages(args)?)
    };
    // The failed checks and the packages' vulnerabilities go through the same ignores and
    // severities as any finding: what is accepted does not fail the run.
    let mut result = as_scan_result(&report);
    if let Some(packages) = &packages {
        result.findings.extend(packages.findings.iter().cloned());
        result.packages.clone_from(&packages.packages);
        result.os.clone_from(&packages.os);
        result
            .vulnerability_data
            .clone_from(&packages.vulnerability_data);
        result.scanners.push(ScannerKind::Vuln);
    }
    let applied = Policy {
        severities: parse_severities(&args.severity)?.0,
        ignores: load_ignores(args.ignorefile.as_deref())?,
        today: rempart::utc_today(),
        ..Policy::default()
    }
    .apply(&mut result);
    report_policy(&applied);
    let output = Output::new(args.output.as_deref());
    let bytes = match args.format.as_str() {
        "table" => table(&report, &result).into_bytes(),
        "json" => {
            let mut vulnerabilities = result.clone();
            vulnerabilities
                .findings
                .retain(|finding| finding.scanner == ScannerKind::Vuln);
            let mut bytes = serde_json::to_vec_pretty(&JsonReport {
                host: &report,
                packages: packages.is_some().then_some(&vulnerabilities),
            })?;
            bytes.push(b'\n');
            bytes
        }
        "sarif" | "junit" | "html" => {
            let format: rempart_report::Format = args.format.parse().map_err(anyhow::Error::msg)?;
            crate::context::render_report(&result, format, &output, None)?
        }
        other => bail!("--format: `{other}` is not one of table, json, sarif, junit, html"),
    };
    output.write(&bytes)?;
    Ok(if result.findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings(1)
    })
}

fn as_scan_result(report: &HostReport) -> rempart_core::ScanResult {
    rempart_core::ScanResult {
        schema_version: rempart_core::REPORT_SCHEMA_VERSION,
        target_kind: "host".to_owned(),
        target: rempart_core::ImageMetadata {
            name: report.root.clone(),
            ..rempart_core::ImageMetadata::default()
        },
        os: None,
        scanners: vec![rempart_core::ScannerKind::Misconfig],
        layers: Vec::new(),
        packages: Vec::new(),
        findings: report.findings(),
        skipped: Vec::new(),
        vulnerability_data: None,
    }
}

/// Matches the host's OS packages: their databases are copied to a scratch directory, which is
/// scanned as a root filesystem (the same catalogers and matcher as an image's).
fn scan_packages(args: &HostArgs) -> Result<rempart_core::ScanResult> {
    let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
    for relative in PACKAGE_DATABASES {
        copy_if_regular(&args.root.join(relative), &scratch.path().join(relative))?;
    }
    for directory in PACKAGE_DATABASE_DIRS {
        let Ok(entries) = std::fs::read_dir(args.root.join(directory)) else {
            continue;
        };
        for entry in entries.flatten().take(10_000) {
            copy_if_regular(
                &entry.path(),
                &scratch.path().join(directory).join(entry.file_name()),
            )?;
        }
    }
    let cache = cache_root(args.db.cache_dir.as_deref())?;
    let database = db_path(args.db.db.as_deref(), &cache);
    let vulnerability_data = crate::commands::db::ensure_database(&database, args.db.db.is_some())?;
    let analyzers = build_analyzers(&AnalyzerConfig {
        scanners: vec![ScannerKind::Vuln],
        catalog: true,
        database: Some(database),
        ..AnalyzerConfig::default()
    })?;
    let scanner = Scanner::new(
        analyzers.files,
        analyzers.images,
        vec![ScannerKind::Vuln],
        rempart::ScanOptions::default(),
    );
    let mut outcome = scanner.scan_dir(
        scratch.path(),
        "rootfs",
        &rempart_image::DirOptions {
            skip_dirs: Vec::new(),
            source_tree: false,
        },
    )?;
    outcome.result.vulnerability_data = Some(vulnerability_data);
    // The findings are about the host's files, not the scratch copies.
    for finding in &mut outcome.result.findings {
        finding.location.path = format!("/{}", finding.location.path.trim_start_matches('/'));
    }
    Ok(outcome.result)
}

/// Copies `from` to `to` when it is a regular file under the size cap (never a FIFO or a
/// device, which could block).
fn copy_if_regular(from: &Path, to: &Path) -> Result<()> {
    let Ok(metadata) = std::fs::metadata(from) else {
        return Ok(());
    };
    if !metadata.is_file() || metadata.len() > MAX_DATABASE_BYTES {
        return Ok(());
    }
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(from, to).with_context(|| format!("cannot read {}", from.display()))?;
    Ok(())
}

fn table(report: &HostReport, result: &rempart_core::ScanResult) -> String {
    let kept = &result.findings;
    let mut out = String::new();
    let _ = writeln!(out, "Host audit of {}\n", report.root);
    for check in &report.checks {
        let state = match check.status {
            Status::Passed => "pass",
            Status::NotApplicable => "n/a",
            Status::Failed if kept.iter().any(|f| f.id == check.code) => "FAIL",
            Status::Failed => "ignored",
        };
        let _ = writeln!(out, "[{state:^7}] {}  {}", check.code, check.title);
        let _ = writeln!(out, "          {}", check.detail);
    }
    let _ = writeln!(
        out,
        "\n{} checks: {} passed, {} failed ({} ignored), {} not applicable",
        report.checks.len(),
        report.count(Status::Passed),
        report.count(Status::Failed),
        report.count(Status::Failed)
            - kept
                .iter()
                .filter(|f| f.scanner != ScannerKind::Vuln)
                .count(),
        report.count(Status::NotApplicable),
    );
    if !report.containers.is_empty() {
        let count = |isolation: rempart_host::Isolation| {
            report
                .containers
                .iter()
                .filter(|c| c.isolation == isolation)
                .count()
        };
        let _ = writeln!(
            out,
            "\nContainers: {} ({} on the host's kernel, {} in a virtual machine, {} on a user-space kernel)",
            report.containers.len(),
            count(rempart_host::Isolation::SharedKernel),
            count(rempart_host::Isolation::VirtualMachine),
            count(rempart_host::Isolation::UserSpaceKernel),
        );
    }
    if result.scanners.contains(&ScannerKind::Vuln) {
        let vulnerabilities: Vec<&rempart_core::Finding> = kept
            .iter()
            .filter(|f| f.scanner == ScannerKind::Vuln)
            .collect();
        let fixable = vulnerabilities
            .iter()
            .filter(|f| {
                matches!(
                    &f.details,
                    rempart_core::FindingDetails::Vulnerability {
                        fix: rempart_core::FixState::Fixed { .. },
                        ..
                    }
                )
            })
            .count();
        let os = result.os.as_ref().map_or_else(
            || "unknown OS".to_owned(),
            |os| format!("{} {}", os.id, os.version_id),
        );
        let _ = writeln!(
            out,
            "\nPatch level ({os}): {} packages, {} vulnerabilities, {fixable} with a fixed version{}",
            result.packages.len(),
            vulnerabilities.len(),
            if vulnerabilities.is_empty() {
                ""
            } else {
                " (--format json lists them)"
            }
        );
    }
    out
}
