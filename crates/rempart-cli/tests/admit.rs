//! `rempart admit` as CI runs it: committed manifests (rendered once with kubectl), manifests
//! rendered by the real `kubectl` at test time, a verdict server on 127.0.0.1, and hostile input.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/admission")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).to_str().unwrap().to_owned()
}

fn rempart(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(args)
        .env_remove("REMPART_TOKEN")
        .output()
        .unwrap()
}

fn admit_json(args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["admit", "--format", "json"];
    all.extend_from_slice(args);
    let output = rempart(&all);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|error| {
        panic!(
            "{error}: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), report)
}

/// `Kind name` → its decision.
fn decision<'a>(report: &'a Value, kind: &str, name: &str) -> &'a Value {
    report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["decision"])
        .find(|d| d["object"]["kind"] == kind && d["object"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind} {name} not in {report}"))
}

fn codes(decision: &Value, list: &str) -> Vec<String> {
    decision[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn committed_manifests_every_owner_kind() {
    let (code, report) = admit_json(&[
        &fixture("workloads.yaml"),
        "--policy",
        &fixture("policy.yaml"),
        "--verdicts",
        &fixture("verdicts.json"),
    ]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(
        (&report["allowed"], &report["denied"], &report["skipped"]),
        (&json!(5), &json!(3), &json!(1))
    );
    // Pinned, allowed registry, passing verdict: nothing to say but the skipped selection.
    let web = decision(&report, "Deployment", "web");
    assert_eq!(web["allowed"], true);
    assert_eq!(codes(web, "warnings"), ["ADM-NAMESPACE-LABELS-UNKNOWN"]);
    // The privileged pod: the PSS control and the failed verdict, both named.
    let debug = decision(&report, "Pod", "debug");
    assert_eq!(debug["allowed"], false);
    assert_eq!(
        codes(debug, "denials"),
        ["ADM-PSS", "ADM-IMAGE-VERDICT-FAILED"]
    );
    assert_eq!(debug["denials"][0]["finding"], "K8S-PSS-PRIVILEGED");
    assert_eq!(
        debug["denials"][0]["container"],
        json!({"kind": "container", "name": "debug"})
    );
    assert!(
        debug["denials"][1]["message"]
            .as_str()
            .unwrap()
            .ends_with("failed the scan policy `release`: 1 finding at or above HIGH: CVE-2024-3094 in xz-utils 5.6.0")
    );
    // The CronJob's template, nested under jobTemplate, is checked; its exemption applies.
    let report_job = decision(&report, "CronJob", "report");
    assert_eq!(report_job["allowed"], true);
    assert_eq!(
        report_job["exempted"][0]["reason"]["code"],
        "ADM-IMAGE-LATEST"
    );
    assert_eq!(report_job["exempted"][0]["exemption"], 1);
    // An expired exemption does not save the DaemonSet and says so.
    let agent = decision(&report, "DaemonSet", "agent");
    assert_eq!(codes(agent, "denials"), ["ADM-IMAGE-REGISTRY"]);
    assert!(codes(agent, "warnings").contains(&"ADM-EXEMPTION-EXPIRED".to_owned()));
    assert_eq!(
        codes(decision(&report, "ReplicaSet", "cache"), "denials"),
        ["ADM-IMAGE-LATEST"]
    );
    for (kind, name) in [
        ("StatefulSet", "db"),
        ("ReplicationController", "legacy"),
        ("Job", "migrate"),
    ] {
        assert_eq!(decision(&report, kind, name)["allowed"], true, "{kind}");
    }
    assert_eq!(
        decision(&report, "Service", "web")["skipped"],
        "a Service runs no pod"
    );
    let unused: Vec<&Value> = report["unused_exemptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["exemption"])
        .collect();
    // Exemption 2 expired: reported on the DaemonSet, not again as unused.
    assert_eq!(unused, [&json!(3)]);
}

#[test]
fn namespace_labels_select_stricter_rules_and_the_table_says_why() {
    let workloads = fixture("workloads.yaml");
    let policy = fixture("policy.yaml");
    let verdicts = fixture("verdicts.json");
    let base = [
        "admit",
        workloads.as_str(),
        "--policy",
        policy.as_str(),
        "--verdicts",
        verdicts.as_str(),
    ];
    let mut args = base.to_vec();
    args.extend(["--namespace-label", "shop:tier=prod"]);
    let output = rempart(&args);
    assert_eq!(output.status.code(), Some(1));
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.contains("DENIED   Deployment shop/web (workloads.yaml:3)")
            || table.contains("DENIED   Deployment shop/web ("),
        "{table}"
    );
    assert!(
        table.contains("  deny   [ADM-PSS] container web: K8S-PSS-RUN-AS-NON-ROOT:"),
        "{table}"
    );
    assert!(table.contains("  deny   [ADM-IMAGE-NO-VERDICT] container migrate (registry.example.com/shop/migrate:2.0): no verdict for the image (a tag no verdict source resolved to a digest) under the scan policy `release`; unscanned images are denied"), "{table}");
    assert!(!table.contains("ADM-NAMESPACE-LABELS-UNKNOWN"), "{table}");
    assert!(
        table.contains("9 objects: 0 allowed, 8 denied, 1 skipped"),
        "{table}"
    );

    // A Namespace among the manifests gives its labels, as `kubectl apply -f DIR` creates it.
    let dir = tempfile::tempdir().unwrap();
    let namespace = dir.path().join("namespace.yaml");
    std::fs::write(
        &namespace,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {tier: prod}\n",
    )
    .unwrap();
    let (code, report) = admit_json(&[
        namespace.to_str().unwrap(),
        &workloads,
        "--policy",
        &policy,
        "--verdicts",
        &verdicts,
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(
        decision(&report, "Deployment", "web")["selection"],
        "production"
    );
    assert_eq!(
        report["objects"].as_array().unwrap().len(),
        9,
        "the Namespace is context, not an object"
    );
}

#[test]
fn without_verdicts_the_unscanned_mode_decides() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    let digest = format!("sha256:{}", "a".repeat(64));
    let manifest = dir.path().join("pod.json");
    std::fs::write(
        &manifest,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": format!("registry.example.com/app@{digest}")}]}}).to_string(),
    )
    .unwrap();
    for (mode, exit, text) in [
        ("deny", 1, "unscanned images are denied"),
        ("warn", 0, "allowed with a warning"),
        (
            "scan",
            1,
            "needs a verdict source that scans (the server), so the image is denied here",
        ),
    ] {
        std::fs::write(
            &policy,
            format!("version: 1\ndefault: {{images: {{verdict: {{unscanned: {mode}}}}}}}\n"),
        )
        .unwrap();
        let output = rempart(&[
            "admit",
            manifest.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ]);
        let table = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(exit), "{mode}: {table}");
        assert!(
            table.contains(&format!(
                "@{digest}): no verdict for the image under the scan policy `default`"
            )),
            "{table}"
        );
        assert!(table.contains(text), "{mode}: {table}");
    }
}

/// A verdict server on 127.0.0.1 answering as `/v1/images/{digest}/verdict` is specified:
/// one image passes, any other is 404; the token must be sent.
fn verdict_server() -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let known = format!("sha256:{}", "c".repeat(64));
    let handle = std::thread::spawn(move || {
        let mut requests = Vec::new();
        listener.set_nonblocking(false).unwrap();
        for stream in listener.incoming().take(2) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut authorized = false;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if line
                    .to_ascii_lowercase()
                    .starts_with("authorization: bearer t0ken")
                {
                    authorized = true;
                }
            }
            requests.push(request_line.trim().to_owned());
            let (status, body) = if !authorized {
                ("401 Unauthorized", json!({"error": "no token"}))
            } else if request_line.contains(&format!("/v1/images/{known}/verdict?policy=release")) {
                (
                    "200 OK",
                    json!({"digest": known, "policy": "release", "policy_version": 1, "passed": true, "reasons": [], "findings": 0, "suppressed": 0, "scanned_at": 4_102_444_800_i64, "decided_at": 4_102_444_800_i64}),
                )
            } else {
                ("404 Not Found", json!({"error": "no such image"}))
            };
            let body = body.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.flush();
            let mut rest = Vec::new();
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(50)));
            let _ = stream.read_to_end(&mut rest);
        }
        requests
    });
    (address, handle)
}

#[test]
fn verdicts_from_a_server() {
    let (server, handle) = verdict_server();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "version: 1\ndefault: {images: {verdict: {policy: release}}}\n",
    )
    .unwrap();
    let manifest = dir.path().join("pods.yaml");
    std::fs::write(
        &manifest,
        format!(
            "kind: List\nitems:\n- kind: Pod\n  metadata: {{name: known}}\n  spec: {{containers: [{{name: a, image: 'registry.example.com/app@sha256:{}'}}]}}\n- kind: Pod\n  metadata: {{name: unknown}}\n  spec: {{containers: [{{name: a, image: 'registry.example.com/app@sha256:{}'}}]}}\n",
            "c".repeat(64),
            "d".repeat(64)
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args([
            "admit",
            manifest.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--server",
            &server,
            "--format",
            "json",
        ])
        .env("REMPART_TOKEN", "t0ken")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_eq!(
        decision(&report, "Pod", "known")["allowed"],
        true,
        "{report}"
    );
    assert_eq!(
        codes(decision(&report, "Pod", "unknown"), "denials"),
        ["ADM-IMAGE-NO-VERDICT"]
    );
    let requests = handle.join().unwrap();
    assert_eq!(requests.len(), 2, "{requests:?}");
}

/// Manifests rendered by the real kubectl, wrapped in a `List` as `kubectl get -o json` gives.
#[test]
#[allow(clippy::print_stderr)] // the skip is said where the test output shows it
fn manifests_rendered_by_kubectl() {
    if Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_err()
    {
        eprintln!("kubectl is not installed: skipped (scripts/install-test-deps.sh installs it)");
        return;
    }
    let render = |args: &[&str]| -> Value {
        let output = Command::new("kubectl")
            .args(args)
            .args(["--dry-run=client", "-o", "json"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let items = vec![
        render(&["create", "deployment", "web", "--image=nginx:1.27"]),
        render(&[
            "create",
            "job",
            "once",
            "--image=registry.example.com/tools/once",
        ]),
        render(&[
            "create",
            "cronjob",
            "nightly",
            "--image=nginx:latest",
            "--schedule=0 1 * * *",
        ]),
        // `kubectl run` asks the API server even with --dry-run=client: a Deployment stands in.
        render(&[
            "create",
            "deployment",
            "single",
            "--image=ghcr.io/someone/thing:1",
        ]),
    ];
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("rendered.json");
    std::fs::write(
        &manifest,
        json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string(),
    )
    .unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "version: 1\ndefault:\n  pod_security: {level: restricted}\n  images:\n    allowed: {patterns: ['docker.io/library/*']}\n    forbid_latest: {}\n",
    )
    .unwrap();
    let (code, report) = admit_json(&[
        manifest.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "-n",
        "apps",
    ]);
    assert_eq!(code, Some(1));
    for (kind, name) in [
        ("Deployment", "web"),
        ("Job", "once"),
        ("CronJob", "nightly"),
        ("Deployment", "single"),
    ] {
        let decision = decision(&report, kind, name);
        assert_eq!(decision["allowed"], false, "{kind}");
        assert_eq!(decision["object"]["namespace"], "apps");
        // kubectl sets no security context: restricted fails on the named container.
        let pss = decision["denials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["finding"] == "K8S-PSS-RUN-AS-NON-ROOT")
            .unwrap();
        assert_eq!(pss["container"]["kind"], "container", "{kind}");
    }
    assert!(
        codes(decision(&report, "Job", "once"), "denials")
            .contains(&"ADM-IMAGE-REGISTRY".to_owned())
    );
    assert!(
        codes(decision(&report, "Job", "once"), "denials").contains(&"ADM-IMAGE-LATEST".to_owned())
    );
    assert!(
        codes(decision(&report, "CronJob", "nightly"), "denials")
            .contains(&"ADM-IMAGE-LATEST".to_owned())
    );
    assert!(
        codes(decision(&report, "Deployment", "single"), "denials")
            .contains(&"ADM-IMAGE-REGISTRY".to_owned())
    );
    assert!(
        !codes(decision(&report, "Deployment", "web"), "denials")
            .contains(&"ADM-IMAGE-REGISTRY".to_owned())
    );
}

#[test]
fn errors_exit_2_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = fixture("workloads.yaml");
    let bad = dir.path().join("bad-policy.yaml");
    std::fs::write(
        &bad,
        "version: 1\ndefault:\n  images:\n    verdict: {unscaned: warn}\n",
    )
    .unwrap();
    let output = rempart(&["admit", &manifest, "--policy", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("bad-policy.yaml: default.images.verdict.unscaned: unknown field `unscaned`"),
        "{stderr}"
    );
    let missing = dir.path().join("missing.yaml");
    let output = rempart(&[
        "admit",
        missing.to_str().unwrap(),
        "--policy",
        &fixture("policy.yaml"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.yaml"));
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "kind: Pod\nmetadata: {name: [\n").unwrap();
    let output = rempart(&[
        "admit",
        broken.to_str().unwrap(),
        "--policy",
        &fixture("policy.yaml"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("broken.yaml"));
    let verdicts = dir.path().join("verdicts.json");
    std::fs::write(
        &verdicts,
        "{\"verdicts\": [{\"digest\": \"sha256:1\", \"passed\": true, \"scanned_at\": 0}]}",
    )
    .unwrap();
    let output = rempart(&[
        "admit",
        &manifest,
        "--policy",
        &fixture("policy.yaml"),
        "--verdicts",
        verdicts.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("verdicts.json: verdicts[0].digest"));
}

#[test]
fn hostile_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let policy = fixture("policy.yaml");
    // Nesting far past any manifest: refused with a message, no stack overflow.
    let deep = dir.path().join("deep.yaml");
    std::fs::write(
        &deep,
        format!(
            "kind: Pod\nspec: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    )
    .unwrap();
    let output = rempart(&["admit", deep.to_str().unwrap(), "--policy", &policy]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("deep.yaml"));
    // Over the size cap: refused before parsing.
    let huge = dir.path().join("huge.yaml");
    let mut file = std::fs::File::create(&huge).unwrap();
    let line = format!("# {}\n", "x".repeat(1022));
    for _ in 0..(17 * 1024) {
        file.write_all(line.as_bytes()).unwrap();
    }
    drop(file);
    let output = rempart(&["admit", huge.to_str().unwrap(), "--policy", &policy]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("huge.yaml"));
    // Unknown kinds, kind-less documents, missing fields and forged names: reported, not fatal.
    let odd = dir.path().join("odd.yaml");
    std::fs::write(
        &odd,
        "kind: Gadget\nmetadata: {name: g}\n---\nmetadata: {name: nokind}\n---\n- just\n- a list\n---\nkind: Deployment\nmetadata: {name: empty}\n---\nkind: Pod\nmetadata: {name: \"evil\\nDENIED fake\\u001b[2J\"}\nspec: {containers: [{name: noimage}]}\n",
    )
    .unwrap();
    let output = rempart(&["admit", odd.to_str().unwrap(), "--policy", &policy]);
    assert_eq!(output.status.code(), Some(1));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("a Gadget runs no pod"), "{table}");
    assert!(table.contains("the object has no kind"), "{table}");
    assert!(table.contains("[ADM-OBJECT-MALFORMED] the Deployment has no pod template: `spec.template.spec` is missing"), "{table}");
    assert!(
        table.contains("[ADM-OBJECT-MALFORMED] container noimage: the container names no image"),
        "{table}"
    );
    assert!(!table.contains('\u{1b}'), "{table}");
    assert!(
        !table.lines().any(|line| line.starts_with("DENIED fake")),
        "{table}"
    );
}
