use rempart_catalog::RpmCataloger;
use rempart_core::{AnalysisOutput, Ecosystem, SkipReason};

use crate::support::{assert_well_formed, find, fixture, fixture_text, run, wants};

const PATH: &str = "var/lib/rpm/rpmdb.sqlite";

const NDB_PATH: &str = "usr/lib/sysimage/rpm/Packages.db";

#[test]
fn sqlite_database_agrees_with_rpm_query() {
    check_against_rpm_query(PATH, "rpm/rpmdb.sqlite", "rpm/expected-rpm-qa.txt");
}

/// Written by rpm 4.18 built with `--enable-ndb` (`scripts/make-ndb-fixture.sh`): five packages
/// installed, one erased, one more installed into its free slot.
#[test]
fn ndb_database_agrees_with_rpm_query() {
    check_against_rpm_query(
        NDB_PATH,
        "rpm/Packages-ndb.db",
        "rpm/expected-ndb-rpm-qa.txt",
    );
    check_against_rpm_query(
        "var/lib/rpm/Packages.db",
        "rpm/Packages-ndb.db",
        "rpm/expected-ndb-rpm-qa.txt",
    );
    let out = run(
        &RpmCataloger::new(),
        NDB_PATH,
        &fixture("rpm/Packages-ndb.db"),
    );
    assert!(out.packages.iter().all(|p| p.name != "removed-later"));
    check_owned_files(&out, NDB_PATH, "rpm/expected-ndb-rpm-ql.txt");
}

#[test]
fn damaged_ndb_database_is_reported() {
    let analyzer = RpmCataloger::new();
    let real = fixture("rpm/Packages-ndb.db");
    let blob_count = expected_package_count("rpm/expected-ndb-rpm-qa.txt");
    let names_file = |out: &AnalysisOutput| {
        out.skipped
            .iter()
            .all(|s| s.path == NDB_PATH && s.detail.as_ref().unwrap().contains(NDB_PATH))
    };

    // Cut inside the file header or the slot page: nothing can be read.
    for cut in [0, 10, 100, 4095] {
        let out = run(&analyzer, NDB_PATH, &real[..cut]);
        assert!(out.packages.is_empty());
        assert_eq!(out.skipped.len(), 1, "{cut}: {:?}", out.skipped);
        assert!(names_file(&out));
    }
    // Cut inside the last blob: that package is reported, the others still read.
    let out = run(&analyzer, NDB_PATH, &real[..real.len() - 100]);
    assert_eq!(out.packages.len(), blob_count - 1);
    assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
    assert!(names_file(&out));
    let detail = out.skipped[0].detail.as_ref().unwrap();
    assert!(detail.contains("beyond the end of the file"), "{detail}");

    // Each used slot in turn pointed elsewhere: into the slot area, past the end, at the middle
    // of another blob. That package is reported, the others still read.
    let used_slots: Vec<usize> = (32..4096)
        .step_by(16)
        .filter(|&at| real[at + 8..at + 12] != [0; 4])
        .collect();
    assert_eq!(used_slots.len(), blob_count);
    for &slot in &used_slots {
        for offset in [
            1u32,
            0x7fff_ffff,
            u32::from_le_bytes(real[slot + 8..slot + 12].try_into().unwrap()) + 1,
        ] {
            let mut damaged = real.clone();
            damaged[slot + 8..slot + 12].copy_from_slice(&offset.to_le_bytes());
            let out = run(&analyzer, NDB_PATH, &damaged);
            assert_eq!(out.packages.len(), blob_count - 1, "offset {offset}");
            assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
            assert!(names_file(&out));
        }
    }

    // Every slot pointing at the same blob: refused before any header is parsed twice.
    let mut shared = real.clone();
    let first = real[used_slots[0] + 4..used_slots[0] + 16].to_vec();
    for slot in (32..4096).step_by(16) {
        shared[slot + 4..slot + 16].copy_from_slice(&first);
    }
    let out = run(&analyzer, NDB_PATH, &shared);
    assert!(out.packages.is_empty());
    assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);

    // A slot page number far beyond the file.
    let mut pages = real.clone();
    pages[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    let out = run(&analyzer, NDB_PATH, &pages);
    assert_eq!(out.skipped.len(), 1);
    assert!(names_file(&out));

    // More used slots than any real system has packages: refused before any blob is read.
    let slot_pages: u32 = 400;
    let packages: u32 = 100_001;
    let first_blob = slot_pages * 256;
    let mut crowded = vec![0u8; ((first_blob + 2 * packages) * 16) as usize];
    crowded[..32].copy_from_slice(&real[..32]);
    crowded[12..16].copy_from_slice(&slot_pages.to_le_bytes());
    for (number, slot) in crowded[32..(first_blob * 16) as usize]
        .chunks_exact_mut(16)
        .enumerate()
    {
        let number = u32::try_from(number).unwrap();
        slot[..4].copy_from_slice(b"Slot");
        if number < packages {
            slot[4..8].copy_from_slice(&(number + 1).to_le_bytes());
            slot[8..12].copy_from_slice(&(first_blob + 2 * number).to_le_bytes());
            slot[12..16].copy_from_slice(&2u32.to_le_bytes());
        }
    }
    let out = run(&analyzer, NDB_PATH, &crowded);
    assert!(out.packages.is_empty());
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(out.skipped[0].reason, SkipReason::ArchiveLimit);

    assert!(wants(&analyzer, "var/lib/rpm/Packages.db", 0o644, 1000));
    assert!(!wants(&analyzer, "var/lib/rpm/Index.db", 0o644, 1000));
}

/// The same headers loaded into Berkeley DB hash files by `db5.3_load` (4096- and 512-byte
/// pages, the second forcing long overflow chains); `rpm --define '_db_backend bdb_ro' -qa`
/// prints the same as for the `SQLite` database.
#[test]
fn berkeley_db_agrees_with_rpm_query() {
    for fixture_name in ["rpm/Packages-bdb-4096", "rpm/Packages-bdb-512"] {
        check_against_rpm_query(
            "var/lib/rpm/Packages",
            fixture_name,
            "rpm/expected-rpm-qa.txt",
        );
    }
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

fn expected_package_count(expected: &str) -> usize {
    fixture_text(expected).lines().count()
}

fn check_against_rpm_query(path: &str, fixture_name: &str, expected: &str) {
    let out = run(&RpmCataloger::new(), path, &fixture(fixture_name));
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    assert_well_formed(&out.packages, path, "rpm");
    // `rpm -qa --qf '%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}|%{SOURCERPM}'`
    let expected = fixture_text(expected);
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
    check_owned_files(&out, PATH, "rpm/expected-rpm-ql.txt");
}

/// `rpm -qa --qf '[%{=NAME}|%{FILENAMES}\n]'`
fn check_owned_files(out: &AnalysisOutput, path: &str, expected: &str) {
    let expected = fixture_text(expected);
    let mut listed = 0;
    for owned in &out.owned_files {
        assert_eq!(owned.source_path, path);
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
