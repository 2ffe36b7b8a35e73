use serde::{Deserialize, Serialize};

use crate::finding::{Finding, ScannerKind};
use crate::image::{ImageMetadata, OsInfo, SkippedEntry};
use crate::package::Package;

/// Version of the JSON report schema. Bump on any incompatible change.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// One layer as the scan saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerSummary {
    pub index: usize,
    /// Digest of the uncompressed tar.
    pub diff_id: String,
    /// Digest of the blob as stored (compressed), when the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The history line that created it, when the config records one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub files: u64,
    /// Uncompressed bytes of regular files.
    pub bytes: u64,
    /// Results came from the layer cache: the layer was not read.
    #[serde(default)]
    pub cached: bool,
}

/// Everything one scan of one target produced; the input of every report format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanResult {
    pub schema_version: u32,
    /// `image`, `rootfs` or `fs`.
    pub target_kind: String,
    pub target: ImageMetadata,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsInfo>,
    pub scanners: Vec<ScannerKind>,
    pub layers: Vec<LayerSummary>,
    pub packages: Vec<Package>,
    pub findings: Vec<Finding>,
    /// Entries and contents passed over, with the reason.
    pub skipped: Vec<SkippedEntry>,
    /// The vulnerability data the packages were matched against, when they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability_data: Option<VulnerabilityData>,
}

/// Which vulnerability database a scan used and how recent its data is: a report that says
/// "no vulnerability" must say against what.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnerabilityData {
    /// The database file.
    pub path: String,
    /// When it was built (RFC 3339, UTC).
    pub built_at: String,
    /// The newest advisory date over its feeds (RFC 3339, UTC), when the feeds date them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_up_to: Option<String>,
    pub advisories: u64,
    /// The small sample set built into rempart (for an offline first run), not real coverage.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sample: bool,
}
