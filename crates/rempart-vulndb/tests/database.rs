//! Building, opening and describing the database.

#![allow(clippy::format_push_string)]

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::time::{Duration, SystemTime};

use common::{advisory_snapshot, fixture};
use rempart_vulndb::{Database, SCHEMA_VERSION, VulnDbError, default_db_path, import_paths};

/// A `modified` time as a UTC instant, `None` for the Go export's "unset" (year 1).
fn instant(text: &str) -> Option<time::OffsetDateTime> {
    let text = text.replacen(' ', "T", 1);
    let parsed =
        time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339).ok()?;
    (parsed.year() >= 1970).then_some(parsed)
}

/// Counts records, withdrawn ones and the newest `modified` of an OSV zip, independently of the
/// importer.
fn zip_facts(path: &std::path::Path) -> (u64, u64, Option<time::OffsetDateTime>) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let (mut records, mut withdrawn, mut newest) = (0, 0, None);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        if value.get("withdrawn").is_some() {
            withdrawn += 1;
            continue;
        }
        records += 1;
        let modified = instant(value["modified"].as_str().unwrap());
        if modified > newest {
            newest = modified;
        }
    }
    (records, withdrawn, newest)
}

#[test]
fn imports_the_real_exports_and_reports_status() {
    let snapshot = advisory_snapshot();
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("db/vuln.sqlite");
    let inputs = vec![
        snapshot.join("PyPI-all.zip"),
        snapshot.join("Go-all.zip"),
        snapshot.join("crates.io-all.zip"),
        snapshot.join("alpine-secdb"),
    ];
    let stats = import_paths(&db_path, &inputs).unwrap();
    assert_eq!(stats.rejected, 0, "{:?}", stats.problems);

    let mut expected_osv = 0;
    let mut expected_withdrawn = 0;
    let mut snapshots = BTreeMap::new();
    for (source, file) in [
        ("osv:PyPI", "PyPI-all.zip"),
        ("osv:Go", "Go-all.zip"),
        ("osv:crates.io", "crates.io-all.zip"),
    ] {
        let (records, withdrawn, newest) = zip_facts(&snapshot.join(file));
        expected_osv += records;
        expected_withdrawn += withdrawn;
        snapshots.insert(source.to_owned(), (records, newest));
    }
    assert_eq!(stats.withdrawn, expected_withdrawn);

    let database = Database::open(&db_path).unwrap();
    let status = database.status().unwrap();
    assert_eq!(status.schema_version, SCHEMA_VERSION);
    assert_eq!(status.advisories, stats.advisories);
    assert_eq!(status.affected_packages, stats.affected_packages);
    assert_eq!(status.size_bytes, stats.db_size_bytes);
    let by_name: BTreeMap<_, _> = status.sources.iter().map(|s| (s.name.clone(), s)).collect();
    for (name, (records, newest)) in &snapshots {
        let source = by_name.get(name).unwrap_or_else(|| panic!("source {name}"));
        assert_eq!(source.advisories, *records, "{name}");
        // Dates are stored in one form, UTC with a `Z`; an export without dates has none.
        let stored = source.snapshot.as_deref().map(|s| instant(s).unwrap());
        let newest = newest.map(|t| t.replace_nanosecond(0).unwrap());
        assert_eq!(stored, newest, "{name} (stored to the second)");
        if let Some(text) = &source.snapshot {
            assert!(text.ends_with('Z') && text.len() == 20, "{text}");
        }
    }
    let alpine: u64 = ["alpine-secdb:3.10", "alpine-secdb:3.11"]
        .iter()
        .map(|name| by_name[*name].advisories)
        .sum();
    assert!(alpine > 1000, "alpine advisories: {alpine}");
    assert_eq!(status.advisories, expected_osv + alpine);

    // Freshly built: not stale for a day, stale when "now" is two days later.
    assert!(!status.is_stale(Duration::from_hours(24), SystemTime::now()));
    assert!(status.is_stale(
        Duration::from_hours(24),
        SystemTime::now() + Duration::from_hours(48)
    ));
    assert!(status.built_at_rfc3339.ends_with('Z') && status.built_at_rfc3339.len() == 20);
}

#[test]
fn failed_rebuild_leaves_the_previous_database_working() {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    import_paths(&db_path, &[fixture("osv-npm-maven")]).unwrap();
    let before = Database::open(&db_path).unwrap().status().unwrap();

    let error = import_paths(
        &db_path,
        &[fixture("osv-debian"), fixture("bad/broken-secdb.yaml")],
    )
    .unwrap_err();
    assert!(error.to_string().contains("broken-secdb.yaml"), "{error}");

    let after = Database::open(&db_path).unwrap().status().unwrap();
    assert_eq!(before.sources, after.sources);
    assert_eq!(before.advisories, after.advisories);
    let leftovers: Vec<_> = std::fs::read_dir(directory.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["vuln.sqlite"],
        "temporary build files are removed"
    );
}

#[test]
fn rebuild_replaces_the_previous_content() {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    import_paths(&db_path, &[fixture("osv-npm-maven")]).unwrap();
    let opened_before = Database::open(&db_path).unwrap();
    import_paths(&db_path, &[fixture("osv-debian")]).unwrap();
    let status = Database::open(&db_path).unwrap().status().unwrap();
    let names: Vec<_> = status.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["osv:Debian"]);
    // A reader that opened the old file keeps reading it until it closes.
    assert!(opened_before.status().is_ok());
}

#[test]
fn directory_import_counts_withdrawn_and_rejects_broken_records() {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    let stats = import_paths(
        &db_path,
        &[fixture("osv-npm-maven"), fixture("bad/broken.json")],
    );
    // A broken file given directly is an error naming it.
    let error = stats.unwrap_err();
    assert!(matches!(error, VulnDbError::Parse { .. }), "{error}");
    assert!(error.to_string().contains("broken.json"), "{error}");

    let stats = import_paths(&db_path, &[fixture("osv-npm-maven"), fixture("bad")]);
    // Inside a directory, a broken record is counted and reported, the rest imported; the
    // broken secdb YAML there is still an error, since a half-read secdb would hide fixes.
    assert!(stats.is_err());

    let stats = import_paths(&db_path, &[fixture("osv-npm-maven")]).unwrap();
    assert_eq!(stats.withdrawn, 1);
    assert_eq!(stats.advisories, 4);
    assert_eq!(stats.rejected, 0);
}

#[test]
fn broken_json_inside_a_directory_is_reported_not_fatal() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("feed");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(
        fixture("osv-npm-maven/GHSA-p6mc-m468-83gw.json"),
        input.join("good.json"),
    )
    .unwrap();
    std::fs::copy(fixture("bad/broken.json"), input.join("broken.json")).unwrap();
    let stats = import_paths(&directory.path().join("vuln.sqlite"), &[input]).unwrap();
    assert_eq!(stats.advisories, 1);
    assert_eq!(stats.rejected, 1);
    assert!(
        stats.problems[0].contains("broken.json"),
        "{:?}",
        stats.problems
    );
}

#[test]
fn unknown_inputs_and_foreign_files_are_refused() {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    let other = directory.path().join("notes.json");
    std::fs::write(&other, r#"{"hello": "world"}"#).unwrap();
    let error = import_paths(&db_path, std::slice::from_ref(&other)).unwrap_err();
    assert!(
        matches!(error, VulnDbError::UnknownFormat { .. }),
        "{error}"
    );
    assert!(!db_path.exists());

    let missing = import_paths(&db_path, &[directory.path().join("missing.zip")]).unwrap_err();
    assert!(missing.to_string().contains("missing.zip"), "{missing}");

    // A file that is not a rempart database, and one that is not SQLite at all.
    let error = Database::open(&other).unwrap_err();
    assert!(error.to_string().contains("notes.json"), "{error}");
    let foreign = directory.path().join("foreign.sqlite");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('schema_version', '999');")
        .unwrap();
    let error = Database::open(&foreign).unwrap_err();
    assert!(
        matches!(error, VulnDbError::SchemaMismatch { .. }),
        "{error}"
    );
}

#[test]
fn zip_bombs_and_fake_zips_are_bounded_errors() {
    let directory = tempfile::tempdir().unwrap();
    let fake = directory.path().join("fake.zip");
    std::fs::write(&fake, b"PK\x03\x04 definitely not a zip").unwrap();
    let error = import_paths(&directory.path().join("vuln.sqlite"), &[fake]).unwrap_err();
    assert!(error.to_string().contains("fake.zip"), "{error}");
}

#[test]
fn default_path_is_in_the_cache_directory() {
    let path = default_db_path().unwrap();
    assert!(
        path.ends_with("rempart/db/vuln.sqlite"),
        "{}",
        path.display()
    );
}

#[test]
fn the_same_export_twice_keeps_one_copy_of_each_record() {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    let once = import_paths(&db_path, &[fixture("osv-npm-maven")]).unwrap();
    let twice = import_paths(
        &db_path,
        &[fixture("osv-npm-maven"), fixture("osv-npm-maven")],
    )
    .unwrap();
    assert_eq!(once.advisories, twice.advisories);
    assert_eq!(once.affected_packages, twice.affected_packages);

    // A newer revision of a record replaces the older one wherever it comes from.
    let newer = directory.path().join("newer");
    std::fs::create_dir(&newer).unwrap();
    let text = std::fs::read_to_string(fixture("osv-npm-maven/GHSA-p6mc-m468-83gw.json"))
        .unwrap()
        .replace("2024-03-01T10:00:00Z", "2025-01-01T00:00:00Z")
        .replace("\"fixed\": \"4.17.20\"", "\"fixed\": \"4.17.21\"");
    std::fs::write(newer.join("GHSA-p6mc-m468-83gw.json"), text).unwrap();
    let stats = import_paths(&db_path, &[fixture("osv-npm-maven"), newer]).unwrap();
    assert_eq!(stats.advisories, once.advisories);
    let status = Database::open(&db_path).unwrap().status().unwrap();
    let npm = status.sources.iter().find(|s| s.name == "osv:npm").unwrap();
    assert_eq!(npm.snapshot.as_deref(), Some("2025-01-01T00:00:00Z"));
    assert_eq!(status.affected_packages, once.affected_packages);
    let matcher = rempart_vulndb::VulnMatcher::new(Database::open(&db_path).unwrap());
    let lodash = common::package(rempart_core::Ecosystem::Npm, "lodash", "4.17.20");
    let found = matcher.match_packages(&[lodash], None).unwrap();
    assert_eq!(found.len(), 1, "the newer revision's range applies");
}

#[test]
fn yaml_alias_bomb_is_refused_quickly() {
    let directory = tempfile::tempdir().unwrap();
    let bomb = directory.path().join("v3.19");
    std::fs::create_dir(&bomb).unwrap();
    let mut text = String::from(
        "a0: &a0 [\"CVE-0\", \"CVE-0\", \"CVE-0\", \"CVE-0\", \"CVE-0\", \"CVE-0\", \"CVE-0\", \"CVE-0\", \"CVE-0\"]\n",
    );
    for level in 1..20 {
        let previous = format!("*a{}", level - 1);
        text.push_str(&format!(
            "a{level}: &a{level} [{}]\n",
            vec![previous; 9].join(", ")
        ));
    }
    text.push_str("packages:\n  - pkg:\n      name: bomb\n      secfixes:\n        1.0-r0: *a19\n");
    let path = bomb.join("main.yaml");
    std::fs::write(&path, text).unwrap();
    let started = std::time::Instant::now();
    let error = import_paths(&directory.path().join("vuln.sqlite"), &[path]).unwrap_err();
    assert!(error.to_string().contains("main.yaml"), "{error}");
    // A guard against expanding the aliases (a hang), not a speed target; generous on purpose.
    assert!(started.elapsed() < Duration::from_mins(1));
}

fn advisory_count(db_path: &std::path::Path) -> u64 {
    Database::open(db_path)
        .unwrap()
        .status()
        .unwrap()
        .advisories
}

#[test]
fn a_database_with_damaged_pages_refuses_to_open() {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    import_paths(&db_path, &[advisory_snapshot().join("crates.io-all.zip")]).unwrap();
    assert!(Database::open(&db_path).is_ok());
    // Overwrite the header of every b-tree page past the first with garbage, as a failing disk
    // or a bad copy would.
    let mut bytes = std::fs::read(&db_path).unwrap();
    let page_size = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    for page in (page_size..bytes.len())
        .step_by(page_size)
        .skip(1)
        .step_by(3)
    {
        bytes[page..page + 8].copy_from_slice(&[0x0d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    }
    std::fs::write(&db_path, &bytes).unwrap();
    let error = Database::open(&db_path).unwrap_err();
    assert!(matches!(error, VulnDbError::Damaged { .. }), "{error}");
    assert!(error.to_string().contains("rebuild it"), "{error}");

    // Damage far from the pages opening reads (the last page only) is found by the check.
    import_paths(&db_path, &[advisory_snapshot().join("crates.io-all.zip")]).unwrap();
    let mut bytes = std::fs::read(&db_path).unwrap();
    let last = bytes.len() - page_size;
    bytes[last..last + 8].copy_from_slice(&[0x0d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    std::fs::write(&db_path, &bytes).unwrap();
    let error = Database::open(&db_path).unwrap_err();
    assert!(matches!(error, VulnDbError::Damaged { .. }), "{error}");
}

#[test]
fn a_row_that_does_not_decode_fails_the_match_instead_of_hiding_it() {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    import_paths(&db_path, &[fixture("osv-npm-maven")]).unwrap();
    let matcher = rempart_vulndb::VulnMatcher::open(&db_path).unwrap();
    let lodash = common::package(rempart_core::Ecosystem::Npm, "lodash", "4.17.15");
    assert!(
        !matcher
            .match_packages(std::slice::from_ref(&lodash), None)
            .unwrap()
            .is_empty()
    );
    drop(matcher);

    let connection = rusqlite::Connection::open(&db_path).unwrap();
    connection
        .execute(
            "UPDATE advisories SET cvss = '[\"CVSS:3.1/AV:N' WHERE id = 'GHSA-p6mc-m468-83gw'",
            [],
        )
        .unwrap();
    drop(connection);
    let matcher = rempart_vulndb::VulnMatcher::open(&db_path).unwrap();
    let error = matcher.match_packages(&[lodash], None).unwrap_err();
    assert!(matches!(error, VulnDbError::Damaged { .. }), "{error}");
    assert!(error.to_string().contains("GHSA-p6mc-m468-83gw"), "{error}");
}

#[test]
fn an_import_that_would_empty_or_gut_the_database_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    let full = advisory_snapshot().join("PyPI-all.zip");
    import_paths(&db_path, std::slice::from_ref(&full)).unwrap();
    let before = advisory_count(&db_path);
    let empty = directory.path().join("empty");
    std::fs::create_dir(&empty).unwrap();

    let error = import_paths(&db_path, std::slice::from_ref(&empty)).unwrap_err();
    assert!(
        matches!(error, VulnDbError::ImportRefused { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("no advisory"), "{error}");
    let guard = rempart_vulndb::ImportGuard {
        allow_empty: false,
        min_share_of_previous: Some(0.5),
    };
    let error = rempart_vulndb::import_paths_guarded(&db_path, &[fixture("osv-npm-maven")], guard)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("where the current database holds"),
        "{error}"
    );
    assert_eq!(
        advisory_count(&db_path),
        before,
        "the refused builds left the database as it was"
    );
    let leftovers: Vec<_> = std::fs::read_dir(directory.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".vuln-db-build-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Asked for, the replacement goes through.
    let forced = rempart_vulndb::ImportGuard {
        allow_empty: true,
        min_share_of_previous: None,
    };
    rempart_vulndb::import_paths_guarded(&db_path, &[empty], forced).unwrap();
    assert_eq!(advisory_count(&db_path), 0);
}
