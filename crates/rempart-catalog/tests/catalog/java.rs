use std::io::{Cursor, Write};

use rempart_catalog::JavaCataloger;
use rempart_core::{Ecosystem, SkipReason};
use zip::write::SimpleFileOptions;

use crate::support::{fixture, run, wants};

fn identities(packages: &[rempart_core::Package]) -> Vec<(String, String, String)> {
    let mut found: Vec<_> = packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.purl.clone()))
        .collect();
    found.sort();
    found
}

/// The three Debian jars inside: two carry `pom.properties` (values as `unzip -p` shows them),
/// one only a manifest and a versioned file name.
fn expected_in_shop() -> Vec<(String, String, String)> {
    let mut expected = vec![
        (
            "commons-cli:commons-cli".to_owned(),
            "1.5.0".to_owned(),
            "pkg:maven/commons-cli/commons-cli@1.5.0".to_owned(),
        ),
        (
            "com.google.errorprone:error_prone_annotations".to_owned(),
            "2.18.0".to_owned(),
            "pkg:maven/com.google.errorprone/error_prone_annotations@2.18.0".to_owned(),
        ),
        (
            "atinject-jsr330-api".to_owned(),
            "1.0".to_owned(),
            String::new(),
        ),
    ];
    expected.sort();
    expected
}

#[test]
fn war_and_ear_nested_libraries() {
    for (fixture_name, path) in [
        ("java/shop.war", "opt/app/shop.war"),
        ("java/shop.ear", "srv/shop.ear"),
    ] {
        let out = run(&JavaCataloger::new(), path, &fixture(fixture_name));
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        assert_eq!(
            identities(&out.packages),
            expected_in_shop(),
            "{fixture_name}"
        );
        for package in &out.packages {
            assert_eq!(package.ecosystem, Ecosystem::Maven);
            assert_eq!(package.locations[0].path, path);
        }
    }
}

#[test]
fn manifest_and_file_name_fallback() {
    let out = run(
        &JavaCataloger::new(),
        "usr/share/java/atinject-jsr330-api-1.0.jar",
        &fixture("java/atinject-jsr330-api-1.0.jar"),
    );
    assert_eq!(
        identities(&out.packages),
        [(
            "atinject-jsr330-api".to_owned(),
            "1.0".to_owned(),
            // No Maven group anywhere in the archive: no coordinates for a purl.
            String::new()
        )]
    );
    // Without a version in the name, the manifest's Bundle-Version is used.
    let out = run(
        &JavaCataloger::new(),
        "usr/share/java/atinject.jar",
        &fixture("java/atinject-jsr330-api-1.0.jar"),
    );
    assert_eq!(out.packages[0].version, "1.0.0");
}

fn jar_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        writer
            .start_file(*name, SimpleFileOptions::default())
            .unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn nesting_depth_is_capped() {
    let mut inner = Vec::new();
    for level in (0..6).rev() {
        let pom = format!("groupId=org.example\nartifactId=level{level}\nversion=1.{level}\n");
        let mut entries: Vec<(&str, &[u8])> = vec![(
            "META-INF/maven/org.example/x/pom.properties",
            pom.as_bytes(),
        )];
        if !inner.is_empty() {
            entries.push(("lib/inner.jar", &inner));
        }
        inner = jar_with(&entries);
    }
    let out = run(&JavaCataloger::new(), "app.jar", &inner);
    let mut names: Vec<_> = out.packages.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "org.example:level0",
            "org.example:level1",
            "org.example:level2",
            "org.example:level3"
        ]
    );
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(out.skipped[0].reason, SkipReason::ArchiveLimit);
    assert!(out.skipped[0].path.starts_with("app.jar!"));
}

#[test]
fn expansion_bomb_is_refused_without_inflating() {
    // 1.2 GiB of zeros deflates to about 1.2 MiB; the declared size is over the budget.
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .start_file(
            "lib/bomb.jar",
            SimpleFileOptions::default().large_file(true),
        )
        .unwrap();
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..1229 {
        writer.write_all(&zeros).unwrap();
    }
    let archive = writer.finish().unwrap().into_inner();
    let started = std::time::Instant::now();
    let out = run(&JavaCataloger::new(), "bomb.jar", &archive);
    // A guard against a hang (reading the whole declared expansion), not a speed target: those
    // live in the benchmarks. Generous, so a loaded machine does not make it flaky.
    assert!(started.elapsed().as_secs() < 60);
    assert!(out.packages.is_empty());
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(out.skipped[0].reason, SkipReason::ArchiveLimit);
}

#[test]
fn corrupt_archives_and_interest() {
    let out = run(
        &JavaCataloger::new(),
        "broken.jar",
        b"PK\x03\x04 not really a zip",
    );
    assert!(out.packages.is_empty());
    assert_eq!(out.skipped.len(), 1);
    assert!(
        out.skipped[0]
            .detail
            .as_ref()
            .unwrap()
            .contains("broken.jar")
    );
    let analyzer = JavaCataloger::new();
    for name in ["a.jar", "b.WAR", "c.ear", "plugin.hpi"] {
        assert!(wants(&analyzer, name, 0o644, 100), "{name}");
    }
    assert!(!wants(&analyzer, "a.jar.sha1", 0o644, 100));
}

#[test]
fn jrt_fs_jar_has_no_maven_purl() {
    // The JDK's `lib/jrt-fs.jar`: a manifest naming the runtime, no `pom.properties`, no group.
    let manifest = b"Manifest-Version: 1.0\r\nImplementation-Title: Java Runtime Environment\r\n\
Implementation-Version: 17.0.10\r\nImplementation-Vendor: Eclipse Adoptium\r\n\
Specification-Version: 17\r\nCreated-By: 17.0.10 (Eclipse Adoptium)\r\n\r\n";
    let jar = jar_with(&[
        ("META-INF/MANIFEST.MF", manifest),
        (
            "jdk/internal/jrtfs/JrtFileSystemProvider.class",
            b"\xca\xfe\xba\xbe",
        ),
    ]);
    let out = run(
        &JavaCataloger::new(),
        "opt/java/openjdk/lib/jrt-fs.jar",
        &jar,
    );
    assert_eq!(
        identities(&out.packages),
        [("jrt-fs".to_owned(), "17.0.10".to_owned(), String::new())],
        "a maven purl needs the group as its namespace"
    );
}
