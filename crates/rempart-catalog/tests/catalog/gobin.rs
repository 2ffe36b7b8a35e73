use std::collections::BTreeSet;

use rempart_catalog::{CatalogOptions, GoBinaryCataloger, GoModCataloger};

use crate::support::{fixture, fixture_text, run_chunked, wants};

/// The modules `go version -m` prints for the whole binary, with replacements applied and
/// replacements by local directories left out, plus `stdlib` at the toolchain version.
fn expected_from_go_version(name: &str) -> BTreeSet<(String, String)> {
    let text = fixture_text(&format!("go/expected-go-version-m-{name}.txt"));
    let mut lines = text.lines();
    let go = lines.next().unwrap().rsplit(' ').next().unwrap();
    let mut modules: Vec<(String, String)> = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.trim_start().split('\t').collect();
        match fields[0] {
            "mod" | "dep" => modules.push((fields[1].to_owned(), fields[2].to_owned())),
            "=>" if fields[1].starts_with('.') => {
                modules.pop();
            }
            "=>" => *modules.last_mut().unwrap() = (fields[1].to_owned(), fields[2].to_owned()),
            _ => {}
        }
    }
    modules.push((
        "stdlib".to_owned(),
        format!("v{}", go.trim_start_matches("go")),
    ));
    modules.into_iter().collect()
}

#[test]
fn build_info_agrees_with_go_version_m_for_any_chunking() {
    let analyzer = GoBinaryCataloger::new();
    for name in ["terraform", "gosu"] {
        let content = fixture(&format!("go/{name}-buildinfo-window.bin"));
        let expected = expected_from_go_version(name);
        // Chunk sizes that split the magic, the header and the strings at every kind of place.
        for chunk in [1, 7, 13, 14, 4096, 4093, 65536] {
            let path = format!("usr/local/bin/{name}");
            let out = run_chunked(&analyzer, &path, 0o755, &content, chunk);
            assert!(out.skipped.is_empty(), "{:?}", out.skipped);
            let found: BTreeSet<(String, String)> = out
                .packages
                .iter()
                .map(|p| (p.name.clone(), p.version.clone()))
                .collect();
            assert_eq!(found, expected, "{name} in chunks of {chunk}");
            assert_eq!(out.packages.len(), expected.len());
            for package in &out.packages {
                assert_eq!(package.locations[0].path, path);
                assert!(package.purl.starts_with("pkg:golang/"), "{}", package.purl);
            }
        }
    }
}

#[test]
fn purls_of_modules_main_and_stdlib() {
    let content = fixture("go/terraform-buildinfo-window.bin");
    let out = run_chunked(
        &GoBinaryCataloger::new(),
        "bin/terraform",
        0o755,
        &content,
        4096,
    );
    let main = out
        .packages
        .iter()
        .find(|p| p.name == "github.com/hashicorp/terraform")
        .unwrap();
    assert_eq!(main.version, "(devel)");
    assert_eq!(main.purl, "pkg:golang/github.com/hashicorp/terraform");
    let stdlib = out.packages.iter().find(|p| p.name == "stdlib").unwrap();
    assert_eq!(stdlib.purl, format!("pkg:golang/stdlib@{}", stdlib.version));
    let dep = out
        .packages
        .iter()
        .find(|p| p.name == "cloud.google.com/go")
        .unwrap();
    assert_eq!(
        dep.purl,
        format!("pkg:golang/cloud.google.com/go@{}", dep.version)
    );
}

#[test]
fn non_go_and_truncated_binaries() {
    let analyzer = GoBinaryCataloger::new();
    let out = run_chunked(&analyzer, "bin/sh", 0o755, &vec![0x7f; 10_000], 4096);
    assert!(out.packages.is_empty() && out.skipped.is_empty());
    let content = fixture("go/terraform-buildinfo-window.bin");
    let magic = content
        .windows(14)
        .position(|w| w == b"\xff Go buildinf:")
        .unwrap();
    // Cut inside the module information: reported as skipped, nothing invented.
    let out = run_chunked(&analyzer, "bin/cut", 0o755, &content[..magic + 200], 4096);
    assert!(out.packages.is_empty());
    assert_eq!(out.skipped.len(), 1);
    assert!(!wants(&analyzer, "bin/data", 0o644, 10_000));
    assert!(wants(&analyzer, "bin/tool", 0o755, 10_000));
}

#[test]
fn go_mod_requires_with_replacements() {
    let analyzer = GoModCataloger::new(CatalogOptions::filesystem());
    assert!(!wants(
        &GoModCataloger::new(CatalogOptions::image()),
        "src/go.mod",
        0o644,
        100
    ));
    let content = fixture("go/go.mod");
    let out = run_chunked(&analyzer, "src/go.mod", 0o644, &content, 4096);
    let text = String::from_utf8(content).unwrap();
    let found: BTreeSet<(&str, &str)> = out
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    // Requirement lines, in and out of blocks; the local replacement drops one.
    let required = text
        .lines()
        .filter(|l| l.contains(" v") && !l.starts_with("replace"))
        .count()
        - text.lines().filter(|l| l.contains("=> ./")).count();
    assert_eq!(out.packages.len(), required);
    assert!(found.contains(&("golang.org/x/net", "v0.17.0")));
    assert!(found.contains(&("github.com/example/fork", "v1.0.1")));
    assert!(
        !found
            .iter()
            .any(|(name, _)| *name == "github.com/example/local")
    );
    assert!(out.packages.iter().all(|p| p.locations[0].line.is_some()));
}

/// Before Go 1.18 the header held pointers (flags bit 2 clear) and the module information was
/// found by its sentinels elsewhere in the binary. The same real blob with the flag cleared takes
/// that path: the modules still agree with `go version -m`, and no `stdlib` is invented since the
/// version sits behind a pointer.
#[test]
fn pointer_format_falls_back_to_the_module_sentinels() {
    let mut content = fixture("go/terraform-buildinfo-window.bin");
    let magic = content
        .windows(14)
        .position(|w| w == b"\xff Go buildinf:")
        .unwrap();
    content[magic + 15] &= !2;
    let mut expected = expected_from_go_version("terraform");
    expected.retain(|(name, _)| name != "stdlib");
    for chunk in [5, 4096] {
        let out = run_chunked(&GoBinaryCataloger::new(), "bin/old", 0o755, &content, chunk);
        let found: BTreeSet<(String, String)> = out
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        assert_eq!(found, expected);
    }
}
