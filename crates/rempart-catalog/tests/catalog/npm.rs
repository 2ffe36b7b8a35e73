use std::collections::BTreeSet;

use rempart_catalog::{CatalogOptions, NpmCataloger};
use rempart_core::Package;

use crate::support::{assert_well_formed, fixture, fixture_path, fixture_text, run, wants};

/// `npm query '*'` over the installed tree: `[name, version, location]` per installed module.
/// pnpm 9 and Yarn 1 and 4 resolved the same package set for the same `package.json`.
fn npm_query() -> Vec<(String, String, String)> {
    serde_json::from_str(&fixture_text("npm/expected-npm-query.json")).unwrap()
}

fn distinct(packages: &[Package]) -> BTreeSet<(String, String)> {
    packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect()
}

fn expected_distinct() -> BTreeSet<(String, String)> {
    npm_query()
        .into_iter()
        .map(|(name, version, _)| (name, version))
        .collect()
}

#[test]
fn installed_modules_agree_with_npm_query() {
    let analyzer = NpmCataloger::new(CatalogOptions::image());
    for (name, version, location) in npm_query() {
        let path = format!("app/{location}/package.json");
        let content = fixture(&format!("npm/{path}"));
        let out = run(&analyzer, &path, &content);
        assert_well_formed(&out.packages, &path, "npm");
        assert_eq!(out.packages.len(), 1, "{path}");
        assert_eq!(
            (
                out.packages[0].name.as_str(),
                out.packages[0].version.as_str()
            ),
            (name.as_str(), version.as_str())
        );
    }
    // The application's own manifest is not an installed module.
    assert!(!wants(&analyzer, "app/package.json", 0o644, 100));
}

#[test]
fn purls_and_licenses() {
    let analyzer = NpmCataloger::new(CatalogOptions::image());
    let path = "app/node_modules/@isaacs/cliui/package.json";
    let out = run(&analyzer, path, &fixture(&format!("npm/{path}")));
    let manifest: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("npm/{path}"))).unwrap();
    assert_eq!(out.packages[0].purl, "pkg:npm/%40isaacs/cliui@8.0.2");
    assert_eq!(
        out.packages[0].licenses,
        [manifest["license"].as_str().unwrap()]
    );

    let object = run(
        &analyzer,
        "node_modules/old/package.json",
        br#"{"name":"old","version":"0.1.0","license":{"type":"BSD","url":"x"}}"#,
    );
    assert_eq!(object.packages[0].licenses, ["BSD"]);
    let array = run(
        &analyzer,
        "node_modules/old/package.json",
        br#"{"name":"old","version":"0.1.0","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#,
    );
    assert_eq!(array.packages[0].licenses, ["MIT", "Apache-2.0"]);
    let broken = run(&analyzer, "node_modules/old/package.json", b"{\"name\": ");
    assert!(broken.packages.is_empty());
    assert!(
        broken.skipped[0]
            .detail
            .as_ref()
            .unwrap()
            .contains("node_modules/old/package.json")
    );
}

#[test]
fn lock_files_agree_with_the_installed_tree() {
    let analyzer = NpmCataloger::new(CatalogOptions::filesystem());
    for (fixture_name, path) in [
        ("npm/app/package-lock.json", "app/package-lock.json"),
        ("npm/yarn-v1.lock", "app/yarn.lock"),
        ("npm/yarn-berry.lock", "app/yarn.lock"),
        ("npm/pnpm-lock-v9.yaml", "app/pnpm-lock.yaml"),
    ] {
        let out = run(&analyzer, path, &fixture(fixture_name));
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        assert_well_formed(&out.packages, path, "npm");
        assert_eq!(
            distinct(&out.packages),
            expected_distinct(),
            "{fixture_name}"
        );
        assert_eq!(
            out.packages.len(),
            expected_distinct().len(),
            "{fixture_name} has duplicates"
        );
    }
    let image = NpmCataloger::new(CatalogOptions::image());
    assert!(!wants(&image, "app/package-lock.json", 0o644, 100));
    assert!(!wants(&image, "app/yarn.lock", 0o644, 100));
    assert!(!wants(
        &analyzer,
        "app/node_modules/x/yarn.lock",
        0o644,
        100
    ));
    assert!(fixture_path("npm/app/package-lock.json").exists());
}

#[test]
fn package_lock_v1_nested_tree() {
    let lock = br#"{
      "name": "app", "version": "1.0.0", "lockfileVersion": 1, "requires": true,
      "dependencies": {
        "debug": {"version": "2.6.9", "requires": {"ms": "2.0.0"},
          "dependencies": {"ms": {"version": "2.0.0"}}},
        "ms": {"version": "2.1.3"},
        "local": {"version": "file:../local"}
      }
    }"#;
    let out = run(
        &NpmCataloger::new(CatalogOptions::filesystem()),
        "package-lock.json",
        lock,
    );
    let found = distinct(&out.packages);
    let expected: BTreeSet<(String, String)> =
        [("debug", "2.6.9"), ("ms", "2.0.0"), ("ms", "2.1.3")]
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
    assert_eq!(found, expected);
}

#[test]
fn hostile_yaml_is_refused() {
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\npackages: *g\n";
    let out = run(
        &NpmCataloger::new(CatalogOptions::filesystem()),
        "pnpm-lock.yaml",
        bomb.as_bytes(),
    );
    assert!(out.packages.is_empty());
    assert_eq!(out.skipped.len(), 1);
}
