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
}
