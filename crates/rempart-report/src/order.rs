//! The one place that decides report order, so every format lists things the same way and never
//! depends on the order the scanners happened to produce.

use std::cmp::Reverse;

use rempart_core::{
    Finding, FindingDetails, LayerSummary, OsInfo, Package, ScanResult, ScannerKind, SkipReason,
    SkippedEntry, VulnerabilityData,
};

/// Findings known to be exploited first (CISA KEV), then by severity (worst first), EPSS score
/// (likeliest first), id, path and line. The full serialized finding breaks the remaining ties,
/// so two findings that differ anywhere always come out in the same order.
pub(crate) fn findings(result: &ScanResult) -> Vec<&Finding> {
    let mut sorted: Vec<&Finding> = result.findings.iter().collect();
    sorted.sort_by_cached_key(|finding| {
        let (exploited, likelihood) = match &finding.details {
            FindingDetails::Vulnerability { kev, epss, .. } => (
                kev.is_some(),
                // Scores are probabilities with five decimals: a fixed-point key orders them.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                epss.map_or(0, |e| (e.score.clamp(0.0, 1.0) * 1e6) as u32),
            ),
            _ => (false, 0),
        };
        (
            Reverse(exploited),
            Reverse(finding.severity),
            Reverse(likelihood),
            finding.id.clone(),
            finding.location.path.clone(),
            finding.location.line,
            serde_json::to_string(finding).unwrap_or_default(),
        )
    });
    sorted
}

/// Whether any vulnerability finding carries exploitation data (KEV, EPSS): the column that
/// shows it exists only then.
pub(crate) fn any_exploitation(findings: &[&Finding]) -> bool {
    findings.iter().any(|finding| {
        matches!(
            &finding.details,
            FindingDetails::Vulnerability { kev: Some(_), .. }
                | FindingDetails::Vulnerability { epss: Some(_), .. }
        )
    })
}

/// `KEV` when CISA lists the vulnerability as exploited (and whether ransomware uses it), and
/// the EPSS probability.
pub(crate) fn exploitation(
    kev: Option<&rempart_core::KnownExploited>,
    epss: Option<&rempart_core::Epss>,
) -> String {
    let mut parts = Vec::new();
    if let Some(kev) = kev {
        parts.push(if kev.ransomware {
            "KEV, ransomware".to_owned()
        } else {
            "KEV".to_owned()
        });
    }
    if let Some(epss) = epss {
        parts.push(format!("EPSS {:.1}%", epss.score * 100.0));
    }
    parts.join(", ")
}

/// Packages by ecosystem, name, version and primary path, then the full record.
pub(crate) fn packages(result: &ScanResult) -> Vec<&Package> {
    let mut sorted: Vec<&Package> = result.packages.iter().collect();
    sorted.sort_by_cached_key(|package| {
        (
            package.ecosystem.clone(),
            package.name.clone(),
            package.version.clone(),
            primary_path(package).to_owned(),
            serde_json::to_string(package).unwrap_or_default(),
        )
    });
    sorted
}

pub(crate) fn layers(result: &ScanResult) -> Vec<&LayerSummary> {
    let mut sorted: Vec<&LayerSummary> = result.layers.iter().collect();
    sorted.sort_by(|a, b| {
        a.index
            .cmp(&b.index)
            .then_with(|| a.diff_id.cmp(&b.diff_id))
    });
    sorted
}

pub(crate) fn skipped(result: &ScanResult) -> Vec<&SkippedEntry> {
    let mut sorted: Vec<&SkippedEntry> = result.skipped.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.path, a.layer, skip_reason_name(&a.reason), &a.detail).cmp(&(
            &b.path,
            b.layer,
            skip_reason_name(&b.reason),
            &b.detail,
        ))
    });
    sorted
}

/// The scanners that ran, plus any that produced findings without being listed, each once.
pub(crate) fn scanners(result: &ScanResult) -> Vec<ScannerKind> {
    let mut kinds: Vec<ScannerKind> = result
        .scanners
        .iter()
        .copied()
        .chain(result.findings.iter().map(|finding| finding.scanner))
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

pub(crate) fn primary_path(package: &Package) -> &str {
    package
        .locations
        .first()
        .map_or("", |location| location.path.as_str())
}

/// The snake-case name the JSON report uses for a skip reason.
pub(crate) fn skip_reason_name(reason: &SkipReason) -> &'static str {
    match reason {
        SkipReason::UnsafePath => "unsafe_path",
        SkipReason::TooLarge => "too_large",
        SkipReason::SpecialFile => "special_file",
        SkipReason::LinkEscapesRoot => "link_escapes_root",
        SkipReason::TooDeep => "too_deep",
        SkipReason::NonUtf8Path => "non_utf8_path",
        SkipReason::PathTooLong => "path_too_long",
        SkipReason::LinkNotFollowed => "link_not_followed",
        SkipReason::TooManyFindings => "too_many_findings",
        SkipReason::DanglingLink => "dangling_link",
        SkipReason::Unreadable => "unreadable",
        SkipReason::Binary => "binary",
        SkipReason::ArchiveLimit => "archive_limit",
        SkipReason::ScanTimeout => "scan_timeout",
    }
}

/// Human label of a scanner, used as section and suite names.
pub(crate) fn scanner_label(kind: ScannerKind) -> &'static str {
    match kind {
        ScannerKind::Vuln => "Vulnerabilities",
        ScannerKind::Secret => "Secrets",
        ScannerKind::Malware => "Malware",
        ScannerKind::Misconfig => "Misconfigurations",
        ScannerKind::Trust => "Supply-chain trust",
    }
}

/// The fix state as one word: `fixed`, `affected` or `will_not_fix`.
pub(crate) fn fix_status(details: &FindingDetails) -> Option<&'static str> {
    match details {
        FindingDetails::Vulnerability { fix, .. } => Some(fix.status_name()),
        _ => None,
    }
}

/// How the image is named in reports: the name the user gave, else the first tag.
pub(crate) fn target_name(result: &ScanResult) -> &str {
    if result.target.name.is_empty() {
        result
            .target
            .repo_tags
            .first()
            .map_or("unnamed target", String::as_str)
    } else {
        &result.target.name
    }
}

/// The most specific digest of the target: the manifest digest, else the config digest.
pub(crate) fn target_digest(result: &ScanResult) -> Option<&str> {
    result
        .target
        .manifest_digest
        .as_deref()
        .or(result.target.config_digest.as_deref())
}

/// The OS as people name it: the release file's pretty name, else its id and version.
pub(crate) fn os_label(os: &OsInfo) -> String {
    match &os.pretty_name {
        Some(pretty) if !pretty.is_empty() => pretty.clone(),
        _ => format!("{} {}", os.id, os.version_id).trim().to_owned(),
    }
}

/// What the vulnerabilities were matched against, in one sentence: a report that finds no
/// vulnerability must say against which data, and warn when that was only the sample set.
pub(crate) fn vulnerability_data_line(data: &VulnerabilityData) -> String {
    let up_to = data
        .data_up_to
        .as_deref()
        .map(|date| format!(", data up to {}", date.get(..10).unwrap_or(date)))
        .unwrap_or_default();
    if data.sample {
        format!(
            "Vulnerability data: the built-in sample set ({} advisories{up_to}), not real coverage: run `rempart db update`",
            data.advisories
        )
    } else {
        format!(
            "Vulnerability data: {} ({} advisories{up_to})",
            data.path, data.advisories
        )
    }
}

/// Where a secret is: secrets from image metadata (`origin`: env, label, history) that carry no
/// config entry name their origin, others their location.
pub(crate) fn secret_location(finding: &Finding, origin: Option<&str>) -> String {
    match origin {
        Some(origin) if finding.location.config.is_none() => {
            format!("image {origin}: {}", finding.location.path)
        }
        _ => display_location(finding),
    }
}

/// Whether a finding's layer is an image's: a directory scanned as a source tree (`fs`) or a
/// file named on the command line has no layer a user would look for.
pub(crate) fn in_image_layer(finding: &Finding) -> bool {
    finding
        .location
        .layer
        .as_ref()
        .is_some_and(|layer| !layer.diff_id.starts_with("fs:"))
}

/// One line describing where a finding is: in an image or a root filesystem as an absolute
/// path (`/app/x.jar!/a/b.class`, `/etc/app.conf:12`); in a source tree or a file named on the
/// command line as the user gave it (`deploy/web.yaml:12`).
pub(crate) fn display_location(finding: &Finding) -> String {
    if let Some(entry) = &finding.location.config {
        return entry.to_string();
    }
    let mut shown = if in_image_layer(finding) {
        image_path(&full_path(finding))
    } else {
        full_path(finding)
    };
    if let Some(line) = finding.location.line {
        shown.push(':');
        shown.push_str(&line.to_string());
    }
    shown
}

/// The finding's path, extended by the archive member chain for findings inside archives.
///
/// A member chain may start with the archive's own file name (`app.jar!/lib/x.jar!/eicar.com`)
/// or directly with the member (`lib/x.jar!/eicar.com`); both give
/// `opt/app.jar!/lib/x.jar!/eicar.com`.
pub(crate) fn full_path(finding: &Finding) -> String {
    let path = finding.location.path.as_str();
    let FindingDetails::Malware {
        member: Some(member),
        ..
    } = &finding.details
    else {
        return path.to_owned();
    };
    if member.is_empty() {
        return path.to_owned();
    }
    let file_name = path.rsplit('/').next().unwrap_or(path);
    if let Some(rest) = member.strip_prefix(file_name)
        && rest.starts_with('!')
    {
        return format!("{path}{rest}");
    }
    format!("{path}!/{}", member.trim_start_matches('/'))
}

/// Image paths are stored without the leading slash; people read them with it.
pub(crate) fn image_path(path: &str) -> String {
    if path.is_empty() || path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}
