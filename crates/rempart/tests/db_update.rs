//! `db update` against an HTTP server on 127.0.0.1 that serves the real `PyPI` OSV export, and
//! misbehaves on request: a wrong announced checksum, a truncated body, a missing file.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use md5::{Digest, Md5};
use rempart::{FeedConfig, UpdateError, update_database};
use rempart_vulndb::Database;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Good,
    WrongChecksum,
    Truncated,
}

/// Serves `/PyPI/all.zip` and answers 404 to anything else. Handles requests until the test ends.
fn serve(body: Vec<u8>, mode: Arc<Mutex<Mode>>) -> String {
    serve_files(vec![("/PyPI/all.zip".to_owned(), body)], mode)
}

/// Serves each (path, body) and answers 404 to anything else.
fn serve_files(files: Vec<(String, Vec<u8>)>, mode: Arc<Mutex<Mode>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request_line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                    break;
                }
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_owned();
            let Some((_, body)) = files.iter().find(|(served, _)| *served == path) else {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            };
            let mode = *mode.lock().unwrap();
            let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(
                if mode == Mode::WrongChecksum {
                    b"other".as_slice()
                } else {
                    body
                },
            ));
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nx-goog-hash: crc32c=AAAAAA==,md5={md5}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes());
            let sent = if mode == Mode::Truncated {
                &body[..body.len() / 3]
            } else {
                &body[..]
            };
            let _ = stream.write_all(sent);
        }
    });
    format!("http://{address}")
}

fn feeds(base: &str, ecosystems: &[&str]) -> FeedConfig {
    FeedConfig {
        osv_base: base.to_owned(),
        osv_ecosystems: ecosystems.iter().map(|e| (*e).to_owned()).collect(),
        debian_tracker: None,
        redhat_csaf: None,
        ubuntu_vex: None,
        kev: None,
        epss: None,
        ..FeedConfig::default()
    }
}

/// The real `PyPI` export: the trimmed snapshot in the repository, or a full one where
/// `REMPART_TEST_ADVISORIES` names it.
fn pypi_export() -> PathBuf {
    std::env::var_os("REMPART_TEST_ADVISORIES")
        .map_or_else(
            || {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../rempart-vulndb/tests/fixtures/snapshot")
            },
            PathBuf::from,
        )
        .join("PyPI-all.zip")
}

fn advisories(db: &Path) -> u64 {
    Database::open(db).unwrap().status().unwrap().advisories
}

#[test]
fn update_downloads_verifies_and_never_breaks_the_old_database() {
    let export = pypi_export();
    let zip = std::fs::read(&export).unwrap();
    let mode = Arc::new(Mutex::new(Mode::Good));
    let base = serve(zip, Arc::clone(&mode));
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("db/vuln.sqlite");

    // What was downloaded must be exactly what a local import of the same file holds.
    let local = temp.path().join("local.sqlite");
    rempart_vulndb::import_paths(&local, std::slice::from_ref(&export)).unwrap();
    let expected = advisories(&local);
    assert!(
        expected > 500,
        "{expected} advisories in {}",
        export.display()
    );

    let stats = update_database(&db, &feeds(&base, &["PyPI"])).unwrap();
    assert_eq!(stats.advisories, expected);
    let good = advisories(&db);
    assert_eq!(good, stats.advisories);

    *mode.lock().unwrap() = Mode::WrongChecksum;
    let error = update_database(&db, &feeds(&base, &["PyPI"])).unwrap_err();
    assert!(matches!(error, UpdateError::Checksum { .. }), "{error}");
    assert_eq!(advisories(&db), good, "the old database still answers");

    *mode.lock().unwrap() = Mode::Truncated;
    let error = update_database(&db, &feeds(&base, &["PyPI"])).unwrap_err();
    assert!(error.to_string().contains("/PyPI/all.zip"), "{error}");
    assert_eq!(advisories(&db), good);

    *mode.lock().unwrap() = Mode::Good;
    let error = update_database(&db, &feeds(&base, &["PyPI", "NoSuchEcosystem"])).unwrap_err();
    assert!(error.to_string().contains("404"), "{error}");
    assert_eq!(advisories(&db), good);

    // Nothing but the database (and SQLite's side files) is left in its directory.
    let leftovers: Vec<String> = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with("vuln.sqlite"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Red Hat's CSAF VEX archive (named by its pointer file), Canonical's OpenVEX archive, CISA's
/// KEV catalogue and EPSS scores are downloaded with the OSV exports; a pointer that names anything but an archive beside it
/// is refused before anything is downloaded.
#[test]
fn update_fetches_red_hat_and_ubuntu_vex_and_exploitation_data() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rempart-vulndb/tests/fixtures");
    let mut archive = Vec::new();
    {
        let encoder = zstd::Encoder::new(&mut archive, 3).unwrap();
        let mut builder = tar::Builder::new(encoder);
        builder
            .append_dir_all("2023", fixtures.join("redhat-csaf"))
            .unwrap();
        builder.into_inner().unwrap().finish().unwrap();
    }
    let mut ubuntu_vex = Vec::new();
    {
        let encoder = liblzma::write::XzEncoder::new(&mut ubuntu_vex, 6);
        let mut builder = tar::Builder::new(encoder);
        builder
            .append_dir_all("vex/cve/2024", fixtures.join("ubuntu-vex/published"))
            .unwrap();
        builder.into_inner().unwrap().finish().unwrap();
    }
    let mut epss = Vec::new();
    {
        let mut encoder = flate2::write::GzEncoder::new(&mut epss, flate2::Compression::default());
        encoder
            .write_all(b"#model_version:v2025.03.14,score_date:2025-11-02T00:00:00+0000\ncve,epss,percentile\nCVE-2023-6212,0.00123,0.4\n")
            .unwrap();
        encoder.finish().unwrap();
    }
    let pointer = Arc::new(Mutex::new(Mode::Good));
    let files = |latest: &str| {
        vec![
            (
                "/PyPI/all.zip".to_owned(),
                std::fs::read(pypi_export()).unwrap(),
            ),
            (
                "/vex/archive_latest.txt".to_owned(),
                latest.as_bytes().to_vec(),
            ),
            (
                "/vex/csaf_vex_2024-11-03.tar.zst".to_owned(),
                archive.clone(),
            ),
            (
                "/kev.json".to_owned(),
                std::fs::read(fixtures.join("exploited/known_exploited_vulnerabilities.json"))
                    .unwrap(),
            ),
            ("/epss_scores-current.csv.gz".to_owned(), epss.clone()),
            ("/vex/vex-all.tar.xz".to_owned(), ubuntu_vex.clone()),
        ]
    };
    let base = serve_files(files("csaf_vex_2024-11-03.tar.zst\n"), Arc::clone(&pointer));
    let config = |base: &str| FeedConfig {
        redhat_csaf: Some(format!("{base}/vex")),
        ubuntu_vex: Some(format!("{base}/vex/vex-all.tar.xz")),
        kev: Some(format!("{base}/kev.json")),
        epss: Some(format!("{base}/epss_scores-current.csv.gz")),
        ..feeds(base, &["PyPI"])
    };
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("vuln.sqlite");
    let stats = update_database(&db, &config(&base)).unwrap();
    assert_eq!(stats.known_exploited, 2);
    assert_eq!(stats.epss_scores, 1);
    let status = Database::open(&db).unwrap().status().unwrap();
    for source in [
        "redhat-csaf-vex",
        "ubuntu-vex",
        "cisa-kev",
        "first-epss",
        "osv:PyPI",
    ] {
        assert!(
            status.sources.iter().any(|s| s.name == source),
            "{source}: {:?}",
            status.sources
        );
    }

    let hostile = serve_files(files("../../outside.tar.zst\n"), pointer);
    let before = std::fs::read(&db).unwrap();
    let error = update_database(&db, &config(&hostile))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("is not the name of a CSAF VEX archive"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the old database is untouched"
    );
}
