//! `rempart server webhook-config`: the admission webhook configuration the binary prints,
//! read back as YAML and, when `kubectl` is installed, as kubectl reads it; and the inputs it
//! refuses.

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use serde_json::{Value, json};
use support::tls::{TestCa, new_key};

fn webhook_config(args: &[&str], ca_bundle: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(["server", "webhook-config", "--ca-bundle"])
        .arg(ca_bundle)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The document as kubectl reads it, labelled `checked=yes`; `None` without kubectl.
fn through_kubectl(document: &str) -> Option<Value> {
    let mut child = match Command::new("kubectl")
        .args(["label", "--local", "-f", "-", "checked=yes", "-o", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => panic!("cannot run kubectl: {error}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(document.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "kubectl refused the document: {}\n{document}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

#[test]
#[allow(clippy::print_stderr)] // the skip is said where the test output shows it
fn the_configuration_reads_back_alike_in_yaml_and_kubectl() {
    let work = tempfile::tempdir().unwrap();
    let ca = TestCa::new(work.path(), "webhook-ca");
    let args = [
        "--namespace",
        "security",
        "--service",
        "rempart-server",
        "--exclude-namespace",
        "monitoring",
        "--failure-policy",
        "Ignore",
        "--timeout",
        "5",
        "--mutating",
    ];
    let text = stdout(&webhook_config(&args, &ca.certificate));
    assert_eq!(
        text,
        stdout(&webhook_config(&args, &ca.certificate)),
        "the same options print the same text"
    );
    assert!(text.starts_with(&format!(
        "# Admission webhooks of rempart {}",
        env!("CARGO_PKG_VERSION")
    )));

    let documents: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    assert_eq!(documents.len(), 2, "{text}");
    let ca_pem = std::fs::read_to_string(&ca.certificate).unwrap();
    for (document, (kind, prefix, path)) in documents.iter().zip([
        (
            "ValidatingWebhookConfiguration",
            "validate",
            "/admission/validate",
        ),
        (
            "MutatingWebhookConfiguration",
            "mutate",
            "/admission/mutate",
        ),
    ]) {
        assert_eq!(document["kind"], json!(kind));
        let webhook = &document["webhooks"][0];
        assert_eq!(
            webhook["name"],
            json!(format!("{prefix}.rempart.rempart.dev"))
        );
        assert_eq!(
            webhook["clientConfig"]["service"],
            json!({"namespace": "security", "name": "rempart-server", "path": path, "port": 443})
        );
        let bundle = base64::engine::general_purpose::STANDARD
            .decode(webhook["clientConfig"]["caBundle"].as_str().unwrap())
            .unwrap();
        assert_eq!(String::from_utf8(bundle).unwrap(), ca_pem);
        assert_eq!(
            webhook["namespaceSelector"]["matchExpressions"][0]["values"],
            json!(["kube-system", "security", "monitoring"])
        );
        assert_eq!(webhook["failurePolicy"], json!("Ignore"));
        assert_eq!(webhook["timeoutSeconds"], json!(5));
        assert_eq!(webhook["sideEffects"], json!("NoneOnDryRun"));
        let resources: Vec<&str> = webhook["rules"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|rule| rule["resources"].as_array().unwrap())
            .map(|resource| resource.as_str().unwrap())
            .collect();
        assert_eq!(
            resources,
            [
                "pods",
                "pods/ephemeralcontainers",
                "replicationcontrollers",
                "deployments",
                "replicasets",
                "statefulsets",
                "daemonsets",
                "jobs",
                "cronjobs"
            ]
        );
    }

    // kubectl reads each document as we do: the same object, plus its label.
    let sources: Vec<&str> = text.split("\n---\n").collect();
    assert_eq!(sources.len(), 2);
    for (source, document) in sources.iter().zip(&documents) {
        let Some(read) = through_kubectl(source) else {
            eprintln!(
                "kubectl is not installed: not read back with it (scripts/install-test-deps.sh installs it)"
            );
            return;
        };
        let mut expected = document.clone();
        expected["metadata"]["labels"] = json!({"checked": "yes"});
        assert_eq!(read, expected);
    }
}

#[test]
fn a_server_outside_the_cluster_is_called_by_url() {
    let work = tempfile::tempdir().unwrap();
    let ca = TestCa::new(work.path(), "webhook-ca");
    let text = stdout(&webhook_config(
        &["--url", "https://rempart.example:8443"],
        &ca.certificate,
    ));
    let document: Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(
        document["webhooks"][0]["clientConfig"]["url"],
        json!("https://rempart.example:8443/admission/validate")
    );
    assert_eq!(document["webhooks"][0]["clientConfig"].get("service"), None);
}

#[test]
fn unusable_inputs_are_refused_naming_them() {
    let work = tempfile::tempdir().unwrap();
    let ca = TestCa::new(work.path(), "webhook-ca");
    let missing = work.path().join("missing.crt");
    let key = new_key(work.path(), "not-a-certificate");
    let cases: Vec<(Vec<&str>, &Path, Vec<String>)> = vec![
        (
            vec![],
            &missing,
            vec![format!("--ca-bundle {}", missing.display())],
        ),
        (
            vec![],
            &key,
            vec![
                format!("--ca-bundle {}", key.display()),
                "no certificate".to_owned(),
            ],
        ),
        (
            vec!["--url", "http://rempart.example"],
            &ca.certificate,
            vec![
                "--url `http://rempart.example`".to_owned(),
                "https".to_owned(),
            ],
        ),
        (
            vec!["--timeout", "0"],
            &ca.certificate,
            vec!["--timeout".to_owned(), "0".to_owned()],
        ),
        (
            vec!["--timeout", "31"],
            &ca.certificate,
            vec!["--timeout".to_owned(), "31".to_owned()],
        ),
        (
            vec!["--url", "https://rempart.example", "--service", "other"],
            &ca.certificate,
            vec!["--url".to_owned(), "--service".to_owned()],
        ),
    ];
    for (args, ca_bundle, expected) in cases {
        let output = webhook_config(&args, ca_bundle);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
        for part in expected {
            assert!(stderr.contains(&part), "{args:?}: {part} not in {stderr}");
        }
    }
}
