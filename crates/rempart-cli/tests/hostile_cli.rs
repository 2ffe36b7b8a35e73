//! The binary against hostile or mistaken command lines: special files given as inputs or
//! outputs, a mistyped database path, exit codes that would hide a failure, a reader that goes
//! away, escape sequences in names.

use std::io::Read;
use std::os::unix::fs::FileTypeExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn sample_image() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-image")
}

fn rempart(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(args)
        .env("REMPART_CACHE_DIR", cache)
        .env_remove("REMPART_DB")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// The run failed as a run that could not be done (exit 2), saying `expected` on stderr.
fn assert_fails_saying(output: &Output, expected: &str) {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    assert!(stderr(output).contains(expected), "{}", stderr(output));
}

/// Builds the database `db` from one export of the trimmed advisory snapshot in the repository.
fn import_snapshot(cache: &Path, export: &str, db: &Path) {
    let export = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../rempart-vulndb/tests/fixtures/snapshot")
        .join(export);
    let output = rempart(
        cache,
        &[
            "db",
            "import",
            "--db",
            db.to_str().unwrap(),
            export.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

const DOCKERFILE: &str = "FROM debian:12\nUSER root\n";

#[test]
fn special_files_given_as_inputs_are_refused_without_blocking() {
    let temp = tempfile::tempdir().unwrap();
    let fifo = temp.path().join("Dockerfile");
    mkfifo(&fifo);
    let started = Instant::now();
    let image = sample_image();
    let image = image.to_str().unwrap();
    let fifo = fifo.to_str().unwrap();
    let mut cases: Vec<Vec<&str>> = vec![
        vec!["config", "/dev/zero"],
        vec!["config", fifo],
        vec!["image", "--input", "/dev/zero"],
        vec!["db", "import", "--db", "x.sqlite", fifo],
    ];
    for (option, value) in [
        ("--ignorefile", fifo),
        ("--vex", "/dev/zero"),
        ("--secret-config", fifo),
        ("--malware-hashes", fifo),
        ("--malware-rules", "/dev/zero"),
        ("--policy", fifo),
        ("--config", fifo),
    ] {
        cases.push(vec!["image", "--input", image, option, value]);
    }
    for args in cases {
        let output = rempart(temp.path(), &args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let message = stderr(&output);
        assert!(
            message.contains("FIFO")
                || message.contains("character device")
                || message.contains("not an image"),
            "{args:?}: {message}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_mins(1),
        "something blocked"
    );
}

#[test]
fn a_dockerfile_linked_to_the_process_environment_does_not_print_it() {
    let temp = tempfile::tempdir().unwrap();
    let link = temp.path().join("Dockerfile");
    std::os::unix::fs::symlink("/proc/self/environ", &link).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(["config", link.to_str().unwrap()])
        .env("REMPART_CACHE_DIR", temp.path())
        .env("CI_TOKEN_FOR_THE_TEST", "secret-value-that-must-not-leak")
        .output()
        .unwrap();
    let everything = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert!(
        !everything.contains("secret-value-that-must-not-leak"),
        "{everything}"
    );
    assert!(
        everything.len() < 4000,
        "{} bytes of output",
        everything.len()
    );
}

#[test]
fn a_mistyped_database_path_is_an_error_not_the_sample_set() {
    let temp = tempfile::tempdir().unwrap();
    let missing = temp.path().join("no/such/vuln.sqlite");
    let output = rempart(
        temp.path(),
        &[
            "image",
            "--input",
            sample_image().to_str().unwrap(),
            "--db",
            missing.to_str().unwrap(),
        ],
    );
    assert_fails_saying(&output, "no vulnerability database at");
    assert!(!missing.exists(), "nothing is created at a mistyped path");

    let output = rempart(
        temp.path(),
        &[
            "image",
            "--input",
            sample_image().to_str().unwrap(),
            "--db",
            temp.path().to_str().unwrap(),
        ],
    );
    assert_fails_saying(&output, "is a directory");
}

#[test]
fn exit_code_two_and_absurd_parallelism_are_refused_up_front() {
    let temp = tempfile::tempdir().unwrap();
    for args in [
        vec!["config", "x", "--exit-code", "2"],
        vec!["image", "--input", "x", "--exit-code", "2"],
        vec!["image", "--input", "x", "--parallel", "10000"],
        vec!["image", "--input", "x", "--parallel", "0"],
        vec!["image", "x", "--timeout", "soon"],
    ] {
        let output = rempart(temp.path(), &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!stderr(&output).is_empty());
    }
}

#[test]
fn output_paths_devices_fifos_and_links_are_written_through() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    std::fs::write(dir.join("Dockerfile"), DOCKERFILE).unwrap();
    let config = |output: &Path| {
        rempart(
            dir,
            &[
                "config",
                dir.join("Dockerfile").to_str().unwrap(),
                "--format",
                "json",
                "--output",
                output.to_str().unwrap(),
            ],
        )
    };

    // A character device node (the same device as /dev/null) stays a device node.
    let node = dir.join("null");
    let made = Command::new("mknod")
        .args([node.to_str().unwrap(), "c", "1", "3"])
        .status()
        .unwrap();
    if made.success() {
        let output = config(&node);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let kind = std::fs::symlink_metadata(&node).unwrap().file_type();
        assert!(kind.is_char_device(), "the device node was replaced");
    }
    // Without root, mknod fails: /dev/null below is the device checked then.
    let output = config(Path::new("/dev/null"));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        std::fs::symlink_metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );

    // A FIFO gets the report through it.
    let fifo = dir.join("report.fifo");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            std::fs::File::open(fifo)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            text
        })
    };
    let output = config(&fifo);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = reader.join().unwrap();
    assert!(text.contains("\"findings\""), "{text}");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );

    // A symbolic link: its target is replaced, the link stays.
    let target = dir.join("target.json");
    std::fs::write(&target, "old").unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let output = config(&link);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("\"findings\"")
    );

    // A dangling link is refused rather than replaced.
    let dangling = dir.join("dangling.json");
    std::os::unix::fs::symlink(dir.join("nowhere/x.json"), &dangling).unwrap();
    let output = config(&dangling);
    assert_fails_saying(&output, "symbolic link");

    // A new report gets the usual permissions (0666 less the umask), not 0600.
    let fresh = dir.join("fresh.json");
    let output = config(&fresh);
    assert_eq!(output.status.code(), Some(1));
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&fresh).unwrap().permissions())
            & 0o777;
    assert_eq!(
        mode & 0o044,
        0o044,
        "mode {mode:o}: readable by group and others"
    );

    // `-o -` is standard output, not a file named `-`.
    let output = rempart(
        dir,
        &[
            "config",
            dir.join("Dockerfile").to_str().unwrap(),
            "--format",
            "json",
            "-o",
            "-",
        ],
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"findings\""));
    assert!(!dir.join("-").exists());
}

#[test]
fn a_reader_that_goes_away_does_not_change_the_verdict() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(temp.path().join("Dockerfile"), DOCKERFILE).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args([
            "config",
            temp.path().join("Dockerfile").to_str().unwrap(),
            "--format",
            "json",
        ])
        .env("REMPART_CACHE_DIR", temp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the pipe before reading anything: like `| head -c0`.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));

    // `db status | head -1`: no panic on the broken pipe.
    let db = temp.path().join("db/vuln.sqlite");
    let output = rempart(
        temp.path(),
        &["db", "import", "--db", db.to_str().unwrap(), "/nonexistent"],
    );
    assert_eq!(output.status.code(), Some(2));
    let scan = rempart(
        temp.path(),
        &[
            "image",
            "--input",
            sample_image().to_str().unwrap(),
            "--scanners",
            "vuln",
        ],
    );
    assert!(scan.status.code() == Some(1), "{}", stderr(&scan));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(["db", "status"])
        .env("REMPART_CACHE_DIR", temp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

#[test]
fn escape_sequences_in_names_reach_the_terminal_escaped() {
    let temp = tempfile::tempdir().unwrap();
    let name = "bad\u{1b}]0;owned\u{7}\u{1b}[2J.tar";
    let path = temp.path().join(name);
    std::fs::write(&path, b"not a tar at all, nowhere near").unwrap();
    let output = rempart(temp.path(), &["image", "--input", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(!message.contains('\u{1b}'), "{message:?}");
    assert!(message.contains("\\u{1b}"), "{message:?}");
}

#[test]
fn colour_only_where_asked_and_bad_arguments_before_any_work() {
    let temp = tempfile::tempdir().unwrap();
    let scan = |extra: &[&str]| {
        let mut args = vec!["image", "--input", "/nonexistent/image"];
        args.extend_from_slice(extra);
        rempart(temp.path(), &args)
    };
    // An error on stderr, which is a pipe here: no escape codes by default.
    let output = scan(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!stderr(&output).contains('\u{1b}'), "{:?}", stderr(&output));
    // And a warning (the first run installs the sample database and says so).
    let first = tempfile::tempdir().unwrap();
    let output = rempart(
        first.path(),
        &[
            "image",
            "--input",
            sample_image().to_str().unwrap(),
            "--scanners",
            "vuln",
        ],
    );
    assert!(stderr(&output).contains("WARN"), "{}", stderr(&output));
    assert!(!stderr(&output).contains('\u{1b}'), "{:?}", stderr(&output));
    let db = temp.path().join("db/vuln.sqlite");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let output = rempart(
        temp.path(),
        &[
            "image",
            "--input",
            sample_image().to_str().unwrap(),
            "--scanners",
            "vuln",
            "--color",
            "always",
            "-q",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains('\u{1b}'),
        "--color always colours the table"
    );

    // A bad timestamp is refused before anything is installed or scanned.
    let fresh = tempfile::tempdir().unwrap();
    let output = rempart(
        fresh.path(),
        &[
            "image",
            "--input",
            sample_image().to_str().unwrap(),
            "--timestamp",
            "yesterday",
        ],
    );
    assert_fails_saying(&output, "RFC 3339");
    assert!(!fresh.path().join("db").exists(), "nothing was installed");

    // A file named .zip that is not a zip says so.
    let fake = temp.path().join("PyPI-all.zip");
    std::fs::write(&fake, "<html>502 Bad Gateway</html>").unwrap();
    let output = rempart(
        temp.path(),
        &[
            "db",
            "import",
            "--db",
            temp.path().join("x.sqlite").to_str().unwrap(),
            fake.to_str().unwrap(),
        ],
    );
    assert_fails_saying(&output, "not a zip archive");
}

#[test]
fn config_directories_report_links_and_special_files_they_cannot_read() {
    let temp = tempfile::tempdir().unwrap();
    let tree = temp.path().join("repo");
    std::fs::create_dir_all(tree.join("docker")).unwrap();
    std::fs::write(tree.join("docker/base.txt"), DOCKERFILE).unwrap();
    std::os::unix::fs::symlink("docker/base.txt", tree.join("Dockerfile")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", tree.join("outside.yaml")).unwrap();
    mkfifo(&tree.join("compose.yaml"));
    let started = Instant::now();
    let output = rempart(
        temp.path(),
        &["config", tree.to_str().unwrap(), "--format", "json"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "a FIFO blocked the walk"
    );
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr(&output)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let skipped: Vec<(String, String)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_owned(),
                s["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        skipped.contains(&("Dockerfile".into(), "link_not_followed".into())),
        "{skipped:?}"
    );
    assert!(
        skipped.contains(&("outside.yaml".into(), "link_escapes_root".into())),
        "{skipped:?}"
    );
    assert!(
        skipped.contains(&("compose.yaml".into(), "special_file".into())),
        "{skipped:?}"
    );
}

/// Every report says which vulnerability data it was matched against, and whether that is the
/// built-in sample set.
#[test]
fn reports_name_the_vulnerability_data_they_used() {
    let temp = tempfile::tempdir().unwrap();
    let image = sample_image();
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "image",
            "--input",
            image.to_str().unwrap(),
            "--scanners",
            "vuln",
        ];
        args.extend_from_slice(extra);
        rempart(temp.path(), &args)
    };
    let output = scan(&["--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let data = &report["vulnerability_data"];
    assert_eq!(data["sample"], true, "{data}");
    assert!(data["advisories"].as_u64().unwrap() > 0);
    assert!(data["data_up_to"].as_str().unwrap().starts_with("20"));
    assert!(
        stderr(&output).contains("not real coverage"),
        "{}",
        stderr(&output)
    );
    let table = String::from_utf8(scan(&[]).stdout).unwrap();
    assert!(
        table.contains("Vulnerability data: the built-in sample set"),
        "{table}"
    );

    // A database built from real exports: named, not a sample.
    let db = temp.path().join("real.sqlite");
    import_snapshot(temp.path(), "PyPI-all.zip", &db);
    let output = scan(&["--format", "sarif", "--db", db.to_str().unwrap()]);
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let data = &sarif["runs"][0]["properties"]["vulnerabilityData"];
    assert_eq!(data["path"], db.to_str().unwrap(), "{data}");
    assert!(data.get("sample").is_none(), "{data}");
    let output = scan(&["--format", "cyclonedx", "--db", db.to_str().unwrap()]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("rempart:vulndb:data_up_to"), "{text}");
}

/// Path allowlists match the path as it sits on the machine: a crate's test keys in cargo's
/// download cache are passed over whether the scan starts above the cache or inside the crate.
#[test]
fn allowlists_do_not_depend_on_where_the_scan_starts() {
    let temp = tempfile::tempdir().unwrap();
    let krate = temp
        .path()
        .join("home/.cargo/registry/src/index.example-0123456789abcdef/demo-1.0.0");
    std::fs::create_dir_all(krate.join("tests")).unwrap();
    let token = format!("{}{}", "ghp_", "Zq3V8xL2mN5pR7tY1wK4bC6dF9gH0jS2aE4u");
    std::fs::write(
        krate.join("tests/keys.rs"),
        format!("const T: &str = \"{token}\";\n"),
    )
    .unwrap();
    // The same token outside the allowlisted directory is found.
    std::fs::write(krate.join("config.toml"), format!("token = \"{token}\"\n")).unwrap();
    let secrets_in = |dir: &Path| -> Vec<String> {
        let output = rempart(
            temp.path(),
            &[
                "fs",
                dir.to_str().unwrap(),
                "--scanners",
                "secret",
                "--format",
                "json",
            ],
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", stderr(&output)));
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["location"]["path"].as_str().unwrap().to_owned())
            .collect()
    };
    let from_above = secrets_in(temp.path());
    let from_inside = secrets_in(&krate);
    assert_eq!(from_above.len(), 1, "{from_above:?}");
    assert!(
        from_above[0].ends_with("demo-1.0.0/config.toml"),
        "{from_above:?}"
    );
    assert_eq!(
        from_inside,
        ["config.toml"],
        "scanned from inside the crate"
    );
}

/// A scan against a damaged database fails (exit 2) and says so: it never reports "clean".
#[test]
fn a_scan_against_a_damaged_database_fails() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("vuln.sqlite");
    import_snapshot(temp.path(), "crates.io-all.zip", &db);
    // Garbage over the header of the last page, far from what reading the status touches.
    let mut bytes = std::fs::read(&db).unwrap();
    let page_size = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    let last = bytes.len() - page_size;
    bytes[last..last + 8].copy_from_slice(&[0x0d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    std::fs::write(&db, &bytes).unwrap();
    let output = rempart(
        temp.path(),
        &[
            "image",
            "--input",
            sample_image().to_str().unwrap(),
            "--scanners",
            "vuln",
            "--db",
            db.to_str().unwrap(),
        ],
    );
    assert_fails_saying(&output, "is damaged");
}

/// A file given as an image by mistake is refused without its content in the error: the tar
/// reader quotes the header bytes it could not read.
#[test]
fn a_file_that_is_not_an_image_is_refused_without_printing_it() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passwd");
    let mut text = String::new();
    for user in ["root", "daemon", "operator"] {
        text += &[
            user,
            ":x:0:0:",
            user,
            "-Wq9-private-marker:/root:/bin/bash\n",
        ]
        .concat();
    }
    text.push_str(&"x".repeat(2048));
    std::fs::write(&file, &text).unwrap();
    let output = rempart(cache.path(), &["image", "--input", file.to_str().unwrap()]);
    assert_fails_saying(&output, "not a readable tar archive");
    assert!(
        !stderr(&output).contains("private-marker"),
        "{}",
        stderr(&output)
    );
}
