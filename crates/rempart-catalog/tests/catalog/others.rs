//! Ruby, PHP and .NET catalogers.

use rempart_catalog::{CatalogOptions, DotnetCataloger, PhpCataloger, RubyCataloger};
use rempart_core::Ecosystem;

use crate::support::{assert_well_formed, fixture, fixture_path, fixture_text, run, wants};

#[test]
fn installed_gemspecs_agree_with_their_stub_line() {
    let analyzer = RubyCataloger::new(CatalogOptions::image());
    let mut seen = 0;
    for entry in std::fs::read_dir(fixture_path("ruby")).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        if !file.ends_with(".gemspec") {
            continue;
        }
        let path = format!("usr/share/rubygems-integration/all/specifications/{file}");
        let text = fixture_text(&format!("ruby/{file}"));
        // RubyGems writes `# stub: NAME VERSION PLATFORM REQUIRE_PATHS` at the top.
        let stub: Vec<&str> = text
            .lines()
            .find_map(|l| l.strip_prefix("# stub: "))
            .unwrap()
            .split(' ')
            .collect();
        let out = run(&analyzer, &path, text.as_bytes());
        assert_well_formed(&out.packages, &path, "gem");
        assert_eq!(out.packages.len(), 1);
        assert_eq!(
            (
                out.packages[0].name.as_str(),
                out.packages[0].version.as_str()
            ),
            (stub[0], stub[1])
        );
        assert_eq!(out.packages[0].licenses, ["MIT"]);
        seen += 1;
    }
    assert_eq!(seen, 2);
    assert!(wants(
        &analyzer,
        "usr/local/bundle/specifications/default/json-2.6.3.gemspec",
        0o644,
        100
    ));
    assert!(!wants(&analyzer, "src/app/app.gemspec", 0o644, 100));
    assert!(!wants(&analyzer, "src/Gemfile.lock", 0o644, 100));
}

#[test]
fn gemfile_lock_gem_specs() {
    let out = run(
        &RubyCataloger::new(CatalogOptions::filesystem()),
        "app/Gemfile.lock",
        &fixture("ruby/Gemfile.lock"),
    );
    let mut found: Vec<(&str, &str)> = out
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    found.sort_unstable();
    found.dedup();
    // The GEM section's four-space entries; the platform variant of nokogiri is the same version.
    assert_eq!(
        found,
        [
            ("mini_portile2", "2.8.5"),
            ("nokogiri", "1.15.4"),
            ("racc", "1.7.3"),
            ("rack", "2.2.8")
        ]
    );
}

#[test]
fn composer_installed_and_lock() {
    let analyzer = PhpCataloger::new(CatalogOptions::filesystem());
    let content = fixture("php/installed.json");
    let path = "var/www/vendor/composer/installed.json";
    let out = run(&analyzer, path, &content);
    assert_well_formed(&out.packages, path, "composer");
    let document: serde_json::Value = serde_json::from_slice(&content).unwrap();
    let released: Vec<&serde_json::Value> = document["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["version"].as_str().unwrap().starts_with("dev-"))
        .collect();
    assert_eq!(out.packages.len(), released.len());
    for (package, entry) in out.packages.iter().zip(released) {
        assert_eq!(package.name, entry["name"].as_str().unwrap());
        assert_eq!(
            package.version,
            entry["version"].as_str().unwrap().trim_start_matches('v')
        );
        assert_eq!(package.ecosystem, Ecosystem::Packagist);
    }
    assert_eq!(out.packages[0].purl, "pkg:composer/monolog/monolog@3.5.0");

    let lock = run(
        &analyzer,
        "app/composer.lock",
        &fixture("php/composer.lock"),
    );
    assert_eq!(lock.packages.len(), 3);
    assert!(!wants(
        &PhpCataloger::new(CatalogOptions::image()),
        "app/composer.lock",
        0o644,
        100
    ));
}

#[test]
fn dotnet_deps_json_packages_only() {
    let content = fixture("dotnet/WebApp.deps.json");
    let path = "app/WebApp.deps.json";
    let out = run(
        &DotnetCataloger::new(CatalogOptions::image()),
        path,
        &content,
    );
    assert_well_formed(&out.packages, path, "nuget");
    let document: serde_json::Value = serde_json::from_slice(&content).unwrap();
    let packages: Vec<&String> = document["libraries"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v["type"] == "package")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(out.packages.len(), packages.len());
    for package in &out.packages {
        assert!(packages.contains(&&format!("{}/{}", package.name, package.version)));
    }
    assert!(
        out.packages
            .iter()
            .any(|p| p.purl == "pkg:nuget/Newtonsoft.Json@13.0.3")
    );
}

#[test]
fn nuget_lock_file() {
    let analyzer = DotnetCataloger::new(CatalogOptions::filesystem());
    assert!(!wants(
        &DotnetCataloger::new(CatalogOptions::image()),
        "src/packages.lock.json",
        0o644,
        100
    ));
    let content = fixture("dotnet/packages.lock.json");
    let out = run(&analyzer, "src/packages.lock.json", &content);
    assert_well_formed(&out.packages, "src/packages.lock.json", "nuget");
    let document: serde_json::Value = serde_json::from_slice(&content).unwrap();
    let mut expected = std::collections::BTreeSet::new();
    for framework in document["dependencies"].as_object().unwrap().values() {
        for (name, entry) in framework.as_object().unwrap() {
            if entry["type"] != "Project" {
                expected.insert((name.clone(), entry["resolved"].as_str().unwrap().to_owned()));
            }
        }
    }
    let found: std::collections::BTreeSet<_> = out
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(out.packages.len(), expected.len());
}
