use rempart_catalog::ApkCataloger;
use rempart_core::Ecosystem;

use crate::support::{assert_well_formed, find, fixture, fixture_text, run, wants};

const PATH: &str = "lib/apk/db/installed";

/// The stanzas of the database as `(field letter, value)` lists, read independently.
fn stanzas() -> Vec<Vec<(char, String)>> {
    fixture_text("apk/installed")
        .split("\n\n")
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.lines()
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.chars().next().unwrap(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn field(stanza: &[(char, String)], key: char) -> &str {
    &stanza.iter().find(|(k, _)| *k == key).unwrap().1
}

#[test]
fn installed_database_packages() {
    let out = run(&ApkCataloger::new(), PATH, &fixture("apk/installed"));
    assert_well_formed(&out.packages, PATH, "apk");
    let stanzas = stanzas();
    assert_eq!(out.packages.len(), stanzas.len());
    for stanza in &stanzas {
        let package = find(&out.packages, field(stanza, 'P'));
        assert_eq!(package.ecosystem, Ecosystem::Alpine);
        assert_eq!(package.version, field(stanza, 'V'));
        assert_eq!(package.arch.as_deref(), Some(field(stanza, 'A')));
        assert_eq!(package.licenses, [field(stanza, 'L')]);
        let source = package.source.as_ref().unwrap();
        assert_eq!(source.name, field(stanza, 'o'));
        assert_eq!(source.version, package.version);
    }
    let libssl = find(&out.packages, "libssl3");
    assert_eq!(
        libssl.purl,
        "pkg:apk/alpine/libssl3@3.1.4-r5?arch=x86_64&upstream=openssl"
    );
}

#[test]
fn owned_files_join_directories_and_files() {
    let out = run(&ApkCataloger::new(), PATH, &fixture("apk/installed"));
    for stanza in stanzas() {
        let name = field(&stanza, 'P');
        let owned = out.owned_files.iter().find(|o| o.package == name).unwrap();
        let mut expected = Vec::new();
        let mut dir = String::new();
        for (key, value) in &stanza {
            match key {
                'F' => dir.clone_from(value),
                'R' => expected.push(format!("{dir}/{value}")),
                _ => {}
            }
        }
        assert_eq!(owned.paths, expected, "{name}");
    }
    let busybox = out
        .owned_files
        .iter()
        .find(|o| o.package == "busybox")
        .unwrap();
    assert!(
        busybox
            .paths
            .contains(&"usr/share/udhcpc/default.script".to_owned())
    );
}

#[test]
fn truncated_database_and_interest() {
    let content = fixture("apk/installed");
    let out = run(&ApkCataloger::new(), PATH, &content[..content.len() / 2]);
    assert!(!out.packages.is_empty());
    assert!(wants(&ApkCataloger::new(), PATH, 0o644, 1000));
    assert!(!wants(
        &ApkCataloger::new(),
        "lib/apk/db/triggers",
        0o644,
        1000
    ));
}
