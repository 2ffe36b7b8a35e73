//! VEX documents as input: `OpenVEX` and `CycloneDX` VEX statements that a vulnerability does not
//! affect a product. `not_affected` and `fixed` (`OpenVEX`), `not_affected`, `false_positive` and
//! `resolved` (`CycloneDX`) suppress the matching findings, with the justification kept.

use std::path::{Path, PathBuf};

use rempart_core::{Finding, FindingDetails};
use serde::Deserialize;

use crate::document::{DocumentError, read_capped};

/// One statement that a vulnerability does not affect some products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    pub vulnerability: String,
    /// Package URLs (or image purls `pkg:oci/…`) the statement covers; empty means every product.
    pub products: Vec<String>,
    /// `not_affected`, `fixed`, `false_positive`, `resolved`.
    pub status: String,
    pub justification: Option<String>,
    pub source: PathBuf,
}

/// `OpenVEX`: `vulnerability` is an object (`{"name": …}`) since v0.2 and a string before.
#[derive(Deserialize)]
struct OpenVex {
    statements: Vec<OpenVexStatement>,
}

#[derive(Deserialize)]
struct OpenVexStatement {
    vulnerability: serde_json::Value,
    #[serde(default)]
    products: Vec<serde_json::Value>,
    status: String,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
}

#[derive(Deserialize)]
struct CycloneDxVex {
    #[serde(default)]
    vulnerabilities: Vec<CycloneDxVulnerability>,
}

#[derive(Deserialize)]
struct CycloneDxVulnerability {
    id: String,
    #[serde(default)]
    analysis: Option<CycloneDxAnalysis>,
    #[serde(default)]
    affects: Vec<CycloneDxAffects>,
}

#[derive(Deserialize)]
struct CycloneDxAnalysis {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

#[derive(Deserialize)]
struct CycloneDxAffects {
    #[serde(rename = "ref")]
    reference: String,
}

const MAX_VEX_BYTES: u64 = 64 * 1024 * 1024;
const SUPPRESSING: [&str; 4] = ["not_affected", "fixed", "false_positive", "resolved"];

/// Reads the suppressing statements of an `OpenVEX` or `CycloneDX` document.
pub fn load_vex(path: &Path) -> Result<Vec<VexStatement>, DocumentError> {
    let bytes = read_capped(path, MAX_VEX_BYTES)?;
    let document: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| DocumentError::invalid(path, e.to_string()))?;
    parse_vex(document, path)
}

/// The suppressing statements of an `OpenVEX` or `CycloneDX` document already parsed (a policy
/// document carries them inline); `path` names where it came from.
pub(crate) fn parse_vex(
    document: serde_json::Value,
    path: &Path,
) -> Result<Vec<VexStatement>, DocumentError> {
    let invalid = |message: String| DocumentError::invalid(path, message);
    let mut statements = Vec::new();
    if document.get("bomFormat").and_then(|v| v.as_str()) == Some("CycloneDX") {
        let vex: CycloneDxVex =
            serde_json::from_value(document).map_err(|e| invalid(e.to_string()))?;
        for vulnerability in vex.vulnerabilities {
            let Some(analysis) = vulnerability.analysis else {
                continue;
            };
            let Some(state) = analysis.state else {
                continue;
            };
            if !SUPPRESSING.contains(&state.as_str()) {
                continue;
            }
            statements.push(VexStatement {
                vulnerability: vulnerability.id,
                products: vulnerability
                    .affects
                    .into_iter()
                    .map(|a| a.reference)
                    .collect(),
                status: state,
                justification: join(analysis.justification, analysis.detail),
                source: path.to_owned(),
            });
        }
    } else if document.get("statements").is_some() {
        let vex: OpenVex = serde_json::from_value(document).map_err(|e| invalid(e.to_string()))?;
        for statement in vex.statements {
            if !SUPPRESSING.contains(&statement.status.as_str()) {
                continue;
            }
            let vulnerability = match &statement.vulnerability {
                serde_json::Value::String(name) => name.clone(),
                other => other
                    .get("name")
                    .or_else(|| other.get("@id"))
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| invalid("a statement's vulnerability has no name".into()))?
                    .to_owned(),
            };
            let mut products = Vec::new();
            for product in &statement.products {
                match product {
                    serde_json::Value::String(id) => products.push(id.clone()),
                    object => {
                        if let Some(id) = object.get("@id").and_then(|v| v.as_str()) {
                            products.push(id.to_owned());
                        }
                        for sub in object
                            .get("subcomponents")
                            .and_then(|v| v.as_array())
                            .into_iter()
                            .flatten()
                        {
                            if let Some(id) = sub.get("@id").and_then(|v| v.as_str()) {
                                products.push(id.to_owned());
                            }
                        }
                    }
                }
            }
            statements.push(VexStatement {
                vulnerability,
                products,
                status: statement.status,
                justification: join(statement.justification, statement.impact_statement),
                source: path.to_owned(),
            });
        }
    } else {
        return Err(invalid(
            "neither an OpenVEX document (`statements`) nor CycloneDX (`bomFormat`)".into(),
        ));
    }
    Ok(statements)
}

fn join(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}: {b}")),
        (a, b) => a.or(b),
    }
}

/// A purl without version qualifiers and subpath, for comparing products to packages.
fn purl_base(purl: &str) -> &str {
    let end = purl.find(['?', '#']).unwrap_or(purl.len());
    &purl[..end]
}

impl VexStatement {
    pub(crate) fn matches(&self, finding: &Finding) -> bool {
        let FindingDetails::Vulnerability { purl, aliases, .. } = &finding.details else {
            return false;
        };
        if finding.id != self.vulnerability && !aliases.contains(&self.vulnerability) {
            return false;
        }
        if self.products.is_empty() {
            return true;
        }
        let package = purl_base(purl);
        let package_without_version = package.split('@').next().unwrap_or(package);
        // Purls may encode the same character or not (`1:2.3-4` and `1%3A2.3-4` are one
        // Debian version with its epoch): compare what they decode to.
        let (package, package_without_version) = (
            rempart_core::percent_decode(package.as_bytes()),
            rempart_core::percent_decode(package_without_version.as_bytes()),
        );
        self.products.iter().any(|product| {
            let product = purl_base(product);
            // A statement about the image covers every package in it.
            product.starts_with("pkg:oci/") || {
                let product = rempart_core::percent_decode(product.as_bytes());
                product == package || product == package_without_version
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use rempart_core::{FixState, Location, ScannerKind, Severity};

    use super::*;

    fn debian_finding(purl: &str) -> Finding {
        Finding {
            scanner: ScannerKind::Vuln,
            id: "CVE-2023-4641".into(),
            title: String::new(),
            severity: Severity::Medium,
            location: Location::file("var/lib/dpkg/status"),
            details: FindingDetails::Vulnerability {
                package: "login".into(),
                ecosystem: "Debian".into(),
                installed_version: "1:4.13+dfsg1-1+b1".into(),
                purl: purl.into(),
                fix: FixState::NotFixed,
                aliases: vec![],
                cvss: vec![],
                cvss_score: None,
                references: vec![],
                reachable: None,
                severity_source: None,
                kev: None,
                epss: None,
            },
            primary_url: None,
        }
    }

    #[test]
    fn products_match_whether_the_epoch_colon_is_encoded_or_not() {
        let statement = |product: &str| VexStatement {
            vulnerability: "CVE-2023-4641".into(),
            products: vec![product.into()],
            status: "not_affected".into(),
            justification: None,
            source: PathBuf::from("vex.json"),
        };
        let ours = debian_finding(
            "pkg:deb/debian/login@1:4.13%2Bdfsg1-1%2Bb1?arch=amd64&distro=debian-12",
        );
        assert!(statement("pkg:deb/debian/login@1%3A4.13%2Bdfsg1-1%2Bb1").matches(&ours));
        assert!(statement("pkg:deb/debian/login@1:4.13+dfsg1-1+b1").matches(&ours));
        assert!(statement("pkg:deb/debian/login").matches(&ours));
        assert!(!statement("pkg:deb/debian/login@4.13%2Bdfsg1-1%2Bb1").matches(&ours));
        assert!(!statement("pkg:deb/debian/login@1%3A4.13%2Bdfsg1-1%2Bb2").matches(&ours));
    }
}
