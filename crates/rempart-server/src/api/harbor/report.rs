//! Harbor's report documents, made from a stored scan result: the vulnerability report
//! (`application/vnd.security.vulnerability.report; version=1.1`) and the SBOM report
//! (`application/vnd.security.sbom.report+json; version=1.0`), as the scanner adapter
//! specification v1.2 describes them.

use rempart_core::{Finding, FindingDetails, FixState, ScanResult, Severity};
use rempart_report::{Format, ReportOptions, write_report};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The artifact a report is about, as Harbor named it in its request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Artifact {
    pub(crate) repository: String,
    pub(crate) digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) mime_type: Option<String>,
}

pub(crate) fn scanner() -> Value {
    json!({"name": "rempart", "vendor": "rempart", "version": env!("CARGO_PKG_VERSION")})
}

/// Harbor's scale, lowest first. rempart's `INFO` (a CVSS score of 0) becomes `Low`, as the
/// vulnerability database already maps a feed's `negligible`; `Negligible` is never sent.
fn harbor_severity(severity: Severity) -> (u8, &'static str) {
    match severity {
        Severity::Unknown => (0, "Unknown"),
        Severity::Info | Severity::Low => (1, "Low"),
        Severity::Medium => (2, "Medium"),
        Severity::High => (3, "High"),
        Severity::Critical => (4, "Critical"),
    }
}

/// The CVSS fields Harbor has: one v3 and one v2 vector, and the score for the version rempart
/// took it from (the score goes with the v3 vector when there is one).
fn preferred_cvss(vectors: &[String], score: Option<f64>) -> Option<Value> {
    let v3 = vectors.iter().find(|v| v.starts_with("CVSS:3"));
    let v2 = vectors
        .iter()
        .find(|v| v.starts_with("AV:") || v.starts_with("CVSS:2"));
    let mut cvss = Map::new();
    if let Some(vector) = v3 {
        cvss.insert("vector_v3".into(), json!(vector));
    }
    if let Some(vector) = v2 {
        cvss.insert("vector_v2".into(), json!(vector));
    }
    if let Some(score) = score {
        let key = if v3.is_none() && v2.is_some() {
            "score_v2"
        } else {
            "score_v3"
        };
        cvss.insert(key.into(), json!(score));
    }
    (!cvss.is_empty()).then_some(Value::Object(cvss))
}

fn links(finding: &Finding, references: &[String]) -> Vec<String> {
    let mut links: Vec<String> = Vec::new();
    for link in finding.primary_url.iter().chain(references) {
        // The schema says URIs: a reference that is not a web address stays out.
        if (link.starts_with("https://") || link.starts_with("http://")) && !links.contains(link) {
            links.push(link.clone());
        }
    }
    links
}

fn vulnerability_item(result: &ScanResult, finding: &Finding) -> Option<(u8, Value)> {
    let FindingDetails::Vulnerability {
        package,
        ecosystem,
        installed_version,
        purl,
        fix,
        aliases,
        cvss,
        cvss_score,
        references,
        reachable,
        severity_source,
        kev,
        epss,
    } = &finding.details
    else {
        return None;
    };
    let (rank, severity) = harbor_severity(finding.severity);
    let mut item = Map::new();
    item.insert("id".into(), json!(finding.id));
    item.insert("package".into(), json!(package));
    item.insert("version".into(), json!(installed_version));
    // Everything the specification has no field for.
    let mut vendor = Map::new();
    match fix {
        FixState::Fixed { versions } => {
            item.insert("fix_version".into(), json!(versions.join(", ")));
            vendor.insert("fix_state".into(), json!("fixed"));
        }
        FixState::NotFixed => {
            vendor.insert("fix_state".into(), json!("not_fixed"));
        }
        other => {
            vendor.insert("fix_state".into(), json!(other.status_name()));
        }
    }
    item.insert("severity".into(), json!(severity));
    item.insert("description".into(), json!(finding.title));
    item.insert("links".into(), json!(links(finding, references)));
    if let Some(cvss) = preferred_cvss(cvss, *cvss_score) {
        item.insert("preferred_cvss".into(), cvss);
    }
    vendor.insert("ecosystem".into(), json!(ecosystem));
    vendor.insert("purl".into(), json!(purl));
    if !finding.location.path.is_empty() {
        vendor.insert("path".into(), json!(format!("/{}", finding.location.path)));
    }
    if let Some(layer) = &finding.location.layer {
        let mut entry = Map::new();
        entry.insert("diff_id".into(), json!(layer.diff_id));
        if let Some(digest) = result
            .layers
            .iter()
            .find(|summary| summary.index == layer.index)
            .and_then(|summary| summary.digest.as_ref())
        {
            entry.insert("digest".into(), json!(digest));
        }
        vendor.insert("layer".into(), Value::Object(entry));
    }
    if !aliases.is_empty() {
        vendor.insert("aliases".into(), json!(aliases));
    }
    if !cvss.is_empty() {
        vendor.insert("cvss_vectors".into(), json!(cvss));
    }
    if let Some(source) = severity_source {
        vendor.insert("severity_source".into(), json!(source));
    }
    if let Some(kev) = kev {
        vendor.insert("kev".into(), json!(kev));
    }
    if let Some(epss) = epss {
        vendor.insert("epss".into(), json!(epss));
    }
    if let Some(reachable) = reachable {
        vendor.insert("reachable".into(), json!(reachable));
    }
    item.insert("vendor_attributes".into(), Value::Object(vendor));
    Some((rank, Value::Object(item)))
}

/// The vulnerability report: vulnerability findings only (secrets, malware and
/// misconfigurations have no place in it), and the highest severity among them (`Unknown` when
/// there is none, as Harbor's reference adapter says).
pub(crate) fn vulnerability_report(
    result: &ScanResult,
    artifact: &Artifact,
    generated_at: &str,
) -> Value {
    let mut highest = (0, "Unknown");
    let mut vulnerabilities = Vec::new();
    for finding in &result.findings {
        if let Some((rank, item)) = vulnerability_item(result, finding) {
            if rank > highest.0 {
                highest = (rank, harbor_severity(finding.severity).1);
            }
            vulnerabilities.push(item);
        }
    }
    json!({
        "generated_at": generated_at,
        "artifact": artifact,
        "scanner": scanner(),
        "severity": highest.1,
        "vulnerabilities": vulnerabilities,
    })
}

/// The SBOM formats Harbor asks for, by their media type.
pub(crate) fn sbom_format(media_type: &str) -> Option<Format> {
    match media_type {
        "application/vnd.cyclonedx+json" => Some(Format::CycloneDx),
        "application/spdx+json" => Some(Format::Spdx),
        _ => None,
    }
}

/// The SBOM report, its `sbom` written by the CLI's own `CycloneDX` or SPDX writer.
pub(crate) fn sbom_report(
    result: &ScanResult,
    artifact: &Artifact,
    generated_at: &str,
    media_type: &str,
) -> Result<Value, String> {
    let format = sbom_format(media_type).ok_or_else(|| format!("no SBOM format {media_type}"))?;
    let options = ReportOptions {
        timestamp: Some(generated_at.to_owned()),
        serial: None,
        color: false,
        width: None,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let mut bytes = Vec::new();
    write_report(result, format, &options, &mut bytes).map_err(|e| e.to_string())?;
    let sbom: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    Ok(json!({
        "generated_at": generated_at,
        "artifact": artifact,
        "scanner": scanner(),
        "vendor_attributes": {"packages": result.packages.len()},
        "media_type": media_type,
        "sbom": sbom,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_follow_harbors_scale() {
        assert_eq!(harbor_severity(Severity::Info).1, "Low");
        assert_eq!(harbor_severity(Severity::Unknown).1, "Unknown");
        assert_eq!(harbor_severity(Severity::Critical).1, "Critical");
        assert!(harbor_severity(Severity::Info).0 > harbor_severity(Severity::Unknown).0);
    }

    #[test]
    fn cvss_vectors_go_where_harbor_has_fields() {
        let both = preferred_cvss(
            &[
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
                "AV:N/AC:L/Au:N/C:P/I:P/A:P".into(),
            ],
            Some(9.8),
        )
        .unwrap();
        assert_eq!(both["score_v3"], 9.8);
        assert_eq!(both["vector_v2"], "AV:N/AC:L/Au:N/C:P/I:P/A:P");
        let v2 = preferred_cvss(&["AV:N/AC:L/Au:N/C:P/I:P/A:P".into()], Some(7.5)).unwrap();
        assert_eq!(v2["score_v2"], 7.5);
        assert!(v2.get("score_v3").is_none());
        assert_eq!(preferred_cvss(&[], None), None);
    }
}
