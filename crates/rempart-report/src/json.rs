//! The JSON report: the scan result itself, in the versioned schema documented in `SCHEMA.md`.

use std::io::Write;

use rempart_core::{
    Finding, ImageMetadata, LayerSummary, OsInfo, Package, REPORT_SCHEMA_VERSION, ScanResult,
    ScannerKind, SkippedEntry, VulnerabilityData,
};
use serde::Serialize;

use crate::order;

/// [`ScanResult`] in report order, borrowed rather than copied: a result of a hundred thousand
/// findings is not held twice while it is written. Same fields, same order, same omissions as
/// `ScanResult` (a test checks they write the same bytes).
#[derive(Serialize)]
struct SortedReport<'a> {
    schema_version: u32,
    target_kind: &'a str,
    target: &'a ImageMetadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    os: Option<&'a OsInfo>,
    scanners: Vec<ScannerKind>,
    layers: Vec<&'a LayerSummary>,
    packages: Vec<&'a Package>,
    findings: Vec<&'a Finding>,
    skipped: Vec<&'a SkippedEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vulnerability_data: Option<&'a VulnerabilityData>,
}

fn sorted(result: &ScanResult) -> SortedReport<'_> {
    SortedReport {
        // The writer defines the schema of what it writes, whatever version the caller filled in.
        schema_version: REPORT_SCHEMA_VERSION,
        target_kind: &result.target_kind,
        target: &result.target,
        os: result.os.as_ref(),
        scanners: order::scanners(result),
        layers: order::layers(result),
        packages: order::packages(result),
        findings: order::findings(result),
        skipped: order::skipped(result),
        vulnerability_data: result.vulnerability_data.as_ref(),
    }
}

pub(crate) fn write(result: &ScanResult, out: &mut dyn Write) -> Result<(), serde_json::Error> {
    serde_json::to_writer_pretty(&mut *out, &sorted(result))?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}
