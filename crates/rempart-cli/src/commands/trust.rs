//! `rempart verify` and `rempart attest`: supply-chain trust on the command line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use rempart_image::{FetchedManifest, RegistryRepository};
use rempart_trust::policy::VERDICT_PREDICATE;
use rempart_trust::verify::PreparedPolicy;
use rempart_trust::{
    ArtifactStore, AttestOptions, ImageSubject, LayoutStore, SigningKey, TrustPolicy, TrustReport,
    VerdictPredicate,
};

use crate::Outcome;
use crate::cli::{AttestArgs, VerifyArgs};
use crate::commands::source::registry_options;
use crate::context::{Output, cache_root};
use crate::settings::apply_settings;

const BASE_NAME: &str = "org.opencontainers.image.base.name";
const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

pub(crate) fn verify(args: &VerifyArgs) -> Result<Outcome> {
    let policy = TrustPolicy::load(&args.policy)?;
    let prepared = PreparedPolicy::new(&policy)?;
    let report = if let Some((dir, tag)) = local_layout(&args.image) {
        let store = LayoutStore::open(dir)?;
        let manifest = store.image(tag)?;
        let subject = subject(&args.image, &store.describe(), &manifest, true);
        rempart_trust::verify_image(&store, subject, &prepared)?
    } else {
        let cache = cache_root(None)?;
        let options = registry_options(&args.source, &cache);
        let (repository, target) = RegistryRepository::for_reference(&args.image, &options, false)?;
        let manifest = repository
            .manifest(&target)?
            .with_context(|| format!("{}: no such image", args.image))?;
        let name = format!("{}/{}", repository.registry(), repository.repository());
        let subject = subject(&args.image, &name, &manifest, target.starts_with("sha256:"));
        rempart_trust::verify_image(&repository, subject, &prepared)?
    };
    let bytes = match args.format.as_str() {
        "json" => {
            let mut bytes = serde_json::to_vec_pretty(&report)?;
            bytes.push(b'\n');
            bytes
        }
        "table" => table(&report).into_bytes(),
        other => anyhow::bail!("--format: `{other}` is not one of table, json"),
    };
    Output::new(args.output.as_deref()).write(&bytes)?;
    Ok(if report.trusted() {
        Outcome::Clean
    } else {
        Outcome::Findings(1)
    })
}

/// `DIR` or `DIR:TAG` when that names an OCI layout on disk.
fn local_layout(image: &str) -> Option<(&Path, Option<&str>)> {
    let path = Path::new(image);
    if path.join("index.json").is_file() {
        return Some((path, None));
    }
    let (dir, tag) = image.rsplit_once(':')?;
    Path::new(dir)
        .join("index.json")
        .is_file()
        .then_some((Path::new(dir), Some(tag)))
}

fn subject(
    reference: &str,
    repository: &str,
    manifest: &FetchedManifest,
    by_digest: bool,
) -> ImageSubject {
    let annotations: BTreeMap<String, String> =
        serde_json::from_slice::<serde_json::Value>(&manifest.bytes)
            .ok()
            .and_then(|m| serde_json::from_value(m["annotations"].clone()).ok())
            .unwrap_or_default();
    ImageSubject {
        reference: reference.to_owned(),
        repository: repository.to_owned(),
        digest: manifest.digest.clone(),
        by_digest,
        base_name: annotations.get(BASE_NAME).cloned(),
        base_digest: annotations.get(BASE_DIGEST).cloned(),
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

pub(crate) fn attest(args: &AttestArgs) -> Result<Outcome> {
    // The key is read before the scan so that a bad key fails in a second, not after it.
    let key = match (&args.key, &args.key_env) {
        (Some(path), _) => SigningKey::from_file(path)?,
        (None, Some(variable)) => {
            let pem = std::env::var(variable)
                .with_context(|| format!("--key-env: the variable {variable} is not set"))?;
            SigningKey::from_pem(&pem, &format!("${variable}"))?
        }
        (None, None) => anyhow::bail!("give --key FILE or --key-env VAR"),
    };
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
    let name = format!("{}/{}", repository.registry(), repository.repository());
    crate::commands::scan::run_then(
        &scan_args,
        None,
        |scanner| Ok(scanner.scan_image(source.as_ref())?),
        |result, verdict| {
            let predicate = verdict_predicate(result, verdict, &args.policy_name)?;
            let options = AttestOptions {
                subject_name: &name,
                subject_digest: &manifest.digest,
                subject_media_type: manifest
                    .media_type
                    .as_deref()
                    .unwrap_or(rempart_image::OCI_MANIFEST),
                subject_size: i64::try_from(manifest.bytes.len()).unwrap_or(i64::MAX),
                predicate_type: VERDICT_PREDICATE,
                predicate: serde_json::to_value(&predicate)?,
            };
            let referrer = rempart_trust::attach_statement(&repository, &options, &key)?;
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
