//! The admission webhooks as a Kubernetes API server calls them: `AdmissionReview` requests
//! wrapping objects rendered by the real `kubectl`, sent over TLS (trusting only the CA that
//! signed the server's certificate) to the real `rempart server`, which resolves tags and scans
//! images in a real OCI registry (Debian's `docker-registry`). One registry and one server for
//! the whole test binary.

mod support;

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::Digest as _;
use support::tls::TestCa;
use support::{clean_layout, free_port, keep, kept_work_dir, run, start_registry, wait_for_port};

/// The decision budget the server is started with: short, so that the slow-registry test is.
const BUDGET_SECONDS: u64 = 4;

/// The admission policy the server starts with.
const POLICY: &str = r#"version: 1
default:
  images:
    verdict: {policy: default, unscanned: deny}
namespaces:
  - name: warned
    match: {names: [warned]}
    rules:
      images:
        verdict: {policy: default, unscanned: warn}
  - name: scanned
    match: {names: [scanned, slow]}
    rules:
      images:
        verdict: {policy: default, unscanned: scan}
  - name: strict
    match: {names: [strict]}
    rules:
      pod_security: {level: restricted}
      images:
        allowed: {patterns: ["127.0.0.1:*/team/**"]}
        require_digest: {}
        verdict: {policy: default, unscanned: scan}
  - name: audited
    match: {names: [audited]}
    rules:
      pod_security: {level: restricted, mode: audit}
      images:
        verdict: {policy: default, unscanned: deny}
  - name: payments-team
    match: {labels: {team: payments}}
    rules:
      pod_security: {level: baseline, namespace_labels: true}
exemptions:
  - namespace: legacy
    image: "127.0.0.1:*/team/sample*"
    rules: [ADM-IMAGE-VERDICT-FAILED]
    reason: the legacy job is rebuilt next sprint
    expires: 2099-12-31
  - namespace: nowhere
    reason: kept from the old cluster
    expires: 2099-12-31
  - namespace: legacy
    reason: the migration that ended
    expires: 2020-01-31
"#;

/// A Kubernetes API answering for namespaces only (their metadata, as the API server lists
/// it), over TLS with the test certificate, for the bearer token given.
const FAKE_KUBERNETES_API: &str = r#"
import http.server, json, ssl, sys
port, cert, key, token = sys.argv[1:5]
NAMESPACES = {name: {} for name in ["shop", "warned", "scanned", "slow", "strict", "audited", "billing", "versioned", "legacy"]}
NAMESPACES["labelled"] = {"team": "payments", "pod-security.kubernetes.io/enforce": "restricted"}
def metadata(name):
    return {"name": name, "labels": dict(NAMESPACES[name], **{"kubernetes.io/metadata.name": name})}
class Api(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Authorization") != "Bearer " + token:
            return self.answer(401, {"kind": "Status", "code": 401})
        path = self.path.split("?")[0]
        if path == "/api/v1/namespaces":
            return self.answer(200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": {}, "items": [{"metadata": metadata(n)} for n in NAMESPACES]})
        name = path.rsplit("/", 1)[-1]
        if path.startswith("/api/v1/namespaces/") and name in NAMESPACES:
            return self.answer(200, {"kind": "PartialObjectMetadata", "metadata": metadata(name)})
        self.answer(404, {"kind": "Status", "code": 404})
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Api)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;

struct Fixture {
    url: String,
    admin: String,
    registry: String,
    work: PathBuf,
    ca: PathBuf,
    /// The clean image (it passes the `default` scan policy), scanned: `team/clean:1`.
    clean: String,
    /// The sample image (it fails `default`), scanned: `team/sample:1`.
    failing: String,
    _keepers: Mutex<Vec<Child>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(start)
}

/// The CA the API server would trust for the webhook: the `caBundle` of the validating webhook
/// configuration `rempart server webhook-config` writes, decoded, in `<dir>/ca-bundle.pem`.
fn ca_bundle_of_generated_configuration(dir: &Path, ca: &Path, server_port: u16) -> PathBuf {
    let yaml = run(Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(["server", "webhook-config", "--url"])
        .arg(format!("https://127.0.0.1:{server_port}"))
        .arg("--ca-bundle")
        .arg(ca)
        .arg("--mutating"));
    let bundles: Vec<&str> = yaml
        .lines()
        .filter_map(|line| line.trim().strip_prefix("caBundle: "))
        .collect();
    assert_eq!(bundles.len(), 2, "a bundle per webhook:\n{yaml}");
    assert!(
        yaml.contains(&format!(
            "url: \"https://127.0.0.1:{server_port}/admission/validate\""
        )),
        "{yaml}"
    );
    let path = dir.join("ca-bundle.pem");
    std::fs::write(&path, decode_base64(bundles[0])).unwrap();
    path
}

fn start() -> Fixture {
    assert!(
        Command::new("kubectl")
            .args(["version", "--client"])
            .output()
            .is_ok(),
        "kubectl is not installed: run scripts/install-test-deps.sh"
    );
    let (work, cleaner) = kept_work_dir();
    let authority = TestCa::new(&work, "webhook-ca");
    let serving = authority.issue("server", "IP:127.0.0.1,DNS:rempart-server.rempart.svc");
    let (certificate, key) = (serving.certificate, serving.key);
    let data_dir = work.join("data");
    let server_port = free_port();
    // Clients trust what the cluster would: the generated configuration's CA bundle.
    let ca = ca_bundle_of_generated_configuration(&work, &authority.certificate, server_port);
    let (registry, registry_process) = start_registry(&work);
    std::fs::write(work.join("admission.yaml"), POLICY).unwrap();
    let kubernetes_port = free_port();
    std::fs::write(work.join("kubernetes-api.py"), FAKE_KUBERNETES_API).unwrap();
    std::fs::write(work.join("kubernetes-token"), "service-account-token\n").unwrap();
    let kubernetes_log = work.join("kubernetes-api.log");
    let kubernetes = keep(
        Path::new("/usr/bin/python3"),
        &[
            work.join("kubernetes-api.py").display().to_string(),
            kubernetes_port.to_string(),
            certificate.display().to_string(),
            key.display().to_string(),
            "service-account-token".into(),
        ],
        &kubernetes_log,
    );
    wait_for_port(kubernetes_port, "the Kubernetes API", &kubernetes_log);
    let server_log = work.join("server.log");
    let server = keep(
        Path::new(env!("CARGO_BIN_EXE_rempart")),
        &[
            "server".into(),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--listen".into(),
            format!("127.0.0.1:{server_port}"),
            "--tls-cert".into(),
            certificate.display().to_string(),
            "--tls-key".into(),
            key.display().to_string(),
            "--admission-policy".into(),
            work.join("admission.yaml").display().to_string(),
            "--admission-budget".into(),
            format!("{BUDGET_SECONDS}s"),
            "--admission-mutate".into(),
            "--kubernetes-api".into(),
            format!("https://127.0.0.1:{kubernetes_port}"),
            "--kubernetes-token-file".into(),
            work.join("kubernetes-token").display().to_string(),
            "--kubernetes-ca".into(),
            ca.display().to_string(),
            "--insecure-registry".into(),
            "--registry-timeout".into(),
            "2s".into(),
            "--max-attempts".into(),
            "1".into(),
        ],
        &server_log,
    );
    wait_for_port(server_port, "rempart server", &server_log);
    let admin = std::fs::read_to_string(data_dir.join("admin-token"))
        .map(|t| t.trim().to_owned())
        .unwrap_or_default();
    let mut fixture = Fixture {
        url: format!("https://127.0.0.1:{server_port}"),
        admin,
        registry,
        ca,
        work,
        clean: String::new(),
        failing: String::new(),
        _keepers: Mutex::new(vec![server, registry_process, kubernetes, cleaner]),
    };
    let clean = clean_layout(&fixture.work.join("clean-image"), "vetted\n");
    push(&fixture, &clean, "team/clean:1");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-image");
    push(&fixture, &sample, "team/sample:1");
    fixture.clean = scan(&fixture, &format!("{}/team/clean:1", fixture.registry));
    fixture.failing = scan(&fixture, &format!("{}/team/sample:1", fixture.registry));
    fixture
}

fn push(fixture: &Fixture, layout: &Path, reference: &str) {
    run(Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false"])
        .arg(format!("oci:{}", layout.display()))
        .arg(format!("docker://{}/{reference}", fixture.registry)));
}

/// Scans `reference` through the API; returns the image's digest.
fn scan(fixture: &Fixture, reference: &str) -> String {
    let (status, submitted) = call(
        fixture,
        "POST",
        "/v1/scans",
        Some(&fixture.admin),
        json!({"reference": reference}).to_string().as_bytes(),
    );
    assert_eq!(status, 202, "{submitted}");
    let id = submitted["scan"]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_mins(2);
    loop {
        let (_, scan) = call(
            fixture,
            "GET",
            &format!("/v1/scans/{id}"),
            Some(&fixture.admin),
            b"",
        );
        match scan["state"].as_str() {
            Some("done") => return scan["digest"].as_str().unwrap().to_owned(),
            Some("failed") => panic!("the scan of {reference} failed: {scan}"),
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "the scan of {reference} did not finish"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One HTTPS request with curl, trusting only the test CA; the status and the JSON answer.
fn call(
    fixture: &Fixture,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, Value) {
    let (status, body, _) = call_timed(fixture, method, path, token, body);
    (status, body)
}

fn call_timed(
    fixture: &Fixture,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, Value, Duration) {
    let mut request = tempfile::NamedTempFile::new().unwrap();
    request.write_all(body).unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new("curl");
    command
        .args(["-s", "-S", "-X", method, "--max-time", "30", "--cacert"])
        .arg(&fixture.ca)
        .arg("-o")
        .arg(out.path())
        .args(["-w", "%{http_code}", "-H", "Content-Type: application/json"]);
    if let Some(token) = token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    if !body.is_empty() {
        command
            .arg("--data-binary")
            .arg(format!("@{}", request.path().display()));
    }
    command.arg(format!("{}{path}", fixture.url));
    let started = Instant::now();
    let status = run(&mut command);
    let elapsed = started.elapsed();
    let text = std::fs::read(out.path()).unwrap();
    let value = serde_json::from_slice(&text)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&text).into_owned()));
    (status.trim().parse().unwrap(), value, elapsed)
}

/// An object rendered by kubectl from YAML, as `kubectl apply` would send it.
fn render(yaml: &str) -> Value {
    let mut child = Command::new("kubectl")
        .args([
            "label",
            "--local",
            "-f",
            "-",
            "rendered-by=kubectl",
            "-o",
            "json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "kubectl could not render:\n{yaml}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The group, version and resource of the kinds the tests send.
fn resource_of(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "Pod" => ("", "pods"),
        "ReplicationController" => ("", "replicationcontrollers"),
        "ConfigMap" => ("", "configmaps"),
        "Deployment" => ("apps", "deployments"),
        "ReplicaSet" => ("apps", "replicasets"),
        "StatefulSet" => ("apps", "statefulsets"),
        "DaemonSet" => ("apps", "daemonsets"),
        "Job" => ("batch", "jobs"),
        "CronJob" => ("batch", "cronjobs"),
        other => panic!("no resource for {other}"),
    }
}

static UID: AtomicU64 = AtomicU64::new(1);

/// An `AdmissionReview` as `admission.k8s.io/v1` defines it and the API server fills it.
fn review_of(object: &Value, operation: &str, namespace: &str) -> Value {
    let kind = object["kind"].as_str().unwrap();
    let (group, resource) = resource_of(kind);
    let uid = format!(
        "0d6e5e4a-{:04x}-4b7c-9a51-{:012x}",
        std::process::id() % 0xffff,
        UID.fetch_add(1, Ordering::Relaxed)
    );
    let gvk = json!({"group": group, "version": "v1", "kind": kind});
    let gvr = json!({"group": group, "version": "v1", "resource": resource});
    let mut object = object.clone();
    object["metadata"]["namespace"] = json!(namespace);
    let (new, old, options) = match operation {
        "CREATE" => (object, Value::Null, "CreateOptions"),
        "UPDATE" => (object.clone(), object, "UpdateOptions"),
        "DELETE" => (Value::Null, object, "DeleteOptions"),
        other => panic!("{other}"),
    };
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": gvk, "resource": gvr,
            "requestKind": gvk, "requestResource": gvr,
            "name": new.pointer("/metadata/name").or(old.pointer("/metadata/name")).cloned().unwrap_or(Value::Null),
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "system:serviceaccount:ci:deployer", "uid": "3c5d", "groups": ["system:serviceaccounts"]},
            "object": new,
            "oldObject": old,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": options},
        }
    })
}

/// Sends a review to a webhook; checks the answer's shape and uid; returns the response.
fn send(webhook: &str, review: &Value) -> Value {
    let fixture = fixture();
    let (status, answer) = call(
        fixture,
        "POST",
        &format!("/admission/{webhook}"),
        None,
        review.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1", "{answer}");
    assert_eq!(answer["kind"], "AdmissionReview", "{answer}");
    assert_eq!(
        answer["response"]["uid"], review["request"]["uid"],
        "{answer}"
    );
    answer["response"].clone()
}

fn validate(object: &Value, namespace: &str) -> Value {
    send("validate", &review_of(object, "CREATE", namespace))
}

fn message(response: &Value) -> String {
    response["status"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn warnings(response: &Value) -> Vec<String> {
    response["warnings"]
        .as_array()
        .map(|w| w.iter().map(|w| w.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

fn pinned(repository: &str, digest: &str) -> String {
    format!("{}/{repository}@{digest}", fixture().registry)
}

/// The pod spec of every kind's manifest, with `{containers}` for its containers.
fn manifest(kind: &str, name: &str, containers: &str) -> String {
    let pod_template = format!(
        "    metadata:\n      labels: {{app: {name}}}\n    spec:\n      restartPolicy: {restart}\n{containers}",
        restart = if matches!(kind, "Job" | "CronJob") {
            "Never"
        } else {
            "Always"
        },
        containers = indent(containers, 6)
    );
    let selector = format!("  selector:\n    matchLabels: {{app: {name}}}\n");
    match kind {
        "Pod" => format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n{}",
            indent(containers, 2)
        ),
        "ReplicationController" => format!(
            "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: {name}\nspec:\n  selector: {{app: {name}}}\n  template:\n{pod_template}"
        ),
        "Deployment" | "ReplicaSet" | "DaemonSet" => format!(
            "apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n{selector}  template:\n{pod_template}"
        ),
        "StatefulSet" => format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {name}\nspec:\n  serviceName: {name}\n{selector}  template:\n{pod_template}"
        ),
        "Job" => format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\nspec:\n  template:\n{pod_template}"
        ),
        "CronJob" => format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}\nspec:\n  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n{}",
            indent(&pod_template, 4)
        ),
        other => panic!("{other}"),
    }
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    let mut indented = String::new();
    for line in text.lines() {
        indented.push_str(&pad);
        indented.push_str(line);
        indented.push('\n');
    }
    indented
}

const KINDS: [&str; 8] = [
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
];

#[test]
fn every_workload_kind_is_judged_and_a_denial_names_rule_container_and_image() {
    let fixture = fixture();
    let clean = pinned("team/clean", &fixture.clean);
    let failing = pinned("team/sample", &fixture.failing);
    for kind in KINDS {
        let vetted = render(&manifest(
            kind,
            "web",
            &format!(
                "containers:\n  - {{name: app, image: \"{clean}\"}}\ninitContainers:\n  - {{name: setup, image: \"{clean}\"}}\n"
            ),
        ));
        let allowed = validate(&vetted, "shop");
        assert_eq!(allowed["allowed"], true, "{kind}: {allowed}");
        assert!(
            allowed["auditAnnotations"]["policy-version"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap()
                >= 1,
            "{allowed}"
        );
        let unvetted = render(&manifest(
            kind,
            "web",
            &format!(
                "containers:\n  - {{name: app, image: \"{clean}\"}}\ninitContainers:\n  - {{name: setup, image: \"{failing}\"}}\n"
            ),
        ));
        let denied = validate(&unvetted, "shop");
        assert_eq!(denied["allowed"], false, "{kind}: {denied}");
        assert_eq!(denied["status"]["code"], 403, "{denied}");
        let text = message(&denied);
        assert!(
            text.starts_with(&format!(
                "{kind} shop/web denied by the admission policy (default):"
            )),
            "{kind}: {text}"
        );
        assert!(
            text.contains(&format!(
                "[ADM-IMAGE-VERDICT-FAILED] init container setup ({failing}): {} failed the scan policy `default`",
                fixture.failing
            )),
            "{kind}: {text}"
        );
        assert!(
            !text.contains("container app"),
            "{kind}: only the failing container: {text}"
        );
    }
}

#[test]
fn ephemeral_containers_and_windows_pods_are_judged_too() {
    let fixture = fixture();
    let clean = pinned("team/clean", &fixture.clean);
    // `kubectl debug` adds an ephemeral container through the pod's subresource.
    let debugger = format!("{}/team/debug:1", fixture.registry);
    let mut pod = render(&manifest(
        "Pod",
        "api",
        &format!(
            "containers:\n  - {{name: app, image: \"{clean}\"}}\nephemeralContainers:\n  - {{name: debugger, image: \"{debugger}\"}}\n"
        ),
    ));
    let mut review = review_of(&pod, "UPDATE", "shop");
    review["request"]["subResource"] = json!("ephemeralcontainers");
    let denied = send("validate", &review);
    assert_eq!(denied["allowed"], false, "{denied}");
    assert!(
        message(&denied).contains(&format!(
            "[ADM-IMAGE-NO-VERDICT] ephemeral container debugger ({debugger})"
        )),
        "{denied}"
    );
    // A Windows pod: same rules for its images.
    pod = render(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: win\nspec:\n  os: {{name: windows}}\n  nodeSelector: {{kubernetes.io/os: windows}}\n  containers:\n    - {{name: iis, image: \"{clean}\"}}\n"
    ));
    assert_eq!(validate(&pod, "shop")["allowed"], true);
}

#[test]
fn enforce_rules_deny_and_audit_rules_warn() {
    let fixture = fixture();
    let clean = pinned("team/clean", &fixture.clean);
    let privileged = format!(
        "containers:\n  - name: app\n    image: \"{clean}\"\n    securityContext: {{privileged: true}}\n"
    );
    let object = render(&manifest("Deployment", "root", &privileged));
    let denied = validate(&object, "strict");
    assert_eq!(denied["allowed"], false);
    let text = message(&denied);
    assert!(text.contains("(strict):"), "{text}");
    assert!(
        text.contains("[ADM-PSS] container app: K8S-PSS-PRIVILEGED"),
        "{text}"
    );
    let warned = validate(&object, "audited");
    assert_eq!(warned["allowed"], true, "{warned}");
    let warnings = warnings(&warned);
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("[ADM-PSS] container app: K8S-PSS-PRIVILEGED")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().all(|w| w.chars().count() <= 256),
        "{warnings:?}"
    );
    // An image from a repository the policy does not allow is denied and never pulled.
    let elsewhere = format!("127.0.0.1:1/elsewhere/app@sha256:{}", "ab".repeat(32));
    let denied = validate(
        &render(&manifest(
            "Pod",
            "other",
            &format!("containers:\n  - {{name: app, image: \"{elsewhere}\"}}\n"),
        )),
        "strict",
    );
    let text = message(&denied);
    assert!(text.contains("[ADM-IMAGE-REGISTRY]"), "{text}");
    assert!(
        text.contains("not scanned, being from a repository the policy does not allow"),
        "{text}"
    );
}

#[test]
fn deletions_and_kinds_that_run_no_pod_are_allowed_unchecked() {
    let fixture = fixture();
    let failing = pinned("team/sample", &fixture.failing);
    let object = render(&manifest(
        "Deployment",
        "gone",
        &format!("containers:\n  - {{name: app, image: \"{failing}\"}}\n"),
    ));
    let deleted = send("validate", &review_of(&object, "DELETE", "shop"));
    assert_eq!(deleted["allowed"], true, "{deleted}");
    let config =
        render("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n");
    assert_eq!(validate(&config, "shop")["allowed"], true);
}

#[test]
fn unscanned_images_follow_their_mode() {
    let fixture = fixture();
    let fresh = clean_layout(&fixture.work.join("fresh-image"), "fresh\n");
    push(fixture, &fresh, "team/fresh:1");
    let digest = registry_digest(fixture, "team/fresh:1");
    let image = pinned("team/fresh", &digest);
    let object = render(&manifest(
        "Deployment",
        "fresh",
        &format!("containers:\n  - {{name: app, image: \"{image}\"}}\n"),
    ));
    // deny: not scanned, denied, nothing queued.
    let denied = validate(&object, "shop");
    assert_eq!(denied["allowed"], false);
    assert!(
        message(&denied).contains(&format!("[ADM-IMAGE-NO-VERDICT] container app ({image}): no verdict for the image under the scan policy `default`; unscanned images are denied")),
        "{denied}"
    );
    // warn: allowed with a warning, and a scan queued; once it is done, deny-mode namespaces
    // allow the image too.
    let warned = validate(&object, "warned");
    assert_eq!(warned["allowed"], true, "{warned}");
    assert!(
        warnings(&warned)
            .iter()
            .any(|w| w.contains("a scan was queued")),
        "{warned}"
    );
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let answer = validate(&object, "shop");
        if answer["allowed"] == true {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queued scan never made the image known: {answer}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let (_, scans) = call(fixture, "GET", "/v1/scans", Some(&fixture.admin), b"");
    assert!(
        scans["scans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["submitted_by"] == "admission" && s["digest"] == digest.as_str()),
        "{scans}"
    );
    // scan: a tag never seen is resolved in the registry and scanned before the answer.
    let other = clean_layout(&fixture.work.join("other-image"), "scanned on admission\n");
    push(fixture, &other, "team/other:2");
    let tagged = format!("{}/team/other:2", fixture.registry);
    let object = render(&manifest(
        "Job",
        "other",
        &format!("containers:\n  - {{name: app, image: \"{tagged}\"}}\n"),
    ));
    let started = Instant::now();
    let scanned = validate(&object, "scanned");
    assert_eq!(scanned["allowed"], true, "{scanned}");
    assert!(started.elapsed() < Duration::from_secs(BUDGET_SECONDS + 2));
}

#[test]
fn a_slow_registry_is_answered_within_the_budget() {
    // A registry that accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let image = format!("127.0.0.1:{port}/team/stuck:1");
    let object = render(&manifest(
        "Pod",
        "stuck",
        &format!("containers:\n  - {{name: app, image: \"{image}\"}}\n"),
    ));
    let review = review_of(&object, "CREATE", "slow");
    let (status, answer, took) = call_timed(
        fixture(),
        "POST",
        "/admission/validate",
        None,
        review.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    assert!(
        took < Duration::from_secs(BUDGET_SECONDS + 2),
        "answered in {took:?}"
    );
    let text = message(&answer["response"]);
    assert!(
        text.contains("[ADM-IMAGE-NO-VERDICT] container app"),
        "{text}"
    );
    assert!(text.contains("could not be resolved"), "{text}");
}

#[test]
fn hostile_reviews_get_clear_errors_and_the_server_stays_up() {
    let fixture = fixture();
    let clean = pinned("team/clean", &fixture.clean);
    // 3 MiB: the largest request the API server sends; decided, not refused.
    let mut object = render(&manifest(
        "Deployment",
        "big",
        &format!("containers:\n  - {{name: app, image: \"{clean}\"}}\n"),
    ));
    object["metadata"]["annotations"] = json!({"filler": "x".repeat(3 * 1024 * 1024)});
    let review = review_of(&object, "CREATE", "shop");
    let (status, answer, took) = call_timed(
        fixture,
        "POST",
        "/admission/validate",
        None,
        review.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["response"]["allowed"], true);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let refused = |body: &[u8], wanted: &str| {
        let (status, answer) = call(fixture, "POST", "/admission/validate", None, body);
        assert_eq!(status, 400, "{answer}");
        let text = answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(text.contains(wanted), "{wanted}: {text}");
    };
    let deep = format!(
        r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"u","operation":"CREATE","object":{}{}}}}}"#,
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    refused(deep.as_bytes(), "recursion limit");
    refused(b"not json", "not an AdmissionReview");
    let mut no_uid = review_of(&object, "CREATE", "shop");
    no_uid["request"].as_object_mut().unwrap().remove("uid");
    no_uid["request"]["object"]["metadata"]["annotations"] = json!({});
    refused(no_uid.to_string().as_bytes(), "no `request.uid`");
    let mut old = no_uid.clone();
    old["apiVersion"] = json!("admission.k8s.io/v1beta1");
    refused(old.to_string().as_bytes(), "admissionReviewVersions: [v1]");
    // Over the request cap: refused (413) once the cap is read. The server may close the
    // connection while the client is still sending the rest, which the client sees as a
    // broken pipe: refused either way, and the server stays up.
    let body = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(body.path(), vec![b' '; 5 * 1024 * 1024]).unwrap();
    let output = Command::new("curl")
        .args([
            "-s",
            "-S",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--cacert",
        ])
        .arg(&fixture.ca)
        .args(["-H", "Content-Type: application/json", "--data-binary"])
        .arg(format!("@{}", body.path().display()))
        .arg(format!("{}/admission/validate", fixture.url))
        .output()
        .unwrap();
    match output.status.code() {
        Some(0) => assert_eq!(String::from_utf8_lossy(&output.stdout), "413"),
        // Send failure, receive failure: the connection closed under the sender.
        Some(55 | 56) => {}
        other => panic!(
            "curl exited {other:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
    let (status, health) = call(fixture, "GET", "/healthz", None, b"");
    assert_eq!((status, &health["status"]), (200, &json!("ok")));
}

#[test]
fn the_mutating_webhook_pins_tags_to_vetted_digests_only() {
    let fixture = fixture();
    let clean = format!("{}/team/clean:1", fixture.registry);
    let failing = format!("{}/team/sample:1", fixture.registry);
    let object = render(&manifest(
        "Deployment",
        "web",
        &format!(
            "containers:\n  - {{name: app, image: \"{clean}\"}}\n  - {{name: side, image: \"{failing}\"}}\n"
        ),
    ));
    let response = send("mutate", &review_of(&object, "CREATE", "shop"));
    assert_eq!(response["allowed"], true);
    assert_eq!(response["patchType"], "JSONPatch");
    let patch: Value =
        serde_json::from_slice(&decode_base64(response["patch"].as_str().unwrap())).unwrap();
    assert_eq!(
        patch,
        json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": format!("{clean}@{}", fixture.clean)}])
    );
    assert!(
        warnings(&response)
            .iter()
            .any(|w| w.contains("container side not pinned") && w.contains("did not pass")),
        "{response}"
    );
}

fn decode_base64(text: &str) -> Vec<u8> {
    let output = {
        let mut child = Command::new("base64")
            .arg("-d")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(output.status.success());
    output.stdout
}

fn registry_digest(fixture: &Fixture, reference: &str) -> String {
    let raw = run(Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{}/{reference}", fixture.registry)));
    format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(raw.as_bytes()))
    )
}

#[test]
fn the_policy_is_versioned_through_the_api() {
    let fixture = fixture();
    let (status, current) = call(
        fixture,
        "GET",
        "/v1/admission/policy",
        Some(&fixture.admin),
        b"",
    );
    assert_eq!(status, 200, "{current}");
    assert!(current["version"].as_i64().unwrap() >= 1);
    assert_eq!(current["in_force"], true);
    assert!(
        current["created_by"].as_str().unwrap().starts_with("file "),
        "{current}"
    );
    // A mistake is refused, naming the field.
    let (status, refused) = call(
        fixture,
        "PUT",
        "/v1/admission/policy",
        Some(&fixture.admin),
        b"version: 1\ndefault:\n  images:\n    forbid_lates: {}\n",
    );
    assert_eq!(status, 400);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("forbid_lates"),
        "{refused}"
    );
    // So is a trust rule on a server without a trust policy to verify images against.
    let (status, refused) = call(
        fixture,
        "PUT",
        "/v1/admission/policy",
        Some(&fixture.admin),
        b"version: 1\ndefault:\n  images:\n    trust: {}\n",
    );
    assert_eq!(status, 400);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--trust-policy"),
        "{refused}"
    );
    // Viewers read, only admins write.
    let (_, viewer) = call(
        fixture,
        "POST",
        "/v1/tokens",
        Some(&fixture.admin),
        json!({"name": "policy-viewer", "role": "viewer"})
            .to_string()
            .as_bytes(),
    );
    let viewer = viewer["token"].as_str().unwrap().to_owned();
    let (status, _) = call(fixture, "GET", "/v1/admission/policy", Some(&viewer), b"");
    assert_eq!(status, 200);
    let (status, _) = call(
        fixture,
        "PUT",
        "/v1/admission/policy",
        Some(&viewer),
        POLICY.as_bytes(),
    );
    assert_eq!(status, 403);
    // A new version is in force at once: here it adds a namespace where `latest` is denied.
    let changed = POLICY.replace(
        "namespaces:\n",
        "namespaces:\n  - name: pinned-tags\n    match: {names: [versioned]}\n    rules:\n      images:\n        forbid_latest: {}\n",
    );
    let (status, stored) = call(
        fixture,
        "PUT",
        "/v1/admission/policy",
        Some(&fixture.admin),
        changed.as_bytes(),
    );
    assert_eq!(status, 200, "{stored}");
    let version = stored["version"].as_i64().unwrap();
    let object = render(&manifest(
        "Pod",
        "latest",
        "containers:\n  - {name: app, image: nginx}\n",
    ));
    let denied = validate(&object, "versioned");
    assert_eq!(
        denied["auditAnnotations"]["policy-version"],
        version.to_string()
    );
    assert!(message(&denied).contains("[ADM-IMAGE-LATEST]"), "{denied}");
    let (_, versions) = call(
        fixture,
        "GET",
        "/v1/admission/policy/versions",
        Some(&viewer),
        b"",
    );
    assert_eq!(versions["versions"][0]["version"], version, "{versions}");
    let (_, first) = call(
        fixture,
        "GET",
        "/v1/admission/policy?version=1",
        Some(&viewer),
        b"",
    );
    assert_eq!(first["document"], POLICY);
}

#[test]
fn denials_are_audited_once_and_counted() {
    let fixture = fixture();
    let failing = pinned("team/sample", &fixture.failing);
    let object = render(&manifest(
        "Pod",
        "audited-denial",
        &format!("containers:\n  - {{name: app, image: \"{failing}\"}}\n"),
    ));
    for _ in 0..3 {
        assert_eq!(validate(&object, "billing")["allowed"], false);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, audit) = call(
            fixture,
            "GET",
            "/v1/audit?limit=1000",
            Some(&fixture.admin),
            b"",
        );
        let lines: Vec<&Value> = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["action"] == "admission.denied" && e["subject"] == "Pod billing/audited-denial"
            })
            .collect();
        if lines.len() == 1 {
            assert_eq!(lines[0]["actor"], "system:serviceaccount:ci:deployer");
            assert!(
                lines[0]["detail"]
                    .as_str()
                    .unwrap()
                    .contains("ADM-IMAGE-VERDICT-FAILED")
            );
            break;
        }
        assert!(
            lines.len() < 2,
            "a repeated denial is audited once: {lines:?}"
        );
        assert!(Instant::now() < deadline, "no audit line: {audit}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, metrics) = call(fixture, "GET", "/metrics", None, b"");
    let text = metrics.as_str().unwrap().to_owned();
    assert!(
        text.lines()
            .any(|l| l.starts_with("rempart_admission_reviews_total{")
                && l.contains("webhook=\"validate\"")
                && l.contains("outcome=\"denied\"")),
        "{text}"
    );
    assert!(text.contains("rempart_admission_policy_version "), "{text}");
}

#[test]
fn namespace_labels_come_from_the_kubernetes_api() {
    let fixture = fixture();
    let clean = pinned("team/clean", &fixture.clean);
    // Baseline by the policy, raised to restricted by the namespace's own enforce label.
    let object = render(&manifest(
        "Deployment",
        "payments",
        &format!("containers:\n  - {{name: app, image: \"{clean}\"}}\n"),
    ));
    let denied = validate(&object, "labelled");
    assert_eq!(denied["allowed"], false, "{denied}");
    let text = message(&denied);
    assert!(
        text.contains("denied by the admission policy (payments-team):"),
        "{text}"
    );
    assert!(
        text.contains("required by namespace labelled's pod-security.kubernetes.io/enforce label"),
        "{text}"
    );
    // A namespace the API does not know: its labels are unknown, and said to be.
    let answer = validate(&object, "unknown-namespace");
    assert!(
        warnings(&answer)
            .iter()
            .any(|w| w.starts_with("[ADM-NAMESPACE-LABELS-UNKNOWN]")),
        "{answer}"
    );
}

#[test]
fn exemptions_let_through_what_they_cover_and_their_use_is_reported() {
    let fixture = fixture();
    let failing = pinned("team/sample", &fixture.failing);
    let object = render(&manifest(
        "CronJob",
        "nightly",
        &format!("containers:\n  - {{name: job, image: \"{failing}\"}}\n"),
    ));
    // Another test stores new policy versions, which restarts the count: try again then.
    for _ in 0..5 {
        let allowed = validate(&object, "legacy");
        assert_eq!(allowed["allowed"], true, "{allowed}");
        let version: i64 = allowed["auditAnnotations"]["policy-version"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            validate(&object, "shop")["allowed"],
            false,
            "only in its namespace"
        );
        let (status, report) = call(
            fixture,
            "GET",
            "/v1/admission/exemptions",
            Some(&fixture.admin),
            b"",
        );
        assert_eq!(status, 200, "{report}");
        if report["policy_version"] != version {
            continue;
        }
        let exemptions = report["exemptions"].as_array().unwrap();
        assert_eq!(exemptions.len(), 3, "{report}");
        assert_eq!(
            exemptions[0]["reason"],
            "the legacy job is rebuilt next sprint"
        );
        assert!(exemptions[0]["used"].as_u64().unwrap() >= 1, "{report}");
        assert!(exemptions[0]["last_used_at"].is_i64(), "{report}");
        assert_eq!(
            (&exemptions[1]["used"], &exemptions[1]["expired"]),
            (&json!(0), &json!(false))
        );
        assert_eq!(exemptions[2]["expired"], true, "{report}");
        return;
    }
    panic!("the policy version kept changing");
}
