//! Every report format over the same realistic scan result: snapshots of the exact bytes,
//! validation against the official schemas, and determinism.

mod common;

use std::path::Path;

use rempart_core::ScanResult;
use rempart_report::{Format, ReportOptions, write_report};
use serde_json::Value;

fn options() -> ReportOptions {
    ReportOptions {
        timestamp: Some("2024-06-12T08:30:00Z".to_owned()),
        serial: Some("3e671687-395b-41f5-a30f-a58921a69b79".to_owned()),
        color: false,
        width: None,
        tool_version: "0.1.0".to_owned(),
    }
}

fn render_with(result: &ScanResult, format: Format, options: &ReportOptions) -> String {
    let mut out = Vec::new();
    write_report(result, format, options, &mut out).expect("report is written");
    String::from_utf8(out).expect("reports are UTF-8")
}

fn render(format: Format) -> String {
    render_with(&common::scan_result(), format, &options())
}

fn json(format: Format) -> Value {
    serde_json::from_str(&render(format)).expect("report is JSON")
}

// ---------------------------------------------------------------------------------------------
// Snapshots: the reviewed output of each format.

#[test]
fn table_snapshot() {
    insta::assert_snapshot!("table", render(Format::Table));
}

#[test]
fn table_with_colour_snapshot() {
    let options = ReportOptions {
        color: true,
        ..options()
    };
    insta::assert_snapshot!(
        "table_color",
        render_with(&common::scan_result(), Format::Table, &options)
    );
}

#[test]
fn table_of_a_clean_scan_snapshot() {
    insta::assert_snapshot!(
        "table_clean",
        render_with(&common::clean_result(), Format::Table, &options())
    );
}

/// The JSON report is the scan result itself in report order: read back as a `ScanResult`, it
/// writes the very same bytes (no field dropped, renamed, reordered or added on the way).
#[test]
fn the_json_report_is_the_scan_result() {
    for result in [
        common::scan_result(),
        common::clean_result(),
        common::scan_result_reversed(),
    ] {
        let written = render_with(&result, Format::Json, &options());
        let read: ScanResult = serde_json::from_str(&written).unwrap();
        assert_eq!(
            format!("{}\n", serde_json::to_string_pretty(&read).unwrap()),
            written
        );
        assert_eq!(read.findings.len(), result.findings.len());
    }
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!("json", render(Format::Json));
}

#[test]
fn sarif_snapshot() {
    insta::assert_snapshot!("sarif", render(Format::Sarif));
}

#[test]
fn cyclonedx_snapshot() {
    insta::assert_snapshot!("cyclonedx", render(Format::CycloneDx));
}

#[test]
fn spdx_snapshot() {
    insta::assert_snapshot!("spdx", render(Format::Spdx));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!("junit", render(Format::Junit));
}

#[test]
fn junit_of_a_clean_scan_snapshot() {
    insta::assert_snapshot!(
        "junit_clean",
        render_with(&common::clean_result(), Format::Junit, &options())
    );
}

#[test]
fn html_snapshot() {
    insta::assert_snapshot!("html", render(Format::Html));
}

#[test]
fn html_of_a_clean_scan_snapshot() {
    insta::assert_snapshot!(
        "html_clean",
        render_with(&common::clean_result(), Format::Html, &options())
    );
}

// ---------------------------------------------------------------------------------------------
// Determinism.

#[test]
fn every_format_ignores_input_order() {
    let forward = common::scan_result();
    let reversed = common::scan_result_reversed();
    assert_ne!(
        forward, reversed,
        "the reversed fixture must differ in order"
    );
    for format in Format::ALL {
        assert_eq!(
            render_with(&forward, format, &options()),
            render_with(&reversed, format, &options()),
            "{format} depends on input order"
        );
    }
}

#[test]
fn findings_are_ordered_worst_first_then_by_id() {
    let report = json(Format::Json);
    let findings = report["findings"].as_array().unwrap();
    let rank = |severity: &str| {
        ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN", "INFO"]
            .iter()
            .position(|s| *s == severity)
            .unwrap()
    };
    // Known exploited vulnerabilities (CISA KEV) come first, whatever their severity.
    let keys: Vec<(bool, usize, String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["details"]["kev"].is_null(),
                rank(f["severity"].as_str().unwrap()),
                f["id"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn sboms_without_pinned_values_are_still_reproducible_and_differ_per_image() {
    let unpinned = ReportOptions::new("0.1.0");
    let result = common::scan_result();
    for format in [Format::CycloneDx, Format::Spdx, Format::Sarif] {
        assert_eq!(
            render_with(&result, format, &unpinned),
            render_with(&result, format, &unpinned)
        );
    }
    let mut other = common::scan_result();
    other.target.manifest_digest =
        Some("sha256:0000000000000000000000000000000000000000000000000000000000000001".into());
    let serial = |result: &ScanResult| {
        let bom: Value =
            serde_json::from_str(&render_with(result, Format::CycloneDx, &unpinned)).unwrap();
        bom["serialNumber"].as_str().unwrap().to_owned()
    };
    assert_ne!(serial(&result), serial(&other));
    let spdx: Value = serde_json::from_str(&render_with(&result, Format::Spdx, &unpinned)).unwrap();
    assert_eq!(spdx["creationInfo"]["created"], "1970-01-01T00:00:00Z");
}

// ---------------------------------------------------------------------------------------------
// Official schemas.

fn schema(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn assert_valid(validator: &jsonschema::Validator, document: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| {
            let message: String = error.to_string().chars().take(300).collect();
            format!("{message} at {}", error.instance_path())
        })
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is invalid:\n{}",
        errors.join("\n")
    );
}

fn sarif_validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema("sarif-schema-2.1.0.json"))
        .expect("SARIF schema compiles")
}

/// Serves the schemas the `CycloneDX` schema references from `tests/schemas`, by file name; the
/// tests never reach the network.
struct VendoredSchemas;

impl jsonschema::Retrieve for VendoredSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let wanted = uri.as_str();
        for (known, file) in [
            (
                "http://cyclonedx.org/schema/spdx.schema.json",
                "spdx.schema.json",
            ),
            (
                "http://cyclonedx.org/schema/jsf-0.82.schema.json",
                "jsf-0.82.schema.json",
            ),
        ] {
            if wanted == known {
                return Ok(schema(file));
            }
        }
        Err(format!("schema {wanted} is not vendored").into())
    }
}

fn cyclonedx_validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .with_retriever(VendoredSchemas)
        .build(&schema("bom-1.6.schema.json"))
        .expect("CycloneDX schema compiles")
}

fn spdx_validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema("spdx-schema-2.3.json"))
        .expect("SPDX schema compiles")
}

#[test]
fn sarif_is_valid_sarif_2_1_0() {
    assert_valid(&sarif_validator(), &json(Format::Sarif), "SARIF report");
}

#[test]
fn cyclonedx_is_valid_cyclonedx_1_6() {
    assert_valid(
        &cyclonedx_validator(),
        &json(Format::CycloneDx),
        "CycloneDX report",
    );
}

#[test]
fn spdx_is_valid_spdx_2_3() {
    assert_valid(&spdx_validator(), &json(Format::Spdx), "SPDX report");
}

#[test]
fn the_schemas_reject_broken_documents() {
    // A validator that accepts everything would make the tests above meaningless.
    let mut sarif = json(Format::Sarif);
    sarif["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!sarif_validator().is_valid(&sarif));

    let mut bom = json(Format::CycloneDx);
    bom["vulnerabilities"][0]["ratings"][0]["severity"] = "catastrophic".into();
    assert!(!cyclonedx_validator().is_valid(&bom));

    let mut spdx = json(Format::Spdx);
    spdx["packages"][0]
        .as_object_mut()
        .unwrap()
        .remove("downloadLocation");
    assert!(!spdx_validator().is_valid(&spdx));
}

#[test]
fn empty_results_are_valid_too() {
    let empty = ScanResult {
        schema_version: rempart_core::REPORT_SCHEMA_VERSION,
        target_kind: "rootfs".to_owned(),
        target: rempart_core::ImageMetadata {
            name: "/srv/rootfs".to_owned(),
            ..Default::default()
        },
        os: None,
        scanners: Vec::new(),
        layers: Vec::new(),
        packages: Vec::new(),
        findings: Vec::new(),
        skipped: Vec::new(),
        vulnerability_data: None,
    };
    let unpinned = ReportOptions::new("0.1.0");
    let parse = |format| -> Value {
        serde_json::from_str(&render_with(&empty, format, &unpinned)).unwrap()
    };
    assert_valid(&sarif_validator(), &parse(Format::Sarif), "empty SARIF");
    assert_valid(
        &cyclonedx_validator(),
        &parse(Format::CycloneDx),
        "empty CycloneDX",
    );
    assert_valid(&spdx_validator(), &parse(Format::Spdx), "empty SPDX");
    for format in [Format::Table, Format::Junit, Format::Json] {
        assert!(!render_with(&empty, format, &unpinned).is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Format-specific facts the snapshots could hide in their size.

#[test]
fn sarif_has_one_rule_per_distinct_id_and_github_fields() {
    let sarif = json(Format::Sarif);
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let fixture = common::scan_result();
    let mut ids: Vec<&str> = fixture.findings.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(rules.len(), ids.len());
    assert_eq!(results.len(), fixture.findings.len());
    for result in results {
        let index = usize::try_from(result["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[index]["id"], result["ruleId"]);
        // GitHub rejects the whole upload when a result has no location.
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("every result has a location");
        assert!(
            !uri.is_empty() && !uri.starts_with('/'),
            "GitHub wants relative URIs: {uri}"
        );
    }
    for rule in rules {
        let score: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score));
    }
    let log4shell = rules.iter().find(|r| r["id"] == "CVE-2021-44228").unwrap();
    assert_eq!(log4shell["properties"]["security-severity"], "10.0");
}

#[test]
fn cyclonedx_refs_are_unique_and_resolve() {
    let bom = json(Format::CycloneDx);
    let refs: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let mut unique = refs.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), refs.len(), "duplicate bom-ref in {refs:?}");
    for vulnerability in bom["vulnerabilities"].as_array().unwrap() {
        for affect in vulnerability["affects"].as_array().unwrap() {
            let target = affect["ref"].as_str().unwrap();
            assert!(refs.contains(&target), "dangling ref {target}");
        }
    }
    let will_not_fix = bom["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "CVE-2023-45853")
        .unwrap();
    assert_eq!(will_not_fix["analysis"]["response"][0], "will_not_fix");
}

#[test]
fn spdx_ids_are_unique_and_every_license_ref_is_declared() {
    let spdx = json(Format::Spdx);
    let packages = spdx["packages"].as_array().unwrap();
    let ids: Vec<&str> = packages
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len());
    let declared: Vec<&str> = spdx["hasExtractedLicensingInfos"]
        .as_array()
        .map(|infos| {
            infos
                .iter()
                .map(|i| i["licenseId"].as_str().unwrap())
                .collect()
        })
        .unwrap_or_default();
    for package in packages {
        let license = package["licenseDeclared"].as_str().unwrap();
        if license != "NOASSERTION" {
            spdx::Expression::parse(license)
                .unwrap_or_else(|e| panic!("invalid licenseDeclared {license}: {e}"));
        }
        for token in license.split([' ', '(', ')']) {
            if token.starts_with("LicenseRef-") {
                assert!(declared.contains(&token), "{token} is not declared");
            }
        }
    }
    for relationship in spdx["relationships"].as_array().unwrap() {
        let element = relationship["relatedSpdxElement"].as_str().unwrap();
        assert!(ids.contains(&element), "dangling relationship to {element}");
    }
}

#[test]
fn junit_counts_match_the_findings() {
    let report = render(Format::Junit);
    let fixture = common::scan_result();
    let failures = report.matches("<failure ").count();
    assert_eq!(failures, fixture.findings.len());
    assert!(report.contains(&format!(
        r#"failures="{}" errors="0""#,
        fixture.findings.len()
    )));
    let clean = render_with(&common::clean_result(), Format::Junit, &options());
    assert_eq!(clean.matches("<failure ").count(), 0);
    assert_eq!(
        clean.matches("<testcase ").count(),
        5,
        "one passing case per scanner"
    );
}

#[test]
fn table_has_colour_only_when_asked() {
    assert!(!render(Format::Table).contains('\u{1b}'));
    let coloured = render_with(
        &common::scan_result(),
        Format::Table,
        &ReportOptions {
            color: true,
            ..options()
        },
    );
    assert!(coloured.contains("\u{1b}[1;31mCRITICAL\u{1b}[0m"));
}

#[test]
fn table_lines_stay_readable() {
    for line in render(Format::Table).lines() {
        assert!(
            line.chars().count() <= 200,
            "line of {} columns: {line}",
            line.chars().count()
        );
    }
}

#[test]
fn untrusted_text_cannot_inject_terminal_escapes_or_markup() {
    let mut result = common::scan_result();
    result.findings[0].title = "evil\u{1b}]0;pwned\u{7}\ntitle <x>&".to_owned();
    let table = render_with(&result, Format::Table, &options());
    assert!(!table.contains('\u{1b}'));
    let junit = render_with(&result, Format::Junit, &options());
    assert!(!junit.contains("<x>"));
    assert!(!junit.contains('\u{1b}'));
}

#[test]
fn format_names_round_trip() {
    for format in Format::ALL {
        assert_eq!(format.as_str().parse::<Format>().unwrap(), format);
    }
    assert_eq!("SARIF".parse::<Format>().unwrap(), Format::Sarif);
    let error = "xml".parse::<Format>().unwrap_err().to_string();
    assert!(
        error.contains("xml") && error.contains("spdx-json"),
        "{error}"
    );
}

#[test]
fn a_failing_writer_is_reported_with_the_format() {
    struct Closed;
    impl std::io::Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    for format in Format::ALL {
        let error = write_report(&common::scan_result(), format, &options(), &mut Closed)
            .expect_err("writing to a closed pipe fails");
        assert!(error.is_broken_pipe(), "{format}: {error:?}");
        assert!(error.to_string().contains(format.as_str()));
    }
}

#[test]
fn schema_doc_names_every_field_of_the_json_report() {
    fn keys(value: &Value, into: &mut std::collections::BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    into.insert(key.clone());
                    keys(child, into);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| keys(item, into)),
            _ => {}
        }
    }
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("SCHEMA.md"))
        .expect("SCHEMA.md exists");
    let mut all = std::collections::BTreeSet::new();
    keys(&json(Format::Json), &mut all);
    // Label names are data, not schema.
    all.remove("org.opencontainers.image.source");
    let missing: Vec<&String> = all
        .iter()
        .filter(|key| !doc.contains(&format!("`{key}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "SCHEMA.md does not document {missing:?}"
    );
}

#[test]
fn junit_is_well_formed_xml_with_consistent_counts() {
    let mut hostile = common::scan_result();
    hostile.findings[0].title = "a <b> & \"c\" \u{0} \u{1b} ]]>".to_owned();
    for result in [common::scan_result(), common::clean_result(), hostile] {
        let text = render_with(&result, Format::Junit, &options());
        let document = roxmltree::Document::parse(&text).expect("JUnit output is XML");
        let root = document.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        let mut total_tests = 0;
        let mut total_failures = 0;
        for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
            let cases: Vec<_> = suite
                .children()
                .filter(|n| n.has_tag_name("testcase"))
                .collect();
            let failures = cases
                .iter()
                .filter(|case| case.children().any(|n| n.has_tag_name("failure")))
                .count();
            assert_eq!(
                suite.attribute("tests"),
                Some(cases.len().to_string().as_str())
            );
            assert_eq!(
                suite.attribute("failures"),
                Some(failures.to_string().as_str())
            );
            total_tests += cases.len();
            total_failures += failures;
        }
        assert_eq!(
            root.attribute("tests"),
            Some(total_tests.to_string().as_str())
        );
        assert_eq!(
            root.attribute("failures"),
            Some(total_failures.to_string().as_str())
        );
        assert_eq!(total_failures, result.findings.len());
    }
}

/// Text from images is untrusted: whatever it holds, every format must render without panicking
/// and the machine formats must stay valid.
#[test]
fn hostile_text_everywhere_still_gives_valid_documents() {
    let nasty = [
        "",
        " ",
        "with space/and%percent#hash?query",
        "../../etc/passwd",
        "/absolute/path",
        "C:\\windows\\path",
        "ünïcödé/路径/😀",
        "tab\tnew\nline\u{0}nul\u{1b}[2Jescape",
        "<script>&amp;\"'",
        "GPL-2+ or Artistic",
        "urn:cdx:oops",
        "a:b",
    ];
    let long = "x".repeat(10_000);
    let cases = nasty.iter().copied().chain([long.as_str()]);
    let sarif = sarif_validator();
    let cyclonedx = cyclonedx_validator();
    let spdx = spdx_validator();
    for text in cases {
        let label: String = text.chars().take(40).collect();
        let mut result = common::scan_result();
        result.target.name = text.to_owned();
        for package in &mut result.packages {
            package.name = format!("{text}{}", package.name);
            package.version = text.to_owned();
            // HDF5 is on the SPDX list but newer than the CycloneDX 1.6 schema's copy of it.
            package.licenses = vec![text.to_owned(), "HDF5".to_owned(), "NOASSERTION".to_owned()];
            package.locations[0].path = text.to_owned();
        }
        for finding in &mut result.findings {
            finding.title = text.to_owned();
            finding.location.path = text.to_owned();
            match &mut finding.details {
                rempart_core::FindingDetails::Vulnerability {
                    package,
                    installed_version,
                    ..
                } => {
                    *package = text.to_owned();
                    *installed_version = text.to_owned();
                }
                rempart_core::FindingDetails::Secret { redacted, .. } => {
                    *redacted = text.to_owned();
                }
                rempart_core::FindingDetails::Malware { member, .. } => {
                    *member = Some(text.to_owned());
                }
                rempart_core::FindingDetails::Misconfig { resource, .. } => {
                    *resource = text.to_owned();
                }
                rempart_core::FindingDetails::Trust { reason, .. } => {
                    *reason = text.to_owned();
                }
            }
        }
        for format in Format::ALL {
            let rendered = render_with(&result, format, &options());
            assert!(!rendered.is_empty());
            if format == Format::Junit {
                roxmltree::Document::parse(&rendered)
                    .unwrap_or_else(|e| panic!("JUnit for {label:?} is not XML: {e}"));
            }
        }
        let parse = |format| -> Value {
            serde_json::from_str(&render_with(&result, format, &options())).unwrap()
        };
        assert_valid(
            &sarif,
            &parse(Format::Sarif),
            &format!("SARIF for {label:?}"),
        );
        assert_valid(
            &cyclonedx,
            &parse(Format::CycloneDx),
            &format!("CycloneDX for {label:?}"),
        );
        assert_valid(&spdx, &parse(Format::Spdx), &format!("SPDX for {label:?}"));
    }
}

#[test]
fn a_malformed_timestamp_is_refused_before_writing() {
    let options = ReportOptions {
        timestamp: Some("12/06/2024 08:30".to_owned()),
        ..options()
    };
    for format in Format::ALL {
        let mut out = Vec::new();
        let error = write_report(&common::scan_result(), format, &options, &mut out)
            .expect_err("the timestamp is refused");
        assert!(error.to_string().contains("12/06/2024 08:30"), "{error}");
        assert!(out.is_empty(), "{format} wrote before refusing");
    }
}

/// The SPDX project's own validator (`pyspdxtools` from the `PyPI` package `spdx-tools`) checks
/// what the JSON schema cannot: license references, relationship targets, namespace and id rules.
#[test]
fn spdx_passes_the_reference_validator() {
    let mut hostile = common::scan_result();
    for (index, package) in hostile.packages.iter_mut().enumerate() {
        package.name = format!("odd name/{index} ü <&>");
        package.licenses = vec![
            "GPL-2+".to_owned(),
            "Custom: see LICENSE".to_owned(),
            "LicenseRef-vendor-eula".to_owned(),
            "MIT OR Apache-2.0".to_owned(),
            "HDF5".to_owned(),
            "NOASSERTION".to_owned(),
        ];
    }
    let mut empty = common::clean_result();
    empty.packages.clear();
    empty.os = None;
    empty.target.manifest_digest = None;
    empty.target.config_digest = None;
    let directory = tempfile::tempdir().expect("temporary directory");
    for (name, result) in [
        ("fixture", common::scan_result()),
        ("hostile", hostile),
        ("empty", empty),
    ] {
        let path = directory.path().join(format!("{name}.spdx.json"));
        std::fs::write(&path, render_with(&result, Format::Spdx, &options())).unwrap();
        let output = std::process::Command::new("pyspdxtools")
            .arg("--infile")
            .arg(&path)
            .output()
            .expect("pyspdxtools runs (pip install spdx-tools==0.8.5)");
        assert!(
            output.status.success(),
            "pyspdxtools rejects the {name} document:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Microsoft's SARIF validator (`sarif-multitool`, npm `@microsoft/sarif-multitool`) checks the
/// specification's rules beyond the schema, such as URI syntax. Its warnings are advice (it asks
/// for regions on whole-file results, which have none); errors fail the test.
#[test]
fn sarif_passes_the_sarif_multitool_validator() {
    let mut hostile = common::scan_result();
    for (index, finding) in hostile.findings.iter_mut().enumerate() {
        finding.location.path = format!("odd dir/{index}:ü%/C:\\x [y].txt");
        finding.title = "<b>markdown *and* `code`</b>".to_owned();
    }
    let directory = tempfile::tempdir().expect("temporary directory");
    for (name, result) in [("fixture", common::scan_result()), ("hostile", hostile)] {
        let input = directory.path().join(format!("{name}.sarif"));
        let report = directory.path().join(format!("{name}.validation.sarif"));
        std::fs::write(&input, render_with(&result, Format::Sarif, &options())).unwrap();
        let output = std::process::Command::new("sarif-multitool")
            .arg("validate")
            .arg(&input)
            .arg("--output")
            .arg(&report)
            .args(["--log", "ForceOverwrite"])
            .output()
            .expect("sarif-multitool runs (npm install -g @microsoft/sarif-multitool@5.7.0)");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("Analysis completed successfully"),
            "sarif-multitool did not complete on {name}:\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let errors: Vec<&str> = stdout
            .lines()
            .filter(|line| line.contains(": error "))
            .collect();
        assert!(errors.is_empty(), "{name}: {}", errors.join("\n"));
    }
}

/// A vulnerability whose functions the binary does not hold is shown, and every format says so:
/// the table's status, the JSON field, CycloneDX's analysis (as a VEX statement would) and SARIF.
#[test]
fn unreachable_vulnerabilities_are_marked_in_every_format() {
    let mut result = common::scan_result();
    let finding = result
        .findings
        .iter_mut()
        .find(|f| f.id == "CVE-2023-32681")
        .expect("a language vulnerability in the fixture");
    if let rempart_core::FindingDetails::Vulnerability { reachable, .. } = &mut finding.details {
        *reachable = Some(false);
    }
    let table = render_with(&result, Format::Table, &options());
    assert!(table.contains("fixed, not reachable"), "{table}");
    let json: Value =
        serde_json::from_str(&render_with(&result, Format::Json, &options())).unwrap();
    let marked: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["details"]["reachable"] == Value::Bool(false))
        .collect();
    assert_eq!(marked.len(), 1);
    let cyclonedx: Value =
        serde_json::from_str(&render_with(&result, Format::CycloneDx, &options())).unwrap();
    let analysis: Vec<&Value> = cyclonedx["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["id"] == "CVE-2023-32681")
        .map(|v| &v["analysis"])
        .collect();
    assert_eq!(analysis.len(), 1);
    assert_eq!(analysis[0]["state"], "not_affected");
    assert_eq!(analysis[0]["justification"], "code_not_reachable");
    assert_eq!(analysis[0]["response"][0], "update");
    let sarif = render_with(&result, Format::Sarif, &options());
    assert!(
        sarif.contains("\"reachable\": false"),
        "the SARIF result carries it"
    );
}

/// Tables fit the terminal: at 80 and 120 columns no line is wider, long paths keep their file
/// name, and a table that cannot fit prints one block per finding, nothing hidden.
#[test]
fn tables_fit_the_terminal() {
    let mut narrow = None;
    for columns in [80, 120, 200] {
        let options = ReportOptions {
            width: Some(columns),
            ..options()
        };
        let text = render_with(&common::scan_result(), Format::Table, &options);
        for line in text.lines() {
            assert!(
                line.chars().count() <= columns,
                "{columns} columns: {} wide: {line}",
                line.chars().count()
            );
        }
        if columns == 80 {
            narrow = Some(text);
        }
    }
    insta::assert_snapshot!("table_80_columns", narrow.unwrap());
}

// ---------------------------------------------------------------------------------------------
// HTML: content and escaping.

/// The one element `tag` holds in `page`, as text: the page must have exactly one.
fn only_element<'a>(page: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    assert_eq!(
        page.to_ascii_lowercase()
            .matches(&format!("<{tag}"))
            .count(),
        1,
        "one <{tag}> in the page"
    );
    let start = page.find(&open).expect("the element opens") + open.len();
    let end = page[start..].find(&close).expect("the element closes") + start;
    &page[start..end]
}

/// Parses the page as XML once its one style and one script are checked to be the writer's own
/// (the same as in the report of the plain fixture) and taken out: what remains is markup whose
/// every element and attribute can be inspected.
fn html_markup(page: &str) -> String {
    let reference = render(Format::Html);
    let mut markup = page.to_owned();
    for tag in ["style", "script"] {
        let body = only_element(page, tag);
        assert_eq!(
            body,
            only_element(&reference, tag),
            "the <{tag}> is the writer's own"
        );
        markup = markup.replacen(body, "", 1);
    }
    markup.replacen("<!DOCTYPE html>", "", 1)
}

#[test]
fn html_shows_each_section_and_the_numbers_of_the_other_formats() {
    let page = render(Format::Html);
    let markup = html_markup(&page);
    let document = roxmltree::Document::parse(&markup).expect("the page is well-formed");
    let result = common::scan_result();
    for (scanner, id) in [
        (rempart_core::ScannerKind::Vuln, "section-vuln"),
        (rempart_core::ScannerKind::Secret, "section-secret"),
        (rempart_core::ScannerKind::Malware, "section-malware"),
        (rempart_core::ScannerKind::Misconfig, "section-misconfig"),
    ] {
        let section = document
            .descendants()
            .find(|node| node.attribute("id") == Some(id))
            .unwrap_or_else(|| panic!("section {id}"));
        let rows = section
            .descendants()
            .filter(|node| node.has_tag_name("tr") && node.attribute("data-severity").is_some())
            .count();
        let expected = result
            .findings
            .iter()
            .filter(|f| f.scanner == scanner)
            .count();
        assert_eq!(rows, expected, "{id}");
    }
    let skipped = document
        .descendants()
        .find(|node| node.attribute("id") == Some("skipped"))
        .expect("the skipped entries");
    assert_eq!(
        skipped
            .descendants()
            .filter(|n| n.has_tag_name("tr"))
            .count(),
        result.skipped.len() + 1,
        "a row per skipped entry under the header"
    );
    assert!(page.contains("Debian GNU/Linux 12 (bookworm)"));
    assert!(page.contains(common::MANIFEST_DIGEST));
    assert!(page.contains("<dt>Scan time</dt><dd>2024-06-12T08:30:00Z</dd>"));
    assert!(page.contains(r#"<a href="https://avd.example.org/cve-2021-44228""#));
    assert_eq!(
        document
            .descendants()
            .filter(|node| node.has_tag_name("svg"))
            .count(),
        2,
        "a chart by severity and one by scanner"
    );
}

#[test]
fn html_says_which_vulnerability_data_was_used() {
    let mut result = common::scan_result();
    result.vulnerability_data = Some(rempart_core::VulnerabilityData {
        path: "/cache/vuln.db".to_owned(),
        built_at: "2024-06-12T00:00:00Z".to_owned(),
        data_up_to: Some("2024-06-11T23:00:00Z".to_owned()),
        advisories: 1234,
        sample: true,
    });
    let page = render_with(&result, Format::Html, &options());
    let table = render_with(&result, Format::Table, &options());
    let line = "Vulnerability data: the built-in sample set (1234 advisories, data up to 2024-06-11), not real coverage: run `rempart db update`";
    assert!(table.contains(line));
    assert!(
        page.contains(&format!(r#"<p class="warning">{line}</p>"#)),
        "{page}"
    );
}

#[test]
fn html_shows_the_build_step_of_each_findings_layer() {
    let mut result = common::scan_result();
    for layer in &mut result.layers {
        layer.created_by = Some(result.target.history[layer.index].created_by.clone());
    }
    result.layers[2].created_by = Some(format!("RUN {}", "make ".repeat(40)));
    let page = render_with(&result, Format::Html, &options());
    let markup = html_markup(&page);
    let document = roxmltree::Document::parse(&markup).unwrap();
    let row = document
        .descendants()
        .find(|node| {
            node.has_tag_name("tr")
                && node
                    .descendants()
                    .any(|n| n.text() == Some("SEC-AWS-ACCESS-KEY"))
        })
        .expect("the secret's row");
    let step = row
        .descendants()
        .find(|node| node.attribute("class") == Some("created-by"))
        .expect("the layer cell names its build step");
    assert_eq!(
        step.text(),
        Some("RUN /bin/sh -c fetch-deps && rm -rf /root/.aws")
    );
    // A long step is cut in the cell, whole in its tooltip.
    let long = document
        .descendants()
        .find(|node| {
            node.attribute("class") == Some("created-by")
                && node
                    .attribute("title")
                    .is_some_and(|t| t.starts_with("RUN make"))
        })
        .expect("the long step");
    assert!(long.text().unwrap().ends_with('…'));
    assert_eq!(long.attribute("title").unwrap().len(), 4 + 5 * 40);
}

/// Findings carry text an image author chose: file names, titles, history lines, URLs. None of
/// it may become markup, and only web URLs may become links.
#[test]
fn html_escapes_every_untrusted_text() {
    let hostile = r#"</style></script><script>alert("x")</script><img src=x onerror='alert(1)'>&amp; </textarea><!--"#;
    let mut result = common::scan_result();
    result.target.name = hostile.to_owned();
    result.target.manifest_digest = Some(hostile.to_owned());
    result.target.os = Some(hostile.to_owned());
    result.target.architecture = Some(hostile.to_owned());
    result.target_kind = hostile.to_owned();
    if let Some(os) = &mut result.os {
        os.pretty_name = Some(hostile.to_owned());
    }
    result.vulnerability_data = Some(rempart_core::VulnerabilityData {
        path: hostile.to_owned(),
        built_at: hostile.to_owned(),
        data_up_to: Some(hostile.to_owned()),
        advisories: 1,
        sample: false,
    });
    for layer in &mut result.layers {
        layer.created_by = Some(hostile.to_owned());
        layer.diff_id = hostile.to_owned();
    }
    let urls = [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        r#"https://example.org/"><script>alert(1)</script>"#,
        r#"https://example.org/" onmouseover="alert(1)"#,
        "vbscript:msgbox(1)",
    ];
    for (index, finding) in result.findings.iter_mut().enumerate() {
        finding.id = format!("{hostile}{index}");
        finding.title = hostile.to_owned();
        finding.location.path = hostile.to_owned();
        finding.primary_url = Some(urls[index % urls.len()].to_owned());
        if let Some(layer) = &mut finding.location.layer {
            layer.diff_id = hostile.to_owned();
        }
        match &mut finding.details {
            rempart_core::FindingDetails::Vulnerability {
                package,
                installed_version,
                fix,
                ..
            } => {
                *package = hostile.to_owned();
                *installed_version = hostile.to_owned();
                *fix = rempart_core::FixState::Fixed {
                    versions: vec![hostile.to_owned()],
                };
            }
            rempart_core::FindingDetails::Secret { redacted, origin } => {
                *redacted = hostile.to_owned();
                *origin = Some(hostile.to_owned());
            }
            rempart_core::FindingDetails::Malware {
                signature,
                engine,
                member,
            } => {
                *signature = hostile.to_owned();
                *engine = hostile.to_owned();
                *member = Some(hostile.to_owned());
            }
            rempart_core::FindingDetails::Misconfig {
                resource,
                resolution,
            } => {
                *resource = hostile.to_owned();
                *resolution = Some(hostile.to_owned());
            }
            rempart_core::FindingDetails::Trust { rule, reason } => {
                *rule = Some(hostile.to_owned());
                *reason = hostile.to_owned();
            }
        }
    }
    for entry in &mut result.skipped {
        entry.path = hostile.to_owned();
        entry.detail = Some(hostile.to_owned());
    }
    let page = render_with(
        &result,
        Format::Html,
        &ReportOptions {
            tool_version: hostile.to_owned(),
            ..options()
        },
    );
    assert!(!page.contains("<img"), "no element from the text");
    assert!(!page.contains("<!--"), "no comment from the text");
    assert!(!page.contains("</textarea"));
    assert!(!page.to_ascii_lowercase().contains("href=\"javascript:"));
    let markup = html_markup(&page);
    let document = roxmltree::Document::parse(&markup)
        .unwrap_or_else(|e| panic!("the page is not well-formed: {e}"));
    let allowed = [
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "dl",
        "dt",
        "dd",
        "p",
        "noscript",
        "nav",
        "a",
        "section",
        "div",
        "figure",
        "figcaption",
        "svg",
        "text",
        "rect",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "code",
        "label",
        "input",
        "span",
        "footer",
        "script",
    ];
    let mut links = 0;
    for node in document.descendants().filter(roxmltree::Node::is_element) {
        let name = node.tag_name().name();
        assert!(allowed.contains(&name), "unexpected <{name}>");
        for attribute in node.attributes() {
            let attribute_name = attribute.name().to_ascii_lowercase();
            assert!(
                !attribute_name.starts_with("on") && attribute_name != "src",
                "attribute {attribute_name} on <{name}>"
            );
            if attribute_name == "href" {
                let target = attribute.value();
                assert!(
                    target.starts_with('#') || target.starts_with("https://"),
                    "link to {target:?}"
                );
                links += usize::from(!target.starts_with('#'));
            }
        }
    }
    assert_eq!(
        links,
        result
            .findings
            .iter()
            .filter(|f| f.primary_url.as_deref() == Some(urls[3]))
            .count(),
        "only the https URL is linked, its quote escaped"
    );
    let escaped = document
        .descendants()
        .find(|node| node.has_tag_name("h1"))
        .and_then(|node| node.text());
    assert_eq!(escaped, Some(hostile), "the text is shown as it is");
}
