//! The `rempart` binary as a user runs it, on the sample image shipped in the repository.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sample_image() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-image")
}

fn rempart(cache: &Path, args: &[&str]) -> Output {
    rempart_in(Path::new("."), cache, args)
}

/// Runs the binary in `dir`, where it looks for `rempart.yaml` and `.rempartignore.yaml`.
fn rempart_in(dir: &Path, cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(args)
        .current_dir(dir)
        .env("REMPART_CACHE_DIR", cache)
        .env_remove("REMPART_DB")
        .output()
        .unwrap()
}

/// `rempart image --input <the sample image> ARGS…`.
fn scan_sample(cache: &Path, args: &[&str]) -> Output {
    let image = sample_image();
    let mut all = vec!["image", "--input", image.to_str().unwrap()];
    all.extend_from_slice(args);
    rempart(cache, &all)
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn sample_image_scan_finds_what_was_planted() {
    let cache = tempfile::tempdir().unwrap();
    let output = scan_sample(cache.path(), &["--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "findings exit 1: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["os"]["id"], "debian");
    assert_eq!(report["os"]["version_id"], "12");

    let packages: Vec<String> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {} {}",
                p["ecosystem"].as_str().unwrap(),
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        "Debian openssl 3.0.11-1~deb12u2",
        "PyPI requests 2.19.1",
        "PyPI PyYAML 5.3",
        "npm lodash 4.17.15",
    ] {
        assert!(
            packages.contains(&expected.to_owned()),
            "{expected} missing from {packages:?}"
        );
    }

    let findings = report["findings"].as_array().unwrap();
    let by_id = |id: &str| {
        findings
            .iter()
            .filter(|f| f["id"] == id)
            .collect::<Vec<_>>()
    };
    let stripe = by_id("SEC-STRIPE-SECRET-KEY");
    assert_eq!(stripe.len(), 1);
    assert_eq!(stripe[0]["location"]["path"], "app/.env");
    assert_eq!(stripe[0]["location"]["deleted"], true);
    assert_eq!(stripe[0]["location"]["layer"]["index"], 1);
    assert_eq!(
        by_id("SEC-AWS-ACCESS-KEY-ID")[0]["location"]["deleted"],
        serde_json::Value::Null
    );
    assert_eq!(
        by_id("SEC-GITHUB-PAT").len(),
        1,
        "build argument in history"
    );
    assert_eq!(by_id("IMG-ROOT-USER").len(), 1);
    let lodash = by_id("GHSA-35jh-r3h4-6jhm");
    assert_eq!(lodash[0]["details"]["fix"]["versions"][0], "4.17.21");
    // No secret is printed in full.
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("51HqZ8kL2mN4pQ6rS8tU0vW2xY"));
}

/// The planted secrets and EICAR copies, and nothing else: (scanner, id, path, layer, deleted,
/// archive member or config origin).
#[test]
fn sample_image_secrets_and_malware_are_exactly_the_planted_ones() {
    let cache = tempfile::tempdir().unwrap();
    let output = scan_sample(
        cache.path(),
        &["--scanners", "secret,malware", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    let mut found: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let detail = &f["details"];
            format!(
                "{} {} {} {} {} {}",
                f["scanner"].as_str().unwrap(),
                f["id"].as_str().unwrap(),
                f["location"]["path"].as_str().unwrap(),
                f["location"]["layer"]["index"],
                f["location"]["deleted"].as_bool().unwrap_or(false),
                detail["member"]
                    .as_str()
                    .or(detail["origin"].as_str())
                    .unwrap_or("-"),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "malware MAL-TEST-EICAR app/fixtures/upload-samples.zip 1 false \
             upload-samples.zip!/samples/eicar.com",
            "malware MAL-TEST-EICAR tmp/eicar.com 1 true -",
            "secret SEC-AWS-ACCESS-KEY-ID app/settings.py 1 false -",
            "secret SEC-GENERIC-API-KEY app/settings.py 1 false -",
            "secret SEC-GITHUB-PAT  null false history",
            "secret SEC-STRIPE-SECRET-KEY app/.env 1 true -",
        ]
    );
}

#[test]
fn users_malware_rules_and_hash_lists() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("app.yar"),
        "rule reads_database_url { meta: severity = \"LOW\" strings: $a = \"DATABASE_URL\" condition: $a }",
    )
    .unwrap();
    // sha256sum output for the sample image's app/main.py.
    let main_py = "from app import settings\nprint('hello')\n";
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(main_py))
    };
    let list = dir.path().join("known-bad.sha256");
    std::fs::write(&list, format!("{digest}  main.py-dropper\n")).unwrap();
    let output = scan_sample(
        cache.path(),
        &[
            "--scanners",
            "malware",
            "--malware-rules",
            rules.to_str().unwrap(),
            "--malware-hashes",
            list.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let report = json(&output);
    let mut found: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] != "MAL-TEST-EICAR")
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["id"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["location"]["path"].as_str().unwrap(),
                f["details"]["signature"].as_str().unwrap()
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "MAL-HASH CRITICAL app/main.py main.py-dropper",
            "YARA-reads_database_url LOW app/settings.py app:reads_database_url",
        ]
    );

    std::fs::write(rules.join("broken.yara"), "rule broken { condition: $x }").unwrap();
    let output = scan_sample(
        cache.path(),
        &[
            "--scanners",
            "malware",
            "--malware-rules",
            rules.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.yara"), "{stderr}");
}

#[test]
fn warm_rescan_uses_the_layer_cache() {
    let cache = tempfile::tempdir().unwrap();
    let image = sample_image();
    let args = [
        "image",
        "--input",
        image.to_str().unwrap(),
        "--format",
        "json",
        "--exit-code",
        "0",
    ];
    let cold = json(&rempart(cache.path(), &args));
    let warm_output = rempart(cache.path(), &args);
    assert_eq!(
        warm_output.status.code(),
        Some(0),
        "--exit-code 0 never fails"
    );
    let warm = json(&warm_output);
    assert!(
        cold["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["cached"] == false)
    );
    assert!(
        warm["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["cached"] == true)
    );
    assert_eq!(cold["findings"], warm["findings"]);
    assert_eq!(cold["packages"], warm["packages"]);
}

#[test]
fn severity_filter_and_gate() {
    let cache = tempfile::tempdir().unwrap();
    let output = scan_sample(
        cache.path(),
        &["--format", "json", "--severity", "CRITICAL"],
    );
    let report = json(&output);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "CRITICAL")
    );
    assert_eq!(output.status.code(), Some(1));

    let output = scan_sample(cache.path(), &["--scanners", "none", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "nothing to find, exit 0");
    assert!(json(&output)["findings"].as_array().unwrap().is_empty());
}

#[test]
fn every_format_writes_to_a_file() {
    let cache = tempfile::tempdir().unwrap();
    for format in [
        "table",
        "json",
        "sarif",
        "cyclonedx",
        "spdx-json",
        "junit",
        "html",
    ] {
        let out = cache.path().join(format!("report.{format}"));
        let output = scan_sample(
            cache.path(),
            &[
                "--format",
                format,
                "--output",
                out.to_str().unwrap(),
                "--exit-code",
                "0",
            ],
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.stdout.is_empty(),
            "{format}: report goes to the file only"
        );
        assert!(std::fs::metadata(&out).unwrap().len() > 100, "{format}");
    }
}

#[test]
fn errors_exit_2_and_name_the_input() {
    let cache = tempfile::tempdir().unwrap();
    let output = rempart(
        cache.path(),
        &["image", "--input", "/nonexistent/image.tar"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/image.tar"));

    let bad = cache.path().join("bad.tar");
    std::fs::write(&bad, b"garbage that is not a tar archive at all").unwrap();
    let output = rempart(cache.path(), &["image", "--input", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("bad.tar"));

    let output = rempart(
        cache.path(),
        &[
            "image",
            "--input",
            sample_image().to_str().unwrap(),
            "--scanners",
            "antivirus",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("antivirus"));
}

#[test]
fn sbom_is_deterministic() {
    let cache = tempfile::tempdir().unwrap();
    let image = sample_image();
    let first = rempart(
        cache.path(),
        &["sbom", image.to_str().unwrap(), "--format", "cyclonedx"],
    );
    // `--input` names the image as `rempart image --input` does: the same document.
    let second = rempart(
        cache.path(),
        &[
            "sbom",
            "--input",
            image.to_str().unwrap(),
            "--format",
            "cyclonedx",
        ],
    );
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(first.stdout, second.stdout);
    let bom = json(&first);
    assert_eq!(bom["specVersion"], "1.6");
    assert!(
        bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["purl"] == "pkg:npm/lodash@4.17.15")
    );
}

#[test]
fn fs_and_rootfs_scan_directories() {
    let cache = tempfile::tempdir().unwrap();
    let tree = cache.path().join("src");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("requirements.txt"), "requests==2.19.1\n").unwrap();
    std::fs::write(
        tree.join("Dockerfile"),
        "FROM debian:12\nRUN curl -sSL https://example.com/install.sh | sh\n",
    )
    .unwrap();
    let output = rempart(
        cache.path(),
        &["fs", tree.to_str().unwrap(), "--format", "json"],
    );
    let report = json(&output);
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    // requests 2.19 in the lock file: one finding for PYSEC-2018-28 and its GitHub twin.
    let requests: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["details"]["package"] == "requests")
        .collect();
    assert_eq!(requests.len(), 2, "lock files are read in fs mode: {ids:?}");
    assert!(
        requests.iter().any(|f| f["id"] == "GHSA-x84v-xcm2-53pg"
            && f["details"]["aliases"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "PYSEC-2018-28")),
        "{requests:?}"
    );
    assert!(
        ids.iter().any(|id| id.starts_with("DF-")),
        "Dockerfile checked: {ids:?}"
    );

    let output = rempart(
        cache.path(),
        &[
            "rootfs",
            tree.to_str().unwrap(),
            "--format",
            "json",
            "--scanners",
            "vuln",
        ],
    );
    let report = json(&output);
    assert!(
        report["packages"].as_array().unwrap().is_empty(),
        "a rootfs scan reads installed packages, not lock files"
    );
}

#[test]
fn elixir_dart_and_swift_lock_files_are_matched_in_fs_scans() {
    let cache = tempfile::tempdir().unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = manifest.join("../rempart-catalog/tests/fixtures");
    let tree = cache.path().join("src");
    std::fs::create_dir_all(&tree).unwrap();
    for (from, to) in [
        ("hex/mix.lock", "mix.lock"),
        ("pub/pubspec.lock", "pubspec.lock"),
        ("swift/Package.resolved.v2", "Package.resolved"),
    ] {
        std::fs::copy(fixtures.join(from), tree.join(to)).unwrap();
    }
    // Real GitHub advisories for oidcc (Hex), http (Pub) and swift-nio (SwiftURL).
    let db = cache.path().join("vuln.sqlite");
    let records = manifest.join("../rempart-vulndb/tests/fixtures/osv-hex-pub-swift");
    let imported = rempart(
        cache.path(),
        &[
            "db",
            "import",
            "--db",
            db.to_str().unwrap(),
            records.to_str().unwrap(),
        ],
    );
    assert!(imported.status.success(), "{imported:?}");
    let output = rempart(
        cache.path(),
        &[
            "fs",
            tree.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--scanners",
            "vuln",
            "--format",
            "json",
        ],
    );
    let report = json(&output);
    let ecosystems: std::collections::BTreeSet<&str> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ecosystem"].as_str().unwrap())
        .collect();
    assert_eq!(
        ecosystems.into_iter().collect::<Vec<_>>(),
        ["Hex", "Pub", "SwiftURL"]
    );
    let found: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["details"]["package"].as_str().unwrap().to_owned(),
                f["details"]["fix"]["versions"][0]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect();
    // swift-nio 2.42.0 is the fixed release of the advisory's newest range: not found.
    assert_eq!(
        found,
        [
            (
                "GHSA-4rgh-jx4f-qfcq".to_owned(),
                "http".to_owned(),
                "0.13.3".to_owned()
            ),
            (
                "GHSA-mj35-2rgf-cv8p".to_owned(),
                "oidcc".to_owned(),
                "3.0.2".to_owned()
            ),
        ],
        "{report:#}"
    );
}

#[test]
fn database_status_describes_the_sample_set() {
    let cache = tempfile::tempdir().unwrap();
    scan_sample(cache.path(), &["--scanners", "vuln", "--quiet"]);
    let output = rempart(cache.path(), &["db", "status"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("built-in sample set"), "{text}");
    assert!(text.contains("stale"), "{text}");
}

/// A release that changes the database schema finds, in the cache, the sample set an earlier
/// release installed: it installs its own. A full database is never replaced by the sample:
/// the scan stops and says how to rebuild it.
#[test]
fn a_sample_database_of_an_earlier_schema_is_reinstalled() {
    let cache = tempfile::tempdir().unwrap();
    scan_sample(cache.path(), &["--scanners", "vuln", "--quiet"]);
    let db = cache.path().join("db/vuln.sqlite");
    let age = |sample: bool| {
        let connection = rusqlite::Connection::open(&db).unwrap();
        connection
            .execute(
                "UPDATE meta SET value = '1' WHERE key = 'schema_version'",
                [],
            )
            .unwrap();
        if !sample {
            connection
                .execute("UPDATE sources SET input = '/mirror/osv-all.zip'", [])
                .unwrap();
        }
    };
    age(true);
    let output = scan_sample(cache.path(), &["--scanners", "vuln", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("installed by another release"), "{stderr}");
    assert!(!json(&output)["findings"].as_array().unwrap().is_empty());

    age(false);
    let output = scan_sample(cache.path(), &["--scanners", "vuln", "--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("schema version 1") && stderr.contains("rempart db update --db"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn settings_file_is_read_and_flags_win() {
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("rempart.yaml"),
        "scanners: [secret, misconfig]\nformat: json\nexit-code: 3\nseverity-by-scanner:\n  secret: [CRITICAL]\n",
    )
    .unwrap();
    let image = sample_image();
    let run = |args: &[&str]| rempart_in(work.path(), cache.path(), args);
    let output = run(&["image", "--input", image.to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(3),
        "exit-code from the file: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["scanner"] != "vuln"),
        "scanners from the file"
    );
    assert!(
        findings
            .iter()
            .filter(|f| f["scanner"] == "secret")
            .all(|f| f["severity"] == "CRITICAL")
    );
    assert!(
        findings
            .iter()
            .any(|f| f["scanner"] == "misconfig" && f["severity"] == "LOW"),
        "the secret list does not touch misconfig"
    );

    let output = run(&[
        "image",
        "--input",
        image.to_str().unwrap(),
        "--exit-code",
        "0",
        "--scanners",
        "misconfig",
    ]);
    assert_eq!(output.status.code(), Some(0), "flags override the file");
    assert!(
        json(&output)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["scanner"] == "misconfig")
    );

    std::fs::write(work.path().join("rempart.yaml"), "scaners: [secret]\n").unwrap();
    let output = run(&["image", "--input", image.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("rempart.yaml"));
}

#[test]
fn ignore_file_and_vex_suppress_findings() {
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join(".rempartignore.yaml"),
        "ignores:\n  - id: SEC-STRIPE-SECRET-KEY\n    path: app/.env\n    reason: key revoked\n",
    )
    .unwrap();
    std::fs::write(
        work.path().join("app.openvex.json"),
        r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"GHSA-35jh-r3h4-6jhm"},"products":[{"@id":"pkg:npm/lodash@4.17.15"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}"#,
    )
    .unwrap();
    let image = sample_image();
    let output = rempart_in(
        work.path(),
        cache.path(),
        &[
            "image",
            "--input",
            image.to_str().unwrap(),
            "--format",
            "json",
            "--vex",
            "app.openvex.json",
        ],
    );
    let report = json(&output);
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"SEC-STRIPE-SECRET-KEY"), "ignored");
    assert!(!ids.contains(&"GHSA-35jh-r3h4-6jhm"), "VEX not_affected");
    assert!(
        ids.contains(&"GHSA-p6mc-m468-83gw"),
        "the other lodash advisory stays"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("2 findings suppressed"));
}

/// The whole path from image to findings, against an independent computation: the sample image's
/// Python packages, scanned with a database built from the real `PyPA` export, must get exactly the
/// advisories that `osv_check.py` (only the `packaging` library) computes from the same file.
#[test]
fn image_scan_matches_the_independent_check() {
    let cache = tempfile::tempdir().unwrap();
    // The trimmed real export in the repository, or a full one where REMPART_TEST_ADVISORIES
    // names it.
    let export = std::env::var_os("REMPART_TEST_ADVISORIES")
        .map_or_else(
            || {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../rempart-vulndb/tests/fixtures/snapshot")
            },
            PathBuf::from,
        )
        .join("PyPI-all.zip");
    assert!(export.is_file(), "{} is missing", export.display());
    let db = cache.path().join("pypi.sqlite");
    let output = rempart(
        cache.path(),
        &[
            "db",
            "import",
            "--db",
            db.to_str().unwrap(),
            export.to_str().unwrap(),
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let output = scan_sample(
        cache.path(),
        &[
            "--scanners",
            "vuln",
            "--db",
            db.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let report = json(&output);
    let mut ours: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        std::collections::BTreeMap::new();
    let mut pairs = String::new();
    for package in report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ecosystem"] == "PyPI")
    {
        let key = format!(
            "{} {}",
            package["name"].as_str().unwrap(),
            package["version"].as_str().unwrap()
        );
        pairs.push_str(&key);
        pairs.push('\n');
        ours.insert(key, std::collections::BTreeSet::default());
    }
    assert_eq!(ours.len(), 5, "requests, urllib3, PyYAML, Jinja2, Django");
    for finding in report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["details"]["ecosystem"] == "PyPI")
    {
        let key = format!(
            "{} {}",
            finding["details"]["package"].as_str().unwrap(),
            finding["details"]["installed_version"].as_str().unwrap()
        );
        ours.get_mut(&key)
            .unwrap()
            .insert(finding["id"].as_str().unwrap().to_owned());
    }

    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../rempart-vulndb/tests/oracle/osv_check.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(&export)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), pairs.as_bytes()).unwrap();
    let oracle = child.wait_with_output().unwrap();
    assert!(
        oracle.status.success(),
        "osv_check.py needs python3 with `packaging`"
    );
    let mut total = 0;
    for line in String::from_utf8(oracle.stdout).unwrap().lines() {
        let mut words = line.split_whitespace();
        let key = format!("{} {}", words.next().unwrap(), words.next().unwrap());
        let expected: std::collections::BTreeSet<String> = words.map(str::to_owned).collect();
        total += expected.len();
        assert_eq!(ours[&key], expected, "{key}");
    }
    assert!(
        total > 40,
        "{total} advisories in all: the check must not pass on empty sets"
    );
}

/// Nothing is skipped silently for its size: a token in an 11 MB file is found; under a smaller
/// cap the file is reported skipped, and `--fail-on-skipped` makes a gate refuse what it could
/// not inspect.
#[test]
fn big_files_are_scanned_and_a_gate_can_refuse_what_it_skipped() {
    let cache = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let token = format!("{}{}", "ghp_", "Zq3V8xL2mN5pR7tY1wK4bC6dF9gH0jS2aE4u");
    let mut text = "-- a database dump\n".repeat(600_000);
    text += &["INSERT INTO settings VALUES ('gh', '", &token, "');\n"].concat();
    assert!(text.len() > 11_000_000);
    std::fs::write(tree.path().join("dump.sql"), &text).unwrap();
    let dir = tree.path().to_str().unwrap();
    let scan = |extra: &[&str]| {
        let mut args = vec!["fs", dir, "--scanners", "secret", "--format", "json"];
        args.extend_from_slice(extra);
        rempart(cache.path(), &args)
    };
    let output = scan(&[]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report = json(&output);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["id"], "SEC-GITHUB-PAT");
    assert_eq!(findings[0]["location"]["line"], 600_001);

    let output = scan(&["--secret-max-size", "1MiB", "--no-cache"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report = json(&output);
    assert!(report["findings"].as_array().unwrap().is_empty());
    let skipped = report["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["path"] == "dump.sql" && s["reason"] == "too_large"),
        "{skipped:?}"
    );

    let output = scan(&[
        "--secret-max-size",
        "1MiB",
        "--no-cache",
        "--fail-on-skipped",
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not inspected") && stderr.contains("dump.sql"),
        "{stderr}"
    );

    let output = scan(&["--secret-max-size", "10 parsecs"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown unit"));
}

/// On standard output the table report fits `COLUMNS` (or the terminal); in a file it keeps its
/// full width.
#[test]
fn the_table_report_fits_the_terminal_width() {
    let cache = tempfile::tempdir().unwrap();
    let image = sample_image();
    let run = |columns: Option<&str>, extra: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rempart"));
        command
            .args([
                "image",
                "--input",
                image.to_str().unwrap(),
                "--color",
                "never",
            ])
            .args(extra)
            .env("REMPART_CACHE_DIR", cache.path())
            .env_remove("REMPART_DB")
            .env_remove("COLUMNS");
        if let Some(columns) = columns {
            command.env("COLUMNS", columns);
        }
        command.output().unwrap()
    };
    let widest = |text: &str| text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let narrow = run(Some("80"), &[]);
    assert_eq!(narrow.status.code(), Some(1));
    let text = String::from_utf8_lossy(&narrow.stdout);
    assert!(widest(&text) <= 80, "{text}");
    assert!(
        text.contains("GHSA-v845-jxx5-vc9f"),
        "nothing is hidden: {text}"
    );
    let wide = run(Some("200"), &[]);
    assert!(widest(&String::from_utf8_lossy(&wide.stdout)) <= 200);
    // Not a terminal and no COLUMNS: the full table.
    let piped = run(None, &[]);
    assert!(widest(&String::from_utf8_lossy(&piped.stdout)) > 100);
    // A file is not a terminal: COLUMNS does not apply.
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("report.txt");
    run(Some("80"), &["--output", file.to_str().unwrap()]);
    assert!(widest(&std::fs::read_to_string(&file).unwrap()) > 100);
}

/// Files found in a directory are shown relative to it, with no layer: a source tree has none.
#[test]
fn config_findings_in_a_directory_are_shown_relative_to_it() {
    let cache = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir(tree.path().join("deploy")).unwrap();
    std::fs::write(
        tree.path().join("deploy/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n    securityContext:\n      privileged: true\n",
    )
    .unwrap();
    std::fs::write(tree.path().join("Dockerfile"), "FROM debian:latest\n").unwrap();
    let output = rempart(
        cache.path(),
        &["config", tree.path().to_str().unwrap(), "--color", "never"],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Location  deploy/pod.yaml:"), "{text}");
    assert!(text.contains("Location  Dockerfile:1"), "{text}");
    assert!(
        !text.contains("/deploy/pod.yaml") && !text.contains("(layer"),
        "{text}"
    );
}

/// Every rule code a report can carry is documented: `rempart rules CODE` says what it detects
/// and how to fix it, for every code the sample image's scan reports.
#[test]
fn every_reported_rule_code_is_documented() {
    let cache = tempfile::tempdir().unwrap();
    let report = json(&scan_sample(cache.path(), &["--format", "json"]));
    let listed = rempart(cache.path(), &["rules", "--format", "json"]);
    assert_eq!(listed.status.code(), Some(0));
    let rules: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let codes: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["code"].as_str().unwrap())
        .collect();
    for code in [
        "SEC-GITHUB-PAT",
        "MAL-REVSHELL",
        "K8S-PSS-HOST-PROBES",
        "IMG-ROOT-USER",
    ] {
        assert!(codes.contains(&code), "{code}");
    }
    for finding in report["findings"].as_array().unwrap() {
        if finding["scanner"] == "vuln" {
            continue;
        }
        let code = finding["id"].as_str().unwrap();
        let shown = rempart(cache.path(), &["rules", &code.to_ascii_lowercase()]);
        assert_eq!(shown.status.code(), Some(0), "{code}");
        let text = String::from_utf8_lossy(&shown.stdout);
        // The code, then a title line, then a documentation paragraph.
        let doc = text.split("\n\n").nth(1).unwrap_or_default();
        assert!(text.starts_with(code) && doc.len() > 80, "{code}: {text}");
    }
    let unknown = rempart(cache.path(), &["rules", "SEC-NO-SUCH-RULE"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("SEC-AWS"));
}

#[test]
fn pipeline_checks_follow_the_ignore_file_and_gate_like_scans() {
    let cache = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("ci")).unwrap();
    std::fs::write(
        repo.path().join(".gitlab-ci.yml"),
        "include: [{local: /ci/release.yml}]\n",
    )
    .unwrap();
    std::fs::write(
        repo.path().join("ci/release.yml"),
        "release:\n  image: gcr.io/kaniko-project/executor@sha256:0f7d5e8e5e4e4a0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081\n  script: [\"/kaniko/executor --destination registry.example.com/app:1\"]\n",
    )
    .unwrap();
    let gate = |format: &str| {
        rempart_in(
            repo.path(),
            cache.path(),
            &["config", ".gitlab-ci.yml", "--format", format],
        )
    };
    let output = gate("json");
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    let finding = &report["findings"][0];
    assert_eq!(finding["id"], "CI-GL-PUSH-WITHOUT-SCAN");
    // Reported in the included file, at the push.
    assert_eq!(finding["location"]["path"], "ci/release.yml");
    assert_eq!(finding["location"]["line"], 3);
    // The registry scans before it serves: accepted, with the reason, in the default ignore
    // file; the suppression is said, not silent.
    std::fs::write(
        repo.path().join(".rempartignore.yaml"),
        "ignores:\n  - id: CI-GL-PUSH-WITHOUT-SCAN\n    path: ci/release.yml\n    reason: the registry gate holds images until their verdict\n",
    )
    .unwrap();
    let output = gate("json");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(json(&output)["findings"], serde_json::json!([]));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("1 findings suppressed"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // SARIF points the code-scanning view at the workflow line.
    std::fs::remove_file(repo.path().join(".rempartignore.yaml")).unwrap();
    let output = gate("sarif");
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "ci/release.yml");
    assert_eq!(location["region"]["startLine"], 3);
}

#[test]
fn host_audit_of_a_root_in_every_format_with_ignores() {
    let cache = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc/docker")).unwrap();
    std::fs::write(
        root.path().join("etc/docker/daemon.json"),
        r#"{"icc": false, "userns-remap": "default", "no-new-privileges": true, "live-restore": true, "userland-proxy": false, "hosts": ["tcp://0.0.0.0:2375"]}"#,
    )
    .unwrap();
    // A container started with the host's network, as Podman records it.
    let bundle = root
        .path()
        .join("var/lib/containers/storage/overlay-containers/c0ffee/userdata");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("config.json"),
        r#"{"process": {"user": {"uid": 1000}, "capabilities": {"bounding": ["CAP_CHOWN"]}},
            "linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "mount"}],
                      "seccomp": {"defaultAction": "SCMP_ACT_ERRNO"}}, "mounts": []}"#,
    )
    .unwrap();
    let root_arg = root.path().to_str().unwrap();
    let host = |args: &[&str]| {
        let mut all = vec!["host", "--root", root_arg];
        all.extend_from_slice(args);
        rempart_in(work.path(), cache.path(), &all)
    };
    let output = host(&["--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    let checks = report["checks"].as_array().unwrap();
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(failed.contains(&"HOST-DOCKER-TCP-TLS"), "{report:#}");
    assert!(
        failed.contains(&"HOST-CONTAINER-HOST-NAMESPACES"),
        "{report:#}"
    );
    assert_eq!(report["containers"][0]["isolation"], "shared_kernel");
    assert!(
        checks
            .iter()
            .any(|c| c["code"] == "HOST-KERNEL-SYSCTL" && c["status"] == "not_applicable"),
        "{report:#}"
    );
    let output = host(&["--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), failed.len());
    assert!(results.iter().any(|r| r["ruleId"] == "HOST-DOCKER-TCP-TLS"));

    // Accepting every failure with a reason makes the run pass, and the table says so.
    let mut ignores = String::from("ignores:\n");
    for code in &failed {
        let _ = writeln!(
            ignores,
            "  - id: {code}\n    reason: the API is firewalled to the build network"
        );
    }
    std::fs::write(work.path().join(".rempartignore.yaml"), ignores).unwrap();
    let output = host(&[]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{table}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(table.contains("[ignored] HOST-DOCKER-TCP-TLS"), "{table}");
    assert!(
        table.contains("Containers: 1 (1 on the host's kernel, 0 in a virtual machine"),
        "{table}"
    );

    let output = rempart(cache.path(), &["rules", "HOST-DOCKER-TCP-TLS"]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("CIS Docker Benchmark v1.6.0, 2.8"));
    let output = rempart(
        cache.path(),
        &["rules", "--scanners", "host", "--format", "json"],
    );
    let listed = json(&output);
    assert_eq!(listed.as_array().unwrap().len(), 34, "{listed:#}");
}

#[test]
fn host_patch_level_matches_the_hosts_own_packages() {
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    // The host: Debian 12 with an openssl older than a security fix, and a package with no
    // known advisory.
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u2\n\nPackage: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 2024a-0+deb12u1\n\n",
    )
    .unwrap();
    // A database with the Debian record of that fix.
    let records = work.path().join("records");
    std::fs::create_dir(&records).unwrap();
    std::fs::write(
        records.join("DSA-test-0001.json"),
        r#"{"id": "DSA-test-0001", "modified": "2024-05-03T00:00:00Z", "aliases": ["CVE-2024-0727"],
            "summary": "openssl: denial of service on malformed PKCS12 files",
            "database_specific": {"severity": "HIGH"},
            "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}]}]}]}"#,
    )
    .unwrap();
    let database = work.path().join("vuln.sqlite");
    let import = rempart(
        cache.path(),
        &[
            "db",
            "import",
            "--db",
            database.to_str().unwrap(),
            records.to_str().unwrap(),
        ],
    );
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let host = |args: &[&str]| {
        let mut all = vec![
            "host",
            "--root",
            root.to_str().unwrap(),
            "--db",
            database.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        rempart_in(work.path(), cache.path(), &all)
    };
    let output = host(&["--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    let packages = &report["packages"];
    assert_eq!(packages["os"]["id"], "debian");
    let findings = packages["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{packages:#}");
    assert_eq!(findings[0]["details"]["package"], "openssl");
    assert_eq!(
        findings[0]["details"]["installed_version"],
        "3.0.11-1~deb12u2"
    );
    assert_eq!(
        findings[0]["details"]["fix"]["versions"][0],
        "3.0.13-1~deb12u1"
    );
    assert_eq!(findings[0]["location"]["path"], "/var/lib/dpkg/status");
    let table = String::from_utf8_lossy(&host(&[]).stdout).into_owned();
    assert!(
        table.contains(
            "Patch level (debian 12): 2 packages, 1 vulnerabilities, 1 with a fixed version"
        ),
        "{table}"
    );
    // Skipped on demand: only the checks remain.
    let output = host(&["--skip-packages", "--format", "json"]);
    assert!(json(&output).get("packages").is_none());
}
