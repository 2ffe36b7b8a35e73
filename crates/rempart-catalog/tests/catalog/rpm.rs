use rempart_catalog::RpmCataloger;
use rempart_core::Ecosystem;

use crate::support::{assert_well_formed, find, fixture, fixture_text, run, wants};

const PATH: &str = "var/lib/rpm/rpmdb.sqlite";

#[test]
fn sqlite_database_agrees_with_rpm_query() {
    check_against_rpm_query(PATH, "rpm/rpmdb.sqlite");
}

/// The same headers loaded into Berkeley DB hash files by `db5.3_load` (4096- and 512-byte
/// pages, the second forcing long overflow chains); `rpm --define '_db_backend bdb_ro' -qa`
/// prints the same as for the `SQLite` database.
#[test]
fn berkeley_db_agrees_with_rpm_query() {
    check_against_rpm_query("var/lib/rpm/Packages", "rpm/Packages-bdb-4096");
    check_against_rpm_query("var/lib/rpm/Packages", "rpm/Packages-bdb-512");
}

#[test]
fn damaged_berkeley_db() {
    let real = fixture("rpm/Packages-bdb-512");
    for cut in [10, 100, real.len() / 2, real.len() - 100] {
        let _ = run(&RpmCataloger::new(), "var/lib/rpm/Packages", &real[..cut]);
    }
    // Every overflow page pointing at itself: bounded, reported.
    let mut looped = real.clone();
    for page in looped.chunks_mut(512).skip(1) {
        if page[25] == 7 {
            let number = u32::from_le_bytes(page[8..12].try_into().unwrap());
            page[16..20].copy_from_slice(&number.to_le_bytes());
        }
    }
    let out = run(&RpmCataloger::new(), "var/lib/rpm/Packages", &looped);
    assert!(out.packages.is_empty());
    assert!(!out.skipped.is_empty());

    // Many entries pointing at the same long overflow chain: refused, not copied many times.
    let mut shared = real.clone();
    let mut items = Vec::new();
    for (number, page) in real.chunks(512).enumerate().skip(1) {
        if page[25] != 13 && page[25] != 2 {
            continue;
        }
        let entries = usize::from(u16::from_le_bytes([page[20], page[21]]));
        for index in 0..entries {
            let at = 26 + index * 2;
            let offset = usize::from(u16::from_le_bytes([page[at], page[at + 1]]));
            if page[offset] == 3 {
                items.push(number * 512 + offset);
            }
        }
    }
    assert!(
        items.len() >= 2,
        "the fixture keeps its headers on overflow pages"
    );
    // Each claims just over half the file and starts at the first chain.
    let half = u32::try_from(real.len() / 2 + 1).unwrap();
    let first_page: [u8; 4] = real[items[0] + 4..items[0] + 8].try_into().unwrap();
    for item in items {
        shared[item + 4..item + 8].copy_from_slice(&first_page);
        shared[item + 8..item + 12].copy_from_slice(&half.to_le_bytes());
    }
    let out = run(&RpmCataloger::new(), "var/lib/rpm/Packages", &shared);
    assert!(out.packages.is_empty());
    assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
}

#[test]
fn sqlite_view_instead_of_table_is_refused() {
    let directory = std::env::temp_dir().join(format!("rempart-rpm-view-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let file = directory.join("rpmdb.sqlite");
    let _ = std::fs::remove_file(&file);
    let connection = rusqlite::Connection::open(&file).unwrap();
    connection
        .execute_batch(
            "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
             SELECT x AS blob FROM c;",
        )
        .unwrap();
    drop(connection);
    let content = std::fs::read(&file).unwrap();
    std::fs::remove_dir_all(&directory).unwrap();
    let out = run(&RpmCataloger::new(), PATH, &content);
    assert!(out.packages.is_empty());
    assert_eq!(out.skipped.len(), 1);
}

fn check_against_rpm_query(path: &str, fixture_name: &str) {
    let out = run(&RpmCataloger::new(), path, &fixture(fixture_name));
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    assert_well_formed(&out.packages, path, "rpm");
    // `rpm -qa --qf '%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}|%{SOURCERPM}'`
    let expected = fixture_text("rpm/expected-rpm-qa.txt");
    assert_eq!(out.packages.len(), expected.lines().count());
    for line in expected.lines() {
        let f: Vec<&str> = line.split('|').collect();
        let package = find(&out.packages, f[0]);
        assert_eq!(package.ecosystem, Ecosystem::Rpm);
        let version = if f[1] == "(none)" {
            format!("{}-{}", f[2], f[3])
        } else {
            format!("{}:{}-{}", f[1], f[2], f[3])
        };
        assert_eq!(package.version, version);
        assert_eq!(package.arch.as_deref(), Some(f[4]));
        assert_eq!(package.licenses, [f[5]]);
        let source = package.source.as_ref().unwrap();
        assert_eq!(f[6], format!("{}-{}-{}.src.rpm", source.name, f[2], f[3]));
        let epoch_qualifier = if f[1] == "(none)" {
            String::new()
        } else {
            format!("&epoch={}", f[1])
        };
        assert_eq!(
            package.purl,
            format!(
                "pkg:rpm/{}@{}-{}?arch={}{epoch_qualifier}",
                f[0], f[2], f[3], f[4]
            )
        );
    }
}

#[test]
fn owned_files_agree_with_rpm_ql() {
    let out = run(&RpmCataloger::new(), PATH, &fixture("rpm/rpmdb.sqlite"));
    let expected = fixture_text("rpm/expected-rpm-ql.txt");
    let mut listed = 0;
    for owned in &out.owned_files {
        assert_eq!(owned.source_path, PATH);
        let mine: Vec<String> = expected
            .lines()
            .filter_map(|l| l.split_once('|'))
            .filter(|(package, _)| *package == owned.package)
            .map(|(_, file)| file.trim_start_matches('/').to_owned())
            .collect();
        let mut paths = owned.paths.clone();
        paths.sort();
        assert_eq!(paths, mine, "{}", owned.package);
        listed += mine.len();
    }
    assert_eq!(listed, expected.lines().count());
}

#[test]
fn damaged_databases_are_reported() {
    let analyzer = RpmCataloger::new();
    let out = run(&analyzer, PATH, b"not a database at all");
    assert_eq!(out.skipped.len(), 1);
    assert!(out.skipped[0].detail.as_ref().unwrap().contains(PATH));
    // A truncated copy of a real database.
    let real = fixture("rpm/rpmdb.sqlite");
    let out = run(&analyzer, PATH, &real[..real.len() / 3]);
    assert!(out.packages.len() <= 2);
    assert!(wants(
        &analyzer,
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
        0o644,
        1000
    ));
    assert!(!wants(
        &analyzer,
        "var/lib/rpm/rpmdb.sqlite-wal",
        0o644,
        1000
    ));
}
