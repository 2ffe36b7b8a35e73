use rempart_catalog::{CatalogOptions, PythonCataloger};

use crate::support::{assert_well_formed, find, fixture, fixture_path, fixture_text, run, wants};

fn metadata_files() -> Vec<(String, Vec<u8>)> {
    let root = fixture_path("python/site-packages");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let file = if name.ends_with(".dist-info") {
            "METADATA"
        } else {
            "PKG-INFO"
        };
        let path = format!("usr/lib/python3/site-packages/{name}/{file}");
        files.push((path, std::fs::read(dir.join(file)).unwrap()));
    }
    files
}

#[test]
fn installed_metadata_agrees_with_importlib() {
    // [name, version, PEP 503 name] per distribution, from importlib.metadata and packaging.
    let expected: Vec<(String, String, String)> =
        serde_json::from_str(&fixture_text("python/expected-importlib.json")).unwrap();
    let analyzer = PythonCataloger::new(CatalogOptions::image());
    let mut found = Vec::new();
    for (path, content) in metadata_files() {
        let out = run(&analyzer, &path, &content);
        assert_well_formed(&out.packages, &path, "pypi");
        assert_eq!(out.packages.len(), 1, "{path}");
        found.extend(out.packages);
    }
    assert_eq!(found.len(), expected.len());
    for (name, version, normalized) in expected {
        let package = find(&found, &name);
        assert_eq!(package.version, version);
        assert_eq!(package.purl, format!("pkg:pypi/{normalized}@{version}"));
    }
}

#[test]
fn licenses_follow_the_metadata_precedence() {
    let analyzer = PythonCataloger::new(CatalogOptions::image());
    let licenses = |dir: &str, file: &str| {
        let content = fixture(&format!("python/site-packages/{dir}/{file}"));
        let out = run(&analyzer, &format!("site-packages/{dir}/{file}"), &content);
        out.packages[0].licenses.clone()
    };
    // License-Expression wins.
    assert_eq!(licenses("attrs-26.1.0.dist-info", "METADATA"), ["MIT"]);
    // `UNKNOWN` falls back to the classifiers.
    assert_eq!(
        licenses("backcall-0.2.0.dist-info", "METADATA"),
        ["BSD License"]
    );
    // Only classifiers.
    assert_eq!(
        licenses("jinja2-3.1.6.dist-info", "METADATA"),
        ["BSD License"]
    );
    assert_eq!(licenses("PyJWT-2.6.0.egg-info", "PKG-INFO"), ["MIT"]);
    assert_eq!(
        licenses("orjson-3.8.3.dist-info", "METADATA"),
        ["Apache-2.0 OR MIT"]
    );
}

#[test]
fn lock_files_only_in_filesystem_mode() {
    let image = PythonCataloger::new(CatalogOptions::image());
    let fs = PythonCataloger::new(CatalogOptions::filesystem());
    for name in [
        "requirements.txt",
        "requirements-dev.txt",
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
    ] {
        let path = format!("src/app/{name}");
        assert!(!wants(&image, &path, 0o644, 100), "{name}");
        assert!(wants(&fs, &path, 0o644, 100), "{name}");
    }
    assert!(wants(&image, "x/foo.egg-info", 0o644, 100));
    assert!(!wants(&image, "x/foo.dist-info/RECORD", 0o644, 100));
}

#[test]
fn requirements_keep_exact_pins_only() {
    let analyzer = PythonCataloger::new(CatalogOptions::filesystem());
    let content = fixture("python/requirements.txt");
    let out = run(&analyzer, "app/requirements.txt", &content);
    let text = String::from_utf8(content).unwrap();
    let pins: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("==") && !l.trim_start().starts_with(['#', '-']))
        .collect();
    assert_eq!(out.packages.len(), pins.len(), "{:#?}", out.packages);
    for (package, (index, line)) in out.packages.iter().zip(pins) {
        assert_eq!(package.locations[0].line, Some(index as u32 + 1));
        assert!(
            line.replace(' ', "")
                .contains(&format!("=={}", package.version)),
            "{line}"
        );
    }
    let requests = find(&out.packages, "requests");
    assert_eq!(
        requests.purl,
        format!("pkg:pypi/requests@{}", requests.version)
    );
}

#[test]
fn toml_and_json_lock_files() {
    let analyzer = PythonCataloger::new(CatalogOptions::filesystem());
    for (fixture_name, count_marker) in [
        ("python/poetry.lock", "[[package]]"),
        ("python/uv.lock", "[[package]]"),
    ] {
        let content = fixture(fixture_name);
        let text = String::from_utf8(content.clone()).unwrap();
        let file = fixture_name.trim_start_matches("python/");
        let out = run(&analyzer, file, &content);
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        // uv lists the project itself with an editable or virtual source.
        let local = text.matches("source = { editable").count()
            + text.matches("source = { virtual").count();
        assert_eq!(
            out.packages.len(),
            text.matches(count_marker).count() - local,
            "{file}"
        );
    }
    let content = fixture("python/Pipfile.lock");
    let lock: serde_json::Value = serde_json::from_slice(&content).unwrap();
    let out = run(&analyzer, "Pipfile.lock", &content);
    let expected =
        lock["default"].as_object().unwrap().len() + lock["develop"].as_object().unwrap().len();
    assert_eq!(out.packages.len(), expected);

    let broken = run(&analyzer, "poetry.lock", b"[[package]\nname = ");
    assert!(broken.packages.is_empty());
    assert_eq!(broken.skipped.len(), 1);
    assert!(
        broken.skipped[0]
            .detail
            .as_ref()
            .unwrap()
            .contains("poetry.lock")
    );
}
