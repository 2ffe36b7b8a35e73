//! `rempart server` as users run it: the real binary on 127.0.0.1, a real OCI registry
//! (Debian's `docker-registry`) sending its push notifications to it, images pushed with
//! skopeo, the API called with curl. One registry and one server for the whole test binary.

mod support;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::webhook_receiver::{Received, Receiver};
use support::{clean_layout, free_port, keep, run, wait_for_port};

const MAX_UPLOAD: u64 = 20 * 1024 * 1024;

struct Fixture {
    url: String,
    admin: String,
    registry_token: String,
    registry: String,
    data_dir: PathBuf,
    work: PathBuf,
    /// Receives the server's webhooks: `flaky` (every event, the first attempt of each
    /// refused) and `down` (scan completions, never accepted: dead after two attempts).
    webhooks: Receiver,
    _keepers: Mutex<Vec<Child>>,
}

/// The webhook signing secret, in the Standard Webhooks format.
const WEBHOOK_SECRET: &str = "whsec_c2VydmVyLXRlc3Qtd2ViaG9vay1rZXktMzItYnl0ZXMh";

fn rempart() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rempart"))
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(start)
}

fn start() -> Fixture {
    let registry_binary = Path::new("/usr/bin/docker-registry");
    assert!(
        registry_binary.exists(),
        "docker-registry is not installed: run scripts/install-test-deps.sh"
    );
    // Kept for the life of the test process: the registry and server stop with it, and the
    // directory is then removed by a shell waiting on the same pipe.
    let (work, cleaner) = support::kept_work_dir();
    let data_dir = work.join("data");
    let (server_port, registry_port) = (free_port(), free_port());
    let registry = format!("127.0.0.1:{registry_port}");
    let registry_token = run(rempart()
        .args([
            "server", "token", "create", "--name", "registry", "--role", "registry",
        ])
        .arg("--data-dir")
        .arg(&data_dir))
    .trim()
    .to_owned();
    std::fs::write(
        work.join("gate.yaml"),
        format!(
            "registry: {registry}\nrules:\n  - prefix: staging/\n    mode: promote\n    promote_to: release/\n  - prefix: ''\n    mode: scan\n"
        ),
    )
    .unwrap();
    let webhooks = Receiver::start();
    std::fs::write(work.join("webhook-secret"), format!("{WEBHOOK_SECRET}\n")).unwrap();
    std::fs::write(
        work.join("webhooks.yaml"),
        format!(
            "endpoints:\n  - name: flaky\n    url: http://127.0.0.1:{port}/flaky\n    secret_file: {secret}\n  - name: down\n    url: http://127.0.0.1:{port}/down\n    secret_file: {secret}\n    events: [scan.completed]\n    max_attempts: 2\ntimeout: 5s\nfirst_retry: 300ms\nmax_retry_delay: 1s\n",
            port = webhooks.port,
            secret = work.join("webhook-secret").display()
        ),
    )
    .unwrap();
    let server_log = work.join("server.log");
    let server = keep(
        Path::new(env!("CARGO_BIN_EXE_rempart")),
        &[
            "server".into(),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--listen".into(),
            format!("127.0.0.1:{server_port}"),
            "--gate".into(),
            work.join("gate.yaml").display().to_string(),
            "--webhooks".into(),
            work.join("webhooks.yaml").display().to_string(),
            "--insecure-registry".into(),
            "--max-upload-size".into(),
            MAX_UPLOAD.to_string(),
            "--lease".into(),
            "6s".into(),
        ],
        &server_log,
    );
    wait_for_port(server_port, "rempart server", &server_log);
    let admin = std::fs::read_to_string(data_dir.join("admin-token"))
        .map(|t| t.trim().to_owned())
        .unwrap_or_default();
    std::fs::write(
        work.join("registry.yml"),
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\nhttp:\n  addr: {registry}\nnotifications:\n  endpoints:\n    - name: rempart\n      url: http://127.0.0.1:{server_port}/v1/registry/events\n      headers:\n        Authorization: [\"Bearer {registry_token}\"]\n      timeout: 5s\n      threshold: 3\n      backoff: 1s\n",
            root = work.join("storage").display()
        ),
    )
    .unwrap();
    let registry_log = work.join("registry.log");
    let registry_process = keep(
        registry_binary,
        &[
            "serve".into(),
            work.join("registry.yml").display().to_string(),
        ],
        &registry_log,
    );
    wait_for_port(registry_port, "docker-registry", &registry_log);
    Fixture {
        url: format!("http://127.0.0.1:{server_port}"),
        admin,
        registry_token,
        registry,
        data_dir,
        work,
        webhooks,
        _keepers: Mutex::new(vec![server, registry_process, cleaner]),
    }
}

struct Response {
    status: u16,
    content_type: String,
    body: Vec<u8>,
    /// The response's header lines.
    headers: String,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The error message of an error answer.
    fn message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Clone, Copy)]
enum Body<'a> {
    None,
    Bytes(&'a [u8]),
    File(&'a Path),
}

fn http(method: &str, path: &str, token: Option<&str>, body: Body<'_>) -> Response {
    http_with(method, path, token, &[], body)
}

/// A request with extra header lines (`Accept: …`).
fn http_with(
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[&str],
    body: Body<'_>,
) -> Response {
    let fixture = fixture();
    let out = tempfile::NamedTempFile::new().unwrap();
    let header_file = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new("curl");
    command
        .args(["-s", "-S", "-X", method, "-o"])
        .arg(out.path())
        .arg("-D")
        .arg(header_file.path())
        .args(["-w", "%{http_code} %{content_type}", "--max-time", "60"]);
    if let Some(token) = token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    for header in headers {
        command.args(["-H", header]);
    }
    let request_file = tempfile::NamedTempFile::new().unwrap();
    match body {
        Body::None => {}
        Body::Bytes(bytes) => {
            std::fs::write(request_file.path(), bytes).unwrap();
            command
                .arg("--data-binary")
                .arg(format!("@{}", request_file.path().display()));
        }
        Body::File(path) => {
            command
                .arg("--data-binary")
                .arg(format!("@{}", path.display()));
        }
    }
    command.arg(format!("{}{path}", fixture.url));
    let written = run(&mut command);
    let (status, content_type) = written.split_once(' ').unwrap_or((&written, ""));
    let response = Response {
        status: status.parse().unwrap(),
        content_type: content_type.to_owned(),
        body: std::fs::read(out.path()).unwrap(),
        headers: std::fs::read_to_string(header_file.path()).unwrap_or_default(),
    };
    openapi::check(method, path, &response);
    response
}

/// Every answer the tests get is checked against the OpenAPI document the server publishes:
/// the path and method are documented, the status is one the operation lists, and a JSON body
/// matches the documented schema (types, required and nullable fields, enums, no undocumented
/// field). Answers under `/harbor/api/v1` are checked against Harbor's own specification.
mod openapi {
    use std::sync::OnceLock;

    use serde_json::Value;

    use super::Response;

    /// Where Harbor's scanner adapter API is served; its document's paths are below it.
    pub(super) const HARBOR_PREFIX: &str = "/harbor/api/v1";

    fn load(name: &str) -> Value {
        let path = format!(
            "{}/../rempart-server/openapi/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn native() -> &'static Value {
        static DOCUMENT: OnceLock<Value> = OnceLock::new();
        DOCUMENT.get_or_init(|| load("rempart-v1.yaml"))
    }

    pub(super) fn harbor() -> &'static Value {
        static DOCUMENT: OnceLock<Value> = OnceLock::new();
        DOCUMENT.get_or_init(|| load("harbor-scanner-adapter-v1.2.yaml"))
    }

    thread_local! {
        /// The document `$ref`s resolve in: the one the answer being checked belongs to.
        static CURRENT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    fn document() -> &'static Value {
        if CURRENT.with(std::cell::Cell::get) {
            harbor()
        } else {
            native()
        }
    }

    fn resolve(schema: &Value) -> &Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let mut node = document();
                for part in reference.trim_start_matches("#/").split('/') {
                    node = &node[part];
                }
                assert!(!node.is_null(), "unresolved {reference}");
                resolve(node)
            }
            None => schema,
        }
    }

    fn template_matches(template: &str, path: &str) -> bool {
        let (template, path): (Vec<&str>, Vec<&str>) =
            (template.split('/').collect(), path.split('/').collect());
        template.len() == path.len()
            && template
                .iter()
                .zip(&path)
                .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
    }

    pub(super) fn check(method: &str, path: &str, response: &Response) {
        let path = path.split('?').next().unwrap();
        let harbor_path = path.strip_prefix(HARBOR_PREFIX);
        CURRENT.with(|current| current.set(harbor_path.is_some()));
        let path = harbor_path.unwrap_or(path);
        let paths = document()["paths"].as_object().unwrap();
        let Some((template, item)) = paths.iter().find(|(t, _)| template_matches(t, path)) else {
            assert_eq!(
                response.status, 404,
                "{method} {path} is not in the OpenAPI document"
            );
            return;
        };
        let operation = &item[method.to_ascii_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not in the OpenAPI document"
        );
        let status = response.status.to_string();
        // Every operation may answer these; the document lists them where they matter most.
        let generic = ["401", "403", "404", "413", "429", "503"];
        let documented = &operation["responses"][&status];
        if documented.is_null() {
            assert!(
                generic.contains(&status.as_str()),
                "{method} {template} answered {status}, which the document does not list"
            );
            return;
        }
        let documented = resolve(documented);
        // The media type documented for the answer's: JSON, or one of Harbor's own.
        let media_type = |text: &str| text.replace(' ', "").to_ascii_lowercase();
        let Some(content) = documented["content"].as_object().and_then(|content| {
            content.iter().find_map(|(documented_type, content)| {
                // Harbor's documents are all JSON, whatever their media type says.
                let matches = if harbor_path.is_some() {
                    media_type(documented_type) == media_type(&response.content_type)
                } else {
                    documented_type == "application/json"
                        && response.content_type.starts_with("application/json")
                };
                matches.then_some(content)
            })
        }) else {
            // Harbor's document lists every media type it answers.
            assert!(
                harbor_path.is_none()
                    || !response.content_type.contains("json")
                    || documented["content"].is_null(),
                "{method} {template} {status}: content type {} is not documented",
                response.content_type
            );
            return;
        };
        let schema = &content["schema"];
        if schema.is_null() {
            return;
        }
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        let problems = problems(schema, &body);
        assert!(
            problems.is_empty(),
            "{method} {path} {status}: the body does not match the OpenAPI schema: {problems:?}"
        );
    }

    /// What is wrong with `value` under `schema` (in Harbor's document when `harbor`).
    pub(super) fn problems_in(harbor: bool, schema: &Value, value: &Value) -> Vec<String> {
        CURRENT.with(|current| current.set(harbor));
        problems(schema, value)
    }

    fn problems(schema: &Value, value: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        validate(schema, value, "$", &mut problems);
        problems
    }

    fn validate(schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
        let schema = resolve(schema);
        if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
            if value.is_null() && schema["nullable"] == true {
                return;
            }
            let fitting = options
                .iter()
                .filter(|option| {
                    let mut found = Vec::new();
                    validate(option, value, at, &mut found);
                    found.is_empty()
                })
                .count();
            if fitting != 1 {
                problems.push(format!(
                    "{at} = {value} fits {fitting} of the oneOf options"
                ));
            }
            return;
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            let mut known = Vec::new();
            for part in all {
                let part = resolve(part);
                validate_shape(part, value, at, problems);
                if let Some(properties) = part.get("properties").and_then(Value::as_object) {
                    known.extend(properties.keys().cloned());
                }
            }
            if let Some(object) = value.as_object() {
                for key in object.keys().filter(|key| !known.contains(key)) {
                    problems.push(format!("{at}.{key} is not documented"));
                }
            }
            return;
        }
        validate_shape(schema, value, at, problems);
        let open = schema
            .get("additionalProperties")
            .is_some_and(|extra| extra != false);
        if let (Some(properties), Some(object), false) = (
            schema.get("properties").and_then(Value::as_object),
            value.as_object(),
            open,
        ) {
            for key in object.keys().filter(|key| !properties.contains_key(*key)) {
                problems.push(format!("{at}.{key} is not documented"));
            }
        }
    }

    fn validate_shape(schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
        if value.is_null() {
            if schema["nullable"] != true {
                problems.push(format!("{at} is null, which the schema does not allow"));
            }
            return;
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array)
            && !options.contains(value)
        {
            problems.push(format!("{at} = {value} is not one of {options:?}"));
        }
        let fits = match schema.get("type").and_then(Value::as_str) {
            Some("object") => value.is_object(),
            Some("array") => value.is_array(),
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            _ => true,
        };
        if !fits {
            problems.push(format!("{at} = {value} is not of type {}", schema["type"]));
            return;
        }
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if value.get(name).is_none() {
                    problems.push(format!("{at}.{name} is required but missing"));
                }
            }
        }
        if let (Some(properties), Some(object)) = (
            schema.get("properties").and_then(Value::as_object),
            value.as_object(),
        ) {
            for (name, property) in properties {
                if let Some(field) = object.get(name) {
                    validate(property, field, &format!("{at}.{name}"), problems);
                }
            }
        }
        if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
            for (index, item) in array.iter().enumerate() {
                validate(items, item, &format!("{at}[{index}]"), problems);
            }
        }
        // A map's values (`additionalProperties: {type: string}`).
        if let (Some(extra), Some(object)) = (
            schema.get("additionalProperties").filter(|e| e.is_object()),
            value.as_object(),
        ) {
            for (name, field) in object {
                if schema["properties"].get(name).is_none() {
                    validate(extra, field, &format!("{at}.{name}"), problems);
                }
            }
        }
    }
}

fn get(path: &str, token: &str) -> Response {
    http("GET", path, Some(token), Body::None)
}

fn post_json(path: &str, token: &str, body: &Value) -> Response {
    http(
        "POST",
        path,
        Some(token),
        Body::Bytes(body.to_string().as_bytes()),
    )
}

fn admin() -> &'static str {
    &fixture().admin
}

/// A token made through the API.
fn token(name: &str, role: &str, scopes: &[&str]) -> String {
    let response = post_json(
        "/v1/tokens",
        admin(),
        &serde_json::json!({"name": name, "role": role, "scopes": scopes}),
    );
    assert_eq!(response.status, 201, "{}", response.text());
    response.json()["token"].as_str().unwrap().to_owned()
}

/// Revokes the token made with `name`, through the API.
fn revoke(name: &str) {
    let tokens = get("/v1/tokens", admin()).json();
    let id = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = http(
        "DELETE",
        &format!("/v1/tokens/{id}"),
        Some(admin()),
        Body::None,
    );
    assert_eq!(revoked.status, 204);
}

fn wait_for_scan(id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_mins(2);
    loop {
        let scan = get(&format!("/v1/scans/{id}"), admin()).json();
        if matches!(scan["state"].as_str(), Some("done" | "failed")) {
            return scan;
        }
        assert!(
            Instant::now() < deadline,
            "scan {id} did not finish: {scan}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn sample_layout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-image")
}

/// `rempart image --format json` of the sample image, what the server's reports are compared
/// with: scanned once for the test binary.
fn cli_report_of_sample() -> &'static Value {
    static REPORT: OnceLock<Value> = OnceLock::new();
    REPORT.get_or_init(|| {
        let cache = tempfile::tempdir().unwrap();
        let cli = rempart()
            .args(["image", "--format", "json", "--cache-dir"])
            .arg(cache.path())
            .arg("--input")
            .arg(sample_layout())
            .output()
            .unwrap();
        serde_json::from_slice(&cli.stdout).unwrap()
    })
}

/// The sample image as a `docker save` archive.
fn sample_archive() -> &'static Path {
    static ARCHIVE: OnceLock<PathBuf> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let path = fixture().work.join("sample.tar");
        run(Command::new("skopeo")
            .args(["copy", "-q"])
            .arg(format!("oci:{}", sample_layout().display()))
            .arg(format!("docker-archive:{}:sample:1", path.display())));
        path
    })
}

/// Pushes the only image of an OCI layout.
fn push(layout: &Path, reference: &str) {
    run(Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false"])
        .arg(format!("oci:{}", layout.display()))
        .arg(format!("docker://{}/{reference}", fixture().registry)));
}

/// The digest of `reference` in the registry, or None when it does not exist.
fn registry_digest(reference: &str) -> Option<String> {
    let output = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{}/{reference}", fixture().registry))
        .output()
        .unwrap();
    output
        .status
        .success()
        .then(|| format!("sha256:{}", hex::encode(Sha256::digest(&output.stdout))))
}

#[test]
fn health_readiness_and_metrics() {
    let health = http("GET", "/healthz", None, Body::None);
    assert_eq!(
        (health.status, health.json()["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = http("GET", "/readyz", None, Body::None).json();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["vulnerability_data"]["sample"], true);
    let _ = get("/v1/images", admin());
    let metrics = http("GET", "/metrics", None, Body::None);
    assert_eq!(metrics.status, 200);
    let text = metrics.text();
    for series in [
        "rempart_http_requests_total{",
        "rempart_http_request_duration_seconds_bucket{",
        "rempart_queue_depth ",
        "route=\"/v1/images\"",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }
    let openapi = http("GET", "/v1/openapi.yaml", None, Body::None);
    assert!(openapi.text().starts_with("openapi: 3"));
}

#[test]
fn tokens_need_the_role_and_scope_and_stop_working_when_revoked() {
    let missing = http("GET", "/v1/images", None, Body::None);
    assert_eq!(missing.status, 401);
    assert!(missing.message().contains("Authorization: Bearer"));
    assert_eq!(get("/v1/images", "rmp_0000").status, 401);

    let viewer = token("dashboard", "viewer", &["*"]);
    assert_eq!(get("/v1/images", &viewer).status, 200);
    let refused = post_json(
        "/v1/scans",
        &viewer,
        &serde_json::json!({"reference": "127.0.0.1:1/app:1"}),
    );
    assert_eq!(refused.status, 403);
    assert!(
        refused.message().contains("scanner role"),
        "{}",
        refused.message()
    );
    assert_eq!(get("/v1/audit", &viewer).status, 403);

    let team = token("team-a ci", "scanner", &["127.0.0.1:1/team-a/*"]);
    let outside = post_json(
        "/v1/scans",
        &team,
        &serde_json::json!({"reference": "127.0.0.1:1/team-b/app:1"}),
    );
    assert_eq!(outside.status, 403);
    assert!(outside.message().contains("not scoped"));
    let upload = http("POST", "/v1/scans/upload", Some(&team), Body::Bytes(b"x"));
    assert_eq!(
        upload.status, 403,
        "uploads need a token for every repository"
    );

    // The registry's token works only on the notification endpoint, and an admin's not there.
    assert_eq!(get("/v1/images", &fixture().registry_token).status, 403);
    let envelope = serde_json::json!({"events": []});
    assert_eq!(
        post_json("/v1/registry/events", admin(), &envelope).status,
        403
    );

    let listed = get("/v1/tokens", admin());
    let listed_text = listed.text();
    assert!(listed_text.contains("dashboard") && !listed_text.contains(&viewer[4..]));
    assert!(!listed_text.contains("hash"));
    revoke("dashboard");
    assert_eq!(get("/v1/images", &viewer).status, 401);
    let audit = get("/v1/audit?limit=1000", admin()).text();
    assert!(audit.contains("token.revoked") && audit.contains("token.created"));
}

fn upload_sample() -> (String, String) {
    let response = http(
        "POST",
        "/v1/scans/upload?name=sample:1",
        Some(admin()),
        Body::File(sample_archive()),
    );
    assert_eq!(response.status, 202, "{}", response.text());
    let id = response.json()["scan"]["id"].as_str().unwrap().to_owned();
    let scan = wait_for_scan(&id);
    assert_eq!(scan["state"], "done", "{scan}");
    (id, scan["digest"].as_str().unwrap().to_owned())
}

#[test]
fn an_uploaded_image_gets_the_cli_report_in_every_format_and_a_verdict() {
    let (_, digest) = upload_sample();
    let verdict = get(&format!("/v1/images/{digest}/verdict"), admin()).json();
    assert_eq!(verdict["passed"], false, "{verdict}");
    assert_eq!(verdict["policy"], "default");
    assert!(
        verdict["reasons"][0].as_str().unwrap().contains("CRITICAL"),
        "{verdict}"
    );

    // The server's JSON report is the CLI's: same schema, same findings.
    let served = get(&format!("/v1/images/{digest}/report"), admin());
    assert_eq!(served.content_type, "application/json");
    let served = served.json();
    let cli = cli_report_of_sample();
    assert_eq!(served["schema_version"], cli["schema_version"]);
    let ids = |report: &Value| {
        let mut ids: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {}", f["id"], f["location"]["path"]))
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&served), ids(cli));

    for (format, content_type, start) in [
        ("table", "text/plain; charset=utf-8", "sample:1 (image)"),
        ("sarif", "application/sarif+json", "{"),
        ("cyclonedx", "application/vnd.cyclonedx+json", "{"),
        ("spdx-json", "application/spdx+json", "{"),
        ("junit", "application/xml", "<?xml"),
        ("html", "text/html; charset=utf-8", "<!DOCTYPE html>"),
    ] {
        let report = get(
            &format!("/v1/images/{digest}/report?format={format}"),
            admin(),
        );
        assert_eq!(
            (report.status, report.content_type.as_str()),
            (200, content_type),
            "{format}"
        );
        assert!(
            report.text().starts_with(start),
            "{format}: {}",
            &report.text()[..80]
        );
    }
    let bad = get(&format!("/v1/images/{digest}/report?format=pdf"), admin());
    assert_eq!(bad.status, 400);
    assert!(bad.message().contains("spdx-json"));

    let listed = get("/v1/images", admin()).json();
    assert!(
        listed["images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["digest"] == digest)
    );
    let shown = get(&format!("/v1/images/{digest}"), admin()).json();
    // Other tests may have asked for verdicts under their own policies meanwhile.
    assert!(
        shown["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["policy"] == "default"),
        "{shown}"
    );
}

#[test]
fn policies_are_versioned_and_decide_the_verdict() {
    let (_, digest) = upload_sample();
    let report = get(&format!("/v1/images/{digest}/report"), admin()).json();
    // Accept every critical and high finding with a reason: the verdict turns to pass.
    let mut document =
        String::from("description: accepted risks\nseverities: [CRITICAL, HIGH]\nignores:\n");
    for finding in report["findings"].as_array().unwrap() {
        if matches!(finding["severity"].as_str(), Some("CRITICAL" | "HIGH")) {
            let _ = write!(
                document,
                "  - id: {}\n    reason: accepted for the test\n",
                finding["id"].as_str().unwrap()
            );
        }
    }
    let created = http(
        "PUT",
        "/v1/policies/accepted",
        Some(admin()),
        Body::Bytes(document.as_bytes()),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["version"], 1);
    let verdict = get(
        &format!("/v1/images/{digest}/verdict?policy=accepted"),
        admin(),
    )
    .json();
    assert_eq!(verdict["passed"], true, "{verdict}");
    assert!(verdict["suppressed"].as_u64().unwrap() > 0);
    // The filtered report leaves out what the policy accepts.
    let filtered = get(
        &format!("/v1/images/{digest}/report?policy=accepted"),
        admin(),
    )
    .json();
    assert!(
        filtered["findings"].as_array().unwrap().len()
            < report["findings"].as_array().unwrap().len()
    );

    let stricter = http(
        "PUT",
        "/v1/policies/accepted",
        Some(admin()),
        Body::Bytes(b"severities: [CRITICAL, HIGH]\n"),
    );
    assert_eq!(
        (stricter.status, &stricter.json()["version"]),
        (200, &Value::from(2))
    );
    let verdict = get(
        &format!("/v1/images/{digest}/verdict?policy=accepted"),
        admin(),
    )
    .json();
    assert_eq!(
        (
            verdict["passed"].as_bool(),
            verdict["policy_version"].as_i64()
        ),
        (Some(false), Some(2))
    );
    let first = get("/v1/policies/accepted?version=1", admin()).json();
    assert!(
        first["document"]
            .as_str()
            .unwrap()
            .contains("accepted risks")
    );

    for (document, expected) in [
        (&b"severities: [SEVERE]\n"[..], "severities"),
        (b"ignores:\n  - id: CVE-1\n", "reason"),
        (b"treshold: HIGH\n", "treshold"),
        (b"\xff\xfe", "UTF-8"),
    ] {
        let refused = http(
            "PUT",
            "/v1/policies/accepted",
            Some(admin()),
            Body::Bytes(document),
        );
        assert_eq!(refused.status, 400);
        assert!(
            refused.message().contains(expected),
            "{}",
            refused.message()
        );
    }
    assert_eq!(
        http(
            "PUT",
            "/v1/policies/a%2Fb",
            Some(admin()),
            Body::Bytes(b"{}")
        )
        .status,
        400
    );
    assert_eq!(
        get(&format!("/v1/images/{digest}/verdict?policy=nope"), admin()).status,
        404
    );
    let audit = get("/v1/audit?limit=1000", admin()).text();
    assert!(audit.contains("policy.updated"));
}

#[test]
fn bad_requests_get_clear_errors_and_leave_nothing_behind() {
    let scans = |body: &[u8]| http("POST", "/v1/scans", Some(admin()), Body::Bytes(body));
    let malformed = scans(b"{\"reference\": ");
    assert_eq!(malformed.status, 400);
    assert!(malformed.message().contains("not the expected JSON"));
    assert_eq!(scans(b"{\"reference\": \"a:1\", \"extra\": 1}").status, 400);
    let bad_reference = scans(b"{\"reference\": \"UPPER/Case::x\"}");
    assert_eq!(bad_reference.status, 400);
    assert!(bad_reference.message().contains("not an image reference"));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(scans(deep.as_bytes()).status, 400);
    let big = vec![b' '; 5 * 1024 * 1024];
    assert_eq!(scans(&big).status, 413);

    assert_eq!(get("/v1/images/sha256:abc/verdict", admin()).status, 400);
    let unknown = format!("/v1/images/sha256:{}/report", "0".repeat(64));
    assert_eq!(get(&unknown, admin()).status, 404);
    assert_eq!(get("/v1/nothing", admin()).status, 404);
    assert_eq!(get("/v1/scans/scan-unknown", admin()).status, 404);

    // Other tests upload at the same time: a file that appears is checked to be theirs (a scan
    // the server knows, or a transfer that soon becomes one), never one a refusal left behind.
    let uploads = fixture().data_dir.join("uploads");
    let names = || -> std::collections::HashSet<String> {
        std::fs::read_dir(&uploads).map_or_else(
            |_| std::collections::HashSet::new(),
            |entries| {
                entries
                    .flatten()
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .collect()
            },
        )
    };
    let before = names();
    let empty = http("POST", "/v1/scans/upload", Some(admin()), Body::Bytes(b""));
    assert_eq!(empty.status, 400);
    let oversized = fixture().work.join("oversized.tar");
    let mut file = std::fs::File::create(&oversized).unwrap();
    file.write_all(&vec![0_u8; usize::try_from(MAX_UPLOAD).unwrap() + 4096])
        .unwrap();
    drop(file);
    let too_big = http(
        "POST",
        "/v1/scans/upload",
        Some(admin()),
        Body::File(&oversized),
    );
    assert_eq!(too_big.status, 413, "{}", too_big.text());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left: Vec<String> = names()
            .difference(&before)
            .filter(|name| {
                let known = name
                    .strip_suffix(".tar")
                    .is_some_and(|id| get(&format!("/v1/scans/{id}"), admin()).status == 200);
                !known
            })
            .cloned()
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a refused upload left files behind: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Not an image: the scan fails, saying so, and the upload is removed.
    let junk = http(
        "POST",
        "/v1/scans/upload?name=junk",
        Some(admin()),
        Body::Bytes(b"not an archive at all"),
    );
    assert_eq!(junk.status, 202);
    let junk_id = junk.json()["scan"]["id"].as_str().unwrap().to_owned();
    let scan = wait_for_scan(&junk_id);
    assert_eq!(scan["state"], "failed");
    assert!(
        scan["error"]
            .as_str()
            .unwrap()
            .contains("`junk` is not a readable image"),
        "{scan}"
    );
    // A failed scan's upload is removed (just after its failure is recorded).
    let deadline = Instant::now() + Duration::from_secs(20);
    while uploads.join(format!("{junk_id}.tar")).exists() {
        assert!(Instant::now() < deadline, "the failed scan's upload stays");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The server is still up.
    assert_eq!(http("GET", "/healthz", None, Body::None).status, 200);
}

#[test]
fn the_registry_gate_promotes_passing_images_and_keeps_failing_ones_out() {
    let dir = tempfile::tempdir().unwrap();
    let clean = clean_layout(dir.path(), "hello from the gate test\n");
    push(&clean, "staging/clean:1");
    push(&sample_layout(), "staging/sample:1");
    push(&clean, "plain/clean:1");
    let clean_digest = registry_digest("staging/clean:1").unwrap();
    let sample_digest = registry_digest("staging/sample:1").unwrap();

    let deadline = Instant::now() + Duration::from_mins(2);
    let promotions = loop {
        let promotions = get("/v1/promotions", admin()).json()["promotions"].clone();
        let finished = |digest: &str| {
            promotions.as_array().unwrap().iter().any(|p| {
                p["digest"] == digest && !matches!(p["state"].as_str(), Some("pending" | "copying"))
            })
        };
        if finished(&clean_digest) && finished(&sample_digest) {
            break promotions;
        }
        assert!(
            Instant::now() < deadline,
            "promotions did not finish: {promotions}\nserver log:\n{}",
            std::fs::read_to_string(fixture().work.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let of = |digest: &str| {
        promotions
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["digest"] == digest)
            .unwrap()
            .clone()
    };
    let promoted = of(&clean_digest);
    assert_eq!(promoted["state"], "promoted", "{promoted}");
    assert_eq!(promoted["destination_repository"], "release/clean");
    let refused = of(&sample_digest);
    assert_eq!(refused["state"], "refused", "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("CRITICAL"),
        "{refused}"
    );

    // Only the passing image is where deployments pull from; the failing one stays in staging.
    assert_eq!(
        registry_digest("release/clean:1"),
        Some(clean_digest.clone())
    );
    assert_eq!(registry_digest("release/sample:1"), None);
    assert_eq!(
        registry_digest("staging/sample:1"),
        Some(sample_digest.clone())
    );

    // Both were scanned, and the plain repository too (scan mode), with verdicts recorded.
    let verdict = get(&format!("/v1/images/{sample_digest}/verdict"), admin()).json();
    assert_eq!(verdict["passed"], false);
    let verdict = get(&format!("/v1/images/{clean_digest}/verdict"), admin()).json();
    assert_eq!(verdict["passed"], true, "{verdict}");
    // Each promotion's outcome was announced to the webhook that wants every event.
    let announced = |event: &'static str, digest: String| {
        move |received: &[Received]| {
            received.iter().any(|r| {
                r.path == "/flaky"
                    && r.status == 200
                    && r.json()["type"] == event
                    && r.json()["data"]["digest"] == digest.as_str()
            })
        }
    };
    let received =
        fixture()
            .webhooks
            .wait_for("the promotion events", |received: &[Received]| {
                announced("promotion.done", clean_digest.clone())(received)
                    && announced("promotion.refused", sample_digest.clone())(received)
            });
    let done = received
        .iter()
        .find(|r| {
            r.json()["type"] == "promotion.done"
                && r.json()["data"]["digest"] == clean_digest.as_str()
        })
        .unwrap()
        .json();
    assert_eq!(
        done["data"]["destination_repository"], "release/clean",
        "{done}"
    );
    assert_eq!(done["data"]["tag"], "1", "{done}");

    let audit = get("/v1/audit?limit=1000", admin()).text();
    for action in [
        "registry.push",
        "promotion.done",
        "promotion.refused",
        "scan.completed",
    ] {
        assert!(
            audit.contains(action),
            "{action} missing from the audit log"
        );
    }
}

#[test]
fn malformed_notifications_are_refused_and_change_nothing() {
    let registry = fixture().registry_token.clone();
    let events = |body: &[u8]| {
        http(
            "POST",
            "/v1/registry/events",
            Some(&registry),
            Body::Bytes(body),
        )
    };
    // Other tests queue scans meanwhile: look for these digests only.
    let count = || {
        get("/v1/scans?limit=1000", admin()).json()["scans"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|scan| {
                let digest = scan["digest"].as_str().unwrap_or_default();
                digest.ends_with("aaaa") || digest.ends_with("bbbb")
            })
            .count()
    };
    assert_eq!(events(b"{\"events\": 3}").status, 400);
    assert_eq!(events(b"not json").status, 400);
    let event = |repository: &str, digest: &str| {
        serde_json::json!({"id": "e", "action": "push", "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest, "repository": repository, "tag": "1"}})
    };
    let good = event("staging/app", &format!("sha256:{}", "a".repeat(64)));
    for bad in [
        event("../etc", &format!("sha256:{}", "a".repeat(64))),
        event("staging/app", "sha256:zz"),
        event("Staging/App", &format!("sha256:{}", "a".repeat(64))),
    ] {
        // A bad event anywhere refuses the envelope, the good one beside it included.
        let body = serde_json::json!({"events": [good, bad]});
        let refused = events(body.to_string().as_bytes());
        assert_eq!(refused.status, 400, "{}", refused.text());
    }
    let pull = serde_json::json!({"events": [{"id": "p", "action": "pull", "target": {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": format!("sha256:{}", "b".repeat(64)), "repository": "staging/app"}}]});
    let ignored = events(pull.to_string().as_bytes());
    assert_eq!(
        (ignored.status, &ignored.json()["ignored"]),
        (200, &Value::from(1))
    );
    assert_eq!(count(), 0, "nothing was queued");
}

#[test]
fn the_deployment_files_pass_rempart_config() {
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    let kubernetes = rempart()
        .args(["config", "--format", "json"])
        .arg(deploy.join("kubernetes"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&kubernetes.stdout).unwrap();
    assert_eq!(report["findings"], Value::Array(Vec::new()), "{report}");
    assert_eq!(kubernetes.status.code(), Some(0));
    // The node agent needs privileges no other workload may have: each finding is accepted
    // with its reason beside it, and each acceptance still matches a finding.
    let agent = deploy.join("node-agent");
    let node_agent = rempart()
        .args(["config", "--format", "json", "--ignorefile"])
        .arg(agent.join(".rempartignore.yaml"))
        .arg(&agent)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&node_agent.stdout).unwrap();
    assert_eq!(report["findings"], Value::Array(Vec::new()), "{report}");
    assert_eq!(node_agent.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&node_agent.stderr);
    assert!(!stderr.contains("matched no finding"), "{stderr}");
    assert!(stderr.contains("findings suppressed"), "{stderr}");
    // The base images are pinned by whoever builds the image; nothing else may be reported.
    let dockerfile = rempart()
        .args(["config", "--format", "json"])
        .arg(deploy.join("Dockerfile"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&dockerfile.stdout).unwrap();
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["DF-BASE-NOT-PINNED", "DF-BASE-NOT-PINNED"]);
}

// The web dashboard (`/ui/`): pages for browsers, signed in with a session cookie.

/// A dashboard answer, with its headers (cookies, policy, redirects).
struct Page {
    status: u16,
    headers: String,
    body: String,
}

impl Page {
    /// The first value of a header, by its name in any case.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The session id a sign-in set.
    fn session(&self) -> Option<String> {
        let cookie = self.header("set-cookie")?;
        let value = cookie.strip_prefix("rempart_session=")?.split(';').next()?;
        (!value.is_empty()).then(|| value.to_owned())
    }

    /// The session's form token, from the sign-out form of a page.
    fn form_token(&self) -> String {
        let from = self.body.find("name=\"form_token\" value=\"").unwrap() + 25;
        self.body[from..from + 32].to_owned()
    }
}

/// A dashboard request with curl: a session cookie, a form body and an Origin header when
/// given. Redirects are not followed, so that they can be checked.
fn ui(
    method: &str,
    path: &str,
    session: Option<&str>,
    form: Option<&str>,
    origin: Option<&str>,
) -> Page {
    let mut headers = Vec::new();
    if let Some(session) = session {
        headers.push(format!("Cookie: rempart_session={session}"));
    }
    if let Some(origin) = origin {
        headers.push(format!("Origin: {origin}"));
    }
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let body = form.map_or(Body::None, |form| Body::Bytes(form.as_bytes()));
    let response = http_with(method, path, None, &headers, body);
    Page {
        status: response.status,
        body: response.text(),
        headers: response.headers,
    }
}

/// Signs in through the login form as a browser on the server's own page would.
fn sign_in(token: &str) -> String {
    let page = ui(
        "POST",
        "/ui/login",
        None,
        Some(&format!("token={token}")),
        Some(&fixture().url),
    );
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.header("location"), Some("/ui/"));
    page.session().expect("a session cookie")
}

#[test]
fn dashboard_pages_need_a_session_and_keep_the_api_roles_and_scopes() {
    let (_, digest) = upload_sample();
    let image_page = format!("/ui/images/{digest}");
    // No session: every page sends the browser to sign in; a bearer token is not a session.
    for path in ["/ui/", image_page.as_str(), "/ui/audit"] {
        let page = ui("GET", path, None, None, None);
        assert_eq!(page.status, 303, "{path}");
        assert_eq!(page.header("location"), Some("/ui/login"), "{path}");
    }
    assert_eq!(ui("GET", "/ui/", Some(admin()), None, None).status, 303);
    let login = ui("GET", "/ui/login", None, None, None);
    assert_eq!(login.status, 200);
    assert!(login.body.contains("type=\"password\""));

    // Bad tokens, and forms from elsewhere, are refused without a session.
    let refused = ui(
        "POST",
        "/ui/login",
        None,
        Some("token=rmp_0000"),
        Some(&fixture().url),
    );
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("unknown or revoked token") && refused.session().is_none());
    for origin in [None, Some("http://evil.example")] {
        let page = ui(
            "POST",
            "/ui/login",
            None,
            Some(&format!("token={}", admin())),
            origin,
        );
        assert_eq!(page.status, 403, "origin {origin:?}");
        assert!(page.session().is_none());
    }
    let registry = ui(
        "POST",
        "/ui/login",
        None,
        Some(&format!("token={}", fixture().registry_token)),
        Some(&fixture().url),
    );
    assert_eq!(registry.status, 403);

    // The admin signs in: the cookie is HttpOnly, SameSite=Strict, for /ui only.
    let signed = ui(
        "POST",
        "/ui/login",
        None,
        Some(&format!("token={}", admin())),
        Some(&fixture().url),
    );
    let cookie = signed.header("set-cookie").unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains(admin()), "the token is not the cookie");
    let session = signed.session().unwrap();

    let fleet = ui("GET", "/ui/", Some(&session), None, None);
    assert_eq!(fleet.status, 200);
    let policy = fleet.header("content-security-policy").unwrap();
    assert!(
        policy.starts_with("default-src 'none'; style-src 'sha256-"),
        "{policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe"));
    assert!(!fleet.body.contains("<script"));
    for text in [
        digest.as_str(),
        "sample:1",
        "<svg",
        "class=\"fail\"",
        "data-severity=\"critical\"",
    ] {
        assert!(fleet.body.contains(text), "{text} not on the fleet page");
    }

    let image = ui("GET", &image_page, Some(&session), None, None);
    assert_eq!(image.status, 200);
    assert!(image.header("content-security-policy").is_some());
    for text in [
        "CRITICAL",
        "format=sarif",
        "format=cyclonedx",
        "format=spdx-json",
        "<iframe",
    ] {
        assert!(image.body.contains(text), "{text} not on the image page");
    }
    let sarif = ui(
        "GET",
        &format!("{image_page}/report?format=sarif"),
        Some(&session),
        None,
        None,
    );
    assert_eq!(sarif.status, 200);
    assert!(
        sarif
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    assert!(sarif.body.contains("\"version\": \"2.1.0\"") || sarif.body.contains("2.1.0"));
    let report = ui(
        "GET",
        &format!("{image_page}/report"),
        Some(&session),
        None,
        None,
    );
    assert_eq!(report.status, 200);
    assert!(report.body.starts_with("<!DOCTYPE html>"));
    let framed = report.header("content-security-policy").unwrap();
    assert!(framed.contains("sandbox allow-scripts") && framed.contains("frame-ancestors 'self'"));

    let audit = ui("GET", "/ui/audit", Some(&session), None, None);
    assert_eq!(audit.status, 200);
    assert!(audit.body.contains("session.created") && audit.body.contains("scan.completed"));

    // A viewer scoped to another repository sees neither the image nor the audit log.
    let other = token("ui other team", "viewer", &["127.0.0.1:1/other/*"]);
    let other_session = sign_in(&other);
    let other_fleet = ui("GET", "/ui/", Some(&other_session), None, None);
    assert_eq!(other_fleet.status, 200);
    assert!(!other_fleet.body.contains(&digest));
    assert_eq!(
        ui("GET", &image_page, Some(&other_session), None, None).status,
        404
    );
    assert_eq!(
        ui("GET", "/ui/audit", Some(&other_session), None, None).status,
        403
    );
    let every = sign_in(&token("ui viewer", "viewer", &["*"]));
    assert_eq!(ui("GET", "/ui/audit", Some(&every), None, None).status, 403);
    assert_eq!(ui("GET", &image_page, Some(&every), None, None).status, 200);

    // Revoking the token ends its sessions at once.
    revoke("ui other team");
    assert_eq!(
        ui("GET", "/ui/", Some(&other_session), None, None).status,
        303
    );

    // Signing out needs the session's form token and the server's own origin.
    let wrong = ui(
        "POST",
        "/ui/logout",
        Some(&session),
        Some("form_token=00000000000000000000000000000000"),
        Some(&fixture().url),
    );
    assert_eq!(wrong.status, 403);
    let form = format!("form_token={}", fleet.form_token());
    assert_eq!(
        ui(
            "POST",
            "/ui/logout",
            Some(&session),
            Some(&form),
            Some("http://evil.example")
        )
        .status,
        403
    );
    let out = ui(
        "POST",
        "/ui/logout",
        Some(&session),
        Some(&form),
        Some(&fixture().url),
    );
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(ui("GET", "/ui/", Some(&session), None, None).status, 303);
}

/// A minimal `DevTools` protocol client over `--remote-debugging-pipe`: Chromium reads commands
/// on its file descriptor 3 and writes answers and events on 4, each a JSON text ended by a
/// NUL byte. The test signs in through the real login form this way: `--dump-dom` cannot send
/// a cookie or a form, a token in the URL would leak into logs, and a test-only way in would
/// not test the sign-in. The pipe needs no port, no WebSocket and no extra crate.
struct DevTools {
    child: Child,
    commands: std::process::ChildStdin,
    messages: std::sync::mpsc::Receiver<Value>,
    next_id: u64,
    /// Every event seen so far, for the console and CSP checks.
    events: Vec<Value>,
}

impl DevTools {
    fn start(browser: &Path, profile: &Path, log: &Path) -> DevTools {
        let mut child = Command::new("sh")
            .arg("-c")
            // fd 3 reads the test's commands (standard input), fd 4 writes to standard output.
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null"#)
            .arg(browser)
            .args(support::HEADLESS_CHROMIUM)
            .args([
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let commands = child.stdin.take().unwrap();
        let mut output = child.stdout.take().unwrap();
        let (sender, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            let mut reader = std::io::BufReader::new(&mut output);
            let mut message = Vec::new();
            while reader.read_until(0, &mut message).unwrap_or(0) > 0 {
                if message.last() == Some(&0) {
                    message.pop();
                }
                if let Ok(value) = serde_json::from_slice::<Value>(&message)
                    && sender.send(value).is_err()
                {
                    return;
                }
                message.clear();
            }
        });
        DevTools {
            child,
            commands,
            messages,
            next_id: 0,
            events: Vec::new(),
        }
    }

    fn next_message(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = self
            .messages
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("chromium did not answer in time"));
        if message.get("id").is_none() {
            self.events.push(message.clone());
        }
        message
    }

    /// Sends a command (to a page's session when given) and returns its result.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = serde_json::json!({"id": id, "method": method});
        command["params"] = params;
        if let Some(session) = session {
            command["sessionId"] = Value::from(session);
        }
        let mut bytes = command.to_string().into_bytes();
        bytes.push(0);
        self.commands.write_all(&bytes).unwrap();
        self.commands.flush().unwrap();
        let deadline = Instant::now() + Duration::from_mins(1);
        loop {
            let message = self.next_message(deadline);
            if message["id"] == id {
                assert!(message.get("error").is_none(), "{method}: {message}");
                return message["result"].clone();
            }
        }
    }

    /// Waits for the page's next load event.
    fn wait_for_load(&mut self, since: usize) {
        let deadline = Instant::now() + Duration::from_mins(1);
        while !self.events[since..]
            .iter()
            .any(|event| event["method"] == "Page.loadEventFired")
        {
            self.next_message(deadline);
        }
    }

    fn evaluate(&mut self, session: &str, expression: &str) -> Value {
        self.call(
            Some(session),
            "Runtime.evaluate",
            serde_json::json!({"expression": expression, "returnByValue": true}),
        )["result"]["value"]
            .clone()
    }

    fn navigate(&mut self, session: &str, url: &str) {
        let since = self.events.len();
        self.call(
            Some(session),
            "Page.navigate",
            serde_json::json!({ "url": url }),
        );
        self.wait_for_load(since);
    }

    fn screenshot(&mut self, session: &str) -> Vec<u8> {
        let result = self.call(
            Some(session),
            "Page.captureScreenshot",
            serde_json::json!({"format": "png"}),
        );
        decode_base64(result["data"].as_str().unwrap())
    }
}

impl Drop for DevTools {
    fn drop(&mut self) {
        // Closing the pipe ends the browser; it is killed if it lingers.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().filter(|&c| c != b'=').collect();
        let group = data
            .iter()
            .enumerate()
            .fold(0, |group, (i, &c)| group | value(c) << (18 - 6 * i));
        for i in 0..data.len().saturating_sub(1) {
            bytes.push(u8::try_from((group >> (16 - 8 * i)) & 0xff).unwrap());
        }
    }
    bytes
}

/// The width and height of a PNG, after checking it is one.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    assert_eq!(&png[12..16], b"IHDR");
    (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    )
}

// A skip must say why in the test output, or it passes for a run that checked nothing.
#[allow(clippy::print_stderr)]
#[test]
fn the_dashboard_signs_in_and_renders_in_chromium_without_console_errors() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let Some(browser) = std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
    else {
        eprintln!(
            "skipped: no chromium or chromium-browser on PATH (scripts/install-test-deps.sh installs it)"
        );
        return;
    };
    let (_, digest) = upload_sample();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("chromium.log");
    let url = &fixture().url;
    let started = Instant::now();
    let mut devtools = DevTools::start(&browser, &work.path().join("profile"), &log);
    let target = devtools.call(
        None,
        "Target.createTarget",
        serde_json::json!({"url": "about:blank"}),
    )["targetId"]
        .clone();
    let session = devtools.call(
        None,
        "Target.attachToTarget",
        serde_json::json!({"targetId": target, "flatten": true}),
    )["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    for method in ["Page.enable", "Runtime.enable", "Log.enable"] {
        devtools.call(Some(&session), method, serde_json::json!({}));
    }
    devtools.call(
        Some(&session),
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 1280, "height": 1600, "deviceScaleFactor": 1, "mobile": false}),
    );

    // Sign in as a person would: the form, the token typed in, the button pressed.
    devtools.navigate(&session, &format!("{url}/ui/login"));
    let since = devtools.events.len();
    let token = serde_json::to_string(admin()).unwrap();
    devtools.evaluate(
        &session,
        &format!("document.getElementById('token').value = {token}; document.querySelector('form.login button').click(); true"),
    );
    devtools.wait_for_load(since);
    // On the fleet page, and the session cookie is out of the page's reach (HttpOnly).
    assert_eq!(
        devtools.evaluate(&session, "location.pathname + '|' + document.cookie"),
        "/ui/|",
        "{}",
        devtools.evaluate(&session, "document.body.innerText")
    );
    let fleet = devtools
        .evaluate(&session, "document.documentElement.outerHTML")
        .as_str()
        .unwrap()
        .to_owned();
    for text in [
        digest.as_str(),
        "sample:1",
        "<svg",
        "class=\"failing\"",
        "id=\"failing-count\"",
        "data-severity=\"critical\"",
    ] {
        assert!(fleet.contains(text), "{text} not in the fleet page's DOM");
    }
    let failing = devtools.evaluate(
        &session,
        "Number(document.getElementById('failing-count').textContent)",
    );
    assert!(failing.as_i64().unwrap() >= 1, "{failing}");
    let png = devtools.screenshot(&session);
    assert_eq!(png_size(&png), (1280, 1600));
    assert!(png.len() > 20_000, "a {} byte screenshot", png.len());
    std::fs::write(work.path().join("fleet.png"), &png).unwrap();

    devtools.navigate(&session, &format!("{url}/ui/images/{digest}"));
    let image = devtools
        .evaluate(&session, "document.documentElement.outerHTML")
        .as_str()
        .unwrap()
        .to_owned();
    for text in [
        "id=\"verdicts\"",
        "CRITICAL",
        "class=\"fail\"",
        "format=sarif",
        "<iframe",
    ] {
        assert!(image.contains(text), "{text} not in the image page's DOM");
    }
    let png = devtools.screenshot(&session);
    assert_eq!(png_size(&png), (1280, 1600));

    // Nothing the pages did was refused or failed: no exception, no console error, no CSP
    // report (Chromium logs a refused style, script or frame as an error).
    let problems: Vec<&Value> = devtools
        .events
        .iter()
        .filter(|event| {
            event["method"] == "Runtime.exceptionThrown"
                || (event["method"] == "Log.entryAdded"
                    && event["params"]["entry"]["level"] == "error")
                || (event["method"] == "Runtime.consoleAPICalled"
                    && event["params"]["type"] == "error")
        })
        .collect();
    assert!(problems.is_empty(), "errors in the browser: {problems:?}");
    let _ = devtools.call(None, "Browser.close", serde_json::json!({}));
    drop(devtools);
    let console = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !console.contains("Content Security Policy"),
        "CSP violations: {console}"
    );
    assert!(started.elapsed() < Duration::from_mins(3));
}

// Harbor's scanner adapter API (`/harbor/api/v1`), checked against Harbor's specification.

const HARBOR_VULNERABILITY: &str = "application/vnd.security.vulnerability.report; version=1.1";
const HARBOR_SBOM: &str = "application/vnd.security.sbom.report+json; version=1.0";
const HARBOR_SCAN_REQUEST: &str =
    "Content-Type: application/vnd.scanner.adapter.scan.request+json; version=1.1";

fn harbor_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| token("harbor", "harbor", &["*"]))
}

fn harbor_path(path: &str) -> String {
    format!("{}{path}", openapi::HARBOR_PREFIX)
}

/// A Harbor `ScanRequest`, itself checked against the specification.
fn harbor_request(url: &str, repository: &str, digest: &str, mime_type: &str) -> Value {
    let request = serde_json::json!({
        "registry": {"url": url},
        "artifact": {"repository": repository, "digest": digest, "tag": "1", "mime_type": mime_type},
        "enabled_capabilities": [
            {"type": "vulnerability", "produces_mime_types": [HARBOR_VULNERABILITY]},
            {"type": "sbom", "produces_mime_types": [HARBOR_SBOM],
             "parameters": {"sbom_media_types": ["application/spdx+json", "application/vnd.cyclonedx+json"]}}
        ]
    });
    let schema = serde_json::json!({"$ref": "#/components/schemas/ScanRequest"});
    let problems = openapi::problems_in(true, &schema, &request);
    assert!(problems.is_empty(), "{problems:?}");
    request
}

fn harbor_submit(token: &str, request: &Value) -> Response {
    http_with(
        "POST",
        &harbor_path("/scan"),
        Some(token),
        &[HARBOR_SCAN_REQUEST],
        Body::Bytes(request.to_string().as_bytes()),
    )
}

fn harbor_report(id: &str, accept: &str, query: &str) -> Response {
    http_with(
        "GET",
        &harbor_path(&format!("/scan/{id}/report{query}")),
        Some(harbor_token()),
        &[&format!("Accept: {accept}")],
        Body::None,
    )
}

/// The last value of a response header.
fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(key, _)| key.trim().eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim().to_owned())
        .next_back()
}

/// Polls a report while the answer is 302, checking the headers Harbor needs on each.
fn harbor_poll(id: &str, accept: &str) -> (Response, usize) {
    let deadline = Instant::now() + Duration::from_mins(2);
    let mut waits = 0;
    loop {
        let response = harbor_report(id, accept, "");
        if response.status != 302 {
            return (response, waits);
        }
        waits += 1;
        let refresh: u32 = header(&response, "Refresh-After")
            .expect("a 302 without Refresh-After")
            .parse()
            .unwrap();
        assert!(refresh > 0);
        assert_eq!(
            header(&response, "Location").as_deref(),
            Some(harbor_path(&format!("/scan/{id}/report")).as_str())
        );
        assert!(Instant::now() < deadline, "scan {id} did not finish");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn harbor_reads_the_metadata_and_only_its_token_opens_its_endpoints() {
    let metadata = get(&harbor_path("/metadata"), harbor_token());
    assert_eq!(metadata.status, 200, "{}", metadata.text());
    assert_eq!(
        metadata.content_type,
        "application/vnd.scanner.adapter.metadata+json; version=1.1"
    );
    let metadata = metadata.json();
    assert_eq!(metadata["scanner"]["name"], "rempart");
    let capabilities = metadata["capabilities"].as_array().unwrap();
    let of = |kind: &str| {
        capabilities
            .iter()
            .find(|c| c["type"] == kind)
            .unwrap()
            .clone()
    };
    for kind in ["vulnerability", "sbom"] {
        assert_eq!(
            of(kind)["consumes_mime_types"],
            serde_json::json!([
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.docker.distribution.manifest.v2+json"
            ])
        );
    }
    assert_eq!(
        of("vulnerability")["produces_mime_types"],
        serde_json::json!([HARBOR_VULNERABILITY])
    );
    assert_eq!(
        of("sbom")["additional_attributes"]["sbom_media_types"],
        serde_json::json!(["application/spdx+json", "application/vnd.cyclonedx+json"])
    );
    let properties = &metadata["properties"];
    assert_eq!(
        properties["harbor.scanner-adapter/scanner-type"],
        "os-package-vulnerability"
    );
    assert!(
        properties["harbor.scanner-adapter/vulnerability-database-updated-at"]
            .as_str()
            .is_some_and(|at| at.len() >= 10),
        "{properties}"
    );

    // Other roles get nothing of Harbor's, and Harbor's token nothing else.
    let viewer = token("harbor-test viewer", "viewer", &["*"]);
    for token in [viewer.as_str(), admin(), &fixture().registry_token] {
        let refused = get(&harbor_path("/metadata"), token);
        assert_eq!(refused.status, 403, "{}", refused.text());
        assert!(refused.message().contains("harbor role"));
    }
    assert_eq!(
        http("GET", &harbor_path("/metadata"), None, Body::None).status,
        401
    );
    assert_eq!(get("/v1/images", harbor_token()).status, 403);
    assert_eq!(
        post_json(
            "/v1/scans",
            harbor_token(),
            &serde_json::json!({"reference": "127.0.0.1:1/a:1"})
        )
        .status,
        403
    );

    // Requests Harbor may get wrong.
    let unknown = harbor_report("scan-000000000000000000000000", HARBOR_VULNERABILITY, "");
    assert_eq!(unknown.status, 404);
    let malformed = http_with(
        "POST",
        &harbor_path("/scan"),
        Some(harbor_token()),
        &[HARBOR_SCAN_REQUEST],
        Body::Bytes(b"{\"registry\": "),
    );
    assert_eq!(malformed.status, 400, "{}", malformed.text());
    let digest = format!("sha256:{}", "c".repeat(64));
    let missing = serde_json::json!({"registry": {"url": "https://h.example"}});
    assert_eq!(harbor_submit(harbor_token(), &missing).status, 400);
    let index = harbor_request(
        "https://h.example",
        "harbor/index",
        &digest,
        "application/vnd.oci.image.index.v1+json",
    );
    let unsupported = harbor_submit(harbor_token(), &index);
    assert_eq!(unsupported.status, 422, "{}", unsupported.text());
    assert!(unsupported.message().contains("mime_type"));
    let mut bad_digest = harbor_request(
        "https://h.example",
        "harbor/app",
        "sha256:abc",
        "application/vnd.oci.image.manifest.v1+json",
    );
    assert_eq!(harbor_submit(harbor_token(), &bad_digest).status, 422);
    bad_digest["artifact"]["digest"] = Value::from(digest);
    assert_eq!(harbor_submit(&viewer, &bad_digest).status, 403);
}

#[test]
fn harbor_gets_the_reports_of_an_image_and_its_credentials_are_never_kept() {
    // A Docker v2 manifest of the sample image, a digest no other test pushes.
    run(Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false", "--format", "v2s2"])
        .arg(format!("oci:{}", sample_layout().display()))
        .arg(format!("docker://{}/harbor/sample:1", fixture().registry)));
    let digest = registry_digest("harbor/sample:1").unwrap();
    // The push notification queues a scan of the digest too: Harbor's request comes once it is
    // done, so that it makes a scan of its own.
    let deadline = Instant::now() + Duration::from_mins(2);
    loop {
        let scans = get("/v1/scans?limit=1000", admin()).json()["scans"].clone();
        let of_digest: Vec<&Value> = scans
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["digest"] == digest.as_str())
            .collect();
        if !of_digest.is_empty() && of_digest.iter().all(|s| s["state"] == "done") {
            break;
        }
        assert!(Instant::now() < deadline, "the push was not scanned");
        std::thread::sleep(Duration::from_millis(300));
    }

    let password = format!(
        "pw-{}-{}",
        std::process::id(),
        hex::encode(Sha256::digest(digest.as_bytes()))[..12].to_owned()
    );
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("robot$harbor+scan:{password}"),
    );
    let mut request = harbor_request(
        &format!("http://{}", fixture().registry),
        "harbor/sample",
        &digest,
        "application/vnd.docker.distribution.manifest.v2+json",
    );
    request["registry"]["authorization"] = Value::from(format!("Basic {basic}"));
    let accepted = harbor_submit(harbor_token(), &request);
    assert_eq!(accepted.status, 202, "{}", accepted.text());
    assert_eq!(
        accepted.content_type,
        "application/vnd.scanner.adapter.scan.response+json; version=1.0"
    );
    let id = accepted.json()["id"].as_str().unwrap().to_owned();
    let scan = get(&format!("/v1/scans/{id}"), admin()).json();
    assert_eq!(scan["source"]["kind"], "harbor", "{scan}");

    let (report, _) = harbor_poll(&id, HARBOR_VULNERABILITY);
    assert_eq!(report.status, 200, "{}", report.text());
    assert_eq!(report.content_type, HARBOR_VULNERABILITY);
    let report = report.json();
    assert_eq!(
        report["artifact"],
        serde_json::json!({"repository": "harbor/sample", "digest": digest, "tag": "1",
            "mime_type": "application/vnd.docker.distribution.manifest.v2+json"})
    );
    assert_eq!(report["scanner"]["name"], "rempart");

    // The CLI's vulnerability findings for the same image, and nothing else.
    let cli = cli_report_of_sample();
    let mut expected: Vec<(String, String, String)> = cli["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["details"]["kind"] == "vulnerability")
        .map(|f| {
            let fixed = f["details"]["fix"]["versions"]
                .as_array()
                .map(|v| {
                    v.iter()
                        .map(|v| v.as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            (
                f["id"].as_str().unwrap().to_owned(),
                f["details"]["package"].as_str().unwrap().to_owned(),
                fixed,
            )
        })
        .collect();
    expected.sort();
    assert!(!expected.is_empty());
    // The overall severity is the highest of the vulnerabilities' (other findings, a critical
    // secret included, are not in this report).
    let highest = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
        .into_iter()
        .rev()
        .find(|severity| {
            cli["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["details"]["kind"] == "vulnerability" && f["severity"] == *severity)
        })
        .unwrap();
    assert_eq!(
        report["severity"].as_str().unwrap().to_ascii_uppercase(),
        highest
    );
    let vulnerabilities = report["vulnerabilities"].as_array().unwrap();
    let mut served: Vec<(String, String, String)> = vulnerabilities
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_owned(),
                v["package"].as_str().unwrap().to_owned(),
                v["fix_version"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    served.sort();
    assert_eq!(served, expected);
    for vulnerability in vulnerabilities {
        let vendor = &vulnerability["vendor_attributes"];
        assert!(vendor["fix_state"].is_string(), "{vulnerability}");
        assert!(
            vendor["layer"]["diff_id"]
                .as_str()
                .is_some_and(|d| d.starts_with("sha256:")),
            "{vulnerability}"
        );
        assert!(vendor["path"].as_str().is_some_and(|p| p.starts_with('/')));
    }

    for (media_type, encoded, field) in [
        (
            "application/vnd.cyclonedx+json",
            "application%2Fvnd.cyclonedx%2Bjson",
            "bomFormat",
        ),
        (
            "application/spdx+json",
            "application%2Fspdx%2Bjson",
            "spdxVersion",
        ),
    ] {
        let sbom = harbor_report(&id, HARBOR_SBOM, &format!("?sbom_media_type={encoded}"));
        assert_eq!(sbom.status, 200, "{media_type}: {}", sbom.text());
        assert_eq!(sbom.content_type, HARBOR_SBOM);
        let sbom = sbom.json();
        assert_eq!(sbom["media_type"], media_type);
        assert_eq!(sbom["artifact"]["digest"], digest.as_str());
        assert!(sbom["sbom"][field].is_string(), "{media_type}: {sbom}");
    }
    let no_format = harbor_report(&id, HARBOR_SBOM, "");
    assert_eq!(no_format.status, 400);
    assert!(no_format.message().contains("sbom_media_type"));
    let other = harbor_report(&id, "application/vnd.scanner.adapter.vuln.report.raw", "");
    assert_eq!(other.status, 501);

    // The scan request is audited, and the credentials are nowhere: not in the store, the
    // server log or the audit log.
    let audit = get("/v1/audit?limit=1000", admin()).json();
    let line = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "harbor.scan" && e["subject"] == id.as_str())
        .unwrap_or_else(|| panic!("no harbor.scan line: {audit}"))
        .clone();
    assert_eq!(line["actor"], "harbor");
    assert_eq!(line["digest"], digest.as_str());
    assert!(line["detail"].as_str().unwrap().contains("harbor/sample"));
    let mut files = vec![fixture().work.join("server.log")];
    let mut directories = vec![fixture().data_dir.clone()];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                directories.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 2);
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        for secret in [password.as_bytes(), basic.as_bytes()] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret),
                "{} holds Harbor's registry credentials",
                file.display()
            );
        }
    }
    let audit_text = audit.to_string();
    assert!(!audit_text.contains(&password) && !audit_text.contains(&basic));
}

#[test]
fn harbor_is_told_to_wait_while_a_scan_runs_and_why_it_failed() {
    // A registry that takes connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(3));
                drop(stream);
            });
        }
    });
    let digest = format!(
        "sha256:{}",
        hex::encode(Sha256::digest(b"harbor: no answer"))
    );
    let request = harbor_request(
        &format!("http://127.0.0.1:{port}"),
        "harbor/silent",
        &digest,
        "application/vnd.oci.image.manifest.v1+json",
    );
    let accepted = harbor_submit(harbor_token(), &request);
    assert_eq!(accepted.status, 202, "{}", accepted.text());
    let id = accepted.json()["id"].as_str().unwrap().to_owned();
    let (failed, waits) = harbor_poll(&id, HARBOR_VULNERABILITY);
    assert!(waits > 0, "the report was never 302");
    assert_eq!(failed.status, 500, "{}", failed.text());
    assert_eq!(
        failed.content_type,
        "application/vnd.scanner.adapter.error+json; version=1.0"
    );
    assert!(
        failed.message().contains("cannot pull"),
        "{}",
        failed.message()
    );
}

/// The specification's own examples fit its schemas, so the checker reads it right.
#[test]
fn harbor_specification_examples_fit_its_schemas() {
    fn walk(node: &Value, at: &str, checked: &mut usize) {
        let Some(object) = node.as_object() else {
            return;
        };
        if let Some(example) = object.get("example") {
            // Examples of objects and arrays are sometimes written as JSON text.
            let structured = matches!(node["type"].as_str(), Some("object" | "array"))
                || node.get("oneOf").is_some();
            let example = match example.as_str() {
                Some(text) if structured => serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("{at}: example is not JSON: {e}")),
                _ => example.clone(),
            };
            let problems = openapi::problems_in(true, node, &example);
            assert!(problems.is_empty(), "{at}: {problems:?}");
            *checked += 1;
        }
        for (key, child) in object {
            walk(child, &format!("{at}.{key}"), checked);
        }
    }
    let mut checked = 0;
    walk(
        &openapi::harbor()["components"]["schemas"],
        "schemas",
        &mut checked,
    );
    assert!(checked > 20, "only {checked} examples");
    // And the checker does refuse what the specification does not allow.
    let report = serde_json::json!({"$ref": "#/components/schemas/HarborVulnerabilityReport"});
    let wrong =
        serde_json::json!({"severity": "Severe", "vulnerabilities": [{"id": 1, "cvss": {}}]});
    assert_eq!(openapi::problems_in(true, &report, &wrong).len(), 3);
}

/// What a receiver computes to check a delivery (the Standard Webhooks scheme): HMAC-SHA256,
/// keyed with the base64 after `whsec_`, over `id.timestamp.body`.
fn expected_signature(received: &Received) -> String {
    use base64::Engine as _;
    let key = decode_base64(WEBHOOK_SECRET.strip_prefix("whsec_").unwrap());
    let mut signed = format!(
        "{}.{}.",
        received.header("webhook-id"),
        received.header("webhook-timestamp")
    )
    .into_bytes();
    signed.extend_from_slice(&received.body);
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key),
        &signed,
    );
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    )
}

#[test]
fn webhooks_are_signed_retried_and_dead_lettered() {
    let (scan_id, digest) = upload_sample();
    let receiver = &fixture().webhooks;
    let of_this_scan = |path: &'static str| {
        let scan_id = scan_id.clone();
        move |r: &&Received| {
            r.path == path
                && r.json()["type"] == "scan.completed"
                && r.json()["data"]["scan_id"] == scan_id.as_str()
        }
    };
    // `flaky` refuses the first attempt; the second, a moment later, is accepted.
    let received = receiver.wait_for("the scan's completion, accepted", |received| {
        received
            .iter()
            .filter(of_this_scan("/flaky"))
            .any(|r| r.status == 200)
    });
    let attempts: Vec<&Received> = received.iter().filter(of_this_scan("/flaky")).collect();
    assert_eq!(
        attempts.iter().map(|r| r.status).collect::<Vec<_>>(),
        [503, 200]
    );
    let id = attempts[0].header("webhook-id").to_owned();
    assert!(id.starts_with("msg_"), "{id}");
    assert_eq!(
        attempts[1].header("webhook-id"),
        id,
        "a retry keeps the message id"
    );
    for attempt in &attempts {
        assert_eq!(attempt.header("content-type"), "application/json");
        assert_eq!(attempt.header("x-rempart-event"), "scan.completed");
        assert_eq!(
            attempt.header("webhook-signature"),
            expected_signature(attempt)
        );
        let sent: i64 = attempt.header("webhook-timestamp").parse().unwrap();
        let now = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap();
        assert!((now - sent).abs() < 120, "timestamp {sent}, now {now}");
    }
    // A body changed on the way no longer matches its signature.
    let mut tampered = attempts[1].clone();
    tampered.body = String::from_utf8(tampered.body)
        .unwrap()
        .replace("false", "true ")
        .into_bytes();
    assert_ne!(
        tampered.header("webhook-signature"),
        expected_signature(&tampered)
    );

    let event = attempts[1].json();
    assert_eq!(event["data"]["digest"], digest.as_str());
    assert_eq!(event["data"]["name"], "sample:1");
    assert_eq!(event["data"]["verdict"]["passed"], false, "{event}");
    assert_eq!(event["data"]["verdict"]["policy"], "default");
    assert!(
        event["data"]["findings_by_severity"]["critical"]
            .as_i64()
            .unwrap()
            > 0,
        "{event}"
    );
    assert!(event["timestamp"].as_str().unwrap().ends_with('Z'));

    let delivery = get(&format!("/v1/webhooks/deliveries/{id}"), admin()).json();
    assert_eq!(delivery["state"], "delivered", "{delivery}");
    assert_eq!(delivery["attempts"], 2);
    assert_eq!(delivery["last_status"], 200);
    assert_eq!(delivery["payload"], event);

    // `down` never accepts: after its two attempts the delivery is a dead letter, listed with
    // the last answer; an admin sends it again, and it is attempted again.
    let received = receiver.wait_for("two attempts at the dead endpoint", |received| {
        received.iter().filter(of_this_scan("/down")).count() >= 2
    });
    let dead_id = received
        .iter()
        .find(of_this_scan("/down"))
        .unwrap()
        .header("webhook-id")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    let dead = loop {
        let dead = get(&format!("/v1/webhooks/deliveries/{dead_id}"), admin()).json();
        if dead["state"] == "dead" {
            break dead;
        }
        assert!(Instant::now() < deadline, "never dead-lettered: {dead}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(dead["attempts"], 2);
    assert_eq!(dead["last_status"], 500);
    assert!(
        dead["last_error"]
            .as_str()
            .unwrap()
            .contains("receiver down"),
        "{dead}"
    );
    let listed = get("/v1/webhooks/deliveries?state=dead&limit=1000", admin()).json();
    assert!(
        listed["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == dead_id.as_str()),
        "{listed}"
    );
    let metrics = http("GET", "/metrics", None, Body::None).text();
    assert!(
        metrics.contains(r#"rempart_webhook_deliveries_total{endpoint="down",outcome="dead"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("rempart_webhook_deliveries_dead "),
        "{metrics}"
    );

    let resent = http(
        "POST",
        &format!("/v1/webhooks/deliveries/{dead_id}/redeliver"),
        Some(admin()),
        Body::None,
    );
    assert_eq!(resent.status, 202, "{}", resent.text());
    assert_eq!(resent.json()["attempts"], 0);
    receiver.wait_for("the dead letter sent again", |received| {
        received.iter().filter(of_this_scan("/down")).count() >= 3
    });
    let audit = get("/v1/audit?limit=1000", admin()).text();
    assert!(audit.contains("webhook.redelivered"), "{audit}");

    // Configured endpoints are listed without their URL's path or their secret.
    let listed = get("/v1/webhooks", admin());
    assert!(!listed.text().contains("whsec_") && !listed.text().contains("/flaky"));
    let endpoints = listed.json()["endpoints"].clone();
    assert_eq!(endpoints[1]["name"], "down");
    assert_eq!(
        endpoints[1]["events"],
        serde_json::json!(["scan.completed"])
    );

    // Bad ids and unknown deliveries, and the role.
    let path = format!("/v1/webhooks/deliveries/{dead_id}");
    assert_eq!(get("/v1/webhooks/deliveries/msg_zz", admin()).status, 400);
    assert_eq!(get("/v1/webhooks/deliveries/msg_0123", admin()).status, 404);
    assert_eq!(
        get("/v1/webhooks/deliveries?state=lost", admin()).status,
        400
    );
    let viewer = token("webhook-viewer", "viewer", &["*"]);
    assert_eq!(get(&path, &viewer).status, 403);
    assert_eq!(
        http(
            "POST",
            &format!("{path}/redeliver"),
            Some(&viewer),
            Body::None
        )
        .status,
        403
    );
}
