//! The human report: one header for the target, one table per scanner, a summary.
//!
//! Columns are sized to their content; the few columns that hold free text (titles, resources,
//! paths) have a cap and are cut with `…` so a line stays readable in a terminal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use rempart_core::{Finding, FindingDetails, FixState, ScanResult, ScannerKind, Severity};

use crate::ReportOptions;
use crate::order;
use crate::text::{one_line, truncate, truncate_left, width};

const TITLE_MAX: usize = 60;
/// Titles next to a path column get less room, so the row still fits a wide terminal.
const TITLE_WITH_PATH_MAX: usize = 48;
const PATH_MAX: usize = 50;
const TEXT_MAX: usize = 48;

/// Severities from worst to least bad: the order of columns and counts.
const SEVERITIES_DESC: [Severity; 6] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Unknown,
    Severity::Info,
];

pub(crate) fn write(
    result: &ScanResult,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let paint = Paint {
        enabled: options.color,
    };
    write_header(result, &paint, out)?;
    let findings = order::findings(result);
    let scanners = order::scanners(result);
    for &scanner in &scanners {
        let of_scanner: Vec<&Finding> = findings
            .iter()
            .copied()
            .filter(|finding| finding.scanner == scanner)
            .collect();
        writeln!(out)?;
        writeln!(
            out,
            "{} {}",
            paint.bold(order::scanner_label(scanner)),
            counts_line(&of_scanner, &paint)
        )?;
        if of_scanner.is_empty() {
            continue;
        }
        match scanner {
            ScannerKind::Vuln => write_vulnerabilities(result, &of_scanner, &paint, out)?,
            ScannerKind::Secret => {
                writeln!(out)?;
                secrets_table(&of_scanner).write(&paint, out)?;
            }
            ScannerKind::Malware => {
                writeln!(out)?;
                malware_table(&of_scanner).write(&paint, out)?;
            }
            ScannerKind::Misconfig => {
                writeln!(out)?;
                misconfig_table(&of_scanner).write(&paint, out)?;
            }
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", paint.bold("Summary"))?;
    summary_table(&findings, &scanners).write(&paint, out)?;
    write_skipped(result, out)
}

fn write_header(result: &ScanResult, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let mut facts = Vec::new();
    if let Some(os) = &result.os {
        facts.push(one_line(&order::os_label(os)));
    }
    let layers = result.layers.len();
    let cached = result.layers.iter().filter(|layer| layer.cached).count();
    let mut layer_fact = format!("{layers} layer{}", if layers == 1 { "" } else { "s" });
    if cached > 0 {
        write!(layer_fact, " ({cached} from cache)").expect("writing to a String cannot fail");
    }
    facts.push(layer_fact);
    let packages = result.packages.len();
    facts.push(format!(
        "{packages} package{}",
        if packages == 1 { "" } else { "s" }
    ));
    if let (Some(os), Some(arch)) = (&result.target.os, &result.target.architecture) {
        facts.push(one_line(&format!("{os}/{arch}")));
    }
    writeln!(
        out,
        "{} ({}) · {}",
        paint.bold(&one_line(order::target_name(result))),
        one_line(&result.target_kind),
        facts.join(" · ")
    )?;
    if let Some(digest) = order::target_digest(result) {
        writeln!(out, "Digest: {}", one_line(digest))?;
    }
    if let Some(data) = &result.vulnerability_data {
        writeln!(out, "{}", one_line(&order::vulnerability_data_line(data)))?;
    }
    Ok(())
}

/// `Total: 6 (CRITICAL: 1, HIGH: 2, MEDIUM: 1, LOW: 1, UNKNOWN: 1)`: the severities with no
/// finding are left out, so the line shows what matters.
fn counts_line(findings: &[&Finding], paint: &Paint) -> String {
    if findings.is_empty() {
        return "· none found".to_owned();
    }
    let counts: Vec<String> = SEVERITIES_DESC
        .iter()
        .filter_map(|&severity| {
            let count = findings.iter().filter(|f| f.severity == severity).count();
            (count > 0).then(|| format!("{}: {count}", paint.severity(severity)))
        })
        .collect();
    format!("· Total: {} ({})", findings.len(), counts.join(", "))
}

/// Vulnerabilities grouped like the package files they came from: OS packages under their
/// database path, language packages per ecosystem with a path column, since each language
/// package usually has its own metadata file.
fn write_vulnerabilities(
    result: &ScanResult,
    findings: &[&Finding],
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut groups: BTreeMap<(bool, String, String), Vec<&Finding>> = BTreeMap::new();
    for &finding in findings {
        let ecosystem = match &finding.details {
            FindingDetails::Vulnerability { ecosystem, .. } => ecosystem.clone(),
            _ => String::new(),
        };
        let is_os = is_os_ecosystem(&ecosystem);
        let path = if is_os {
            finding.location.path.clone()
        } else {
            String::new()
        };
        // OS packages first: they are usually the bulk and the most actionable (one upgrade).
        groups
            .entry((!is_os, ecosystem, path))
            .or_default()
            .push(finding);
    }
    for ((not_os, ecosystem, path), group) in groups {
        writeln!(out)?;
        if not_os {
            let label = if ecosystem.is_empty() {
                "Other packages".to_owned()
            } else {
                format!("{} packages", one_line(&ecosystem))
            };
            writeln!(out, "{}", paint.underline(&label))?;
        } else {
            let distro = result.os.as_ref().map_or_else(
                || ecosystem.to_lowercase(),
                |os| format!("{} {}", os.id, os.version_id).trim().to_owned(),
            );
            writeln!(
                out,
                "{}",
                paint.underline(&format!(
                    "{} ({})",
                    order::image_path(&one_line(&path)),
                    one_line(&distro)
                ))
            )?;
        }
        vulnerability_table(&group, not_os).write(paint, out)?;
    }
    Ok(())
}

fn is_os_ecosystem(ecosystem: &str) -> bool {
    matches!(
        ecosystem.to_ascii_lowercase().as_str(),
        "debian" | "ubuntu" | "alpine" | "rpm" | "redhat" | "rocky" | "almalinux"
    )
}

fn vulnerability_table(findings: &[&Finding], with_path: bool) -> Table {
    let mut headers = vec![
        "Library",
        "Vulnerability",
        "Severity",
        "Status",
        "Installed",
        "Fixed Version",
        "Title",
    ];
    if with_path {
        headers.push("Path");
    }
    let mut table = Table::new(&headers);
    for finding in findings {
        let FindingDetails::Vulnerability {
            package,
            installed_version,
            fix,
            reachable,
            ..
        } = &finding.details
        else {
            continue;
        };
        let status = order::fix_status(&finding.details).unwrap_or_default();
        // The vulnerable functions are not in the binary: shown, and said so.
        let status = if *reachable == Some(false) {
            format!("{status}, not reachable")
        } else {
            status.to_owned()
        };
        let fixed = match fix {
            FixState::Fixed { versions } => versions.join(", "),
            FixState::NotFixed | FixState::WillNotFix => String::new(),
        };
        let mut row = vec![
            Cell::plain(package),
            Cell::plain(&finding.id),
            Cell::severity(finding.severity),
            Cell::plain(&status),
            Cell::plain(installed_version),
            Cell::plain(&fixed),
            Cell::capped(
                &finding.title,
                if with_path {
                    TITLE_WITH_PATH_MAX
                } else {
                    TITLE_MAX
                },
            ),
        ];
        if with_path {
            row.push(Cell::path(&order::image_path(&finding.location.path)));
        }
        table.push(row);
    }
    table
}

fn secrets_table(findings: &[&Finding]) -> Table {
    let mut table = Table::new(&[
        "Severity", "Rule", "Title", "Location", "Layer", "Deleted", "Match",
    ]);
    for finding in findings {
        let FindingDetails::Secret { redacted, origin } = &finding.details else {
            continue;
        };
        let location = order::secret_location(finding, origin.as_deref());
        table.push(vec![
            Cell::severity(finding.severity),
            Cell::plain(&finding.id),
            Cell::capped(&finding.title, TEXT_MAX),
            Cell::path(&location),
            Cell::plain(&layer_index(finding)),
            Cell::plain(if finding.location.deleted {
                "deleted"
            } else {
                ""
            }),
            Cell::capped(redacted, TEXT_MAX),
        ]);
    }
    table
}

fn malware_table(findings: &[&Finding]) -> Table {
    let mut table = Table::new(&[
        "Severity",
        "Rule",
        "Title",
        "Path",
        "Layer",
        "Deleted",
        "Signature",
    ]);
    for finding in findings {
        let FindingDetails::Malware {
            signature, engine, ..
        } = &finding.details
        else {
            continue;
        };
        table.push(vec![
            Cell::severity(finding.severity),
            Cell::plain(&finding.id),
            Cell::capped(&finding.title, TITLE_MAX),
            Cell::path(&order::display_location(finding)),
            Cell::plain(&layer_index(finding)),
            Cell::plain(if finding.location.deleted {
                "deleted"
            } else {
                ""
            }),
            Cell::capped(&format!("{engine}: {signature}"), TEXT_MAX),
        ]);
    }
    table
}

fn misconfig_table(findings: &[&Finding]) -> Table {
    let mut table = Table::new(&["Severity", "Code", "Resource", "Title", "File"]);
    for finding in findings {
        let FindingDetails::Misconfig { resource, .. } = &finding.details else {
            continue;
        };
        table.push(vec![
            Cell::severity(finding.severity),
            Cell::plain(&finding.id),
            Cell::capped(resource, TEXT_MAX),
            Cell::capped(&finding.title, TITLE_MAX),
            Cell::path(&order::display_location(finding)),
        ]);
    }
    table
}

fn layer_index(finding: &Finding) -> String {
    finding
        .location
        .layer
        .as_ref()
        .map(|layer| layer.index.to_string())
        .unwrap_or_default()
}

fn summary_table(findings: &[&Finding], scanners: &[ScannerKind]) -> Table {
    let mut headers = vec!["Scanner"];
    headers.extend(SEVERITIES_DESC.iter().map(|severity| severity.as_str()));
    headers.push("Total");
    let mut table = Table::new(&headers);
    for &scanner in scanners {
        let of_scanner: Vec<&&Finding> = findings.iter().filter(|f| f.scanner == scanner).collect();
        let mut row = vec![Cell::plain(order::scanner_label(scanner))];
        for severity in SEVERITIES_DESC {
            let count = of_scanner.iter().filter(|f| f.severity == severity).count();
            row.push(if count == 0 {
                Cell::plain("0").right()
            } else {
                Cell::severity_text(&count.to_string(), severity).right()
            });
        }
        row.push(Cell::plain(&of_scanner.len().to_string()).right());
        table.push(row);
    }
    table
}

/// Skipped entries are counted by reason so nothing is silently passed over; the JSON report has
/// each entry.
fn write_skipped(result: &ScanResult, out: &mut dyn Write) -> io::Result<()> {
    if result.skipped.is_empty() {
        return Ok(());
    }
    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in &result.skipped {
        *by_reason
            .entry(order::skip_reason_name(&entry.reason))
            .or_default() += 1;
    }
    let parts: Vec<String> = by_reason
        .iter()
        .map(|(reason, count)| format!("{reason}: {count}"))
        .collect();
    writeln!(out)?;
    writeln!(
        out,
        "Skipped {} entr{} ({}); the JSON report lists each one.",
        result.skipped.len(),
        if result.skipped.len() == 1 {
            "y"
        } else {
            "ies"
        },
        parts.join(", ")
    )
}

/// ANSI styling that disappears when colour is off.
struct Paint {
    enabled: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }

    fn underline(&self, text: &str) -> String {
        self.wrap("4", text)
    }

    fn severity(&self, severity: Severity) -> String {
        self.severity_text(severity.as_str(), severity)
    }

    fn severity_text(&self, text: &str, severity: Severity) -> String {
        self.wrap(severity_code(severity), text)
    }
}

fn severity_code(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "34",
        Severity::Unknown => "36",
        Severity::Info => "2",
    }
}

struct Cell {
    text: String,
    severity: Option<Severity>,
    right: bool,
}

impl Cell {
    fn plain(text: &str) -> Cell {
        Cell {
            text: one_line(text),
            severity: None,
            right: false,
        }
    }

    fn capped(text: &str, max: usize) -> Cell {
        Cell::plain(&truncate(&one_line(text), max))
    }

    fn path(path: &str) -> Cell {
        Cell::plain(&truncate_left(&one_line(path), PATH_MAX))
    }

    fn severity(severity: Severity) -> Cell {
        Cell::severity_text(severity.as_str(), severity)
    }

    fn severity_text(text: &str, severity: Severity) -> Cell {
        Cell {
            text: text.to_owned(),
            severity: Some(severity),
            right: false,
        }
    }

    fn right(mut self) -> Cell {
        self.right = true;
        self
    }
}

/// A box-drawn table whose columns are as wide as their widest cell.
struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|&h| h.to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    fn write(&self, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (column, cell) in row.iter().enumerate() {
                widths[column] = widths[column].max(width(&cell.text));
            }
        }
        let rule = |left: &str, middle: &str, right: &str| {
            let parts: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
            format!("{left}{}{right}", parts.join(middle))
        };
        writeln!(out, "{}", rule("┌", "┬", "┐"))?;
        let header: Vec<String> = self
            .headers
            .iter()
            .zip(&widths)
            .map(|(h, &w)| format!(" {} ", pad(&paint.bold(h), width(h), w, false)))
            .collect();
        writeln!(out, "│{}│", header.join("│"))?;
        writeln!(out, "{}", rule("├", "┼", "┤"))?;
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, &w)| {
                    let shown = match cell.severity {
                        Some(severity) => paint.severity_text(&cell.text, severity),
                        None => cell.text.clone(),
                    };
                    format!(" {} ", pad(&shown, width(&cell.text), w, cell.right))
                })
                .collect();
            writeln!(out, "│{}│", cells.join("│"))?;
        }
        writeln!(out, "{}", rule("└", "┴", "┘"))
    }
}

/// Pads already-styled text by its visible width, so colour codes do not skew the columns.
fn pad(styled: &str, visible: usize, to: usize, right: bool) -> String {
    let fill = " ".repeat(to.saturating_sub(visible));
    if right {
        format!("{fill}{styled}")
    } else {
        format!("{styled}{fill}")
    }
}
