use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Identifies a layer of an image: its position (0 = base) and its diff id (the digest of the
/// uncompressed tar), which is stable across compressions and registries.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LayerRef {
    pub index: usize,
    pub diff_id: String,
}

/// One step of the image's build history, as recorded in the image config.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The step produced no layer (ENV, LABEL, USER...).
    #[serde(default)]
    pub empty_layer: bool,
}

/// What the image config says about how the image runs. Sources without a config (a root
/// filesystem directory) leave it empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImageMetadata {
    /// How the user named the image: a reference (`debian:12`), or a file path.
    pub name: String,
    /// Repository tags recorded by the source, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_tags: Vec<String>,
    /// Manifest digest, when the source has a manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// Digest of the config blob (the image id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `NAME=value` strings exactly as in the config.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// `80/tcp` style keys exactly as in the config.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// `Healthcheck.Test` from the config; `Some(["NONE"])` when explicitly disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    /// The tag the user asked for, when the image came from a reference (`latest` is a finding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_tag: Option<String>,
    /// The reference pinned a digest.
    #[serde(default)]
    pub pinned_by_digest: bool,
}

/// Operating system identification, from `/etc/os-release` and friends.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OsInfo {
    /// `ID` from os-release: `debian`, `alpine`, `ubuntu`, `rhel`...
    pub id: String,
    /// `VERSION_ID`: `12`, `3.19.1`, `22.04`.
    #[serde(default)]
    pub version_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
}

/// The kind of a tar entry or directory entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntryKind {
    File,
    Dir,
    Symlink {
        target: String,
    },
    /// A hard link to another path of the image (the target path, normalized).
    HardLink {
        target: String,
    },
    Device,
    Fifo,
}

/// One entry of the final (merged) filesystem, or of one layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryEntry {
    pub path: String,
    #[serde(flatten)]
    pub kind: EntryKind,
    pub size: u64,
    /// Unix permission bits including setuid/setgid/sticky (`0o4755`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Layer index that last wrote this entry.
    pub layer: usize,
}

/// Why the walker passed over an entry or a file's content.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The path is absolute or climbs out of the root with `..`.
    UnsafePath,
    /// The file is larger than the per-file cap an analyzer asked for.
    TooLarge,
    /// A device node or fifo: has no content to analyse.
    SpecialFile,
    /// A symlink or hard link whose target leaves the image root.
    LinkEscapesRoot,
    /// The path has more components than the depth cap.
    TooDeep,
    /// The entry's name is not valid UTF-8 (directory trees only: in layers such names are
    /// scanned under an escaped form).
    NonUtf8Path,
    /// The entry's name is longer than the path-length cap.
    PathTooLong,
    /// A link at a name an analyzer reads, to content under a name it does not read.
    LinkNotFollowed,
    /// An analyzer stopped listing findings in the file at its cap (the detail says which).
    TooManyFindings,
    /// A hard link to a name that neither its layer (before it) nor a layer below holds.
    DanglingLink,
    /// The walker could not read the file (rootfs sources: permission denied and the like).
    Unreadable,
    /// Binary content, passed over by a text analyzer (secrets).
    Binary,
    /// An archive member beyond the nesting-depth or expansion cap.
    ArchiveLimit,
    /// A scanner gave up on the file after its time limit (a pathological rule or input).
    ScanTimeout,
}

impl SkipReason {
    /// Whether content was left unread: a gate that must inspect everything refuses these
    /// (`--fail-on-skipped`). Binary files passed over by the text scanners, links and device
    /// nodes have no content of their own to inspect.
    pub fn content_not_inspected(&self) -> bool {
        matches!(
            self,
            SkipReason::UnsafePath
                | SkipReason::TooLarge
                | SkipReason::TooDeep
                | SkipReason::NonUtf8Path
                | SkipReason::PathTooLong
                | SkipReason::Unreadable
                | SkipReason::ArchiveLimit
                | SkipReason::ScanTimeout
        )
    }
}

/// A record that something was passed over, and why. Reported in the scan summary so nothing is
/// silently hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedEntry {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    pub reason: SkipReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
