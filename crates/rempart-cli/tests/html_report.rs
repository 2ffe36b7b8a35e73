//! The HTML report of the sample image in a real browser: headless Chromium takes a screenshot
//! and dumps the page as its script left it. Skipped, saying so, where no Chromium is installed
//! (`scripts/install-test-deps.sh` installs it).
//!
//! The browser never reaches the network: the page's policy allows no request, and Chromium's
//! own background services are turned off and its host resolver maps every name to nothing.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sample_image() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-image")
}

/// The first `chromium` or `chromium-browser` on `PATH`.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Writes the sample image's report in `format` to `dir/report.FORMAT`.
fn sample_report(dir: &Path, format: &str) -> PathBuf {
    let report = dir.join(format!("report.{format}"));
    let output = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(["image", "--input"])
        .arg(sample_image())
        .args(["--format", format, "--exit-code", "0", "--output"])
        .arg(&report)
        .env("REMPART_CACHE_DIR", dir.join("cache"))
        .env_remove("REMPART_DB")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "rempart --format {format}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    report
}

/// Runs the browser headless on `url` with a profile of its own, with `args` added.
fn run_chromium(browser: &Path, profile: &Path, url: &str, args: &[&str]) -> Output {
    let output = Command::new(browser)
        .args(support::HEADLESS_CHROMIUM)
        .args(["--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A browser that hangs (no display server quirks, a stuck renderer) must fail the test,
    // not hold the whole test run.
    let output = wait_at_most(output, std::time::Duration::from_mins(2));
    assert!(
        output.status.success(),
        "chromium {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The child's output, or a panic naming the deadline after killing it. The output is read
/// while waiting (a DOM dump can be larger than a pipe holds).
fn wait_at_most(child: std::process::Child, limit: std::time::Duration) -> Output {
    let pid = child.id().to_string();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    if let Ok(output) = receiver.recv_timeout(limit) {
        return output.unwrap();
    }
    let _ = Command::new("kill").args(["-9", &pid]).status();
    panic!("chromium did not finish within {} s", limit.as_secs());
}

fn file_url(path: &Path) -> String {
    let absolute = path.canonicalize().unwrap();
    let text = absolute.to_str().expect("temporary paths are UTF-8");
    assert!(
        !text.contains(['#', '?', '%', ' ']),
        "{text} would need escaping in a URL"
    );
    format!("file://{text}")
}

/// The part of `dom` from the element opening with `start` to the next `</section>`.
fn section<'a>(dom: &'a str, start: &str) -> &'a str {
    let from = dom
        .find(start)
        .unwrap_or_else(|| panic!("{start} in the page"));
    let to = dom[from..].find("</section>").expect("the section ends") + from;
    &dom[from..to]
}

// A skip must say why in the test output, or it passes for a run that checked nothing.
#[allow(clippy::print_stderr)]
#[test]
fn the_html_report_renders_and_its_script_runs_in_chromium() {
    let Some(browser) = chromium() else {
        eprintln!(
            "skipped: no chromium or chromium-browser on PATH (scripts/install-test-deps.sh installs it)"
        );
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let report = sample_report(work.path(), "html");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sample_report(work.path(), "json")).unwrap())
            .unwrap();
    let url = file_url(&report);

    let screenshot = work.path().join("report.png");
    run_chromium(
        &browser,
        &work.path().join("profile-screenshot"),
        &url,
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,2000",
        ],
    );
    let png = std::fs::read(&screenshot).expect("chromium wrote the screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    assert_eq!(&png[12..16], b"IHDR");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2000));
    // A blank page of that size compresses to a few kilobytes; text, tables and charts do not.
    assert!(png.len() > 40_000, "a {} byte screenshot", png.len());

    // The filter in the address (`#filter=`) fills the text boxes, so the dumped page also shows
    // that filtering ran.
    let dom = String::from_utf8(
        run_chromium(
            &browser,
            &work.path().join("profile-dom"),
            &format!("{url}#filter=urllib3"),
            &["--virtual-time-budget=5000", "--dump-dom"],
        )
        .stdout,
    )
    .unwrap();
    assert!(
        dom.contains(r#"data-ready="true""#),
        "the script finished: {dom}"
    );
    let findings = json["findings"].as_array().unwrap();
    for (scanner, label) in [
        ("vuln", "Vulnerabilities"),
        ("secret", "Secrets"),
        ("malware", "Malware"),
        ("misconfig", "Misconfigurations"),
    ] {
        let expected = findings.iter().filter(|f| f["scanner"] == scanner).count();
        let shown = section(&dom, &format!(r#"<section id="section-{scanner}">"#));
        assert!(
            shown.contains(&format!("<h2>{label} ({expected})</h2>")),
            "{scanner}: {shown}"
        );
        if expected == 0 {
            continue;
        }
        let rows = shown.matches("<tr data-severity=").count();
        assert_eq!(rows, expected, "{scanner}: every finding has its row");
        let matching = shown
            .split("<tr data-severity=")
            .skip(1)
            .filter(|row| row.to_lowercase().contains("urllib3"))
            .count();
        let hidden = shown
            .split("<tr data-severity=")
            .skip(1)
            .filter(|row| row.split_once('>').unwrap().0.contains("hidden"))
            .count();
        assert_eq!(
            hidden,
            rows - matching,
            "{scanner}: the filter hid the others"
        );
        assert!(
            shown.contains(&format!("{matching} of {rows} shown")),
            "{scanner}: the count of shown rows"
        );
        let controls = &shown[shown.find(r#"<div class="filters""#).expect("filters")..];
        assert!(
            !controls.split_once('>').unwrap().0.contains("hidden"),
            "{scanner}: the filter controls are shown"
        );
        let headers = shown.matches("<th>").count();
        let buttons = shown.matches(r#"<th><button type="button">"#).count();
        assert_eq!(headers, buttons, "{scanner}: every column header sorts");
    }
    let vulnerabilities = section(&dom, r#"<section id="section-vuln">"#);
    assert!(
        vulnerabilities.contains("<tr data-severity=") && vulnerabilities.contains("urllib3"),
        "the sample image has urllib3 vulnerabilities"
    );
    for id in ["summary", "layers"] {
        assert!(dom.contains(&format!(r#"<section id="{id}">"#)), "{id}");
    }
    assert_eq!(dom.matches("<svg").count(), 2, "two charts");
}
