//! Names users type for scanners and severities (`vuln,secret`, `CRITICAL,vuln=HIGH`), read the
//! same way by the CLI flags and by policy documents stored on a server.

use rempart_core::{ScannerKind, Severity};

/// A scanner or severity name that is not known.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SelectionError(String);

/// Scanner names, deduplicated, in the order given; `none` and empty names select nothing.
pub fn parse_scanners(names: &[String]) -> Result<Vec<ScannerKind>, SelectionError> {
    let mut scanners = Vec::new();
    for name in names {
        let kind = match name.trim().to_ascii_lowercase().as_str() {
            "vuln" | "vulnerability" | "vulnerabilities" => ScannerKind::Vuln,
            "secret" | "secrets" => ScannerKind::Secret,
            "malware" => ScannerKind::Malware,
            "misconfig" | "config" => ScannerKind::Misconfig,
            "none" | "" => continue,
            other => {
                return Err(SelectionError(format!(
                    "unknown scanner `{other}` (expected vuln, secret, malware, misconfig or none)"
                )));
            }
        };
        if !scanners.contains(&kind) {
            scanners.push(kind);
        }
    }
    Ok(scanners)
}

/// Severities kept for every scanner, and the scanners that have their own list.
pub type SeverityLists = (Vec<Severity>, Vec<(ScannerKind, Vec<Severity>)>);

/// Vulnerability states by name (`will_not_fix,end_of_life`), checked against the names
/// [`rempart_core::FixState::status_name`] gives.
pub fn parse_statuses(names: &[String]) -> Result<Vec<String>, SelectionError> {
    names
        .iter()
        .map(|name| name.trim().to_ascii_lowercase().replace('-', "_"))
        .filter(|name| !name.is_empty())
        .map(|name| {
            if rempart_core::FixState::STATUS_NAMES.contains(&name.as_str()) {
                Ok(name)
            } else {
                Err(SelectionError(format!(
                    "unknown vulnerability status `{name}` (expected one of {})",
                    rempart_core::FixState::STATUS_NAMES.join(", ")
                )))
            }
        })
        .collect()
}

/// `CRITICAL,HIGH` applies to every scanner; `vuln=CRITICAL` items build a scanner's own list.
pub fn parse_severities(names: &[String]) -> Result<SeverityLists, SelectionError> {
    let mut global = Vec::new();
    let mut by_scanner: Vec<(ScannerKind, Vec<Severity>)> = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let severity_of = |text: &str| -> Result<Severity, SelectionError> {
            text.parse()
                .map_err(|e: rempart_core::ParseSeverityError| SelectionError(e.to_string()))
        };
        match name.split_once('=') {
            Some((scanner, severity)) => {
                let scanner = parse_scanners(&[scanner.to_owned()])?
                    .pop()
                    .ok_or_else(|| {
                        SelectionError(format!("`{name}`: name a scanner before `=`"))
                    })?;
                let severity = severity_of(severity)?;
                match by_scanner.iter_mut().find(|(kind, _)| *kind == scanner) {
                    Some((_, list)) => list.push(severity),
                    None => by_scanner.push((scanner, vec![severity])),
                }
            }
            None => global.push(severity_of(name)?),
        }
    }
    Ok((global, by_scanner))
}
