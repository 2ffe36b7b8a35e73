//! `rempart host`: the machine audited as a container host.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use rempart::Policy;
use rempart_host::{AuditOptions, Host, HostReport, Status};

use crate::Outcome;
use crate::cli::HostArgs;
use crate::commands::scan::{load_ignores, report_policy};
use crate::context::Output;

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
    // The failed checks go through the same ignores as any finding: what is accepted does not
    // fail the run.
    let mut result = as_scan_result(&report);
    let applied = Policy {
        ignores: load_ignores(args.ignorefile.as_deref())?,
        today: rempart::utc_today(),
        ..Policy::default()
    }
    .apply(&mut result);
    report_policy(&applied);
    let output = Output::new(args.output.as_deref());
    let bytes = match args.format.as_str() {
        "table" => table(&report, &result.findings).into_bytes(),
        "json" => {
            let mut bytes = serde_json::to_vec_pretty(&report)?;
            bytes.push(b'\n');
            bytes
        }
        "sarif" | "junit" | "html" => {
            let format: rempart_report::Format = args.format.parse().map_err(anyhow::Error::msg)?;
            let options = rempart_report::ReportOptions {
                timestamp: None,
                serial: None,
                color: output.wants_color(),
                width: output.table_width(),
                tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            };
            let mut bytes = Vec::new();
            rempart_report::write_report(&result, format, &options, &mut bytes)?;
            bytes
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

fn table(report: &HostReport, kept: &[rempart_core::Finding]) -> String {
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
        report.count(Status::Failed) - kept.len(),
        report.count(Status::NotApplicable),
    );
    out
}
