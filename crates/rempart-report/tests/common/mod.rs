//! The scan result every report test renders: a Debian 12 image of a Python service with a Java
//! helper, as the engine would report it.

#![allow(dead_code)]

use std::collections::BTreeMap;

use rempart_core::{
    Dependency, Ecosystem, Finding, FindingDetails, FixState, HistoryEntry, ImageMetadata,
    LayerRef, LayerSummary, Location, OsInfo, Package, REPORT_SCHEMA_VERSION, ScanResult,
    ScannerKind, Severity, SkipReason, SkippedEntry, SourcePackage,
};

pub(crate) const DIFF_IDS: [&str; 3] = [
    "sha256:1f1e7e6a1f3d3b48a4a8e6dd6f7de5a6c1a1b7d1bd7e2c3f7a0f3a3f9e2f8b10",
    "sha256:5c2e1d6f7c8b9a0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e",
    "sha256:9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
];

pub(crate) const MANIFEST_DIGEST: &str =
    "sha256:3b1f0c5e2d8a47c69e1f7b2a6d4c8e0f9a3b5d7c1e2f4a6b8c0d2e4f6a8b0c2d";

fn layer(index: usize) -> LayerRef {
    LayerRef {
        index,
        diff_id: DIFF_IDS[index].to_owned(),
    }
}

fn at(path: &str, layer_index: usize) -> Location {
    Location {
        path: path.to_owned(),
        layer: Some(layer(layer_index)),
        line: None,
        deleted: false,
        config: None,
    }
}

const DPKG_STATUS: &str = "var/lib/dpkg/status";
const SITE_PACKAGES: &str = "usr/local/lib/python3.11/site-packages";

fn deb(name: &str, version: &str, source: Option<(&str, &str)>, licenses: &[&str]) -> Package {
    Package {
        ecosystem: Ecosystem::Debian,
        name: name.to_owned(),
        version: version.to_owned(),
        purl: format!(
            "pkg:deb/debian/{name}@{}?arch=amd64&distro=debian-12",
            // The purl `deb` type keeps the epoch in the version; `+` is encoded.
            version.replace('+', "%2B")
        ),
        source: source.map(|(name, version)| SourcePackage {
            name: name.to_owned(),
            version: version.to_owned(),
        }),
        arch: Some("amd64".to_owned()),
        licenses: licenses.iter().map(|&l| l.to_owned()).collect(),
        locations: vec![at(DPKG_STATUS, 0)],
        owned_by: None,
        depends_on: Vec::new(),
    }
}

fn pypi(name: &str, version: &str, metadata: &str, licenses: &[&str]) -> Package {
    Package {
        ecosystem: Ecosystem::PyPI,
        name: name.to_owned(),
        version: version.to_owned(),
        purl: format!("pkg:pypi/{name}@{version}"),
        source: None,
        arch: None,
        licenses: licenses.iter().map(|&l| l.to_owned()).collect(),
        locations: vec![at(metadata, 2)],
        owned_by: None,
        depends_on: Vec::new(),
    }
}

/// What the catalogers read: dpkg `Depends` and Python `Requires-Dist`, including requirements
/// the image does not have installed (`idna`, `cffi`), which the SBOM writers must drop.
fn with_dependencies(mut packages: Vec<Package>) -> Vec<Package> {
    let edges: [(&str, &[&str]); 6] = [
        ("libssl3", &["libc6"]),
        ("openssl", &["libc6", "libssl3"]),
        ("zlib1g", &["libc6"]),
        ("tzdata", &["debconf"]),
        ("requests", &["idna", "urllib3"]),
        ("cryptography", &["cffi"]),
    ];
    for (name, wanted) in edges {
        for package in packages.iter_mut().filter(|p| p.name == name) {
            package.depends_on = wanted.iter().map(|&w| Dependency::named(w)).collect();
        }
    }
    packages
}

pub(crate) fn packages() -> Vec<Package> {
    with_dependencies(vec![
        deb(
            "libssl3",
            "3.0.11-1~deb12u2",
            Some(("openssl", "3.0.11-1~deb12u2")),
            &["Apache-2.0"],
        ),
        deb("openssl", "3.0.11-1~deb12u2", None, &["Apache-2.0"]),
        deb(
            "zlib1g",
            "1:1.2.13.dfsg-1",
            Some(("zlib", "1:1.2.13.dfsg-1")),
            &["Zlib"],
        ),
        deb(
            "libc6",
            "2.36-9+deb12u4",
            Some(("glibc", "2.36-9+deb12u4")),
            // Debian copyright files name licenses their own way.
            &["LGPL-2.1+", "GPL-2+", "public-domain"],
        ),
        deb("tzdata", "2024a-0+deb12u1", None, &[]),
        pypi(
            "requests",
            "2.28.1",
            &format!("{SITE_PACKAGES}/requests-2.28.1.dist-info/METADATA"),
            &["Apache 2.0"],
        ),
        pypi(
            "urllib3",
            "1.26.18",
            &format!("{SITE_PACKAGES}/urllib3-1.26.18.dist-info/METADATA"),
            &["MIT"],
        ),
        // The same urllib3 vendored inside pip: same purl, different file.
        pypi(
            "urllib3",
            "1.26.18",
            &format!("{SITE_PACKAGES}/pip/_vendor/urllib3-1.26.18.dist-info/METADATA"),
            &["MIT"],
        ),
        pypi(
            "cryptography",
            "41.0.4",
            &format!("{SITE_PACKAGES}/cryptography-41.0.4.dist-info/METADATA"),
            &["Apache-2.0 OR BSD-3-Clause"],
        ),
        Package {
            ecosystem: Ecosystem::Maven,
            name: "org.apache.logging.log4j:log4j-core".to_owned(),
            version: "2.14.1".to_owned(),
            purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".to_owned(),
            source: None,
            arch: None,
            licenses: vec!["Apache-2.0".to_owned()],
            locations: vec![at("opt/app/helper.jar", 2)],
            owned_by: None,
            depends_on: Vec::new(),
        },
    ])
}

#[allow(clippy::too_many_arguments)]
fn vuln(
    id: &str,
    title: &str,
    severity: Severity,
    package: &Package,
    fix: FixState,
    cvss: Option<(&str, f64)>,
    aliases: &[&str],
) -> Finding {
    Finding {
        scanner: ScannerKind::Vuln,
        id: id.to_owned(),
        title: title.to_owned(),
        severity,
        location: package.locations[0].clone(),
        details: FindingDetails::Vulnerability {
            package: package.name.clone(),
            ecosystem: package.ecosystem.osv_name().to_owned(),
            installed_version: package.version.clone(),
            purl: package.purl.clone(),
            fix,
            aliases: aliases.iter().map(|&a| a.to_owned()).collect(),
            cvss: cvss
                .iter()
                .map(|(vector, _)| (*vector).to_owned())
                .collect(),
            cvss_score: cvss.map(|(_, score)| score),
            references: vec![format!("https://security-tracker.debian.org/tracker/{id}")],
            reachable: None,
            severity_source: cvss.map(|(vector, _)| rempart_core::SeveritySource {
                basis: rempart_core::SeverityBasis::Cvss,
                record: id.to_owned(),
                vector: Some(vector.to_owned()),
            }),
            kev: None,
            epss: None,
        },
        primary_url: Some(format!("https://avd.example.org/{}", id.to_lowercase())),
    }
}

fn fixed(versions: &[&str]) -> FixState {
    FixState::Fixed {
        versions: versions.iter().map(|&v| v.to_owned()).collect(),
    }
}

/// Marks a finding as exploited (the catalogue entry and score are made up for the fixture).
fn exploited(mut finding: Finding, ransomware: bool, score: f64) -> Finding {
    if let FindingDetails::Vulnerability { kev, epss, .. } = &mut finding.details {
        *kev = Some(rempart_core::KnownExploited {
            cve: finding.id.clone(),
            date_added: "2024-07-01".to_owned(),
            due_date: Some("2024-07-22".to_owned()),
            ransomware,
        });
        *epss = Some(rempart_core::Epss {
            score,
            percentile: 0.99,
        });
    }
    finding
}

pub(crate) fn findings(packages: &[Package]) -> Vec<Finding> {
    let find = |name: &str, path_part: &str| {
        packages
            .iter()
            .find(|p| p.name == name && p.locations[0].path.contains(path_part))
            .unwrap_or_else(|| panic!("fixture package {name}"))
    };
    let openssl_title = "openssl: SSL_select_next_proto buffer overread";
    let openssl_cvss = Some(("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H", 9.1));
    vec![
        vuln(
            "CVE-2024-5535",
            openssl_title,
            Severity::Critical,
            find("libssl3", ""),
            fixed(&["3.0.13-1~deb12u1"]),
            openssl_cvss,
            &[],
        ),
        vuln(
            "CVE-2024-5535",
            openssl_title,
            Severity::Critical,
            find("openssl", ""),
            fixed(&["3.0.13-1~deb12u1"]),
            openssl_cvss,
            &[],
        ),
        exploited(
            vuln(
                "CVE-2023-45853",
                "zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6",
                Severity::Critical,
                find("zlib1g", ""),
                FixState::WillNotFix,
                Some(("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8)),
                &[],
            ),
            true,
            0.0153,
        ),
        vuln(
            "CVE-2025-0395",
            "glibc: buffer overflow in the assert() function",
            Severity::Medium,
            find("libc6", ""),
            FixState::NotFixed,
            None,
            &[],
        ),
        vuln(
            "CVE-2019-1010022",
            "glibc: stack guard protection bypass",
            Severity::Unknown,
            find("libc6", ""),
            FixState::WillNotFix,
            None,
            &[],
        ),
        vuln(
            "CVE-2023-32681",
            "python-requests: Unintended leak of Proxy-Authorization header",
            Severity::Medium,
            find("requests", ""),
            fixed(&["2.31.0"]),
            Some(("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", 6.1)),
            &["GHSA-j8r2-6x86-q33q"],
        ),
        vuln(
            "CVE-2024-37891",
            "urllib3: proxy-authorization request header is not stripped during cross-origin redirects",
            Severity::Medium,
            find("urllib3", "site-packages/urllib3"),
            fixed(&["1.26.19", "2.2.2"]),
            Some(("CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N", 4.4)),
            &["GHSA-34jh-p97f-mpxf"],
        ),
        vuln(
            "CVE-2024-37891",
            "urllib3: proxy-authorization request header is not stripped during cross-origin redirects",
            Severity::Medium,
            find("urllib3", "_vendor"),
            fixed(&["1.26.19", "2.2.2"]),
            Some(("CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N", 4.4)),
            &["GHSA-34jh-p97f-mpxf"],
        ),
        vuln(
            "CVE-2021-44228",
            "log4j-core: Remote code execution in Log4j 2.x when logs contain an attacker-controlled string value (Log4Shell)",
            Severity::Critical,
            find("org.apache.logging.log4j:log4j-core", ""),
            fixed(&["2.15.0"]),
            Some(("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0)),
            &["GHSA-jfh8-c2jp-5v3q"],
        ),
        Finding {
            scanner: ScannerKind::Secret,
            id: "SEC-AWS-ACCESS-KEY".to_owned(),
            title: "AWS access key ID".to_owned(),
            severity: Severity::Critical,
            location: Location {
                path: "root/.aws/credentials".to_owned(),
                layer: Some(layer(1)),
                line: Some(2),
                deleted: true,
                config: None,
            },
            details: FindingDetails::Secret {
                redacted: "AKIA****************".to_owned(),
                origin: None,
            },
            primary_url: None,
        },
        Finding {
            scanner: ScannerKind::Secret,
            id: "SEC-GITHUB-PAT".to_owned(),
            title: "GitHub personal access token".to_owned(),
            severity: Severity::High,
            location: Location::config("env", Some(3)),
            details: FindingDetails::Secret {
                redacted: "GITHUB_TOKEN=ghp_************************************".to_owned(),
                origin: Some("env".to_owned()),
            },
            primary_url: None,
        },
        Finding {
            scanner: ScannerKind::Malware,
            id: "MAL-EICAR-TEST-FILE".to_owned(),
            title: "EICAR anti-virus test file".to_owned(),
            severity: Severity::Critical,
            location: at("opt/app/helper.jar", 2),
            details: FindingDetails::Malware {
                signature: "EICAR_Test_File".to_owned(),
                engine: "yara".to_owned(),
                member: Some("helper.jar!/BOOT-INF/lib/tools.jar!/eicar.com".to_owned()),
            },
            primary_url: None,
        },
        Finding {
            scanner: ScannerKind::Misconfig,
            id: "IMG-ROOT-USER".to_owned(),
            title: "Image runs as root".to_owned(),
            severity: Severity::High,
            location: Location::config("user", None),
            details: FindingDetails::Misconfig {
                resource: "image config".to_owned(),
                resolution: Some("Add a USER instruction with a non-root user.".to_owned()),
            },
            primary_url: None,
        },
        Finding {
            scanner: ScannerKind::Misconfig,
            id: "IMG-NO-HEALTHCHECK".to_owned(),
            title: "Image has no HEALTHCHECK".to_owned(),
            severity: Severity::Low,
            location: Location::config("healthcheck", None),
            details: FindingDetails::Misconfig {
                resource: "image config".to_owned(),
                resolution: None,
            },
            primary_url: None,
        },
        Finding {
            scanner: ScannerKind::Misconfig,
            id: "K8S-PSS-PRIVILEGED".to_owned(),
            title: "Container runs privileged".to_owned(),
            severity: Severity::High,
            location: Location {
                path: "opt/app/deploy/deployment.yaml".to_owned(),
                layer: Some(layer(2)),
                line: Some(21),
                deleted: false,
                config: None,
            },
            details: FindingDetails::Misconfig {
                resource: "Deployment/billing-api (container api)".to_owned(),
                resolution: Some("Set securityContext.privileged to false.".to_owned()),
            },
            primary_url: None,
        },
        Finding {
            scanner: ScannerKind::Trust,
            id: "TRUST-UNSIGNED".to_owned(),
            title: "No trusted signature on the image".to_owned(),
            severity: Severity::High,
            location: Location {
                path: "ghcr.io/acme/billing-api:2.3.1".to_owned(),
                ..Location::default()
            },
            details: FindingDetails::Trust {
                rule: Some("release".to_owned()),
                reason: "no trusted signature: 1 found, none verified (referrer sha256:3c9f… layer 0: wrong key: the signature does not verify with any trusted key (keys/release.pub))".to_owned(),
            },
            primary_url: None,
        },
    ]
}

pub(crate) fn scan_result() -> ScanResult {
    let packages = packages();
    let findings = findings(&packages);
    ScanResult {
        schema_version: REPORT_SCHEMA_VERSION,
        target_kind: "image".to_owned(),
        target: ImageMetadata {
            name: "ghcr.io/acme/billing-api:2.3.1".to_owned(),
            repo_tags: vec!["ghcr.io/acme/billing-api:2.3.1".to_owned()],
            manifest_digest: Some(MANIFEST_DIGEST.to_owned()),
            config_digest: Some(
                "sha256:7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c"
                    .to_owned(),
            ),
            os: Some("linux".to_owned()),
            architecture: Some("amd64".to_owned()),
            user: None,
            env: vec![
                "PATH=/usr/local/bin:/usr/bin:/bin".to_owned(),
                "GITHUB_TOKEN=ghp_example-not-a-real-token".to_owned(),
            ],
            exposed_ports: vec!["8080/tcp".to_owned()],
            labels: BTreeMap::from([(
                "org.opencontainers.image.source".to_owned(),
                "https://github.com/acme/billing-api".to_owned(),
            )]),
            entrypoint: Some(vec![
                "python".to_owned(),
                "-m".to_owned(),
                "billing".to_owned(),
            ]),
            cmd: None,
            healthcheck: None,
            history: vec![
                HistoryEntry {
                    created: Some("2024-06-10T00:00:00Z".to_owned()),
                    created_by: "# debian.sh --arch 'amd64' out/ 'bookworm' '@1718064000'"
                        .to_owned(),
                    comment: None,
                    empty_layer: false,
                },
                HistoryEntry {
                    created: Some("2024-06-11T09:12:00Z".to_owned()),
                    created_by: "RUN /bin/sh -c fetch-deps && rm -rf /root/.aws".to_owned(),
                    comment: None,
                    empty_layer: false,
                },
                HistoryEntry {
                    created: Some("2024-06-11T09:13:00Z".to_owned()),
                    created_by: "COPY app/ /opt/app/".to_owned(),
                    comment: None,
                    empty_layer: false,
                },
            ],
            requested_tag: Some("2.3.1".to_owned()),
            pinned_by_digest: false,
        },
        os: Some(OsInfo {
            id: "debian".to_owned(),
            version_id: "12".to_owned(),
            codename: Some("bookworm".to_owned()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".to_owned()),
        }),
        scanners: vec![
            ScannerKind::Vuln,
            ScannerKind::Secret,
            ScannerKind::Malware,
            ScannerKind::Misconfig,
            ScannerKind::Trust,
        ],
        layers: (0..3)
            .map(|index| LayerSummary {
                index,
                diff_id: DIFF_IDS[index].to_owned(),
                digest: None,
                created_by: None,
                files: [8_412, 37, 1_206][index],
                bytes: [97_129_472, 6_881, 48_233_117][index],
                cached: index == 0,
            })
            .collect(),
        packages,
        findings,
        skipped: vec![
            SkippedEntry {
                path: "opt/app/data/model.bin".to_owned(),
                layer: Some(2),
                reason: SkipReason::TooLarge,
                detail: Some("412 MiB over the 256 MiB cap of the secret scanner".to_owned()),
            },
            SkippedEntry {
                path: "usr/lib/x86_64-linux-gnu/libcrypto.so.3".to_owned(),
                layer: Some(0),
                reason: SkipReason::Binary,
                detail: None,
            },
            SkippedEntry {
                path: "usr/bin/openssl".to_owned(),
                layer: Some(0),
                reason: SkipReason::Binary,
                detail: None,
            },
            SkippedEntry {
                path: "opt/app/helper.jar!/BOOT-INF/lib/tools.jar!/nested.zip".to_owned(),
                layer: Some(2),
                reason: SkipReason::ArchiveLimit,
                detail: Some("nesting depth 3 reached".to_owned()),
            },
        ],
        vulnerability_data: None,
    }
}

/// The same result with every list reversed: reports must not depend on input order.
pub(crate) fn scan_result_reversed() -> ScanResult {
    let mut result = scan_result();
    result.packages.reverse();
    result.findings.reverse();
    result.layers.reverse();
    result.skipped.reverse();
    result.scanners.reverse();
    result
}

/// A scan that ran every scanner and found nothing.
pub(crate) fn clean_result() -> ScanResult {
    let mut result = scan_result();
    result.findings.clear();
    result.skipped.clear();
    result
}
