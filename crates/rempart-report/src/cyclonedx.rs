//! `CycloneDX` 1.6 JSON: the image as the described component, its packages as components, and
//! vulnerability findings with ratings, affected components and fix information.
//!
//! Own serde structs: `cyclonedx-bom` stops at spec 1.5.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use rempart_core::{
    Ecosystem, Finding, FindingDetails, FixState, Package, ScanResult, Severity, SeveritySource,
};
use serde::Serialize;

use crate::licenses::{self, License};
use crate::text::{is_uuid, name_uuid};
use crate::{ReportOptions, graph, order};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(
    clippy::struct_field_names,
    reason = "field names follow the specification"
)]
struct Bom {
    #[serde(rename = "$schema")]
    schema: &'static str,
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<DependencyEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vulnerabilities: Vec<Vulnerability>,
}

/// One node of the dependency graph. Every component gets one, those without dependencies too,
/// so that a reader can tell "depends on nothing" from "not described".
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DependencyEntry {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

#[derive(Serialize)]
struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

/// `CycloneDX` allows either a list of single licenses or exactly one expression.
#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: LicenseEntry },
    Expression { expression: String },
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseEntry {
    Id { id: String },
    Name { name: String },
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

impl Property {
    fn new(name: &str, value: impl Into<String>) -> Property {
        Property {
            name: name.to_owned(),
            value: value.into(),
        }
    }
}

#[derive(Serialize)]
struct Vulnerability {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    id: String,
    source: Source,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<Reference>,
    ratings: Vec<Rating>,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommendation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    advisories: Vec<Advisory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<Analysis>,
    affects: Vec<Affect>,
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Source {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct Reference {
    id: String,
    source: Source,
}

#[derive(Serialize)]
struct Rating {
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vector: Option<String>,
}

#[derive(Serialize)]
struct Advisory {
    url: String,
}

#[derive(Serialize)]
struct Analysis {
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    response: Vec<&'static str>,
    detail: &'static str,
}

#[derive(Serialize)]
struct Affect {
    #[serde(rename = "ref")]
    reference: String,
    versions: Vec<AffectedVersion>,
}

#[derive(Serialize)]
struct AffectedVersion {
    version: String,
    status: &'static str,
}

pub(crate) fn write(
    result: &ScanResult,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> Result<(), serde_json::Error> {
    let packages = order::packages(result);
    let refs = bom_refs(&packages);
    let mut components = Vec::with_capacity(packages.len() + 1);
    if let Some(os) = &result.os {
        components.push(Component {
            kind: "operating-system",
            bom_ref: Some(os_ref(os)),
            name: os.id.clone(),
            version: (!os.version_id.is_empty()).then(|| os.version_id.clone()),
            properties: os
                .pretty_name
                .iter()
                .map(|pretty| Property::new("rempart:os:pretty_name", pretty.clone()))
                .collect(),
            ..Component::default()
        });
    }
    components.extend(
        packages
            .iter()
            .zip(&refs)
            .map(|(package, bom_ref)| package_component(package, bom_ref)),
    );
    let vulnerabilities = vulnerabilities(result, &packages, &refs);
    let metadata_component = image_component(result);
    let dependencies = dependencies(result, &metadata_component, &packages, &refs);
    let bom = Bom {
        schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: serial_number(result, options),
        version: 1,
        metadata: Metadata {
            timestamp: options.timestamp.clone(),
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    name: "rempart".to_owned(),
                    version: Some(options.tool_version.clone()),
                    ..Component::default()
                }],
            },
            component: metadata_component,
        },
        components,
        dependencies,
        vulnerabilities,
    };
    serde_json::to_writer_pretty(&mut *out, &bom)?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}

/// The image depends on its operating system (which holds the OS packages) and on the language
/// packages nothing else in it depends on; each package on what its metadata names.
fn dependencies(
    result: &ScanResult,
    image: &Component,
    packages: &[&Package],
    refs: &[String],
) -> Vec<DependencyEntry> {
    let graph = graph::build(packages);
    let refs_of = |indices: &[usize]| -> Vec<String> {
        let mut named: Vec<String> = indices.iter().map(|index| refs[*index].clone()).collect();
        named.sort_unstable();
        named
    };
    let mut image_depends_on = refs_of(&graph.top_level);
    let mut entries = Vec::with_capacity(packages.len() + 2);
    match &result.os {
        Some(os) => {
            image_depends_on.push(os_ref(os));
            entries.push(DependencyEntry {
                reference: os_ref(os),
                depends_on: refs_of(&graph.os_packages),
            });
        }
        None => image_depends_on.extend(refs_of(&graph.os_packages)),
    }
    image_depends_on.sort_unstable();
    if let Some(image_ref) = &image.bom_ref {
        entries.push(DependencyEntry {
            reference: image_ref.clone(),
            depends_on: image_depends_on,
        });
    }
    entries.extend(
        refs.iter()
            .zip(&graph.depends_on)
            .map(|(reference, targets)| DependencyEntry {
                reference: reference.clone(),
                depends_on: refs_of(targets),
            }),
    );
    entries.sort_unstable_by(|a, b| a.reference.cmp(&b.reference));
    entries
}

/// `urn:uuid:…` from the options when given, else derived from the image digest (or name), so
/// the same image always gets the same serial number.
fn serial_number(result: &ScanResult, options: &ReportOptions) -> String {
    let uuid = match options.serial.as_deref() {
        Some(serial) => {
            let bare = serial.strip_prefix("urn:uuid:").unwrap_or(serial);
            if is_uuid(bare) {
                bare.to_owned()
            } else {
                name_uuid(serial)
            }
        }
        None => name_uuid(&format!(
            "cyclonedx:{}",
            order::target_digest(result).unwrap_or(order::target_name(result))
        )),
    };
    format!("urn:uuid:{uuid}")
}

fn image_component(result: &ScanResult) -> Component {
    let name = order::target_name(result).to_owned();
    let digest = order::target_digest(result);
    let mut properties = Vec::new();
    properties.push(Property::new(
        "rempart:target:kind",
        result.target_kind.clone(),
    ));
    if let Some(config) = &result.target.config_digest {
        properties.push(Property::new("rempart:image:config_digest", config.clone()));
    }
    if let Some(manifest) = &result.target.manifest_digest {
        properties.push(Property::new(
            "rempart:image:manifest_digest",
            manifest.clone(),
        ));
    }
    for tag in &result.target.repo_tags {
        properties.push(Property::new("rempart:image:repo_tag", tag.clone()));
    }
    if let Some(data) = &result.vulnerability_data {
        properties.push(Property::new("rempart:vulndb:path", data.path.clone()));
        properties.push(Property::new("rempart:vulndb:built", data.built_at.clone()));
        if let Some(up_to) = &data.data_up_to {
            properties.push(Property::new("rempart:vulndb:data_up_to", up_to.clone()));
        }
        properties.push(Property::new(
            "rempart:vulndb:advisories",
            data.advisories.to_string(),
        ));
        if data.sample {
            properties.push(Property::new("rempart:vulndb:sample", "true".to_owned()));
        }
    }
    for layer in order::layers(result) {
        properties.push(Property::new(
            "rempart:image:layer_diff_id",
            layer.diff_id.clone(),
        ));
    }
    if let (Some(os), Some(arch)) = (&result.target.os, &result.target.architecture) {
        properties.push(Property::new(
            "rempart:image:platform",
            format!("{os}/{arch}"),
        ));
    }
    Component {
        kind: "container",
        bom_ref: Some(format!("image:{name}")),
        name: name.clone(),
        version: digest.map(str::to_owned),
        hashes: digest.and_then(sha256_hash).into_iter().collect(),
        purl: digest.map(|digest| oci_purl(&name, digest, result)),
        properties,
        ..Component::default()
    }
}

fn sha256_hash(digest: &str) -> Option<Hash> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Hash {
        alg: "SHA-256",
        content: hex.to_ascii_lowercase(),
    })
}

/// `pkg:oci/debian@sha256%3A…?arch=amd64&repository_url=docker.io%2Flibrary%2Fdebian`-style
/// purl: the purl name is the last path segment of the repository, lowercased.
fn oci_purl(reference: &str, digest: &str, result: &ScanResult) -> String {
    let repository = strip_tag_and_digest(reference);
    let last = repository.rsplit('/').next().unwrap_or(repository);
    let mut purl = format!(
        "pkg:oci/{}@{}",
        purl_encode(&last.to_ascii_lowercase()),
        purl_encode(digest)
    );
    let mut qualifiers = Vec::new();
    if let Some(arch) = &result.target.architecture {
        qualifiers.push(format!("arch={}", purl_encode(arch)));
    }
    if repository.contains('/') {
        qualifiers.push(format!("repository_url={}", purl_encode(repository)));
    }
    if !qualifiers.is_empty() {
        purl.push('?');
        purl.push_str(&qualifiers.join("&"));
    }
    purl
}

fn strip_tag_and_digest(reference: &str) -> &str {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    // A colon after the last slash is a tag; one before it is a registry port.
    match without_digest.rfind(':') {
        Some(colon) if !without_digest[colon..].contains('/') => &without_digest[..colon],
        _ => without_digest,
    }
}

fn purl_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            crate::text::push_percent(&mut encoded, byte);
        }
    }
    encoded
}

fn os_ref(os: &rempart_core::OsInfo) -> String {
    format!("os:{}@{}", os.id, os.version_id)
}

/// One bom-ref per package: the purl, or the purl plus the package's path when several packages
/// share a purl (the same library vendored twice), plus a counter if even that collides.
fn bom_refs(packages: &[&Package]) -> Vec<String> {
    let mut purl_count: BTreeMap<&str, usize> = BTreeMap::new();
    for package in packages {
        *purl_count.entry(package.purl.as_str()).or_default() += 1;
    }
    let mut ids = crate::text::UniqueIds::default();
    packages
        .iter()
        .map(|package| {
            let base = if package.purl.is_empty() {
                format!("{}:{}@{}", package.ecosystem, package.name, package.version)
            } else {
                package.purl.clone()
            };
            let stem = if purl_count[package.purl.as_str()] > 1 || package.purl.is_empty() {
                format!("{base}|{}", order::primary_path(package))
            } else {
                base
            };
            ids.claim(stem, "|")
        })
        .collect()
}

fn package_component(package: &Package, bom_ref: &str) -> Component {
    let (group, name) = match package.ecosystem {
        Ecosystem::Maven => match package.name.split_once(':') {
            Some((group, artifact)) => (Some(group.to_owned()), artifact.to_owned()),
            None => (None, package.name.clone()),
        },
        _ => (None, package.name.clone()),
    };
    let mut properties = vec![Property::new(
        "rempart:package:ecosystem",
        package.ecosystem.osv_name(),
    )];
    if let Some(location) = package.locations.first() {
        properties.push(Property::new(
            "rempart:package:file_path",
            location.path.clone(),
        ));
        if let Some(layer) = &location.layer {
            properties.push(Property::new(
                "rempart:package:layer_index",
                layer.index.to_string(),
            ));
            properties.push(Property::new(
                "rempart:package:layer_diff_id",
                layer.diff_id.clone(),
            ));
        }
    }
    if let Some(source) = &package.source {
        properties.push(Property::new(
            "rempart:package:source_name",
            source.name.clone(),
        ));
        properties.push(Property::new(
            "rempart:package:source_version",
            source.version.clone(),
        ));
    }
    if let Some(arch) = &package.arch {
        properties.push(Property::new("rempart:package:arch", arch.clone()));
    }
    if let Some(owner) = &package.owned_by {
        properties.push(Property::new("rempart:package:owned_by", owner.clone()));
    }
    Component {
        kind: "library",
        bom_ref: Some(bom_ref.to_owned()),
        group,
        name,
        version: Some(capped(&package.version, VERSION_MAX)),
        licenses: license_choices(&package.licenses),
        purl: (!package.purl.is_empty()).then(|| package.purl.clone()),
        properties,
        ..Component::default()
    }
}

/// License ids the `CycloneDX` 1.6 schema accepts in `license.id`: the SPDX list as of that
/// schema, which is older than the `spdx` crate's. Newer ids go out as `license.name`, so the
/// document stays valid. A test keeps this file equal to the vendored schema's list.
const LICENSE_IDS: &str = include_str!("cyclonedx_license_ids.txt");

fn is_cyclonedx_license_id(id: &str) -> bool {
    static SORTED: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    SORTED
        .get_or_init(|| {
            let mut ids: Vec<&str> = LICENSE_IDS.lines().filter(|l| !l.is_empty()).collect();
            ids.sort_unstable();
            ids
        })
        .binary_search(&id)
        .is_ok()
}

/// The schema caps component versions at 1024 characters; package metadata does not.
const VERSION_MAX: usize = 1024;

fn capped(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        crate::text::truncate(text, max)
    }
}

fn license_choices(texts: &[String]) -> Vec<LicenseChoice> {
    let classified: Vec<License> = texts
        .iter()
        .filter(|text| !licenses::is_no_assertion(text))
        .map(|text| licenses::classify(text))
        .collect();
    // A lone compound expression is the one case CycloneDX wants as `expression`; it forbids
    // mixing an expression with other entries.
    if let [License::Expression(expression)] = classified.as_slice()
        && !licenses::is_single_id(expression)
    {
        return vec![LicenseChoice::Expression {
            expression: expression.clone(),
        }];
    }
    let mut seen = BTreeSet::new();
    classified
        .into_iter()
        .filter_map(|license| {
            let entry = match license {
                License::Expression(expression)
                    if licenses::is_single_id(&expression)
                        && is_cyclonedx_license_id(&expression) =>
                {
                    LicenseEntry::Id { id: expression }
                }
                License::Expression(text) | License::Other(text) => {
                    LicenseEntry::Name { name: text }
                }
            };
            let key = match &entry {
                LicenseEntry::Id { id } => id.clone(),
                LicenseEntry::Name { name } => name.clone(),
            };
            seen.insert(key)
                .then_some(LicenseChoice::License { license: entry })
        })
        .collect()
}

fn vulnerabilities(
    result: &ScanResult,
    packages: &[&Package],
    refs: &[String],
) -> Vec<Vulnerability> {
    // A finding sits at its package's primary path, which tells apart two copies of one purl.
    let mut by_purl: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    for (package, bom_ref) in packages.iter().zip(refs) {
        by_purl
            .entry((package.purl.as_str(), order::primary_path(package)))
            .or_insert(bom_ref.as_str());
        by_purl
            .entry((package.purl.as_str(), ""))
            .or_insert(bom_ref.as_str());
    }
    let mut ids = crate::text::UniqueIds::default();
    order::findings(result)
        .into_iter()
        .filter_map(|finding| {
            let vulnerability = vulnerability(finding, &by_purl)?;
            // The same advisory can match the same package twice (two locations); keep refs unique.
            let bom_ref = ids.claim(vulnerability.bom_ref.clone(), "|");
            Some(Vulnerability {
                bom_ref,
                ..vulnerability
            })
        })
        .collect()
}

fn vulnerability(
    finding: &Finding,
    by_purl: &BTreeMap<(&str, &str), &str>,
) -> Option<Vulnerability> {
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
    let affected_ref = by_purl
        .get(&(purl.as_str(), finding.location.path.as_str()))
        .or_else(|| by_purl.get(&(purl.as_str(), "")))
        .map_or_else(|| purl.clone(), |&bom_ref| bom_ref.to_owned());
    let (recommendation, analysis) = match fix {
        FixState::Fixed { versions } => (
            Some(format!("Upgrade {package} to {}.", versions.join(" or "))),
            Some(Analysis {
                state: None,
                justification: None,
                response: vec!["update"],
                detail: "A fixed version is available.",
            }),
        ),
        // CycloneDX has no response for "fixed later": the status property says it.
        FixState::NotFixed | FixState::UnderInvestigation | FixState::FixDeferred => (None, None),
        FixState::EndOfLife => (
            None,
            Some(Analysis {
                state: None,
                justification: None,
                response: vec!["will_not_fix"],
                detail: "The package is past its publisher's support: no fix will come.",
            }),
        ),
        FixState::WillNotFix => (
            None,
            Some(Analysis {
                state: None,
                justification: None,
                response: vec!["will_not_fix"],
                detail: "The distribution decided not to fix this vulnerability in this release.",
            }),
        ),
    };
    // The binary does not hold the vulnerable functions: CycloneDX's own analysis says so, as a
    // VEX statement would.
    let analysis = if *reachable == Some(false) {
        Some(Analysis {
            state: Some("not_affected"),
            justification: Some("code_not_reachable"),
            response: analysis.map(|a| a.response).unwrap_or_default(),
            detail: "The binary does not contain the vulnerable functions the advisory names.",
        })
    } else {
        analysis
    };
    let mut properties = vec![
        Property::new(
            "rempart:vulnerability:status",
            order::fix_status(&finding.details).unwrap_or_default(),
        ),
        Property::new("rempart:vulnerability:ecosystem", ecosystem.clone()),
    ];
    if let Some(reachable) = reachable {
        properties.push(Property::new(
            "rempart:vulnerability:reachable",
            reachable.to_string(),
        ));
    }
    if let Some(kev) = kev {
        properties.push(Property::new(
            "rempart:vulnerability:kev_date_added",
            kev.date_added.clone(),
        ));
        if kev.ransomware {
            properties.push(Property::new(
                "rempart:vulnerability:kev_ransomware",
                "true".to_owned(),
            ));
        }
    }
    if let Some(epss) = epss {
        properties.push(Property::new(
            "rempart:vulnerability:epss",
            format!("{:.5}", epss.score),
        ));
        properties.push(Property::new(
            "rempart:vulnerability:epss_percentile",
            format!("{:.5}", epss.percentile),
        ));
    }
    if let FixState::Fixed { versions } = fix {
        for version in versions {
            properties.push(Property::new(
                "rempart:vulnerability:fixed_version",
                version.clone(),
            ));
        }
    }
    Some(Vulnerability {
        bom_ref: format!("{}|{affected_ref}", finding.id),
        id: finding.id.clone(),
        source: source(&finding.id),
        references: aliases
            .iter()
            .filter(|alias| **alias != finding.id)
            .map(|alias| Reference {
                id: alias.clone(),
                source: source(alias),
            })
            .collect(),
        ratings: ratings(
            finding.severity,
            cvss,
            *cvss_score,
            severity_source.as_ref(),
        ),
        description: finding.title.clone(),
        recommendation,
        advisories: advisories(finding.primary_url.as_ref(), references),
        analysis,
        affects: vec![Affect {
            reference: affected_ref,
            versions: vec![AffectedVersion {
                version: capped(installed_version, VERSION_MAX),
                status: "affected",
            }],
        }],
        properties,
    })
}

/// The primary link first, then the other references, each once.
fn advisories(primary: Option<&String>, references: &[String]) -> Vec<Advisory> {
    let mut seen = BTreeSet::new();
    primary
        .into_iter()
        .chain(references)
        .filter(|url| seen.insert(url.as_str()))
        .map(|url| Advisory { url: url.clone() })
        .collect()
}

/// Where an advisory id is published, by its prefix.
fn source(id: &str) -> Source {
    let name = if id.starts_with("CVE-") {
        "NVD"
    } else if id.starts_with("GHSA-") {
        "GitHub"
    } else if id.starts_with("DSA-") || id.starts_with("DLA-") || id.starts_with("TEMP-") {
        "Debian"
    } else {
        "OSV"
    };
    let url = match name {
        "NVD" => Some(format!("https://nvd.nist.gov/vuln/detail/{id}")),
        "GitHub" => Some(format!("https://github.com/advisories/{id}")),
        _ => None,
    };
    Source { name, url }
}

/// One rating per CVSS vector. The vector the severity was taken from carries the score, the
/// severity and the record it came from; the others are listed as published. A severity taken
/// from a distribution's or a database's own word is a rating of its own, without a vector.
fn ratings(
    severity: Severity,
    vectors: &[String],
    score: Option<f64>,
    rated_by: Option<&SeveritySource>,
) -> Vec<Rating> {
    let severity_name = cdx_severity(severity);
    let score = score.filter(|s| s.is_finite() && (0.0..=10.0).contains(s));
    let scored_vector = rated_by.and_then(|source| source.vector.as_deref());
    let mut ratings: Vec<Rating> = vectors
        .iter()
        .map(|vector| {
            let scored = scored_vector == Some(vector.as_str())
                || (scored_vector.is_none() && rated_by.is_none() && vectors.len() == 1);
            Rating {
                source: scored
                    .then(|| rated_by.map(|r| source(&r.record)))
                    .flatten(),
                score: if scored { score } else { None },
                severity: if scored { Some(severity_name) } else { None },
                method: Some(cvss_method(vector)),
                vector: Some(vector.clone()),
            }
        })
        .collect();
    let vector_rated = ratings.iter().any(|rating| rating.severity.is_some());
    if !vector_rated {
        ratings.push(Rating {
            source: rated_by.map(|r| source(&r.record)),
            score: if rated_by.is_some() { None } else { score },
            severity: Some(severity_name),
            method: Some("other"),
            vector: None,
        });
    }
    ratings
}

fn cvss_method(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:4.") {
        "CVSSv4"
    } else if vector.starts_with("CVSS:3.1") {
        "CVSSv31"
    } else if vector.starts_with("CVSS:3.") {
        "CVSSv3"
    } else if vector.starts_with("AV:") || vector.starts_with("(AV:") {
        "CVSSv2"
    } else {
        "other"
    }
}

fn cdx_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Info => "info",
        Severity::Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_digests_are_stripped_from_references() {
        assert_eq!(strip_tag_and_digest("debian:12"), "debian");
        assert_eq!(
            strip_tag_and_digest("localhost:5000/app"),
            "localhost:5000/app"
        );
        assert_eq!(
            strip_tag_and_digest("localhost:5000/app:1.2@sha256:ab"),
            "localhost:5000/app"
        );
    }

    #[test]
    fn license_ids_match_the_vendored_schema() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/schemas/spdx.schema.json"
        );
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut from_schema: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap())
            .collect();
        from_schema.sort_unstable();
        let listed: Vec<&str> = LICENSE_IDS.lines().collect();
        assert_eq!(listed, from_schema);
        assert!(is_cyclonedx_license_id("MIT"));
        assert!(!is_cyclonedx_license_id("HDF5"), "newer than CycloneDX 1.6");
    }

    #[test]
    fn newer_spdx_ids_become_names() {
        let choices = serde_json::to_value(license_choices(&[
            "HDF5".to_owned(),
            "MIT".to_owned(),
            "NOASSERTION".to_owned(),
        ]))
        .unwrap();
        assert_eq!(
            choices,
            serde_json::json!([{"license": {"name": "HDF5"}}, {"license": {"id": "MIT"}}])
        );
    }

    #[test]
    fn cvss_methods_follow_the_vector_prefix() {
        assert_eq!(cvss_method("CVSS:3.1/AV:N/AC:L"), "CVSSv31");
        assert_eq!(cvss_method("CVSS:3.0/AV:N/AC:L"), "CVSSv3");
        assert_eq!(cvss_method("CVSS:4.0/AV:N"), "CVSSv4");
        assert_eq!(cvss_method("AV:N/AC:L/Au:N"), "CVSSv2");
    }
}
