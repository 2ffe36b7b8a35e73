//! `rempart.yaml`: the scan options in a file, for CI pipelines that would otherwise repeat long
//! command lines. Keys are the long option names; a flag given on the command line wins.
//!
//! ```yaml
//! scanners: [vuln, secret, misconfig]
//! severity: [CRITICAL, HIGH]
//! ignore-unfixed: true
//! exit-code: 1
//! vex: [security/app.openvex.json]
//! policy: [policies/]
//! malware-rules: [rules/yara/]
//! secret-max-size: 64MiB
//! fail-on-skipped: true
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::cli::ScanArgs;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SettingsFile {
    scanners: Option<Vec<String>>,
    format: Option<String>,
    output: Option<PathBuf>,
    severity: Option<Vec<String>>,
    /// Per-scanner lists: `{vuln: [CRITICAL, HIGH], secret: [HIGH, CRITICAL]}`.
    severity_by_scanner: Option<BTreeMap<String, Vec<String>>>,
    ignore_unfixed: Option<bool>,
    ignore_status: Option<Vec<String>>,
    unknown_as: Option<String>,
    fail_on_kev: Option<bool>,
    epss_threshold: Option<f64>,
    ignore_unreachable: Option<bool>,
    exit_code: Option<u8>,
    ignorefile: Option<PathBuf>,
    vex: Option<Vec<PathBuf>>,
    secret_config: Option<PathBuf>,
    policy: Option<Vec<PathBuf>>,
    malware_rules: Option<Vec<PathBuf>>,
    malware_hashes: Option<Vec<PathBuf>>,
    cache_dir: Option<PathBuf>,
    no_cache: Option<bool>,
    db: Option<PathBuf>,
    parallel: Option<usize>,
    secret_max_size: Option<String>,
    malware_max_size: Option<String>,
    fail_on_skipped: Option<bool>,
    pss_version: Option<String>,
}

const MAX_SETTINGS_BYTES: u64 = 1024 * 1024;
const DEFAULT_SETTINGS: &str = "rempart.yaml";

/// Fills what the command line left open from the settings file (`--config`, or `rempart.yaml`
/// in the current directory when present).
pub(crate) fn apply_settings(args: &ScanArgs) -> Result<ScanArgs> {
    let path = match &args.config {
        Some(path) => path.clone(),
        None if Path::new(DEFAULT_SETTINGS).is_file() => PathBuf::from(DEFAULT_SETTINGS),
        None => return Ok(args.clone()),
    };
    let file = load(&path)?;
    let mut merged = args.clone();
    merged.scanners = args.scanners.clone().or(file.scanners);
    merged.format = args.format.clone().or(file.format);
    merged.output = args.output.clone().or(file.output);
    if args.severity.is_empty() {
        merged.severity = file.severity.unwrap_or_default();
        for (scanner, severities) in file.severity_by_scanner.unwrap_or_default() {
            merged
                .severity
                .extend(severities.into_iter().map(|s| format!("{scanner}={s}")));
        }
    }
    merged.ignore_unfixed = args.ignore_unfixed || file.ignore_unfixed.unwrap_or(false);
    if args.ignore_status.is_empty() {
        merged.ignore_status = file.ignore_status.unwrap_or_default();
    }
    merged.unknown_as = args.unknown_as.clone().or(file.unknown_as);
    merged.fail_on_kev = args.fail_on_kev || file.fail_on_kev.unwrap_or(false);
    if let Some(threshold) = file.epss_threshold {
        anyhow::ensure!(
            (0.0..=1.0).contains(&threshold),
            "settings file: epss-threshold {threshold} is not a probability from 0 to 1"
        );
    }
    merged.epss_threshold = args.epss_threshold.or(file.epss_threshold);
    merged.ignore_unreachable = args.ignore_unreachable || file.ignore_unreachable.unwrap_or(false);
    if let Some(code) = file.exit_code {
        anyhow::ensure!(
            code != 2,
            "settings file: exit_code 2 is the exit code of a failed scan; choose another"
        );
    }
    merged.exit_code = args.exit_code.or(file.exit_code);
    merged.ignorefile = args.ignorefile.clone().or(file.ignorefile);
    if args.vex.is_empty() {
        merged.vex = file.vex.unwrap_or_default();
    }
    merged.secret_config = args.secret_config.clone().or(file.secret_config);
    if args.policies.is_empty() {
        merged.policies = file.policy.unwrap_or_default();
    }
    if args.malware_rules.is_empty() {
        merged.malware_rules = file.malware_rules.unwrap_or_default();
    }
    if args.malware_hashes.is_empty() {
        merged.malware_hashes = file.malware_hashes.unwrap_or_default();
    }
    merged.common.cache_dir = args.common.cache_dir.clone().or(file.cache_dir);
    merged.common.no_cache = args.common.no_cache || file.no_cache.unwrap_or(false);
    merged.common.db = args.common.db.clone().or(file.db);
    let file_parallel = match file.parallel {
        Some(n @ 1..=256) => Some(u16::try_from(n).expect("at most 256")),
        Some(n) => anyhow::bail!("settings file: parallel is {n}; it must be from 1 to 256"),
        None => None,
    };
    merged.common.parallel = args.common.parallel.or(file_parallel);
    let size = |name: &str, value: Option<String>| -> Result<Option<u64>> {
        value
            .map(|text| {
                crate::cli::parse_size(&text)
                    .map_err(|e| anyhow::anyhow!("settings file: {name}: {e}"))
            })
            .transpose()
    };
    merged.secret_max_size = match args.secret_max_size {
        Some(size) => Some(size),
        None => size("secret-max-size", file.secret_max_size)?,
    };
    merged.malware_max_size = match args.malware_max_size {
        Some(size) => Some(size),
        None => size("malware-max-size", file.malware_max_size)?,
    };
    merged.fail_on_skipped = args.fail_on_skipped || file.fail_on_skipped.unwrap_or(false);
    merged.pss_version = match (args.pss_version, file.pss_version) {
        (Some(version), _) => Some(version),
        (None, Some(text)) => Some(rempart_misconfig::PssVersion::parse(&text).ok_or_else(|| {
            anyhow::anyhow!(
                "settings file: pss-version `{text}` is not a Pod Security Standards version (latest, v1.30)"
            )
        })?),
        (None, None) => None,
    };
    Ok(merged)
}

fn load(path: &Path) -> Result<SettingsFile> {
    let text = rempart_core::read_regular_text(path, MAX_SETTINGS_BYTES)
        .with_context(|| format!("settings file {}", path.display()))?;
    serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
