//! The database's own view of an advisory, whatever feed it came from.

use rempart_core::Severity;
use serde::{Deserialize, Serialize};

/// How the versions of a range are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RangeKind {
    /// The ecosystem's own version scheme.
    Ecosystem,
    /// Semantic Versioning 2.0.
    Semver,
    /// Commit hashes. Stored for completeness but never matched: an installed package carries a
    /// version, not a commit, and ordering commits needs the repository's history.
    Git,
}

/// One OSV range event. `"0"` as `introduced` means "from the first version".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub(crate) fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VersionRange {
    pub(crate) kind: RangeKind,
    pub(crate) events: Vec<Event>,
    /// The events are in version order (sorted when the database was built), so matching can
    /// stop at the first event above the installed version.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) sorted: bool,
}

/// What a distribution says of an affected version that has no fix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum UnfixedState {
    /// Affected, and a fix is expected.
    #[default]
    Affected,
    /// The publisher decided not to fix it in this release (Debian `ignored`, Red Hat "Will not
    /// fix", Ubuntu `ignored`).
    WillNotFix,
    /// A fix will come later than usual (Debian `postponed`, Red Hat "Fix deferred", Ubuntu
    /// `deferred`).
    FixDeferred,
    /// The package or release is past its publisher's support (Red Hat "Out of support scope",
    /// Debian `end-of-life`).
    EndOfLife,
    /// The publisher has not decided yet whether it is affected.
    UnderInvestigation,
}

impl UnfixedState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            UnfixedState::Affected => "affected",
            UnfixedState::WillNotFix => "will_not_fix",
            UnfixedState::FixDeferred => "fix_deferred",
            UnfixedState::EndOfLife => "end_of_life",
            UnfixedState::UnderInvestigation => "under_investigation",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<UnfixedState> {
        Some(match text {
            "affected" => UnfixedState::Affected,
            "will_not_fix" => UnfixedState::WillNotFix,
            "fix_deferred" => UnfixedState::FixDeferred,
            "end_of_life" => UnfixedState::EndOfLife,
            "under_investigation" => UnfixedState::UnderInvestigation,
            _ => return None,
        })
    }

    /// The finding's fix state when no version fixes the installed one.
    pub(crate) fn fix_state(self) -> rempart_core::FixState {
        use rempart_core::FixState;
        match self {
            UnfixedState::Affected => FixState::NotFixed,
            UnfixedState::WillNotFix => FixState::WillNotFix,
            UnfixedState::FixDeferred => FixState::FixDeferred,
            UnfixedState::EndOfLife => FixState::EndOfLife,
            UnfixedState::UnderInvestigation => FixState::UnderInvestigation,
        }
    }
}

/// One package an advisory affects, in one ecosystem (and distribution release).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AffectedPackage {
    /// OSV ecosystem without the release: `Debian`, `PyPI`, `Alpine`.
    pub(crate) ecosystem: String,
    /// Distribution release (`12`, `3.19`, `22.04`); empty for language ecosystems.
    pub(crate) release: String,
    /// The name as the feed spells it.
    pub(crate) name: String,
    pub(crate) ranges: Vec<VersionRange>,
    /// Versions listed one by one (OSV `versions`).
    pub(crate) versions: Vec<String>,
    /// The distribution's own rating for this package (Debian urgency, Ubuntu priority).
    pub(crate) severity: Option<Severity>,
    /// What the publisher says of a version it has not fixed (from distribution feeds; OSV
    /// says nothing of it, so it is `Affected` there).
    pub(crate) state: UnfixedState,
    /// Go: the vulnerable packages of the module (OSV `ecosystem_specific.imports`), with the
    /// platforms and symbols they are limited to. Empty elsewhere, and when the record does not
    /// say (then the whole module is affected on every platform).
    pub(crate) imports: Vec<GoImport>,
}

/// One vulnerable Go package of a module: an advisory limited to some operating systems or
/// architectures (`goos`, `goarch`) affects a binary built for another one in no way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GoImport {
    #[serde(default)]
    pub(crate) path: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) goos: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) goarch: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) symbols: Vec<String>,
}

impl GoImport {
    /// Whether this package is vulnerable on `goos`/`goarch` (the binary's build target).
    pub(crate) fn applies_to(&self, goos: &str, goarch: &str) -> bool {
        (self.goos.is_empty() || self.goos.iter().any(|o| o == goos))
            && (self.goarch.is_empty() || self.goarch.iter().any(|a| a == goarch))
    }
}

/// An advisory, normalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Advisory {
    pub(crate) id: String,
    /// OSV `summary`, else the first line of `details`.
    pub(crate) title: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) severity: Severity,
    /// CVSS vectors as published (`CVSS:3.1/AV:N/...`).
    pub(crate) cvss: Vec<String>,
    /// The vector the record is rated by (the newest CVSS version it publishes), and its base
    /// score.
    pub(crate) cvss_vector: Option<String>,
    pub(crate) cvss_score: Option<f64>,
    /// The database's own rating, without a vector (GitHub's `database_specific.severity`).
    pub(crate) rated_severity: Option<Severity>,
    pub(crate) references: Vec<String>,
    /// RFC 3339 time of the last change, when the feed gives one.
    pub(crate) modified: Option<String>,
    pub(crate) affected: Vec<AffectedPackage>,
}
