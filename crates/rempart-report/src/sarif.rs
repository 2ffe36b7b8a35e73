//! SARIF 2.1.0, shaped for GitHub code scanning: one run, one rule per distinct finding id with a
//! `security-severity` so GitHub ranks alerts, and image paths as relative URIs.
//!
//! Own serde structs rather than `serde-sarif`: the subset used here is small, and the structs
//! keep field order (and so the output bytes) under this crate's control.

use std::collections::BTreeMap;
use std::io::Write;

use rempart_core::{Finding, FindingDetails, FixState, ScanResult, Severity};
use serde::Serialize;

use crate::text::uri_path;
use crate::{ReportOptions, order};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/rempart-sec/rempart";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    invocations: Vec<Invocation<'a>>,
    results: LazyResults<'a>,
    properties: RunProperties<'a>,
}

/// The results, each built as it is written: a run of a hundred thousand findings never holds
/// them all in SARIF's shape at once.
struct LazyResults<'a> {
    findings: &'a [&'a Finding],
    rule_index: &'a BTreeMap<&'a str, usize>,
    target: &'a str,
}

impl Serialize for LazyResults<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let mut sequence = serializer.serialize_seq(Some(self.findings.len()))?;
        for finding in self.findings {
            let index = self.rule_index[finding.id.as_str()];
            sequence.serialize_element(&sarif_result(finding, index, self.target))?;
        }
        sequence.end()
    }
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'a str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    end_time_utc: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties<'a> {
    image_name: &'a str,
    target_kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_digest: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    repo_tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    os: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vulnerability_data: Option<&'a rempart_core::VulnerabilityData>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    default_configuration: Configuration,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    help: Help,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    precision: &'static str,
    /// GitHub reads this CVSS-like number to rank alerts as critical/high/medium/low.
    #[serde(rename = "security-severity")]
    security_severity: String,
    tags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<SarifLocation>,
    /// Tells findings apart that share a rule and a file without a line (two packages of one
    /// dpkg database hit by the same CVE), so code scanning keeps them as separate alerts.
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: BTreeMap<&'static str, serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

pub(crate) fn write(
    result: &ScanResult,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> Result<(), serde_json::Error> {
    let findings = order::findings(result);
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules: Vec<Rule> = Vec::new();
    // Findings come worst first, so a rule takes the title and severity of its worst finding;
    // the score is the highest any finding of the rule has.
    for finding in &findings {
        if let Some(&index) = rule_index.get(finding.id.as_str()) {
            let score = security_severity(finding);
            let rule = &mut rules[index];
            if score > rule.properties.security_severity.parse().unwrap_or(0.0) {
                rule.properties.security_severity = format!("{score:.1}");
            }
        } else {
            rule_index.insert(&finding.id, rules.len());
            rules.push(rule(finding));
        }
    }
    let results = LazyResults {
        findings: &findings,
        rule_index: &rule_index,
        target: order::target_name(result),
    };
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "rempart",
                    version: &options.tool_version,
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            invocations: options
                .timestamp
                .as_deref()
                .map(|time| Invocation {
                    execution_successful: true,
                    end_time_utc: time,
                })
                .into_iter()
                .collect(),
            results,
            properties: RunProperties {
                image_name: order::target_name(result),
                target_kind: &result.target_kind,
                image_digest: order::target_digest(result),
                repo_tags: &result.target.repo_tags,
                os: result
                    .os
                    .as_ref()
                    .map(|os| format!("{} {}", os.id, os.version_id).trim().to_owned()),
                vulnerability_data: result.vulnerability_data.as_ref(),
            },
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}

fn rule(finding: &Finding) -> Rule {
    let level = level(finding.severity);
    let kind = finding.scanner.as_str();
    let mut tags = vec![
        "security".to_owned(),
        kind.to_owned(),
        finding.severity.as_str().to_owned(),
    ];
    if let FindingDetails::Vulnerability { ecosystem, .. } = &finding.details {
        tags.push(ecosystem.clone());
    }
    let mut help_text = format!(
        "{}: {}\nSeverity: {}",
        finding.id, finding.title, finding.severity
    );
    let mut help_markdown = format!(
        "**{}** {}\n\n| Severity | Scanner |\n| --- | --- |\n| {} | {} |",
        finding.id,
        markdown_escape(&finding.title),
        finding.severity,
        kind
    );
    if let FindingDetails::Misconfig {
        resolution: Some(resolution),
        ..
    } = &finding.details
    {
        help_text.push_str("\nResolution: ");
        help_text.push_str(resolution);
        help_markdown.push_str("\n\n**Resolution:** ");
        help_markdown.push_str(&markdown_escape(resolution));
    }
    if let Some(url) = &finding.primary_url {
        help_text.push_str("\nMore: ");
        help_text.push_str(url);
        help_markdown.push_str(&["\n\n[", &finding.id, "](", url, ")"].concat());
    }
    Rule {
        id: finding.id.clone(),
        name: rule_name(finding),
        short_description: Text {
            text: finding.title.clone(),
        },
        full_description: Text {
            text: finding.title.clone(),
        },
        default_configuration: Configuration { level },
        help_uri: finding.primary_url.clone(),
        help: Help {
            text: help_text,
            markdown: help_markdown,
        },
        properties: RuleProperties {
            precision: "very-high",
            security_severity: format!("{:.1}", security_severity(finding)),
            tags,
        },
    }
}

/// A readable rule name in the SARIF style (`OsPackageVulnerability`, `Secret`).
fn rule_name(finding: &Finding) -> String {
    match &finding.details {
        FindingDetails::Vulnerability { ecosystem, .. } => {
            let os = matches!(
                ecosystem.to_ascii_lowercase().as_str(),
                "debian" | "ubuntu" | "alpine" | "rpm"
            );
            if os {
                "OsPackageVulnerability".to_owned()
            } else {
                "LanguagePackageVulnerability".to_owned()
            }
        }
        FindingDetails::Secret { .. } => "Secret".to_owned(),
        FindingDetails::Malware { .. } => "Malware".to_owned(),
        FindingDetails::Misconfig { .. } => "Misconfiguration".to_owned(),
        FindingDetails::Trust { .. } => "SupplyChainTrust".to_owned(),
    }
}

fn sarif_result(finding: &Finding, rule_index: usize, target: &str) -> SarifResult {
    let mut properties: BTreeMap<&'static str, serde_json::Value> = BTreeMap::new();
    properties.insert("severity", finding.severity.as_str().into());
    if let Some(layer) = &finding.location.layer {
        properties.insert("layerIndex", layer.index.into());
        properties.insert("layerDiffId", layer.diff_id.clone().into());
    }
    if finding.location.deleted {
        properties.insert("deleted", true.into());
    }
    match &finding.details {
        FindingDetails::Vulnerability {
            package,
            installed_version,
            purl,
            fix,
            reachable,
            cvss,
            cvss_score,
            severity_source,
            kev,
            epss,
            ..
        } => {
            properties.insert("package", package.clone().into());
            if !cvss.is_empty() {
                properties.insert("cvssVectors", cvss.clone().into());
            }
            if let Some(score) = cvss_score.filter(|s| s.is_finite()) {
                properties.insert("cvssScore", score.into());
            }
            if let Some(source) = severity_source {
                properties.insert(
                    "severitySource",
                    serde_json::to_value(source).unwrap_or_default(),
                );
            }
            if let Some(kev) = kev {
                properties.insert(
                    "knownExploited",
                    serde_json::to_value(kev).unwrap_or_default(),
                );
            }
            if let Some(epss) = epss {
                properties.insert("epss", serde_json::to_value(epss).unwrap_or_default());
            }
            if let Some(reachable) = reachable {
                properties.insert("reachable", (*reachable).into());
            }
            properties.insert("installedVersion", installed_version.clone().into());
            properties.insert("purl", purl.clone().into());
            properties.insert(
                "status",
                order::fix_status(&finding.details)
                    .unwrap_or_default()
                    .into(),
            );
            if let FixState::Fixed { versions } = fix {
                properties.insert("fixedVersions", versions.clone().into());
            }
        }
        FindingDetails::Secret { origin, .. } => {
            if let Some(origin) = origin {
                properties.insert("origin", origin.clone().into());
            }
        }
        FindingDetails::Malware {
            signature,
            engine,
            member,
        } => {
            properties.insert("signature", signature.clone().into());
            properties.insert("engine", engine.clone().into());
            if let Some(member) = member {
                properties.insert("member", member.clone().into());
            }
        }
        FindingDetails::Misconfig { resource, .. } => {
            properties.insert("resource", resource.clone().into());
        }
        FindingDetails::Trust { rule, reason } => {
            if let Some(rule) = rule {
                properties.insert("trustRule", rule.clone().into());
            }
            properties.insert("reason", reason.clone().into());
        }
    }
    // GitHub refuses a whole upload when one result has no location, so findings that are not
    // in a file (image config, environment) point at the image itself.
    let path = match finding.location.path.trim_start_matches('/') {
        "" => target.trim_start_matches('/'),
        path => path,
    };
    let locations = vec![SarifLocation {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: uri_path(if path.is_empty() { "image" } else { path }),
            },
            // A config entry's index is not a line of the image.
            region: finding
                .location
                .line
                .filter(|&line| line > 0 && finding.location.config.is_none())
                .map(|start_line| Region { start_line }),
        },
    }];
    SarifResult {
        rule_id: finding.id.clone(),
        rule_index,
        level: level(finding.severity),
        message: Text {
            text: message(finding),
        },
        locations,
        partial_fingerprints: BTreeMap::from([("rempartFinding/v1", fingerprint(finding))]),
        properties,
    }
}

/// Hash of what identifies a finding across scans: scanner, id, full path, line and, for
/// vulnerabilities, the package and its version. Layer and severity are left out so a rebuild
/// or a rescored advisory keeps the same alert.
fn fingerprint(finding: &Finding) -> String {
    use sha2::{Digest, Sha256};
    let mut identity = format!(
        "{}\0{}\0{}\0{}",
        finding.scanner.as_str(),
        finding.id,
        order::full_path(finding),
        finding.location.line.unwrap_or(0)
    );
    if let FindingDetails::Vulnerability {
        package,
        installed_version,
        ..
    } = &finding.details
    {
        identity.push_str(&["\0", package, "\0", installed_version].concat());
    }
    let digest = Sha256::digest(identity.as_bytes());
    crate::text::hex_lower(&digest[..16])
}

fn message(finding: &Finding) -> String {
    let place = order::display_location(finding);
    let layer = finding
        .location
        .layer
        .as_ref()
        .map(|layer| format!(", layer {}", layer.index))
        .unwrap_or_default();
    let deleted = if finding.location.deleted {
        ", deleted in a later layer"
    } else {
        ""
    };
    match &finding.details {
        FindingDetails::Vulnerability {
            package,
            installed_version,
            fix,
            ..
        } => {
            let fix_line = match fix {
                FixState::Fixed { versions } => format!("Fixed version: {}", versions.join(", ")),
                FixState::NotFixed => "Fixed version: none yet".to_owned(),
                FixState::WillNotFix => {
                    "Fixed version: none, the distribution will not fix it".to_owned()
                }
                FixState::FixDeferred => {
                    "Fixed version: none yet, the distribution deferred the fix".to_owned()
                }
                FixState::EndOfLife => {
                    "Fixed version: none, the package is past its support".to_owned()
                }
                FixState::UnderInvestigation => {
                    "Fixed version: none yet, the distribution is investigating".to_owned()
                }
            };
            format!(
                "Package: {package}\nInstalled version: {installed_version}\nVulnerability: {}\nSeverity: {}\n{fix_line}\nTitle: {}\nFile: {place}",
                finding.id, finding.severity, finding.title
            )
        }
        FindingDetails::Secret { redacted, origin } => {
            let from = match origin {
                Some(origin) if finding.location.config.is_none() => {
                    format!("{origin} {}", finding.location.path)
                }
                _ => place.clone(),
            };
            format!(
                "{} ({}) in {from}{layer}{deleted}: {redacted}",
                finding.title, finding.id
            )
        }
        FindingDetails::Malware {
            signature, engine, ..
        } => format!(
            "{} ({signature}, {engine}) in {place}{layer}{deleted}",
            finding.title
        ),
        // The resource of an image-config finding already names the config entry.
        FindingDetails::Misconfig { resource, .. } if finding.location.config.is_some() => {
            format!("{} ({}) in {resource}", finding.title, finding.id)
        }
        FindingDetails::Misconfig { resource, .. } => {
            format!(
                "{} ({}) in {resource} at {place}",
                finding.title, finding.id
            )
        }
        FindingDetails::Trust { reason, .. } => {
            format!("{} ({}) for {place}: {reason}", finding.title, finding.id)
        }
    }
}

/// SARIF levels: GitHub shows `error` as an error, `warning` as a warning, `note` as a note.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown | Severity::Info => "note",
    }
}

/// The CVSS score when the advisory has one, else a number inside the band GitHub maps back to
/// the same severity (critical >= 9.0, high >= 7.0, medium >= 4.0, low > 0).
fn security_severity(finding: &Finding) -> f64 {
    if let FindingDetails::Vulnerability {
        cvss_score: Some(score),
        ..
    } = &finding.details
        && score.is_finite()
        && (0.0..=10.0).contains(score)
    {
        return *score;
    }
    match finding.severity {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Unknown | Severity::Info => 0.0,
    }
}

fn markdown_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|') {
            escaped.push('\\');
        }
        escaped.push(if c.is_control() { ' ' } else { c });
    }
    escaped
}
