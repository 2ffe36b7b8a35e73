//! Shared vocabulary of rempart.
//!
//! Everything here is plain data plus the [`FileAnalyzer`] and [`ImageAnalyzer`] contracts. This
//! crate performs no I/O but one: [`read_regular_file`], the bounded reader of files a user
//! names, shared so that every crate refuses devices, FIFOs and endless files the same way.

mod analyzer;
mod finding;
mod image;
mod input;
mod package;
mod path;
mod result;
mod severity;
mod text;

pub use analyzer::{
    AnalysisOutput, FileAnalyzer, FileMeta, FileSink, GoSymbols, ImageAnalysisError, ImageAnalyzer,
    ImageContext, Interest, OwnedFiles, PackageLicenses,
};
pub use finding::{
    ConfigEntry, Epss, Finding, FindingDetails, FixState, KnownExploited, Location, ScannerKind,
    SeverityBasis, SeveritySource,
};
pub use image::{
    EntryKind, HistoryEntry, ImageMetadata, InventoryEntry, LayerRef, OsInfo, SkipReason,
    SkippedEntry,
};
pub use input::{open_regular_file, read_regular_file, read_regular_text};
pub use package::{Dependency, Ecosystem, Package, SourcePackage};
pub use path::{PathError, escape_non_utf8, normalize_entry_path, resolve_symlink};
pub use result::{LayerSummary, REPORT_SCHEMA_VERSION, ScanResult, VulnerabilityData};
pub use severity::{ParseSeverityError, Severity};
pub use text::{error_chain, fnv1a, parse_duration, percent_decode};
