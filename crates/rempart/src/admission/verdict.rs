//! Where image verdicts come from. The engine asks a [`VerdictSource`] and never the network:
//! the server answers from its store (and may scan within a budget), the CLI from a file or
//! from verdicts it fetched before deciding.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::image::{is_sha256_digest, normalized};
use super::policy::UnscannedMode;
use crate::document::{DocumentError, read_capped};

/// The verdict on one image under one scan policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageVerdict {
    /// The image's manifest digest (`sha256:…`) the verdict is about.
    pub digest: String,
    pub passed: bool,
    /// Why it failed (the scan policy's reasons); empty when it passed.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The scan policy it was decided under.
    pub policy: String,
    /// When the image was scanned, in seconds since the Unix epoch.
    pub scanned_at: i64,
}

/// What is asked of a verdict source for one container image.
#[derive(Debug, Clone, Copy)]
pub struct VerdictQuery<'a> {
    /// The image as the pod names it.
    pub image: &'a str,
    /// The digest it pins, if any.
    pub digest: Option<&'a str>,
    /// The scan policy the verdict must be under.
    pub policy: &'a str,
    /// What the rule does with an image without a verdict. Under `scan`, a source that can
    /// (`can_scan`) scans within its budget before answering; under `warn`, the server queues a
    /// scan for later.
    pub unscanned: UnscannedMode,
    /// False when the image is denied anyway (not from an allowed repository): a source must
    /// not scan or queue it, so that a pod naming any image cannot make the server pull it.
    pub may_scan: bool,
}

impl VerdictQuery<'_> {
    /// Whether the source should scan before answering, when it can.
    pub fn scan_if_unknown(&self) -> bool {
        self.may_scan && self.unscanned == UnscannedMode::Scan
    }
}

/// The answer of a verdict source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerdictLookup {
    Known(ImageVerdict),
    /// No verdict under that policy; `digest` when the source resolved the reference.
    Unknown {
        digest: Option<String>,
    },
    /// The source could not answer (a server unreachable, a scan failed); the message says why.
    Failed(String),
}

/// What is asked of a verdict source about an image's signatures (`images.trust`).
#[derive(Debug, Clone, Copy)]
pub struct TrustQuery<'a> {
    /// The image as the pod names it.
    pub image: &'a str,
    /// The digest it pins, if any.
    pub digest: Option<&'a str>,
}

/// An image verified against the trust policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageTrust {
    /// The manifest digest that was verified (a tag is resolved first).
    pub digest: String,
    /// Every requirement of the trust policy's rule for the image is met.
    pub trusted: bool,
    /// The unmet requirements, one line each (`signature: no signature by a trusted signer…`).
    #[serde(default)]
    pub unmet: Vec<String>,
}

impl ImageTrust {
    /// What admission keeps of a verification: the digest, the verdict, the unmet requirements.
    pub fn from_report(report: &rempart_trust::TrustReport) -> ImageTrust {
        ImageTrust {
            digest: report.image.digest.clone(),
            trusted: report.trusted(),
            unmet: report.failures(),
        }
    }
}

/// The answer of a verdict source about an image's signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustLookup {
    Verified(ImageTrust),
    /// Not verified (the source does not verify, or was not asked to).
    Unknown,
    /// The verification could not be done (a registry unreachable); the message says why.
    Failed(String),
}

/// A source of image verdicts. Implementations must answer without blocking on the network
/// unless asked to scan: an admission decision sits on the API server's deadline.
pub trait VerdictSource {
    fn lookup(&self, query: &VerdictQuery<'_>) -> VerdictLookup;

    /// The image's verification against the trust policy, when the source has it. Sources that
    /// verify do so before the decision (the CLI) or between its two passes (the server).
    fn trust(&self, _query: &TrustQuery<'_>) -> TrustLookup {
        TrustLookup::Unknown
    }

    /// Whether the source scans images it has no verdict for when asked (`unscanned: scan`).
    fn can_scan(&self) -> bool {
        false
    }
}

/// No verdict for anything: every verdict rule follows its `unscanned` mode.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVerdicts;

impl VerdictSource for NoVerdicts {
    fn lookup(&self, query: &VerdictQuery<'_>) -> VerdictLookup {
        VerdictLookup::Unknown {
            digest: query.digest.map(str::to_owned),
        }
    }
}

/// Verdicts held in memory, by digest and by image reference: what a verdicts file holds, or
/// what a caller fetched before deciding.
#[derive(Debug, Clone, Default)]
pub struct VerdictMap {
    /// (digest, policy) → verdict.
    by_digest: HashMap<(String, String), ImageVerdict>,
    /// Image reference as the pod names it (normalized repository + tag) → digest.
    digests: HashMap<String, String>,
    /// (digest or reference, policy) → why the lookup failed.
    failures: HashMap<(String, String), String>,
    /// Image as the pod names it → its verification against the trust policy.
    trust: HashMap<String, TrustLookup>,
}

/// One entry of a verdicts file: a verdict as the server's `/v1/images/{digest}/verdict`
/// answers it (extra fields of that answer allowed), optionally with the image reference it was
/// scanned as, so that tag references find it too.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerdictEntry {
    #[serde(default)]
    image: Option<String>,
    digest: String,
    passed: bool,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default = "default_policy")]
    policy: String,
    scanned_at: ScannedAt,
    // Fields of the server's answer that the decision does not use.
    #[serde(default)]
    #[allow(dead_code)]
    policy_version: Option<serde_json::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    findings: Option<serde_json::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    suppressed: Option<serde_json::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    decided_at: Option<serde_json::Value>,
}

fn default_policy() -> String {
    "default".to_owned()
}

/// Seconds since the epoch (as the server answers) or an RFC 3339 time (as people write).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ScannedAt {
    Seconds(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerdictFile {
    verdicts: Vec<VerdictEntry>,
}

/// Verdict files list one line per image; the cap keeps a mistaken file from costing much.
const MAX_VERDICT_FILE_BYTES: u64 = 64 * 1024 * 1024;

impl VerdictMap {
    pub fn new() -> VerdictMap {
        VerdictMap::default()
    }

    /// Reads a verdicts file: `{"verdicts": [{"image": "registry.example.com/app:1.2",
    /// "digest": "sha256:…", "passed": false, "reasons": ["…"], "policy": "default",
    /// "scanned_at": 1767225600}]}`.
    pub fn load(path: &Path) -> Result<VerdictMap, DocumentError> {
        let bytes = read_capped(path, MAX_VERDICT_FILE_BYTES)?;
        let file: VerdictFile =
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&bytes))
                .map_err(|error| {
                    DocumentError::invalid(path, format!("{}: {}", error.path(), error.inner()))
                })?;
        let mut map = VerdictMap::new();
        for (index, entry) in file.verdicts.into_iter().enumerate() {
            let at = format!("verdicts[{index}]");
            if !is_sha256_digest(&entry.digest) {
                return Err(DocumentError::invalid(
                    path,
                    format!(
                        "{at}.digest: `sha256:` and 64 lowercase hex digits, not `{}`",
                        entry.digest
                    ),
                ));
            }
            let scanned_at = match entry.scanned_at {
                ScannedAt::Seconds(seconds) => seconds,
                ScannedAt::Text(text) => time::OffsetDateTime::parse(
                    &text,
                    &time::format_description::well_known::Rfc3339,
                )
                .map_err(|_| {
                    DocumentError::invalid(
                        path,
                        format!("{at}.scanned_at: seconds since the epoch or an RFC 3339 time, not `{text}`"),
                    )
                })?
                .unix_timestamp(),
            };
            if let Some(image) = &entry.image {
                map.insert_reference(image, &entry.digest);
            }
            map.insert(ImageVerdict {
                digest: entry.digest,
                passed: entry.passed,
                reasons: entry.reasons,
                policy: entry.policy,
                scanned_at,
            });
        }
        Ok(map)
    }

    /// Adds (or replaces) a verdict.
    pub fn insert(&mut self, verdict: ImageVerdict) {
        self.by_digest
            .insert((verdict.digest.clone(), verdict.policy.clone()), verdict);
    }

    /// Records that `image` (a tag reference) resolves to `digest`.
    pub fn insert_reference(&mut self, image: &str, digest: &str) {
        self.digests.insert(reference_key(image), digest.to_owned());
    }

    /// Records that asking about `image` (or its digest) under `policy` failed.
    pub fn insert_failure(&mut self, image_or_digest: &str, policy: &str, message: String) {
        self.failures
            .insert((image_or_digest.to_owned(), policy.to_owned()), message);
    }

    /// Records the verification of `image` (as the pod names it) against the trust policy.
    pub fn insert_trust(&mut self, image: &str, outcome: TrustLookup) {
        self.trust.insert(image.to_owned(), outcome);
    }

    /// Adds every verdict, reference, failure and verification of `other`; `other`'s win.
    pub fn extend(&mut self, other: VerdictMap) {
        self.by_digest.extend(other.by_digest);
        self.digests.extend(other.digests);
        self.failures.extend(other.failures);
        self.trust.extend(other.trust);
    }

    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }
}

/// `docker.io/library/nginx:latest` for `nginx`: one key for every spelling of a reference.
fn reference_key(image: &str) -> String {
    let parsed = rempart_misconfig::ImageRef::parse(image);
    let tag = parsed.tag.as_deref().unwrap_or("latest");
    format!("{}:{tag}", normalized(image))
}

impl VerdictSource for VerdictMap {
    fn lookup(&self, query: &VerdictQuery<'_>) -> VerdictLookup {
        let digest = query
            .digest
            .map(str::to_owned)
            .or_else(|| self.digests.get(&reference_key(query.image)).cloned());
        for key in [digest.as_deref(), Some(query.image)].into_iter().flatten() {
            if let Some(message) = self
                .failures
                .get(&(key.to_owned(), query.policy.to_owned()))
            {
                return VerdictLookup::Failed(message.clone());
            }
        }
        match digest {
            Some(digest) => match self
                .by_digest
                .get(&(digest.clone(), query.policy.to_owned()))
            {
                Some(verdict) => VerdictLookup::Known(verdict.clone()),
                None => VerdictLookup::Unknown {
                    digest: Some(digest),
                },
            },
            None => VerdictLookup::Unknown { digest: None },
        }
    }

    fn trust(&self, query: &TrustQuery<'_>) -> TrustLookup {
        self.trust
            .get(query.image)
            .cloned()
            .unwrap_or(TrustLookup::Unknown)
    }
}
