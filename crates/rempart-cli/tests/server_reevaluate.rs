//! Continuous re-evaluation: when the vulnerability database file of a running server is
//! replaced, every stored image is matched again from what was stored (no layer read, no
//! upload again), and verdicts that change are in the audit log and sent to webhooks.

mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::webhook_receiver::Receiver;
use support::{free_port, request};

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rempart() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rempart"))
}

fn wait_until(what: &str, log: &Path, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_mins(2);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; server log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Replaces a file the way an operator (or `db update`) does: a new file renamed over it.
fn swap_in(source: &Path, target: &Path) {
    let staged = target.with_extension("staged");
    std::fs::copy(source, &staged).unwrap();
    std::fs::rename(&staged, target).unwrap();
}

#[test]
fn a_new_database_changes_stored_verdicts_without_rescanning() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    // A database that knows none of the sample image's flaws: one record, of a package the
    // image does not hold.
    let unrelated = work.path().join("unrelated.sqlite");
    let records = work.path().join("records");
    std::fs::create_dir(&records).unwrap();
    std::fs::write(
        records.join("GHSA-test-0001.json"),
        r#"{"id": "GHSA-test-0001", "modified": "2024-05-03T00:00:00Z", "summary": "test record",
            "affected": [{"package": {"ecosystem": "npm", "name": "not-in-the-sample-image"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.0"}]}]}]}"#,
    )
    .unwrap();
    let import = rempart()
        .args(["db", "import", "--db"])
        .arg(&unrelated)
        .arg(&records)
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let archive = work.path().join("sample.tar");
    let copied = Command::new("skopeo")
        .args(["copy", "-q"])
        .arg(format!(
            "oci:{}",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../examples/sample-image")
                .display()
        ))
        .arg(format!("docker-archive:{}:sample:1", archive.display()))
        .output()
        .unwrap();
    assert!(
        copied.status.success(),
        "{}",
        String::from_utf8_lossy(&copied.stderr)
    );

    // Verdict changes are announced to a webhook that subscribes to them only.
    let receiver = Receiver::start();
    std::fs::write(work.path().join("secret"), "a-long-enough-test-secret").unwrap();
    std::fs::write(
        work.path().join("webhooks.yaml"),
        format!(
            "endpoints:\n  - name: changes\n    url: http://127.0.0.1:{}/changes\n    secret_file: {}\n    events: [verdict.changed]\n",
            receiver.port,
            work.path().join("secret").display()
        ),
    )
    .unwrap();

    let port = free_port();
    let log_path = work.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server = Server {
        child: rempart()
            .args(["server", "--data-dir"])
            .arg(&data)
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--db-check-interval",
                "1s",
            ])
            .arg("--webhooks")
            .arg(work.path().join("webhooks.yaml"))
            .args(["--log-format", "json"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
        port,
    };
    wait_until("the server", &log_path, || {
        request(server.port, "GET", "/readyz", None, &[]).is_some_and(|(status, _)| status == 200)
    });
    let token = std::fs::read_to_string(data.join("admin-token")).unwrap();
    let token = token.trim();
    let call = |method: &str, path: &str, body: &[u8]| {
        request(server.port, method, path, Some(token), body).unwrap()
    };

    let (status, submitted) = call(
        "POST",
        "/v1/scans/upload?name=sample:1",
        &std::fs::read(&archive).unwrap(),
    );
    assert_eq!(status, 202, "{submitted}");
    let id = submitted["scan"]["id"].as_str().unwrap().to_owned();
    let mut digest = String::new();
    wait_until("the scan", &log_path, || {
        let (_, scan) = call("GET", &format!("/v1/scans/{id}"), &[]);
        digest = scan["digest"].as_str().unwrap_or_default().to_owned();
        scan["state"] == "done"
    });
    // The log is JSON lines, the scan's own fields at the top level (the line is written just
    // after the result is stored).
    let logged = || -> Vec<Value> {
        std::fs::read_to_string(&log_path)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    };
    wait_until("the completion's log line", &log_path, || {
        logged()
            .iter()
            .any(|line| line["message"] == "scan completed")
    });
    let logged = logged();
    let completed = logged
        .iter()
        .find(|line| line["message"] == "scan completed")
        .unwrap();
    assert_eq!(completed["scan"], id.as_str());
    assert_eq!(completed["digest"], digest.as_str());
    assert_eq!(completed["verdict"], "failed");
    assert_eq!(completed["level"], "INFO");

    // A policy that judges vulnerabilities only: every other finding is accepted.
    let (_, report) = call("GET", &format!("/v1/images/{digest}/report"), &[]);
    let vulnerabilities = |report: &Value| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["scanner"] == "vuln")
            .count()
    };
    assert!(vulnerabilities(&report) > 0);
    let mut policy = String::from("ignores:\n");
    for finding in report["findings"].as_array().unwrap() {
        if finding["scanner"] != "vuln" {
            let _ = write!(
                policy,
                "  - id: {}\n    reason: only vulnerabilities are judged here\n",
                finding["id"].as_str().unwrap()
            );
        }
    }
    let (status, _) = call("PUT", "/v1/policies/vulnerabilities", policy.as_bytes());
    assert_eq!(status, 201);
    let verdict = |policy: &str| {
        call(
            "GET",
            &format!("/v1/images/{digest}/verdict?policy={policy}"),
            &[],
        )
        .1
    };
    assert_eq!(verdict("vulnerabilities")["passed"], false);

    // The database is swapped under the running server: it notices and re-evaluates.
    let database = data.join("vuln.sqlite");
    let original = work.path().join("original.sqlite");
    std::fs::copy(&database, &original).unwrap();
    swap_in(&unrelated, &database);
    let audit_has = |action: &str| {
        call("GET", "/v1/audit?limit=1000", &[]).1["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["action"] == action)
            .count()
    };
    wait_until("the verdict change", &log_path, || {
        audit_has("verdict.changed") >= 1
    });
    assert_eq!(verdict("vulnerabilities")["passed"], true);
    let received = receiver.wait_for("the verdict change", |received| {
        received
            .iter()
            .any(|r| r.json()["data"]["verdict"]["policy"] == "vulnerabilities")
    });
    let change = received
        .iter()
        .find(|r| r.json()["data"]["verdict"]["policy"] == "vulnerabilities")
        .unwrap()
        .json();
    assert_eq!(change["type"], "verdict.changed");
    assert_eq!(change["data"]["digest"], digest.as_str());
    assert_eq!(change["data"]["previous"]["passed"], false, "{change}");
    assert_eq!(change["data"]["verdict"]["passed"], true, "{change}");
    assert_eq!(change["data"]["cause"], "vulnerability database change");
    // Only the subscribed event: the upload's scan completion was not sent.
    assert!(
        received
            .iter()
            .all(|r| r.json()["type"] == "verdict.changed")
    );
    let (_, report) = call("GET", &format!("/v1/images/{digest}/report"), &[]);
    assert_eq!(vulnerabilities(&report), 0);
    assert_eq!(report["vulnerability_data"]["advisories"], 1);
    // The same scan: nothing was scanned again.
    let (_, image) = call("GET", &format!("/v1/images/{digest}"), &[]);
    assert_eq!(image["scan_id"], id.as_str());

    // Back to the first database, re-evaluated on request this time.
    swap_in(&original, &database);
    let (status, done) = call("POST", "/v1/reevaluate", &[]);
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["rematched"], 1);
    assert_eq!(verdict("vulnerabilities")["passed"], false);
    let changes = audit_has("verdict.changed");
    assert!(changes >= 2, "{changes}");
    let (_, scans) = call("GET", "/v1/scans", &[]);
    assert_eq!(
        scans["scans"].as_array().unwrap().len(),
        1,
        "no scan was queued again"
    );
}
