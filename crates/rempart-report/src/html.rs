//! The HTML report: one self-contained page to look at rather than read. A header for the
//! target, summary charts, then one table per scanner, the layers and the skipped entries.
//!
//! The page loads nothing: its style and script are inline, the charts are SVG drawn here, and
//! its Content Security Policy allows only that style and that script (by hash), no request at
//! all. Everything from the scan is escaped, and only `http`/`https` URLs become links, since
//! findings carry text an image author chose. The tables are complete without the script, which
//! only adds sorting (click a column header) and filtering (a text box, severity boxes).

mod chart;
pub(crate) mod markup;

use std::io::{self, Write};

use rempart_core::{
    Finding, FindingDetails, FixState, LayerSummary, ScanResult, ScannerKind, Severity,
};

use crate::ReportOptions;
use crate::order;
use crate::text::truncate;
use chart::{Bar, bar_chart};
use markup::{csp_hash, escape, safe_link};

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// Longest history line shown in a layer cell; the whole line is in the cell's tooltip and in
/// the layers table.
const CREATED_BY_MAX: usize = 80;

pub(crate) fn write(
    result: &ScanResult,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let findings = order::findings(result);
    let scanners = order::scanners(result);
    let layers = order::layers(result);
    write_head(result, out)?;
    writeln!(out, "<body>")?;
    write_header(result, options, out)?;
    write_nav(result, &findings, &scanners, out)?;
    write_summary(&findings, &scanners, out)?;
    for &scanner in &scanners {
        let of_scanner: Vec<&Finding> = findings
            .iter()
            .copied()
            .filter(|finding| finding.scanner == scanner)
            .collect();
        write_scanner_section(scanner, &of_scanner, &layers, out)?;
    }
    write_layers(&layers, out)?;
    write_skipped(result, &layers, out)?;
    writeln!(
        out,
        "<footer>Written by rempart {}.</footer>",
        escape(&options.tool_version)
    )?;
    writeln!(out, "<script>{SCRIPT}</script>")?;
    writeln!(out, "</body>")?;
    writeln!(out, "</html>")
}

/// The page's Content Security Policy: its own style and script by hash, nothing else.
pub(crate) fn policy() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    )
}

fn write_head(result: &ScanResult, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, r#"<html lang="en">"#)?;
    writeln!(out, "<head>")?;
    writeln!(out, r#"<meta charset="utf-8" />"#)?;
    writeln!(
        out,
        r#"<meta name="viewport" content="width=device-width, initial-scale=1" />"#
    )?;
    // No source is allowed but the page's own style and script: even a mistake in escaping
    // could neither run a script nor load anything.
    writeln!(
        out,
        r#"<meta http-equiv="Content-Security-Policy" content="{}" />"#,
        policy()
    )?;
    writeln!(
        out,
        "<title>rempart report: {}</title>",
        escape(order::target_name(result))
    )?;
    writeln!(out, "<style>{STYLE}</style>")?;
    writeln!(out, "</head>")
}

fn write_header(
    result: &ScanResult,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "<header>")?;
    writeln!(out, "<h1>{}</h1>", escape(order::target_name(result)))?;
    let mut facts: Vec<(&str, String)> = vec![("Target kind", escape(&result.target_kind))];
    if let Some(digest) = order::target_digest(result) {
        facts.push(("Digest", format!("<code>{}</code>", escape(digest))));
    }
    if let Some(os) = &result.os {
        facts.push(("OS", escape(&order::os_label(os))));
    }
    if let (Some(os), Some(arch)) = (&result.target.os, &result.target.architecture) {
        facts.push(("Platform", escape(&format!("{os}/{arch}"))));
    }
    let cached = result.layers.iter().filter(|layer| layer.cached).count();
    let layers = if cached > 0 {
        format!("{} ({cached} from cache)", result.layers.len())
    } else {
        result.layers.len().to_string()
    };
    facts.push(("Layers", layers));
    facts.push(("Packages", result.packages.len().to_string()));
    if let Some(time) = &options.timestamp {
        facts.push(("Scan time", escape(time)));
    }
    let scanners: Vec<&str> = order::scanners(result)
        .into_iter()
        .map(order::scanner_label)
        .collect();
    facts.push((
        "Scanners",
        if scanners.is_empty() {
            "none".to_owned()
        } else {
            scanners.join(", ")
        },
    ));
    writeln!(out, r#"<dl class="facts">"#)?;
    for (name, value) in facts {
        writeln!(out, "<dt>{name}</dt><dd>{value}</dd>")?;
    }
    writeln!(out, "</dl>")?;
    if let Some(data) = &result.vulnerability_data {
        let class = if data.sample {
            r#" class="warning""#
        } else {
            ""
        };
        writeln!(
            out,
            "<p{class}>{}</p>",
            escape(&order::vulnerability_data_line(data))
        )?;
    }
    writeln!(
        out,
        "<noscript><p>Sorting and filtering need JavaScript; the tables list findings worst first.</p></noscript>"
    )?;
    writeln!(out, "</header>")
}

fn write_nav(
    result: &ScanResult,
    findings: &[&Finding],
    scanners: &[ScannerKind],
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut links = vec![r##"<a href="#summary">Summary</a>"##.to_owned()];
    for &scanner in scanners {
        let count = findings.iter().filter(|f| f.scanner == scanner).count();
        links.push(format!(
            r##"<a href="#{}">{} ({count})</a>"##,
            section_id(scanner),
            order::scanner_label(scanner)
        ));
    }
    links.push(format!(
        r##"<a href="#layers">Layers ({})</a>"##,
        result.layers.len()
    ));
    if !result.skipped.is_empty() {
        links.push(format!(
            r##"<a href="#skipped">Skipped ({})</a>"##,
            result.skipped.len()
        ));
    }
    writeln!(out, "<nav>{}</nav>", links.join(" · "))
}

fn write_summary(
    findings: &[&Finding],
    scanners: &[ScannerKind],
    out: &mut dyn Write,
) -> io::Result<()> {
    let count = |scanner: Option<ScannerKind>, severity: Severity| {
        findings
            .iter()
            .filter(|f| f.severity == severity && scanner.is_none_or(|s| f.scanner == s))
            .count()
    };
    writeln!(out, r#"<section id="summary">"#)?;
    writeln!(out, "<h2>Summary: {} findings</h2>", findings.len())?;
    let by_severity: Vec<Bar> = severities_worst_first()
        .map(|severity| Bar {
            label: severity.as_str().to_owned(),
            parts: vec![(severity, count(None, severity))],
        })
        .collect();
    let by_scanner: Vec<Bar> = scanners
        .iter()
        .map(|&scanner| Bar {
            label: order::scanner_label(scanner).to_owned(),
            parts: severities_worst_first()
                .map(|severity| (severity, count(Some(scanner), severity)))
                .collect(),
        })
        .collect();
    writeln!(out, r#"<div class="charts">"#)?;
    for (caption, bars) in [
        ("Findings by severity", &by_severity),
        ("Findings by scanner", &by_scanner),
    ] {
        writeln!(out, "<figure>")?;
        writeln!(out, "<figcaption>{caption}</figcaption>")?;
        writeln!(out, "{}", bar_chart(caption, bars))?;
        writeln!(out, "</figure>")?;
    }
    writeln!(out, "</div>")?;
    // The same numbers as text, for readers and tools that do not see the charts.
    writeln!(out, "<table>")?;
    let headers: Vec<String> = severities_worst_first()
        .map(|severity| format!(r#"<th class="num">{}</th>"#, severity.as_str()))
        .collect();
    writeln!(
        out,
        r#"<thead><tr><th>Scanner</th>{}<th class="num">Total</th></tr></thead>"#,
        headers.concat()
    )?;
    writeln!(out, "<tbody>")?;
    for &scanner in scanners {
        let cells: Vec<String> = severities_worst_first()
            .map(|severity| match count(Some(scanner), severity) {
                0 => r#"<td class="num">0</td>"#.to_owned(),
                n => format!(r#"<td class="num {}">{n}</td>"#, severity_class(severity)),
            })
            .collect();
        let total = findings.iter().filter(|f| f.scanner == scanner).count();
        writeln!(
            out,
            r#"<tr><td>{}</td>{}<td class="num">{total}</td></tr>"#,
            order::scanner_label(scanner),
            cells.concat()
        )?;
    }
    writeln!(out, "</tbody>")?;
    writeln!(out, "</table>")?;
    writeln!(out, "</section>")
}

fn write_scanner_section(
    scanner: ScannerKind,
    findings: &[&Finding],
    layers: &[&LayerSummary],
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, r#"<section id="{}">"#, section_id(scanner))?;
    writeln!(
        out,
        "<h2>{} ({})</h2>",
        order::scanner_label(scanner),
        findings.len()
    )?;
    if findings.is_empty() {
        writeln!(out, "<p>None found.</p>")?;
        return writeln!(out, "</section>");
    }
    let table = match scanner {
        ScannerKind::Vuln => vulnerability_table(findings, layers),
        ScannerKind::Secret => secrets_table(findings, layers),
        ScannerKind::Malware => malware_table(findings, layers),
        ScannerKind::Misconfig => misconfig_table(findings, layers),
        ScannerKind::Trust => trust_table(findings),
    };
    table.write(scanner.as_str(), order::scanner_label(scanner), out)?;
    writeln!(out, "</section>")
}

fn section_id(scanner: ScannerKind) -> String {
    format!("section-{}", scanner.as_str())
}

fn vulnerability_table(findings: &[&Finding], layers: &[&LayerSummary]) -> Table {
    // The column exists only when some finding could be judged (Go binaries with a function
    // table); elsewhere it would be empty.
    let with_reachable = findings.iter().any(|finding| {
        matches!(
            finding.details,
            FindingDetails::Vulnerability {
                reachable: Some(_),
                ..
            }
        )
    });
    let mut headers = vec![
        "Package",
        "Vulnerability",
        "Severity",
        "Status",
        "Installed",
        "Fixed versions",
    ];
    if with_reachable {
        headers.push("Reachable");
    }
    let with_exploitation = order::any_exploitation(findings);
    if with_exploitation {
        headers.push("Exploited");
    }
    headers.extend(["Path", "Layer"]);
    let mut table = Table::new(&headers);
    for &finding in findings {
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
        let fixed = match fix {
            FixState::Fixed { versions } => versions.join(", "),
            _ => String::new(),
        };
        let mut cells = vec![
            text_cell(package),
            id_cell(finding),
            severity_cell(finding.severity),
            text_cell(order::fix_status(&finding.details).unwrap_or_default()),
            code_cell(installed_version),
            code_cell(&fixed),
        ];
        if with_reachable {
            cells.push(text_cell(match reachable {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            }));
        }
        if with_exploitation {
            cells.push(text_cell(&order::exploitation(kev.as_ref(), epss.as_ref())));
        }
        cells.push(code_cell(&order::display_location(finding)));
        cells.push(layer_cell(finding_layer(finding), layers));
        table.push(Some(finding.severity), cells);
    }
    table
}

fn secrets_table(findings: &[&Finding], layers: &[&LayerSummary]) -> Table {
    let mut table = Table::new(&["Severity", "Rule", "Location", "Layer", "Deleted", "Match"]);
    for &finding in findings {
        let FindingDetails::Secret { redacted, origin } = &finding.details else {
            continue;
        };
        table.push(
            Some(finding.severity),
            vec![
                severity_cell(finding.severity),
                id_cell(finding),
                code_cell(&order::secret_location(finding, origin.as_deref())),
                layer_cell(finding_layer(finding), layers),
                deleted_cell(finding),
                code_cell(redacted),
            ],
        );
    }
    table
}

fn malware_table(findings: &[&Finding], layers: &[&LayerSummary]) -> Table {
    let mut table = Table::new(&["Severity", "Rule", "Path", "Layer", "Deleted", "Signature"]);
    for &finding in findings {
        let FindingDetails::Malware {
            signature, engine, ..
        } = &finding.details
        else {
            continue;
        };
        table.push(
            Some(finding.severity),
            vec![
                severity_cell(finding.severity),
                id_cell(finding),
                code_cell(&order::display_location(finding)),
                layer_cell(finding_layer(finding), layers),
                deleted_cell(finding),
                code_cell(&format!("{engine}: {signature}")),
            ],
        );
    }
    table
}

fn misconfig_table(findings: &[&Finding], layers: &[&LayerSummary]) -> Table {
    let mut table = Table::new(&[
        "Severity",
        "Rule",
        "Resource",
        "Location",
        "Resolution",
        "Layer",
    ]);
    for &finding in findings {
        let FindingDetails::Misconfig {
            resource,
            resolution,
        } = &finding.details
        else {
            continue;
        };
        table.push(
            Some(finding.severity),
            vec![
                severity_cell(finding.severity),
                id_cell(finding),
                text_cell(resource),
                code_cell(&order::display_location(finding)),
                text_cell(resolution.as_deref().unwrap_or_default()),
                layer_cell(finding_layer(finding), layers),
            ],
        );
    }
    table
}

fn trust_table(findings: &[&Finding]) -> Table {
    let mut table = Table::new(&["Severity", "Rule", "Image", "Trust rule", "Reason"]);
    for &finding in findings {
        let FindingDetails::Trust { rule, reason } = &finding.details else {
            continue;
        };
        table.push(
            Some(finding.severity),
            vec![
                severity_cell(finding.severity),
                id_cell(finding),
                code_cell(&finding.location.path),
                text_cell(rule.as_deref().unwrap_or("-")),
                text_cell(reason),
            ],
        );
    }
    table
}

fn write_layers(layers: &[&LayerSummary], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, r#"<section id="layers">"#)?;
    writeln!(out, "<h2>Layers ({})</h2>", layers.len())?;
    if layers.is_empty() {
        writeln!(out, "<p>The target has no layers.</p>")?;
        return writeln!(out, "</section>");
    }
    let mut table = Table::new(&["Layer", "Created by", "Diff ID", "Files", "Bytes", "Cached"]);
    for layer in layers {
        table.push(
            None,
            vec![
                number_cell(layer.index),
                code_cell(layer.created_by.as_deref().unwrap_or_default()),
                code_cell(&layer.diff_id),
                number_cell(layer.files),
                number_cell(layer.bytes),
                text_cell(if layer.cached { "from cache" } else { "" }),
            ],
        );
    }
    table.write_plain("Layers", out)?;
    writeln!(out, "</section>")
}

/// Every skipped entry, with its reason: what the scan could not inspect must be visible.
fn write_skipped(
    result: &ScanResult,
    layers: &[&LayerSummary],
    out: &mut dyn Write,
) -> io::Result<()> {
    if result.skipped.is_empty() {
        return Ok(());
    }
    writeln!(out, r#"<section id="skipped">"#)?;
    writeln!(out, "<h2>Skipped entries ({})</h2>", result.skipped.len())?;
    let mut table = Table::new(&["Path", "Layer", "Reason", "Detail"]);
    for entry in order::skipped(result) {
        table.push(
            None,
            vec![
                code_cell(&order::image_path(&entry.path)),
                layer_cell(entry.layer, layers),
                text_cell(order::skip_reason_name(&entry.reason)),
                text_cell(entry.detail.as_deref().unwrap_or_default()),
            ],
        );
    }
    table.write("skipped", "Skipped entries", out)?;
    writeln!(out, "</section>")
}

fn severities_worst_first() -> impl Iterator<Item = Severity> {
    Severity::ALL.into_iter().rev()
}

/// Rank used to sort a severity column: 0 for the worst, so an ascending sort is report order.
fn severity_rank(severity: Severity) -> usize {
    severities_worst_first()
        .position(|s| s == severity)
        .unwrap_or_default()
}

fn severity_class(severity: Severity) -> String {
    format!("sev-{}", severity.as_str().to_ascii_lowercase())
}

fn text_cell(text: &str) -> String {
    format!("<td>{}</td>", escape(text))
}

fn code_cell(text: &str) -> String {
    if text.is_empty() {
        return "<td></td>".to_owned();
    }
    format!("<td><code>{}</code></td>", escape(text))
}

fn number_cell(number: impl std::fmt::Display) -> String {
    format!(r#"<td class="num">{number}</td>"#)
}

fn severity_cell(severity: Severity) -> String {
    format!(
        r#"<td class="sev {}" data-sort="{}">{}</td>"#,
        severity_class(severity),
        severity_rank(severity),
        severity.as_str()
    )
}

/// The finding's id, linked to its advisory or rule page when that is a web URL, over its
/// title.
fn id_cell(finding: &Finding) -> String {
    let id = escape(&finding.id);
    let shown = match finding.primary_url.as_deref().and_then(safe_link) {
        Some(url) => format!(
            r#"<a href="{}" rel="noopener noreferrer">{id}</a>"#,
            escape(url)
        ),
        None => id.clone(),
    };
    format!(
        r#"<td data-sort="{}">{shown}<div class="sub">{}</div></td>"#,
        id.to_lowercase(),
        escape(&finding.title)
    )
}

fn deleted_cell(finding: &Finding) -> String {
    text_cell(if finding.location.deleted {
        "deleted"
    } else {
        ""
    })
}

fn finding_layer(finding: &Finding) -> Option<usize> {
    finding.location.layer.as_ref().map(|layer| layer.index)
}

/// The layer's index with the history line that created it: which build step brought the
/// finding in is what a reader needs to fix it.
fn layer_cell(index: Option<usize>, layers: &[&LayerSummary]) -> String {
    let Some(index) = index else {
        return r#"<td data-sort=""></td>"#.to_owned();
    };
    let created_by = layers
        .iter()
        .find(|layer| layer.index == index)
        .and_then(|layer| layer.created_by.as_deref())
        .filter(|line| !line.is_empty());
    match created_by {
        Some(line) => format!(
            r#"<td data-sort="{index}">{index}<code class="created-by" title="{}">{}</code></td>"#,
            escape(line),
            escape(&truncate(line, CREATED_BY_MAX))
        ),
        None => format!(r#"<td data-sort="{index}">{index}</td>"#),
    }
}

/// A table of escaped cells; rows with a severity can be filtered by it.
struct Table {
    headers: Vec<String>,
    rows: Vec<(Option<Severity>, Vec<String>)>,
}

impl Table {
    fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|&h| h.to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// `cells` are complete `<td>` elements, their text already escaped.
    fn push(&mut self, severity: Option<Severity>, cells: Vec<String>) {
        self.rows.push((severity, cells));
    }

    /// The table with its filter controls (hidden until the script shows them).
    fn write(&self, id: &str, label: &str, out: &mut dyn Write) -> io::Result<()> {
        let table_id = format!("table-{id}");
        writeln!(
            out,
            r#"<div class="filters" data-table="{table_id}" hidden="hidden">"#
        )?;
        writeln!(
            out,
            r#"<label>Filter <input type="search" aria-label="Filter {}" /></label>"#,
            escape(&label.to_lowercase())
        )?;
        let mut severities: Vec<Severity> = self
            .rows
            .iter()
            .filter_map(|(severity, _)| *severity)
            .collect();
        severities.sort_by_key(|&severity| severity_rank(severity));
        severities.dedup();
        for severity in severities {
            writeln!(
                out,
                r#"<label><input type="checkbox" value="{0}" checked="checked" /> {0}</label>"#,
                severity.as_str()
            )?;
        }
        writeln!(out, r#"<span class="shown" aria-live="polite"></span>"#)?;
        writeln!(out, "</div>")?;
        self.write_table(&format!(r#" id="{table_id}" class="sortable""#), label, out)
    }

    /// The table alone, still sortable.
    fn write_plain(&self, label: &str, out: &mut dyn Write) -> io::Result<()> {
        self.write_table(r#" class="sortable""#, label, out)
    }

    fn write_table(&self, attributes: &str, label: &str, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, r#"<div class="scroll">"#)?;
        writeln!(out, r#"<table{attributes} aria-label="{}">"#, escape(label))?;
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|header| format!("<th>{}</th>", escape(header)))
            .collect();
        writeln!(out, "<thead><tr>{}</tr></thead>", headers.concat())?;
        writeln!(out, "<tbody>")?;
        for (severity, cells) in &self.rows {
            match severity {
                Some(severity) => write!(out, r#"<tr data-severity="{}">"#, severity.as_str())?,
                None => write!(out, "<tr>")?,
            }
            writeln!(out, "{}</tr>", cells.concat())?;
        }
        writeln!(out, "</tbody>")?;
        writeln!(out, "</table>")?;
        writeln!(out, "</div>")
    }
}
