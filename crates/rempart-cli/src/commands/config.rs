//! `rempart config`: Dockerfiles, Kubernetes manifests and compose files.

use anyhow::Result;
use rempart::{AnalyzerConfig, Policy, Scanner, build_analyzers};
use rempart_core::{REPORT_SCHEMA_VERSION, ScanResult, ScannerKind};
use rempart_image::DirOptions;
use rempart_report::Format;

use crate::Outcome;
use crate::cli::ConfigArgs;
use crate::context::{Output, parse_severities};

/// A Dockerfile, manifest or compose file named on the command line: far above any real one.
const MAX_CONFIG_FILE_BYTES: u64 = 16 * 1024 * 1024;

pub(crate) fn run(args: &ConfigArgs) -> Result<Outcome> {
    let format: Format = args.format.parse()?;
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    let policies = rempart::load_policies(&args.policies)?;
    let options = rempart_misconfig::ConfigOptions {
        kubernetes: rempart_misconfig::KubeOptions {
            pss_version: args.pss_version.unwrap_or_default(),
            ..rempart_misconfig::KubeOptions::default()
        },
        // The paths named are files on disk: a pipeline's local includes are read beside it.
        pipeline_root: Some(std::path::PathBuf::new()),
        ..rempart_misconfig::ConfigOptions::default()
    };
    for path in &args.paths {
        if path.is_dir() {
            let analyzers = build_analyzers(&AnalyzerConfig {
                scanners: vec![ScannerKind::Misconfig],
                catalog: false,
                source_tree: true,
                policies: args.policies.clone(),
                // Paths in the tree are relative to it: includes are read from there.
                config_files: rempart_misconfig::ConfigOptions {
                    pipeline_root: Some(path.clone()),
                    ..options.clone()
                },
                ..AnalyzerConfig::default()
            })?;
            // Only the file checks: image-level checks have no image here.
            let scanner = Scanner::new(
                analyzers.files,
                Vec::new(),
                vec![ScannerKind::Misconfig],
                rempart::ScanOptions::default(),
            );
            let outcome = scanner.scan_dir(
                path,
                "fs",
                &DirOptions {
                    skip_dirs: vec![".git".into()],
                    source_tree: true,
                },
            )?;
            findings.extend(outcome.result.findings);
            skipped.extend(
                outcome
                    .result
                    .skipped
                    .into_iter()
                    .filter(|s| s.detail.is_some()),
            );
        } else {
            let bytes = rempart_core::read_regular_file(path, MAX_CONFIG_FILE_BYTES)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let display = path.display().to_string();
            let mut file_findings =
                rempart_misconfig::scan_config_file_with(path, &bytes, &options)?;
            if let Some((policies, _)) = &policies {
                file_findings.extend(policies.evaluate_config_file(path, &bytes)?);
            }
            for finding in &mut file_findings {
                // Findings in files the checked one includes keep their own path.
                if finding.location.path == path.to_string_lossy() {
                    finding.location.path.clone_from(&display);
                }
            }
            findings.extend(file_findings);
        }
    }
    let mut result = ScanResult {
        schema_version: REPORT_SCHEMA_VERSION,
        target_kind: "config".into(),
        target: rempart_core::ImageMetadata {
            name: args
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            ..Default::default()
        },
        os: None,
        scanners: vec![ScannerKind::Misconfig],
        layers: Vec::new(),
        packages: Vec::new(),
        findings,
        skipped,
        vulnerability_data: None,
    };
    let applied = Policy {
        severities: parse_severities(&args.severity)?.0,
        ignores: crate::commands::scan::load_ignores(args.ignorefile.as_deref())?,
        today: rempart::utc_today(),
        ..Policy::default()
    }
    .apply(&mut result);
    crate::commands::scan::report_policy(&applied);
    let output = Output::new(args.output.as_deref());
    crate::context::write_report(&result, format, &output, None)?;
    Ok(if result.findings.is_empty() || args.exit_code == 0 {
        Outcome::Clean
    } else {
        Outcome::Findings(args.exit_code)
    })
}
