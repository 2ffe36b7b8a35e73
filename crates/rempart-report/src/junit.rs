//! `JUnit` XML for CI systems that show test results: one suite per scanner, one failing test case
//! per finding, and one passing case for a scanner that found nothing, so a clean scan still
//! shows up as green rather than as "no tests".

use std::io::{self, Write};

use rempart_core::{Finding, FindingDetails, FixState, ScanResult};

use crate::{ReportOptions, order};

pub(crate) fn write(
    result: &ScanResult,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let target = order::target_name(result);
    let findings = order::findings(result);
    let scanners = order::scanners(result);
    let total_cases: usize = scanners
        .iter()
        .map(|&scanner| {
            findings
                .iter()
                .filter(|f| f.scanner == scanner)
                .count()
                .max(1)
        })
        .sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="rempart {}" tests="{total_cases}" failures="{}" errors="0" time="0">"#,
        xml(target),
        findings.len()
    )?;
    for scanner in scanners {
        let of_scanner: Vec<&Finding> = findings
            .iter()
            .copied()
            .filter(|f| f.scanner == scanner)
            .collect();
        let timestamp = options
            .timestamp
            .as_deref()
            .map(|time| format!(r#" timestamp="{}""#, xml(time)))
            .unwrap_or_default();
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0" skipped="0" time="0"{timestamp}>"#,
            xml(order::scanner_label(scanner)),
            of_scanner.len().max(1),
            of_scanner.len(),
        )?;
        writeln!(out, "    <properties>")?;
        writeln!(
            out,
            r#"      <property name="target" value="{}"/>"#,
            xml(target)
        )?;
        if let Some(digest) = order::target_digest(result) {
            writeln!(
                out,
                r#"      <property name="digest" value="{}"/>"#,
                xml(digest)
            )?;
        }
        writeln!(
            out,
            r#"      <property name="rempart.version" value="{}"/>"#,
            xml(&options.tool_version)
        )?;
        writeln!(out, "    </properties>")?;
        if of_scanner.is_empty() {
            writeln!(
                out,
                r#"    <testcase classname="{}" name="no {} found" time="0"/>"#,
                xml(target),
                xml(&order::scanner_label(scanner).to_lowercase())
            )?;
        }
        for finding in of_scanner {
            write_case(finding, target, out)?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

fn write_case(finding: &Finding, target: &str, out: &mut dyn Write) -> io::Result<()> {
    let place = order::display_location(finding);
    let name = match &finding.details {
        FindingDetails::Vulnerability {
            package,
            installed_version,
            ..
        } => format!(
            "[{}] {package}@{installed_version}: {}",
            finding.severity, finding.id
        ),
        _ => format!("[{}] {}: {place}", finding.severity, finding.id),
    };
    writeln!(
        out,
        r#"    <testcase classname="{}" name="{}" file="{}" time="0">"#,
        xml(&format!(
            "{target} {}",
            order::image_path(&finding.location.path)
        )),
        xml(&name),
        xml(&order::image_path(&order::full_path(finding)))
    )?;
    writeln!(
        out,
        r#"      <failure message="{}" type="{}">{}</failure>"#,
        xml(&finding.title),
        finding.severity,
        xml(&detail(finding, &place)).replace("&#10;", "\n")
    )?;
    writeln!(out, "    </testcase>")
}

fn detail(finding: &Finding, place: &str) -> String {
    let mut lines = vec![
        format!("{}: {}", finding.id, finding.title),
        format!("Severity: {}", finding.severity),
        format!("Location: {place}"),
    ];
    if let Some(layer) = &finding.location.layer {
        lines.push(format!("Layer: {} ({})", layer.index, layer.diff_id));
    }
    if finding.location.deleted {
        lines.push("Deleted in a later layer: the content is still in the image".to_owned());
    }
    match &finding.details {
        FindingDetails::Vulnerability {
            package,
            installed_version,
            fix,
            ..
        } => {
            lines.push(format!("Package: {package} {installed_version}"));
            lines.push(match fix {
                FixState::Fixed { versions } => format!("Fixed in: {}", versions.join(", ")),
                FixState::NotFixed => "Status: affected, no fix yet".to_owned(),
                FixState::WillNotFix => "Status: will not be fixed".to_owned(),
                FixState::FixDeferred => "Status: affected, fix deferred".to_owned(),
                FixState::EndOfLife => "Status: affected, past its support".to_owned(),
                FixState::UnderInvestigation => "Status: under investigation".to_owned(),
            });
        }
        FindingDetails::Secret { redacted, origin } => {
            if let Some(origin) = origin {
                lines.push(format!("Origin: {origin}"));
            }
            lines.push(format!("Match: {redacted}"));
        }
        FindingDetails::Malware {
            signature, engine, ..
        } => lines.push(format!("Signature: {signature} ({engine})")),
        FindingDetails::Misconfig {
            resource,
            resolution,
        } => {
            lines.push(format!("Resource: {resource}"));
            if let Some(resolution) = resolution {
                lines.push(format!("Resolution: {resolution}"));
            }
        }
        FindingDetails::Trust { rule, reason } => {
            if let Some(rule) = rule {
                lines.push(format!("Trust rule: {rule}"));
            }
            lines.push(format!("Reason: {reason}"));
        }
    }
    if let Some(url) = &finding.primary_url {
        lines.push(format!("More: {url}"));
    }
    lines.join("\n")
}

/// Escapes text for XML attributes and content, dropping characters XML 1.0 cannot carry at
/// all (most control characters), which would make the whole file unreadable.
fn xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\n' => escaped.push_str("&#10;"),
            '\t' | '\r' => escaped.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn xml_escapes_markup_and_drops_invalid_characters() {
        assert_eq!(
            xml(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
        assert_eq!(xml("a\u{1b}b\u{0}c"), "abc");
    }
}
