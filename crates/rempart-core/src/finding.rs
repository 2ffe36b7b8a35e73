use serde::{Deserialize, Serialize};

use crate::image::LayerRef;
use crate::severity::Severity;

/// Which scanner produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScannerKind {
    Vuln,
    Secret,
    Malware,
    Misconfig,
    /// Supply-chain trust: signatures and attestations checked against a trust policy.
    Trust,
}

impl ScannerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScannerKind::Vuln => "vuln",
            ScannerKind::Secret => "secret",
            ScannerKind::Malware => "malware",
            ScannerKind::Misconfig => "misconfig",
            ScannerKind::Trust => "trust",
        }
    }
}

/// An entry of the image config a finding is about: the field (`env`, `label`, `history`,
/// `user`, `exposed_ports`, `healthcheck`, `reference`) and, in a list, the entry's 1-based
/// position (history step 3 is the third entry of the config's `history`, as `docker history`
/// lists it from the bottom).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ConfigEntry {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

impl std::fmt::Display for ConfigEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field = match self.field.as_str() {
            "history" => "history step",
            "env" => "env entry",
            "label" => "label",
            "exposed_ports" => "exposed ports",
            other => other,
        };
        match self.index {
            Some(index) => write!(f, "image config {field} {index}"),
            None => write!(f, "image config {field}"),
        }
    }
}

/// Where something was found.
///
/// `path` is relative to the scanned root without a leading slash (`etc/os-release`), exactly as
/// it appears in a layer tarball; reports add the slash where they show image paths. Findings
/// about the image config rather than a file have an empty path and name the entry in `config`;
/// their `line` repeats the entry's 1-based index, as earlier reports gave it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Location {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<LayerRef>,
    /// 1-based line number, for text findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The file is not in the final image: a later layer deleted or replaced it. Its content is
    /// still in the image's layers, so secrets and malware in it still matter.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The image config entry, for findings about the config rather than a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigEntry>,
}

impl Location {
    pub fn file(path: impl Into<String>) -> Location {
        Location {
            path: path.into(),
            ..Location::default()
        }
    }

    /// An entry of the image config (`field`, with a 1-based `index` in a list).
    pub fn config(field: &str, index: Option<u32>) -> Location {
        Location {
            line: index,
            config: Some(ConfigEntry {
                field: field.to_owned(),
                index,
            }),
            ..Location::default()
        }
    }

    #[must_use]
    pub fn with_line(mut self, line: u32) -> Location {
        self.line = Some(line);
        self
    }
}

/// Whether and how a vulnerability can be fixed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FixState {
    /// Upgrading to any of these versions fixes it.
    Fixed { versions: Vec<String> },
    /// The advisory says the package is affected and no fixed version exists yet.
    NotFixed,
    /// The distribution decided not to fix it in this release.
    WillNotFix,
    /// The distribution will fix it, in a later update than usual.
    FixDeferred,
    /// The release is past its publisher's support for this package: no fix will come.
    EndOfLife,
    /// The publisher has not yet said whether the package is affected.
    UnderInvestigation,
}

impl FixState {
    /// Every status name, as `--ignore-status` and reports spell them.
    pub const STATUS_NAMES: [&'static str; 6] = [
        "fixed",
        "affected",
        "will_not_fix",
        "fix_deferred",
        "end_of_life",
        "under_investigation",
    ];

    /// The status as one word: `fixed`, `affected`, `will_not_fix`, `fix_deferred`,
    /// `end_of_life`, `under_investigation` (the names Trivy's `--ignore-status` uses too).
    pub fn status_name(&self) -> &'static str {
        match self {
            FixState::Fixed { .. } => "fixed",
            FixState::NotFixed => "affected",
            FixState::WillNotFix => "will_not_fix",
            FixState::FixDeferred => "fix_deferred",
            FixState::EndOfLife => "end_of_life",
            FixState::UnderInvestigation => "under_investigation",
        }
    }

    /// A status that is not `fixed`, from its name (see [`FixState::status_name`]).
    pub fn unfixed_from_name(name: &str) -> Option<FixState> {
        Some(match name {
            "affected" => FixState::NotFixed,
            "will_not_fix" => FixState::WillNotFix,
            "fix_deferred" => FixState::FixDeferred,
            "end_of_life" => FixState::EndOfLife,
            "under_investigation" => FixState::UnderInvestigation,
            _ => return None,
        })
    }
}

/// What a vulnerability's severity rests on, in the order it is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeverityBasis {
    /// The distribution's own rating of its package (Debian urgency, Ubuntu priority, Red Hat
    /// impact): it knows how the package is built and used.
    Distribution,
    /// The base score of a CVSS vector (v4.0 or v3.x) of the advisory or of one of its aliases.
    Cvss,
    /// The advisory database's own word (GitHub's `database_specific.severity`), without a
    /// vector.
    Advisory,
}

/// Where a vulnerability's severity came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeveritySource {
    pub basis: SeverityBasis,
    /// The record rated: `GHSA-…`, `CVE-…`, `PYSEC-…`, `DSA-…`; for a distribution rating, the
    /// distribution's advisory.
    pub record: String,
    /// The CVSS vector scored, for [`SeverityBasis::Cvss`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
}

/// An entry of CISA's Known Exploited Vulnerabilities catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KnownExploited {
    /// The CVE listed.
    pub cve: String,
    /// `YYYY-MM-DD` the catalogue listed it.
    pub date_added: String,
    /// `YYYY-MM-DD` by which US federal agencies must remediate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// Known to be used in ransomware campaigns.
    #[serde(default)]
    pub ransomware: bool,
}

/// A FIRST EPSS score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
// Fields in name order: reports that sort object keys and reports that keep them in field order
// then write them alike.
pub struct Epss {
    /// Share (0 to 1) of scored CVEs with a lower or equal score.
    pub percentile: f64,
    /// Probability (0 to 1) of exploitation activity in the next 30 days.
    pub score: f64,
}

/// Scanner-specific detail of a finding.
// Vulnerabilities are most of the findings of a scan: boxing their detail would add an
// allocation to each of them to save space on the few others.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingDetails {
    Vulnerability {
        package: String,
        ecosystem: String,
        installed_version: String,
        purl: String,
        fix: FixState,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        aliases: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        cvss: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cvss_score: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        references: Vec<String>,
        /// Whether the binary holds the vulnerable functions the advisory names (Go binaries
        /// with a function table); `None` when that cannot be told.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reachable: Option<bool>,
        /// Which record and which rating the severity was taken from; `None` when no record of
        /// the vulnerability rates it (the severity is then `UNKNOWN`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        severity_source: Option<SeveritySource>,
        /// Listed in CISA's Known Exploited Vulnerabilities catalogue: exploited in the wild.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kev: Option<KnownExploited>,
        /// FIRST's Exploit Prediction Scoring System: the probability of exploitation activity
        /// in the next 30 days.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epss: Option<Epss>,
    },
    Secret {
        /// The matched text with all but its first few characters masked.
        redacted: String,
        /// Where the secret came from when it is not a file: `env`, `history`, `label`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<String>,
    },
    Malware {
        /// YARA rule name or hash-list entry.
        signature: String,
        /// `yara` or `hash`.
        engine: String,
        /// Path inside an archive member chain, e.g. `app.jar!/lib/x.jar!/eicar.com`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        member: Option<String>,
    },
    Misconfig {
        /// The object checked: `Deployment/web (container app)`, `image config`, `Dockerfile stage 2`.
        resource: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolution: Option<String>,
    },
    Trust {
        /// The trust-policy rule that applied, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
        /// Why the requirement is not met (each signature or attestation seen and why it did
        /// not count).
        reason: String,
    },
}

/// One thing a scanner found. Findings are data: a scan that finds problems has succeeded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub scanner: ScannerKind,
    /// Stable identifier: the advisory id for vulnerabilities (`CVE-2023-1234`, `GHSA-…`), the
    /// rule code otherwise (`SEC-AWS-ACCESS-KEY`, `IMG-ROOT-USER`). Codes are never reused.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub location: Location,
    pub details: FindingDetails,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_url: Option<String>,
}
