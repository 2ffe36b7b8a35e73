//! `rempart image`, `rempart rootfs` and `rempart fs`.

use std::path::Path;

use anyhow::Result;
use rempart::{
    AnalyzerConfig, IgnoreList, MalwareConfig, Policy, PolicyOutcome, ScanOutcome, Scanner,
    build_analyzers, load_vex,
};
use rempart_core::ScannerKind;
use rempart_image::DirOptions;
use rempart_report::Format;

use crate::Outcome;
use crate::cli::{DirArgs, ImageArgs, ScanArgs};
use crate::commands::source::{open_path, open_reference};
use crate::context::{Output, cache_root, db_path, parse_scanners, parse_severities, scan_options};
use crate::settings::apply_settings;

pub(crate) fn image(args: &ImageArgs) -> Result<Outcome> {
    let scan_args = apply_settings(&args.scan)?;
    let cache = cache_root(scan_args.common.cache_dir.as_deref())?;
    // The trust policy is read before the scan, so that a mistake in it fails at once.
    let trust = match &args.verify {
        Some(path) => {
            let target = match (&args.input, &args.reference) {
                (Some(path), _) => path.to_string_lossy().into_owned(),
                (None, Some(reference)) => reference.clone(),
                (None, None) => anyhow::bail!("give an image reference or --input PATH"),
            };
            if args.input.is_some() && rempart_trust::local_layout(&target).is_none() {
                anyhow::bail!(
                    "--verify: {target} is not an OCI layout; signatures are read from a \
                     registry or an OCI layout, not from a docker-save archive"
                );
            }
            Some((rempart_trust::TrustPolicy::load(path)?, target))
        }
        None => None,
    };
    let source = match (&args.input, &args.reference) {
        (Some(path), _) => open_path(path, &args.source)?,
        (None, Some(reference)) => open_reference(reference, &args.source, &cache)?,
        (None, None) => anyhow::bail!("give an image reference or --input PATH"),
    };
    run(&scan_args, None, |scanner| {
        let mut outcome = scanner.scan_image(source.as_ref())?;
        if let Some((policy, target)) = &trust {
            let prepared = rempart_trust::PreparedPolicy::new(policy)?;
            let report = rempart_trust::verify_target(
                target,
                &crate::commands::source::registry_options(&args.source, &cache),
                &prepared,
            )?;
            outcome.result.findings.extend(report.findings());
            outcome.result.scanners.push(ScannerKind::Trust);
        }
        Ok(outcome)
    })
}

pub(crate) fn dir(args: &DirArgs, kind: &str) -> Result<Outcome> {
    let options = DirOptions {
        skip_dirs: if kind == "rootfs" {
            vec!["proc".into(), "sys".into(), "dev".into()]
        } else {
            vec![".git".into()]
        },
        source_tree: kind == "fs",
    };
    let tree = (kind == "fs").then_some(args.dir.as_path());
    run(&apply_settings(&args.scan)?, tree, |scanner| {
        Ok(scanner.scan_dir(&args.dir, kind, &options)?)
    })
}

/// `source_tree`: the directory, when a source tree is scanned.
fn run(
    args: &ScanArgs,
    source_tree: Option<&Path>,
    scan: impl FnOnce(&Scanner) -> Result<ScanOutcome>,
) -> Result<Outcome> {
    run_then(args, source_tree, scan, |_, _| Ok(()))
}

/// [`run`], then `after` with the result (the policy applied) and its verdict, before the exit
/// status is decided: `rempart attest` signs what the scan concluded.
pub(crate) fn run_then(
    args: &ScanArgs,
    source_tree: Option<&Path>,
    scan: impl FnOnce(&Scanner) -> Result<ScanOutcome>,
    after: impl FnOnce(&rempart_core::ScanResult, &rempart::Verdict) -> Result<()>,
) -> Result<Outcome> {
    let format: Format = args.format.as_deref().unwrap_or("table").parse()?;
    let default_scanners = ["vuln", "secret", "malware", "misconfig"]
        .map(String::from)
        .to_vec();
    let scanners = parse_scanners(args.scanners.as_ref().unwrap_or(&default_scanners))?;
    let policy = build_policy(args)?;
    let cache = cache_root(args.common.cache_dir.as_deref())?;
    let mut vulnerability_data = None;
    let database = if scanners.contains(&ScannerKind::Vuln) {
        let path = db_path(args.common.db.as_deref(), &cache);
        vulnerability_data = Some(crate::commands::db::ensure_database(
            &path,
            args.common.db.is_some(),
        )?);
        Some(path)
    } else {
        None
    };
    let analyzers = build_analyzers(&AnalyzerConfig {
        scanners: scanners.clone(),
        catalog: true,
        source_tree: source_tree.is_some(),
        tree_root: source_tree.map(Path::to_owned),
        secret_config: args.secret_config.clone(),
        secret_max_size: args.secret_max_size,
        config_files: rempart_misconfig::ConfigOptions {
            kubernetes: rempart_misconfig::KubeOptions {
                pss_version: args.pss_version.unwrap_or_default(),
                ..rempart_misconfig::KubeOptions::default()
            },
            ..rempart_misconfig::ConfigOptions::default()
        },
        database,
        policies: args.policies.clone(),
        malware: MalwareConfig {
            rule_paths: args.malware_rules.clone(),
            hash_files: args.malware_hashes.clone(),
            cache_dir: (!args.common.no_cache).then(|| cache.clone()),
            max_file_size: args
                .malware_max_size
                .unwrap_or(rempart::MALWARE_DEFAULT_MAX_FILE_SIZE),
            ..MalwareConfig::default()
        },
    })?;
    let scanner = Scanner::new(
        analyzers.files,
        analyzers.images,
        scanners,
        scan_options(&args.common, &cache),
    );
    let mut outcome = scan(&scanner)?;
    outcome.result.vulnerability_data = vulnerability_data;
    let applied = policy.apply(&mut outcome.result);
    report_policy(&applied);
    if let Some(path) = &args.inventory_output {
        let listing = serde_json::to_vec_pretty(&outcome.inventory)?;
        Output::new(Some(path)).write(&listing)?;
    }

    let output = Output::new(args.output.as_deref());
    crate::context::write_report(
        &outcome.result,
        format,
        &output,
        args.common.timestamp.clone(),
    )?;
    let exit_code = args.exit_code.unwrap_or(1);
    let verdict = policy.verdict(&outcome.result);
    after(&outcome.result, &verdict)?;
    if !verdict.passed && args.fail_on_skipped {
        for reason in &verdict.reasons {
            tracing::warn!("the policy fails the scan: {reason}");
        }
    }
    Ok(if verdict.passed || exit_code == 0 {
        Outcome::Clean
    } else {
        Outcome::Findings(exit_code)
    })
}

/// The ignore file named, else `.rempartignore.yaml` in the current directory when present.
pub(crate) fn load_ignores(named: Option<&Path>) -> Result<IgnoreList> {
    let default_ignorefile = Path::new(".rempartignore.yaml");
    Ok(match named {
        Some(path) => IgnoreList::load(path)?,
        None if default_ignorefile.is_file() => IgnoreList::load(default_ignorefile)?,
        None => IgnoreList::default(),
    })
}

fn build_policy(args: &ScanArgs) -> Result<Policy> {
    let ignores = load_ignores(args.ignorefile.as_deref())?;
    let mut vex = Vec::new();
    for path in &args.vex {
        vex.extend(load_vex(path)?);
    }
    let (severities, scanner_severities) = parse_severities(&args.severity)?;
    Ok(Policy {
        severities,
        scanner_severities,
        ignore_unfixed: args.ignore_unfixed,
        ignore_statuses: rempart::parse_statuses(&args.ignore_status)?,
        unknown_as: args
            .unknown_as
            .as_deref()
            .map(str::parse::<rempart_core::Severity>)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--unknown-as: {e}"))?,
        fail_on_kev: args.fail_on_kev,
        epss_threshold: args.epss_threshold,
        ignore_unreachable: args.ignore_unreachable,
        ignores,
        vex,
        fail_on_skipped: args.fail_on_skipped,
        today: rempart::utc_today(),
    })
}

/// Suppressions are shown (not silently applied) so an accepted risk stays visible; stale and
/// expired ignores are shown so they get cleaned up.
pub(crate) fn report_policy(applied: &PolicyOutcome) {
    for suppression in &applied.suppressed {
        tracing::info!(
            "suppressed {} at {}: {}",
            suppression.finding.id,
            suppression.finding.location.path,
            suppression.reason
        );
    }
    if !applied.suppressed.is_empty() {
        tracing::warn!(
            "{} findings suppressed by ignores or VEX (-v lists them)",
            applied.suppressed.len()
        );
    }
    for entry in &applied.expired_ignores {
        tracing::warn!("ignore entry expired and no longer applied: {entry}");
    }
    for entry in &applied.unmatched_ignores {
        tracing::warn!("ignore entry matched no finding: {entry}");
    }
}
