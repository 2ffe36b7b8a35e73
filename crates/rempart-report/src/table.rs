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
use crate::text::{one_line, truncate, truncate_middle, width, wrap};

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
    let limit = options.width;
    write_header(result, &paint, limit, out)?;
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
            ScannerKind::Vuln => write_vulnerabilities(result, &of_scanner, &paint, limit, out)?,
            ScannerKind::Secret => {
                writeln!(out)?;
                secrets_table(&of_scanner).write(&paint, limit, out)?;
            }
            ScannerKind::Malware => {
                writeln!(out)?;
                malware_table(&of_scanner).write(&paint, limit, out)?;
            }
            ScannerKind::Misconfig => {
                // A block per finding: the resolution and the rule's page do not fit a row.
                writeln!(out)?;
                misconfig_table(&of_scanner).write_blocks(&paint, limit.unwrap_or(100), out)?;
            }
            ScannerKind::Trust => {
                // A block per finding: the reason lists each signature seen.
                writeln!(out)?;
                trust_table(&of_scanner).write_blocks(&paint, limit.unwrap_or(100), out)?;
            }
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", paint.bold("Summary"))?;
    summary_table(&findings, &scanners).write(&paint, limit, out)?;
    write_skipped(result, limit, out)
}

fn write_header(
    result: &ScanResult,
    paint: &Paint,
    limit: Option<usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    // Long header lines wrap at the terminal's width, continued with an indent.
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
    let name = one_line(order::target_name(result));
    let rest = format!(
        " ({}) · {}",
        one_line(&result.target_kind),
        facts.join(" · ")
    );
    if limit.is_none_or(|limit| width(&name) + width(&rest) <= limit) {
        writeln!(out, "{}{rest}", paint.bold(&name))?;
    } else {
        write_wrapped(out, &format!("{name}{rest}"), limit)?;
    }
    if let Some(digest) = order::target_digest(result) {
        writeln!(out, "Digest: {}", one_line(digest))?;
    }
    if let Some(data) = &result.vulnerability_data {
        write_wrapped(out, &one_line(&order::vulnerability_data_line(data)), limit)?;
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
    limit: Option<usize>,
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
        vulnerability_table(&group, not_os).write(paint, limit, out)?;
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
    // The column exists only when the database holds exploitation data (KEV, EPSS).
    let with_exploitation = order::any_exploitation(findings);
    if with_exploitation {
        headers.push("Exploited");
    }
    if with_path {
        headers.push("Path");
    }
    // Severity, package, installed version, id, status, fixed versions on the block's first line.
    let mut table = Table::new(&headers).heading(&[2, 0, 4, 1, 3, 5]);
    for finding in findings {
        let FindingDetails::Vulnerability {
            package,
            installed_version,
            fix,
            reachable,
            kev,
            epss,
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
            _ => String::new(),
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
        if with_exploitation {
            row.push(Cell::plain(&order::exploitation(
                kev.as_ref(),
                epss.as_ref(),
            )));
        }
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
    ])
    .heading(&[0, 1, 6]);
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
    ])
    .heading(&[0, 1, 2]);
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
    let mut table = Table::new(&[
        "Severity", "Code", "Title", "Resource", "Location", "Fix", "More",
    ])
    .heading(&[0, 1, 2])
    .spaced();
    for finding in findings {
        let FindingDetails::Misconfig {
            resource,
            resolution,
        } = &finding.details
        else {
            continue;
        };
        let mut location = order::display_location(finding);
        if let Some(layer) = &finding.location.layer
            && !finding.location.path.is_empty()
            && order::in_image_layer(finding)
        {
            write!(location, " (layer {})", layer.index).expect("writing to a String cannot fail");
        }
        table.push(vec![
            Cell::severity(finding.severity),
            Cell::plain(&finding.id),
            Cell::plain(&finding.title),
            Cell::plain(resource),
            Cell::plain(&location),
            Cell::plain(resolution.as_deref().unwrap_or_default()),
            Cell::plain(finding.primary_url.as_deref().unwrap_or_default()),
        ]);
    }
    table
}

fn trust_table(findings: &[&Finding]) -> Table {
    let mut table = Table::new(&["Severity", "Code", "Title", "Image", "Trust rule", "Reason"])
        .heading(&[0, 1, 2])
        .spaced();
    for finding in findings {
        let FindingDetails::Trust { rule, reason } = &finding.details else {
            continue;
        };
        table.push(vec![
            Cell::severity(finding.severity),
            Cell::plain(&finding.id),
            Cell::plain(&finding.title),
            Cell::plain(&finding.location.path),
            Cell::plain(rule.as_deref().unwrap_or("-")),
            Cell::plain(reason),
        ]);
    }
    table
}

fn layer_index(finding: &Finding) -> String {
    if !order::in_image_layer(finding) {
        return String::new();
    }
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
fn write_skipped(result: &ScanResult, limit: Option<usize>, out: &mut dyn Write) -> io::Result<()> {
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
    let text = format!(
        "Skipped {} entr{} ({}); the JSON report lists each one.",
        result.skipped.len(),
        if result.skipped.len() == 1 {
            "y"
        } else {
            "ies"
        },
        parts.join(", ")
    );
    write_wrapped(out, &text, limit)
}

/// A line of text, wrapped at `limit` columns with the continuation lines indented; whole when
/// there is no limit.
fn write_wrapped(out: &mut dyn Write, text: &str, limit: Option<usize>) -> io::Result<()> {
    let Some(limit) = limit else {
        return writeln!(out, "{text}");
    };
    for (index, part) in wrap(text, limit.saturating_sub(2)).iter().enumerate() {
        writeln!(out, "{}{part}", if index == 0 { "" } else { "  " })?;
    }
    Ok(())
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

/// How a cell may be cut when its column must shrink.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// Identifiers, versions, counts: never cut.
    Never,
    /// Free text, cut at the end (`…`), at most this wide even when there is room.
    End(usize),
    /// A path, cut in the middle so the file name stays.
    Middle(usize),
}

struct Cell {
    /// The whole text, on one line.
    text: String,
    cut: Cut,
    severity: Option<Severity>,
    right: bool,
}

impl Cell {
    fn plain(text: &str) -> Cell {
        Cell {
            text: one_line(text),
            cut: Cut::Never,
            severity: None,
            right: false,
        }
    }

    fn capped(text: &str, max: usize) -> Cell {
        Cell {
            cut: Cut::End(max),
            ..Cell::plain(text)
        }
    }

    fn path(path: &str) -> Cell {
        Cell {
            cut: Cut::Middle(PATH_MAX),
            ..Cell::plain(path)
        }
    }

    fn severity(severity: Severity) -> Cell {
        Cell::severity_text(severity.as_str(), severity)
    }

    fn severity_text(text: &str, severity: Severity) -> Cell {
        Cell {
            severity: Some(severity),
            ..Cell::plain(text)
        }
    }

    fn right(mut self) -> Cell {
        self.right = true;
        self
    }

    /// The widest this cell is shown when there is room.
    fn natural_width(&self) -> usize {
        match self.cut {
            Cut::Never => width(&self.text),
            Cut::End(max) | Cut::Middle(max) => width(&self.text).min(max),
        }
    }

    /// The text cut to `columns`.
    fn shown(&self, columns: usize) -> String {
        match self.cut {
            Cut::Never => self.text.clone(),
            Cut::End(_) => truncate(&self.text, columns),
            Cut::Middle(_) => truncate_middle(&self.text, columns),
        }
    }
}

/// Columns that can shrink are not cut below this.
const MIN_FLEXIBLE: usize = 10;

/// A box-drawn table whose columns are as wide as their widest cell, shrunk to fit the
/// terminal; when even that does not fit, each row is printed as a block of labelled lines.
struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
    /// The columns that make a row's first line in the block layout, in that order; the others
    /// follow as labelled lines.
    heading: Vec<usize>,
    /// A blank line between blocks.
    spaced: bool,
}

impl Table {
    fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|&h| h.to_owned()).collect(),
            rows: Vec::new(),
            heading: vec![0, 1],
            spaced: false,
        }
    }

    fn heading(mut self, columns: &[usize]) -> Table {
        self.heading = columns.to_vec();
        self
    }

    fn spaced(mut self) -> Table {
        self.spaced = true;
        self
    }

    fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// Column widths that fit `limit` columns of terminal, or `None` when no shrinking fits.
    fn widths(&self, limit: Option<usize>) -> Option<Vec<usize>> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        let mut flexible = vec![false; widths.len()];
        for row in &self.rows {
            for (column, cell) in row.iter().enumerate() {
                widths[column] = widths[column].max(cell.natural_width());
                flexible[column] |= cell.cut != Cut::Never;
            }
        }
        let Some(limit) = limit else {
            return Some(widths);
        };
        // Borders: one at each side and between columns, one space of padding each side.
        let total = |widths: &[usize]| widths.iter().sum::<usize>() + 3 * widths.len() + 1;
        while total(&widths) > limit {
            // Shrink the widest flexible column that can still shrink.
            let widest = (0..widths.len())
                .filter(|&c| flexible[c] && widths[c] > MIN_FLEXIBLE.max(width(&self.headers[c])))
                .max_by_key(|&c| (widths[c], std::cmp::Reverse(c)))?;
            widths[widest] -= 1;
        }
        Some(widths)
    }

    fn write(&self, paint: &Paint, limit: Option<usize>, out: &mut dyn Write) -> io::Result<()> {
        match self.widths(limit) {
            Some(widths) => self.write_boxed(paint, &widths, out),
            None => self.write_blocks(paint, limit.unwrap_or(80), out),
        }
    }

    fn write_boxed(&self, paint: &Paint, widths: &[usize], out: &mut dyn Write) -> io::Result<()> {
        let rule = |left: &str, middle: &str, right: &str| {
            let parts: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
            format!("{left}{}{right}", parts.join(middle))
        };
        writeln!(out, "{}", rule("┌", "┬", "┐"))?;
        let header: Vec<String> = self
            .headers
            .iter()
            .zip(widths)
            .map(|(h, &w)| format!(" {} ", pad(&paint.bold(h), width(h), w, false)))
            .collect();
        writeln!(out, "│{}│", header.join("│"))?;
        writeln!(out, "{}", rule("├", "┼", "┤"))?;
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, &w)| {
                    let text = cell.shown(w);
                    let shown = match cell.severity {
                        Some(severity) => paint.severity_text(&text, severity),
                        None => text.clone(),
                    };
                    format!(" {} ", pad(&shown, width(&text), w, cell.right))
                })
                .collect();
            writeln!(out, "│{}│", cells.join("│"))?;
        }
        writeln!(out, "{}", rule("└", "┴", "┘"))
    }

    /// One block per row: its heading columns on one line, then each other non-empty column as
    /// `Label  value`, wrapped to the terminal, nothing cut.
    fn write_blocks(&self, paint: &Paint, limit: usize, out: &mut dyn Write) -> io::Result<()> {
        let others: Vec<usize> = (0..self.headers.len())
            .filter(|column| !self.heading.contains(column))
            .collect();
        let label_width = others
            .iter()
            .map(|&column| width(&self.headers[column]))
            .max()
            .unwrap_or(0);
        for (index, row) in self.rows.iter().enumerate() {
            if index > 0 && self.spaced {
                writeln!(out)?;
            }
            let cells: Vec<&Cell> = self
                .heading
                .iter()
                .filter_map(|&column| row.get(column))
                .filter(|cell| !cell.text.trim().is_empty())
                .collect();
            let plain: Vec<&str> = cells.iter().map(|cell| cell.text.as_str()).collect();
            let plain = plain.join("  ");
            if width(&plain) <= limit {
                let styled: Vec<String> = cells
                    .iter()
                    .map(|cell| match cell.severity {
                        Some(severity) => paint.severity_text(&cell.text, severity),
                        None => cell.text.clone(),
                    })
                    .collect();
                writeln!(out, "{}", styled.join("  "))?;
            } else {
                write_wrapped(out, &plain, Some(limit))?;
            }
            let value_width = limit.saturating_sub(label_width + 4);
            for &column in &others {
                let (header, Some(cell)) = (&self.headers[column], row.get(column)) else {
                    continue;
                };
                if cell.text.trim().is_empty() {
                    continue;
                }
                // Titles and paths stay on one line (cut as in the table); other values wrap.
                let lines = match cell.cut {
                    Cut::Never => wrap(&cell.text, value_width),
                    Cut::End(_) | Cut::Middle(_) => vec![cell.shown(value_width)],
                };
                for (line, text) in lines.iter().enumerate() {
                    let label = if line == 0 { header.as_str() } else { "" };
                    writeln!(
                        out,
                        "  {}  {text}",
                        pad(label, width(label), label_width, false)
                    )?;
                }
            }
        }
        Ok(())
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
