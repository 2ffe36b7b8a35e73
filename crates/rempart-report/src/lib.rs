//! Report writers of rempart.
//!
//! Every writer takes a [`ScanResult`] and writes bytes to a [`Write`]. Output is deterministic:
//! the writers sort findings, packages, layers and skipped entries themselves, and every value
//! that would change between runs (timestamps, serial numbers) comes from [`ReportOptions`], so
//! two runs over the same input produce the same bytes.
//!
//! ```
//! use rempart_core::{ImageMetadata, REPORT_SCHEMA_VERSION, ScanResult, ScannerKind};
//! use rempart_report::{Format, ReportOptions, write_report};
//!
//! let result = ScanResult {
//!     schema_version: REPORT_SCHEMA_VERSION,
//!     target_kind: "image".to_owned(),
//!     target: ImageMetadata { name: "alpine:3.20".to_owned(), ..ImageMetadata::default() },
//!     os: None,
//!     scanners: vec![ScannerKind::Vuln],
//!     layers: Vec::new(),
//!     packages: Vec::new(),
//!     findings: Vec::new(),
//!     skipped: Vec::new(),
//!     vulnerability_data: None,
//! };
//! let format: Format = "sarif".parse()?;
//! let options = ReportOptions {
//!     timestamp: Some("2024-06-12T08:30:00Z".to_owned()),
//!     ..ReportOptions::new("0.1.0")
//! };
//! let mut out = Vec::new();
//! write_report(&result, format, &options, &mut out)?;
//! assert!(String::from_utf8(out)?.contains(r#""version": "2.1.0""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cyclonedx;
mod graph;
mod html;
mod json;
mod junit;
mod licenses;
mod order;
mod sarif;
mod spdx_json;
mod table;
mod text;

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use rempart_core::ScanResult;

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Human report for a terminal.
    Table,
    /// The documented, versioned JSON schema (see `SCHEMA.md`).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.
    Sarif,
    /// `CycloneDX` 1.6 JSON: components and vulnerabilities.
    CycloneDx,
    /// SPDX 2.3 JSON: packages and relationships.
    Spdx,
    /// `JUnit` XML, for CI systems that display test results.
    Junit,
    /// One self-contained HTML page: charts and sortable, filterable tables.
    Html,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::CycloneDx,
        Format::Spdx,
        Format::Junit,
        Format::Html,
    ];

    /// The name accepted by [`FromStr`] and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::CycloneDx => "cyclonedx",
            Format::Spdx => "spdx-json",
            Format::Junit => "junit",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown report format `{0}` (expected one of table, json, sarif, cyclonedx, spdx-json, junit, html)"
)]
pub struct ParseFormatError(String);

impl FromStr for Format {
    type Err = ParseFormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|format| format.as_str() == wanted)
            .ok_or_else(|| ParseFormatError(s.to_owned()))
    }
}

/// Values a report needs that are not part of the scan result.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportOptions {
    /// UTC time in RFC 3339 form (`2024-06-12T08:30:00Z`, fractional seconds allowed) written
    /// into SBOM, SARIF and `JUnit` metadata and shown as the scan time of the HTML report;
    /// anything else is refused with [`ReportError::InvalidTimestamp`]. `None` leaves it out where the format allows, and uses the Unix epoch where the format requires one (SPDX), so output stays
    /// reproducible unless the caller asks for a time.
    pub timestamp: Option<String>,
    /// Serial number for the document (`urn:uuid:…` for `CycloneDX`, the namespace suffix for
    /// SPDX). `None` derives one from the image digest, so the same image gives the same id.
    pub serial: Option<String>,
    /// ANSI colours for severities in the table report.
    pub color: bool,
    /// Columns the table report must fit (the terminal's width); `None` for a file, where each
    /// column keeps its own cap.
    pub width: Option<usize>,
    /// Version of rempart, written as the producing tool's version.
    pub tool_version: String,
}

impl ReportOptions {
    /// Options for the given tool version, without timestamp, serial or colour.
    pub fn new(tool_version: impl Into<String>) -> ReportOptions {
        ReportOptions {
            tool_version: tool_version.into(),
            ..ReportOptions::default()
        }
    }
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the {format} report")]
    Io {
        format: Format,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serialize the {format} report")]
    Serialize {
        format: Format,
        #[source]
        source: serde_json::Error,
    },
    /// SARIF, `CycloneDX` and SPDX require RFC 3339 times; a malformed one would make the whole
    /// document invalid, so it is refused before anything is written.
    #[error("report timestamp `{0}` is not an RFC 3339 UTC time such as 2024-06-12T08:30:00Z")]
    InvalidTimestamp(String),
}

impl ReportError {
    /// True when the reader went away (`rempart … | head`): not worth reporting as a failure.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            ReportError::Io { source, .. } => source.kind() == std::io::ErrorKind::BrokenPipe,
            ReportError::Serialize { source, .. } => {
                source.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe)
            }
            ReportError::InvalidTimestamp(_) => false,
        }
    }
}

/// True when `text` is a timestamp every output format accepts (`2024-06-12T08:30:00Z`,
/// optionally with fractional seconds): lets a caller refuse a bad one before any work.
pub fn is_report_timestamp(text: &str) -> bool {
    text::is_utc_timestamp(text)
}

/// The Content Security Policy the HTML report carries in its page: a server sending the
/// report can send the same policy as a header (adding, say, `frame-ancestors`).
pub fn html_report_policy() -> String {
    html::policy()
}

/// Escapes text for HTML element content and double-quoted attribute values, as the HTML
/// report does (control characters become spaces): for other pages showing scan text.
pub fn escape_html(text: &str) -> String {
    html::markup::escape(text)
}

/// The CSP source expression (`'sha256-…'`) allowing exactly `text` as an inline style or
/// script.
pub fn csp_hash(text: &str) -> String {
    html::markup::csp_hash(text)
}

/// Writes `result` as `format` to `out`.
pub fn write_report(
    result: &ScanResult,
    format: Format,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    if let Some(timestamp) = &options.timestamp
        && !text::is_utc_timestamp(timestamp)
    {
        return Err(ReportError::InvalidTimestamp(timestamp.clone()));
    }
    let io = |source| ReportError::Io { format, source };
    let ser = |source| ReportError::Serialize { format, source };
    // Writers emit many small pieces; callers often pass an unbuffered stdout or file.
    let mut buffered = std::io::BufWriter::with_capacity(64 * 1024, out);
    let out: &mut dyn Write = &mut buffered;
    match format {
        Format::Table => table::write(result, options, out).map_err(io),
        Format::Json => json::write(result, out).map_err(ser),
        Format::Sarif => sarif::write(result, options, out).map_err(ser),
        Format::CycloneDx => cyclonedx::write(result, options, out).map_err(ser),
        Format::Spdx => spdx_json::write(result, options, out).map_err(ser),
        Format::Junit => junit::write(result, options, out).map_err(io),
        Format::Html => html::write(result, options, out).map_err(io),
    }?;
    buffered.flush().map_err(io)
}
