//! The JSON report: the scan result itself, in the versioned schema documented in `SCHEMA.md`.

use std::io::Write;

use rempart_core::{REPORT_SCHEMA_VERSION, ScanResult};

use crate::order;

pub(crate) fn write(result: &ScanResult, out: &mut dyn Write) -> Result<(), serde_json::Error> {
    let mut sorted = order::sorted_result(result);
    // The writer defines the schema of what it writes, whatever version the caller filled in.
    sorted.schema_version = REPORT_SCHEMA_VERSION;
    serde_json::to_writer_pretty(&mut *out, &sorted)?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}
