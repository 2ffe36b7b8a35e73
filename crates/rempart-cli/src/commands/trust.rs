//! `rempart verify` and `rempart attest`: supply-chain trust on the command line.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context, Result};
use rempart_image::RegistryRepository;
use rempart_trust::policy::VERDICT_PREDICATE;
use rempart_trust::{
    AttestOptions, PreparedPolicy, SigningKey, TrustPolicy, TrustReport, VerdictPredicate,
};

use crate::Outcome;
use crate::cli::{AttestArgs, VerifyArgs};
use crate::commands::source::registry_options;
use crate::context::{Output, cache_root};
use crate::settings::apply_settings;

pub(crate) fn verify(args: &VerifyArgs) -> Result<Outcome> {
    let policy = TrustPolicy::load(&args.policy)?;
    let prepared = PreparedPolicy::new(&policy)?;
    let cache = cache_root(None)?;
    let report = rempart_trust::verify_target(
        &args.image,
        &registry_options(&args.source, &cache),
        &prepared,
    )?;
    let output = Output::new(args.output.as_deref());
    let bytes = match args.format.as_str() {
        "json" => {
            let mut bytes = serde_json::to_vec_pretty(&report)?;
            bytes.push(b'\n');
            bytes
        }
        "table" => table(&report).into_bytes(),
        "sarif" | "junit" | "html" => {
            // The formats code-scanning and CI tools read carry the unmet requirements as the
            // findings a scan with `--verify` reports: the same codes, reasons and docs.
            let format: rempart_report::Format = args.format.parse().map_err(anyhow::Error::msg)?;
            crate::context::render_report(&as_scan_result(&report), format, &output, None)?
        }
        "cyclonedx" | "spdx" => anyhow::bail!(
            "--format: `{}` is an SBOM format; a verification has no packages (use table, json, sarif, junit or html)",
            args.format
        ),
        other => {
            anyhow::bail!("--format: `{other}` is not one of table, json, sarif, junit, html")
        }
    };
    output.write(&bytes)?;
    Ok(if report.trusted() {
        Outcome::Clean
    } else {
        Outcome::Findings(1)
    })
}

/// A verification as a scan result whose findings are its unmet requirements.
fn as_scan_result(report: &TrustReport) -> rempart_core::ScanResult {
    rempart_core::ScanResult {
        schema_version: rempart_core::REPORT_SCHEMA_VERSION,
        target_kind: "image".to_owned(),
        target: rempart_core::ImageMetadata {
            name: report.image.reference.clone(),
            manifest_digest: Some(report.image.digest.clone()),
            ..rempart_core::ImageMetadata::default()
        },
        os: None,
        scanners: vec![rempart_core::ScannerKind::Trust],
        layers: Vec::new(),
        packages: Vec::new(),
        findings: report.findings(),
        skipped: Vec::new(),
        vulnerability_data: None,
    }
}

fn table(report: &TrustReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Image:   {} ({})",
        report.image.reference, report.image.digest
    );
    let _ = writeln!(
        out,
        "Rule:    {}",
        report.rule.as_deref().unwrap_or("(none matches)")
    );
    let _ = writeln!(
        out,
        "Verdict: {}",
        if report.trusted() {
            "TRUSTED"
        } else {
            "NOT TRUSTED"
        }
    );
    let _ = writeln!(out, "\nRequirements:");
    for requirement in &report.requirements {
        let _ = writeln!(
            out,
            "  [{}] {}: {}",
            if requirement.met { "ok" } else { "FAIL" },
            requirement.name,
            requirement.detail
        );
    }
    let _ = writeln!(
        out,
        "\nSignatures and attestations found: {}",
        report.evidence.len()
    );
    for evidence in &report.evidence {
        let what = match &evidence.kind {
            rempart_trust::EvidenceKind::Signature => "signature".to_owned(),
            rempart_trust::EvidenceKind::Attestation { predicate_type } => {
                format!("attestation {predicate_type}")
            }
            rempart_trust::EvidenceKind::Unknown => "unknown".to_owned(),
        };
        let status = if evidence.verified {
            format!(
                "verified, {}{}",
                evidence.signer.as_deref().unwrap_or("-"),
                if evidence.transparency_log {
                    ", in the transparency log"
                } else {
                    ""
                }
            )
        } else {
            format!(
                "NOT verified: {}",
                evidence.reason.as_deref().unwrap_or("-")
            )
        };
        let _ = writeln!(
            out,
            "  - {what} [{}] at {}\n    {status}",
            evidence.format, evidence.location
        );
    }
    for note in &report.notes {
        let _ = writeln!(out, "Note: {note}");
    }
    out
}

/// The signing key from `--key FILE` or `--key-env VAR`.
pub(crate) fn signing_key(
    key: Option<&std::path::Path>,
    key_env: Option<&str>,
) -> Result<SigningKey> {
    Ok(match (key, key_env) {
        (Some(path), _) => SigningKey::from_file(path)?,
        (None, Some(variable)) => {
            let pem = std::env::var(variable)
                .with_context(|| format!("--key-env: the variable {variable} is not set"))?;
            SigningKey::from_pem(&pem, &format!("${variable}"))?
        }
        (None, None) => anyhow::bail!("give --key FILE or --key-env VAR"),
    })
}

/// Signs a statement about `manifest` (in `repository`) and attaches it; returns the referrer's
/// digest.
pub(crate) fn attach(
    repository: &RegistryRepository,
    manifest: &rempart_image::FetchedManifest,
    predicate_type: &str,
    predicate: serde_json::Value,
    key: &SigningKey,
) -> Result<String> {
    let name = format!("{}/{}", repository.registry(), repository.repository());
    let options = AttestOptions {
        subject_name: &name,
        subject_digest: &manifest.digest,
        subject_media_type: manifest
            .media_type
            .as_deref()
            .unwrap_or(rempart_image::OCI_MANIFEST),
        subject_size: i64::try_from(manifest.bytes.len()).unwrap_or(i64::MAX),
        predicate_type,
        predicate,
    };
    Ok(rempart_trust::attach_statement(repository, &options, key)?)
}

pub(crate) fn attest(args: &AttestArgs) -> Result<Outcome> {
    // The key is read before the scan so that a bad key fails in a second, not after it.
    let key = signing_key(args.key.as_deref(), args.key_env.as_deref())?;
    let scan_args = apply_settings(&args.scan)?;
    let cache = cache_root(scan_args.common.cache_dir.as_deref())?;
    let options = registry_options(&args.source, &cache);
    let (repository, target) = RegistryRepository::for_reference(&args.reference, &options, true)?;
    let manifest = repository
        .manifest(&target)?
        .with_context(|| format!("{}: no such image", args.reference))?;
    // Scan exactly the manifest that gets the attestation, even if the tag moves meanwhile.
    let pinned = format!(
        "{}/{}@{}",
        repository.registry(),
        repository.repository(),
        manifest.digest
    );
    let source = crate::commands::source::open_reference(&pinned, &args.source, &cache)?;
    crate::commands::scan::run_then(
        &scan_args,
        None,
        |scanner| Ok(scanner.scan_image(source.as_ref())?),
        |result, verdict| {
            let predicate = verdict_predicate(result, verdict, &args.policy_name)?;
            let referrer = attach(
                &repository,
                &manifest,
                VERDICT_PREDICATE,
                serde_json::to_value(&predicate)?,
                &key,
            )?;
            tracing::warn!(
                "attached the signed verdict ({}, {}) to {pinned} as {referrer}",
                if predicate.passed { "passed" } else { "failed" },
                predicate.counts_text()
            );
            Ok(())
        },
    )
}

fn verdict_predicate(
    result: &rempart_core::ScanResult,
    verdict: &rempart::Verdict,
    policy: &str,
) -> Result<VerdictPredicate> {
    use sha2::Digest as _;
    let report = serde_json::to_vec(result)?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for finding in &result.findings {
        *counts
            .entry(finding.severity.as_str().to_ascii_lowercase())
            .or_default() += 1;
    }
    Ok(VerdictPredicate {
        scanner: rempart_trust::attest::ScannerInfo {
            name: "rempart".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        policy: policy.to_owned(),
        policy_version: None,
        database_snapshot: result.vulnerability_data.as_ref().map(|data| {
            data.data_up_to
                .clone()
                .unwrap_or_else(|| data.built_at.clone())
        }),
        passed: verdict.passed,
        counts,
        report_digest: format!("sha256:{}", hex::encode(sha2::Sha256::digest(&report))),
        scanned_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)?,
    })
}
