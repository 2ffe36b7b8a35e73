//! SPDX 2.3 JSON: one package for the image, one for the operating system, one per package,
//! with `DESCRIBES` and `CONTAINS` relationships, and `DEPENDS_ON` between packages as their
//! metadata states.

use std::io::Write;

use rempart_core::{Package, ScanResult};
use serde::Serialize;

use crate::licenses::{self, License};
use crate::text::name_uuid;
use crate::{ReportOptions, graph, order};

/// SPDX requires a creation time; without one from the options the epoch keeps output
/// reproducible and visibly unset.
const EPOCH: &str = "1970-01-01T00:00:00Z";
const NAMESPACE_BASE: &str = "https://github.com/rempart-sec/rempart/spdx";
const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(
    clippy::struct_field_names,
    reason = "field names follow the specification"
)]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
struct Checksum {
    algorithm: &'static str,
    #[serde(rename = "checksumValue")]
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(
    clippy::struct_field_names,
    reason = "field names follow the specification"
)]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(
    clippy::struct_field_names,
    reason = "field names follow the specification"
)]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

const IMAGE_ID: &str = "SPDXRef-Image";
const OS_ID: &str = "SPDXRef-OperatingSystem";

pub(crate) fn write(
    result: &ScanResult,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> Result<(), serde_json::Error> {
    let name = order::target_name(result).to_owned();
    let mut extracted = Extracted::default();
    let mut packages = vec![image_package(result)];
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".to_owned(),
        relationship_type: "DESCRIBES",
        related_spdx_element: IMAGE_ID.to_owned(),
    }];
    if let Some(os) = &result.os {
        packages.push(SpdxPackage {
            spdx_id: OS_ID.to_owned(),
            name: os.id.clone(),
            version_info: (!os.version_id.is_empty()).then(|| os.version_id.clone()),
            download_location: NOASSERTION,
            files_analyzed: false,
            checksums: Vec::new(),
            source_info: None,
            license_concluded: NOASSERTION,
            license_declared: NOASSERTION.to_owned(),
            copyright_text: NOASSERTION,
            external_refs: Vec::new(),
            primary_package_purpose: Some("OPERATING_SYSTEM"),
            comment: os.pretty_name.clone(),
        });
        relationships.push(contains(OS_ID));
    }
    let mut used_ids = crate::text::UniqueIds::default();
    for package in &packages {
        used_ids.claim(package.spdx_id.clone(), "-");
    }
    let ordered = order::packages(result);
    let mut ids = Vec::with_capacity(ordered.len());
    for package in &ordered {
        let id = unique_id(package, &mut used_ids);
        relationships.push(contains(&id));
        packages.push(package_entry(package, id.clone(), &mut extracted));
        ids.push(id);
    }
    let graph = graph::build(&ordered);
    for (id, targets) in ids.iter().zip(&graph.depends_on) {
        let mut related: Vec<&String> = targets.iter().map(|target| &ids[*target]).collect();
        related.sort_unstable();
        relationships.extend(related.into_iter().map(|target| Relationship {
            spdx_element_id: id.clone(),
            relationship_type: "DEPENDS_ON",
            related_spdx_element: target.clone(),
        }));
    }
    let document = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: name.clone(),
        document_namespace: namespace(result, options),
        creation_info: CreationInfo {
            created: options
                .timestamp
                .clone()
                .unwrap_or_else(|| EPOCH.to_owned()),
            creators: vec![format!("Tool: rempart-{}", options.tool_version)],
        },
        packages,
        has_extracted_licensing_infos: extracted.into_infos(),
        relationships,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}

fn contains(id: &str) -> Relationship {
    Relationship {
        spdx_element_id: IMAGE_ID.to_owned(),
        relationship_type: "CONTAINS",
        related_spdx_element: id.to_owned(),
    }
}

/// A namespace unique per image and serial, and the same for the same pair: the name is kept
/// readable, the UUID part comes from the digest and the serial.
fn namespace(result: &ScanResult, options: &ReportOptions) -> String {
    let name = order::target_name(result);
    let identity = format!(
        "spdx:{}:{}",
        order::target_digest(result).unwrap_or(name),
        options.serial.as_deref().unwrap_or_default()
    );
    format!(
        "{NAMESPACE_BASE}/{}-{}",
        crate::text::uri_path(&sanitize(name)),
        name_uuid(&identity)
    )
}

fn image_package(result: &ScanResult) -> SpdxPackage {
    let digest = order::target_digest(result);
    let mut checksums = Vec::new();
    if let Some(hex) = digest.and_then(|d| d.strip_prefix("sha256:"))
        && hex.len() == 64
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        checksums.push(Checksum {
            algorithm: "SHA256",
            value: hex.to_ascii_lowercase(),
        });
    }
    SpdxPackage {
        spdx_id: IMAGE_ID.to_owned(),
        name: order::target_name(result).to_owned(),
        version_info: digest.map(str::to_owned),
        download_location: NOASSERTION,
        files_analyzed: false,
        checksums,
        source_info: None,
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.to_owned(),
        copyright_text: NOASSERTION,
        external_refs: Vec::new(),
        primary_package_purpose: Some("CONTAINER"),
        comment: Some(format!("{} scanned by rempart", result.target_kind)),
    }
}

/// `SPDXRef-Package-<ecosystem>-<name>-<version>`, reduced to the allowed characters and made
/// unique with a counter.
fn unique_id(package: &Package, used: &mut crate::text::UniqueIds) -> String {
    let stem = format!(
        "SPDXRef-Package-{}-{}-{}",
        sanitize(package.ecosystem.osv_name()),
        sanitize(&package.name),
        sanitize(&package.version)
    );
    used.claim(stem, "-")
}

/// Letters, digits, `.` and `-` only: what SPDX ids allow.
fn sanitize(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "unnamed".to_owned()
    } else {
        cleaned
    }
}

fn package_entry(package: &Package, spdx_id: String, extracted: &mut Extracted) -> SpdxPackage {
    let mut comment = Vec::new();
    if let Some(location) = package.locations.first()
        && let Some(layer) = &location.layer
    {
        comment.push(format!("layer {} ({})", layer.index, layer.diff_id));
    }
    if let Some(source) = &package.source {
        comment.push(format!("source package {} {}", source.name, source.version));
    }
    SpdxPackage {
        spdx_id,
        name: package.name.clone(),
        version_info: Some(package.version.clone()),
        download_location: NOASSERTION,
        files_analyzed: false,
        checksums: Vec::new(),
        source_info: package.locations.first().map(|location| {
            format!(
                "acquired package info from {}",
                order::image_path(&location.path)
            )
        }),
        license_concluded: NOASSERTION,
        license_declared: declared_license(&package.licenses, extracted),
        copyright_text: NOASSERTION,
        external_refs: if package.purl.is_empty() {
            Vec::new()
        } else {
            vec![ExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: package.purl.clone(),
            }]
        },
        primary_package_purpose: Some("LIBRARY"),
        comment: (!comment.is_empty()).then(|| comment.join("; ")),
    }
}

/// All licenses a package states, joined with `AND`: metadata listing several licenses means
/// the package is under all of them. Texts that are not SPDX become `LicenseRef-` ids declared
/// in the document.
fn declared_license(texts: &[String], extracted: &mut Extracted) -> String {
    let mut parts: Vec<String> = Vec::new();
    for text in texts {
        if licenses::is_no_assertion(text) {
            continue;
        }
        let part = match licenses::classify(text) {
            License::Expression(expression) => {
                // A `LicenseRef-` from the metadata must be declared in the document too.
                for token in expression.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
                    if token.starts_with("LicenseRef-") {
                        extracted.declare(token);
                    }
                }
                if texts.len() > 1 && expression.contains(' ') {
                    format!("({expression})")
                } else {
                    expression
                }
            }
            License::Other(other) => extracted.id_for(&other),
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    if parts.is_empty() {
        NOASSERTION.to_owned()
    } else {
        parts.join(" AND ")
    }
}

/// The non-SPDX license texts of the document, each with one `LicenseRef-` id.
#[derive(Default)]
struct Extracted {
    by_text: std::collections::BTreeMap<String, String>,
    ids: crate::text::UniqueIds,
}

impl Extracted {
    fn id_for(&mut self, text: &str) -> String {
        if let Some(id) = self.by_text.get(text) {
            return id.clone();
        }
        let id = self.ids.claim(licenses::license_ref(text), "-");
        self.by_text.insert(text.to_owned(), id.clone());
        id
    }

    /// A `LicenseRef-` the metadata already uses: declared under its own id, with the id as text.
    fn declare(&mut self, id: &str) {
        // Already declared, either by an earlier reference or as a generated id: either way
        // the reference resolves.
        if !self.ids.is_used(id) {
            let claimed = self.ids.claim(id.to_owned(), "-");
            self.by_text.insert(id.to_owned(), claimed);
        }
    }

    fn into_infos(self) -> Vec<ExtractedLicense> {
        let mut infos: Vec<ExtractedLicense> = self
            .by_text
            .into_iter()
            .map(|(text, id)| ExtractedLicense {
                license_id: id,
                extracted_text: text.clone(),
                name: text,
            })
            .collect();
        infos.sort_by(|a, b| a.license_id.cmp(&b.license_id));
        infos
    }
}
