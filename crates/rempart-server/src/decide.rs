//! Verdicts: a stored scan result judged under a stored policy, by the engine's own `Policy`
//! (the same code as the CLI's exit status), and recorded so that a change can be noticed.

use std::path::Path;

use rempart::{PolicyDocument, PolicyOutcome};
use rempart_core::ScanResult;
use serde::Serialize;

use crate::store::{PolicyRecord, ScannedImage, Store, StoreError, VerdictRecord};

/// The policy a server starts with: critical and high findings fail an image. Admins replace
/// it through the API like any other policy.
pub(crate) const DEFAULT_POLICY_NAME: &str = "default";
pub(crate) const DEFAULT_POLICY: &str =
    "description: critical and high findings fail the image\nseverities: [CRITICAL, HIGH]\n";

#[derive(Debug, thiserror::Error)]
pub(crate) enum DecideError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no scanned image with digest {0}")]
    NoImage(String),
    #[error("no policy named `{0}`")]
    NoPolicy(String),
    /// A stored document that no longer reads: a bug or a damaged store, not the caller's fault.
    #[error("{0}")]
    Damaged(String),
}

/// A verdict as the API shows it: the recorded verdict and when the image was scanned.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Decision {
    #[serde(flatten)]
    pub(crate) verdict: VerdictRecord,
    pub(crate) scanned_at: i64,
}

pub(crate) fn compress(json: &[u8]) -> Vec<u8> {
    // Level 3: reports compress about tenfold at a few milliseconds per megabyte.
    zstd::encode_all(json, 3).unwrap_or_else(|_| json.to_vec())
}

/// The stored result of an image, as scanned.
pub(crate) fn stored_result(image: &ScannedImage) -> Result<ScanResult, DecideError> {
    let json = zstd::decode_all(image.result.as_slice())
        .map_err(|e| DecideError::Damaged(format!("the stored result of {}: {e}", image.digest)))?;
    serde_json::from_slice(&json)
        .map_err(|e| DecideError::Damaged(format!("the stored result of {}: {e}", image.digest)))
}

/// What an image keeps besides its result, so that matching it again reads no layer: the
/// final file system and the function tables of its Go binaries.
#[derive(Serialize, serde::Deserialize)]
pub(crate) struct StoredInventory {
    pub(crate) inventory: Vec<rempart_core::InventoryEntry>,
    pub(crate) go_symbols: Vec<rempart_core::GoSymbols>,
}

pub(crate) fn stored_inventory(image: &ScannedImage) -> Result<StoredInventory, DecideError> {
    let damaged = |e: &dyn std::fmt::Display| {
        DecideError::Damaged(format!("the stored inventory of {}: {e}", image.digest))
    };
    let json = zstd::decode_all(image.inventory.as_slice()).map_err(|e| damaged(&e))?;
    serde_json::from_slice(&json).map_err(|e| damaged(&e))
}

pub(crate) fn load_policy(
    store: &dyn Store,
    name: &str,
    version: Option<i64>,
) -> Result<PolicyRecord, DecideError> {
    store
        .policy(name, version)?
        .ok_or_else(|| DecideError::NoPolicy(name.to_owned()))
}

/// Applies a policy to a result: the findings left, what the policy did, and the verdict.
pub(crate) fn judge(
    policy: &PolicyRecord,
    result: &mut ScanResult,
) -> Result<(rempart::Verdict, PolicyOutcome), DecideError> {
    let origin = format!("policy {} version {}", policy.name, policy.version);
    let document = PolicyDocument::parse(&policy.document, Path::new(&origin))
        .map_err(|e| DecideError::Damaged(e.to_string()))?;
    let rules = document
        .to_policy(Path::new(&origin), &rempart::utc_today())
        .map_err(|e| DecideError::Damaged(e.to_string()))?;
    let outcome = rules.apply(result);
    Ok((rules.verdict(result), outcome))
}

fn utc_day(millis: i64) -> i64 {
    millis.div_euclid(86_400_000)
}

/// The image's verdict under a policy's latest version: the recorded one when it was decided
/// today (ignores expire by the day), after the image's last scan and under that version;
/// otherwise decided again and recorded. A lookup thus costs two indexed reads, not a decode of
/// the whole result.
pub(crate) fn current_verdict(
    store: &dyn Store,
    digest: &str,
    policy_name: &str,
    now: i64,
) -> Result<Decision, DecideError> {
    let image = store
        .image_summary(digest)?
        .ok_or_else(|| DecideError::NoImage(digest.to_owned()))?;
    let policy = load_policy(store, policy_name, None)?;
    let recorded = store
        .verdicts(digest)?
        .into_iter()
        .find(|verdict| verdict.policy == policy.name);
    if let Some(verdict) = recorded
        && verdict.policy_version == policy.version
        && verdict.decided_at >= image.scanned_at
        && utc_day(verdict.decided_at) == utc_day(now)
    {
        return Ok(Decision {
            verdict,
            scanned_at: image.scanned_at,
        });
    }
    Ok(decide(store, digest, policy_name, now)?.0)
}

/// The verdict `policy` gives a scan result (the result is left as the policy filters it).
pub(crate) fn verdict_record(
    digest: &str,
    policy: &PolicyRecord,
    result: &mut ScanResult,
    now: i64,
) -> Result<VerdictRecord, DecideError> {
    let (verdict, outcome) = judge(policy, result)?;
    Ok(VerdictRecord {
        digest: digest.to_owned(),
        policy: policy.name.clone(),
        policy_version: policy.version,
        passed: verdict.passed,
        reasons: verdict.reasons,
        findings: i64::try_from(result.findings.len()).unwrap_or(i64::MAX),
        suppressed: i64::try_from(outcome.suppressed.len()).unwrap_or(i64::MAX),
        decided_at: now,
    })
}

/// Decides an image's verdict under a policy (latest version when none is named) and records
/// it; returns the decision and the verdict it replaced.
pub(crate) fn decide(
    store: &dyn Store,
    digest: &str,
    policy_name: &str,
    now: i64,
) -> Result<(Decision, Option<VerdictRecord>), DecideError> {
    let image = store
        .image(digest)?
        .ok_or_else(|| DecideError::NoImage(digest.to_owned()))?;
    let mut result = stored_result(&image)?;
    let (record, previous) = decide_result(store, digest, policy_name, &mut result, now)?;
    Ok((
        Decision {
            verdict: record,
            scanned_at: image.scanned_at,
        },
        previous,
    ))
}

/// Decides and records the verdict of a result already in memory (the one stored for
/// `digest`); returns it and the verdict it replaced.
pub(crate) fn decide_result(
    store: &dyn Store,
    digest: &str,
    policy_name: &str,
    result: &mut ScanResult,
    now: i64,
) -> Result<(VerdictRecord, Option<VerdictRecord>), DecideError> {
    let policy = load_policy(store, policy_name, None)?;
    let record = verdict_record(digest, &policy, result, now)?;
    let previous = store.record_verdict(&record)?;
    Ok((record, previous))
}
