//! Shared vocabulary of rempart.
//!
//! Everything here is plain data plus the [`FileAnalyzer`] and [`ImageAnalyzer`] contracts. This
//! crate performs no I/O, so every other crate can depend on it without pulling anything heavy.

mod analyzer;
mod finding;
mod image;
mod package;
mod path;
mod result;
mod severity;

pub use analyzer::{
    AnalysisOutput, FileAnalyzer, FileMeta, FileSink, ImageAnalyzer, ImageContext, Interest,
    OwnedFiles, PackageLicenses,
};
pub use finding::{Finding, FindingDetails, FixState, Location, ScannerKind};
pub use image::{
    EntryKind, HistoryEntry, ImageMetadata, InventoryEntry, LayerRef, OsInfo, SkipReason,
    SkippedEntry,
};
pub use package::{Ecosystem, Package, SourcePackage};
pub use path::{PathError, normalize_entry_path, resolve_symlink};
pub use result::{LayerSummary, REPORT_SCHEMA_VERSION, ScanResult};
pub use severity::{ParseSeverityError, Severity};
