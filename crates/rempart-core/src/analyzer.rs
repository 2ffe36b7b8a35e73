//! The contract between the layer walker and the analyzers.
//!
//! The walker reads every layer once. For each regular file it asks every [`FileAnalyzer`] what it
//! wants ([`Interest`]), reads the content once if anyone wants it, and hands it over. Analyzers
//! never see a layer index or know about other layers: what they return depends only on the file,
//! so results can be cached per layer digest and merged afterwards (deleted files marked, packages
//! of replaced databases dropped) by the engine.

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::image::{ImageMetadata, InventoryEntry, OsInfo, SkippedEntry};
use crate::package::{Ecosystem, Package};

/// What the walker knows about a file before reading it.
#[derive(Debug, Clone, Copy)]
pub struct FileMeta<'a> {
    /// Normalized path relative to the root, no leading slash (`usr/lib/os-release`).
    pub path: &'a str,
    pub size: u64,
    /// Permission bits, including setuid/setgid.
    pub mode: u32,
}

impl FileMeta<'_> {
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }

    pub fn is_executable(&self) -> bool {
        self.mode & 0o111 != 0
    }
}

/// What an analyzer wants of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Not this file.
    Skip,
    /// The whole content in one buffer, if the file is at most `max_bytes` long. A larger file is
    /// not read for this analyzer and is recorded as skipped (too large).
    Whole { max_bytes: u64 },
    /// The content as a sequence of chunks, however large the file: for analyzers that look for
    /// a marker in big binaries without holding them in memory.
    Stream,
}

/// Receives a file's content chunk by chunk (see [`Interest::Stream`]).
pub trait FileSink {
    fn write(&mut self, chunk: &[u8]);
    fn finish(self: Box<Self>, out: &mut AnalysisOutput);
}

/// Files an OS package says it installed. Lets the engine mark language packages found inside
/// them (a Go binary shipped in a `.deb`) with their owner instead of hiding them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedFiles {
    /// The OS package name.
    pub package: String,
    /// The database file that listed them (dpkg `.list`, apk `installed`, rpmdb).
    pub source_path: String,
    /// Normalized paths, no leading slash.
    pub paths: Vec<String>,
}

/// Licenses stated in a file that belongs to a package but is not its database record (Debian's
/// `usr/share/doc/<package>/copyright`). The engine adds them to that package, if it is installed
/// in the final image and its metadata stated none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageLicenses {
    pub ecosystem: Ecosystem,
    pub package: String,
    /// The file the licenses were read from.
    pub source_path: String,
    pub licenses: Vec<String>,
}

/// Everything analyzers produced for one layer (or one directory tree). Serializable, because it is
/// what the layer cache stores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalysisOutput {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Package>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// Operating systems identified, with the file each was read from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<(String, OsInfo)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owned_files: Vec<OwnedFiles>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub package_licenses: Vec<PackageLicenses>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub go_symbols: Vec<GoSymbols>,
}

/// The functions a Go binary holds (its pclntab's names, inlined callees included), as keys
/// ([`GoSymbols::symbol_key`], [`GoSymbols::package_key`]): enough to tell whether an
/// advisory's vulnerable functions are in the binary at all, in a few hundred KiB for the
/// largest binaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoSymbols {
    /// The binary, as packages read from it give their location.
    pub path: String,
    /// Sorted, without duplicates.
    pub keys: Vec<u64>,
}

impl GoSymbols {
    /// The key of function `symbol` (`Server.Serve`, `ListenAndServe`) of package `package`
    /// (`net/http`). FNV-1a: stable across releases, so cached tables stay valid.
    pub fn symbol_key(package: &str, symbol: &str) -> u64 {
        crate::fnv1a(&[package.as_bytes(), b"\0", symbol.as_bytes()])
    }

    /// The key that says some function of `package` is in the binary.
    pub fn package_key(package: &str) -> u64 {
        crate::fnv1a(&[b"\x01", package.as_bytes()])
    }

    pub fn contains_symbol(&self, package: &str, symbol: &str) -> bool {
        self.keys
            .binary_search(&GoSymbols::symbol_key(package, symbol))
            .is_ok()
    }

    pub fn contains_package(&self, package: &str) -> bool {
        self.keys
            .binary_search(&GoSymbols::package_key(package))
            .is_ok()
    }
}

impl AnalysisOutput {
    pub fn extend(&mut self, other: AnalysisOutput) {
        self.packages.extend(other.packages);
        self.findings.extend(other.findings);
        self.os.extend(other.os);
        self.owned_files.extend(other.owned_files);
        self.skipped.extend(other.skipped);
        self.package_licenses.extend(other.package_licenses);
        self.go_symbols.extend(other.go_symbols);
    }
}

/// An analyzer of individual files: catalogers, secret rules, malware signatures.
pub trait FileAnalyzer: Send + Sync {
    /// True when what this analyzer reports depends on the names it reads files under (package
    /// catalogers: `var/lib/dpkg/status`, `*.dist-info/METADATA`), not on their content alone.
    /// A link from such a name to content under another name is then reported, not passed over.
    fn reads_by_name(&self) -> bool {
        false
    }

    /// Short stable name (`dpkg`, `secrets`), shown in logs and used in cache keys.
    fn name(&self) -> &'static str;

    /// Changes whenever the analyzer's output for the same input could change: its version plus a
    /// hash of its rules. Part of the layer cache key.
    fn fingerprint(&self) -> String;

    /// Decides from the path, size and mode alone; must be cheap, it runs for every file.
    fn interest(&self, file: &FileMeta<'_>) -> Interest;

    /// Called with the whole content for [`Interest::Whole`].
    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        let _ = (file, content, out);
    }

    /// Called for [`Interest::Stream`]; the sink receives the content and reports on `finish`.
    fn open_stream(&self, file: &FileMeta<'_>) -> Option<Box<dyn FileSink + '_>> {
        let _ = file;
        None
    }
}

/// What image-level analyzers see: the config, the merged filesystem and the catalog.
#[derive(Debug, Clone, Copy)]
pub struct ImageContext<'a> {
    pub metadata: &'a ImageMetadata,
    /// The final filesystem (what a container started from the image sees), sorted by path.
    pub inventory: &'a [InventoryEntry],
    pub os: Option<&'a OsInfo>,
    /// Packages present in the final image.
    pub packages: &'a [Package],
    /// The function tables of the Go binaries in the final image, sorted by path.
    pub go_symbols: &'a [GoSymbols],
}

/// An analyzer of the whole image: config checks, vulnerability matching over the catalog.
pub trait ImageAnalyzer: Send + Sync {
    fn name(&self) -> &'static str;
    /// Adds the image's findings. An `Err` means the analysis could not be done (its data is
    /// damaged, say): the scan fails rather than report the image clean.
    fn analyze_image(
        &self,
        image: &ImageContext<'_>,
        findings: &mut Vec<Finding>,
    ) -> Result<(), ImageAnalysisError>;

    /// `text` (a copy of image config: an ENV entry, a label, a history line) with every secret
    /// this analyzer recognizes masked, or `None` when it holds none. The report's copies of the
    /// config go through every analyzer's mask before any format prints them.
    fn mask_secrets(&self, _text: &str) -> Option<String> {
        None
    }
}

/// Why an image analyzer could not do its work; the message names what was unreadable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ImageAnalysisError(pub String);
