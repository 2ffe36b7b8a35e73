//! What the server tests that start their own `rempart server` share.

#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) mod tls;
pub(crate) mod webhook_receiver;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Chromium headless, with nothing of its own going on: no first-run pages, no background
/// downloads, updates, extensions or crash reports.
pub(crate) const HEADLESS_CHROMIUM: [&str; 11] = [
    "--headless=new",
    "--disable-gpu",
    "--no-sandbox",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-breakpad",
];

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request (the server answers JSON with a length); `None` when nothing listens.
pub(crate) fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Option<(u16, Value)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let authorization = token.map_or_else(String::new, |token| {
        format!("Authorization: Bearer {token}\r\n")
    });
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{authorization}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

pub(crate) fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `program args…` under a shell that stops it when this test process ends (the pipe to
/// the shell's standard input closes).
pub(crate) fn keep(program: &Path, args: &[String], log: &Path) -> Child {
    Command::new("sh")
        .arg("-c")
        .arg(r#""$@" & child=$!; read -r _; kill "$child"; wait "$child""#)
        .arg("keeper")
        .arg(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

pub(crate) fn wait_for_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_mins(1);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start on port {port}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A small image with nothing to find: one text file, a non-root user.
pub(crate) fn clean_layout(dir: &Path, text: &str) -> PathBuf {
    let layout = dir.join("clean");
    let blobs = layout.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| -> (String, usize) {
        let digest = hex::encode(Sha256::digest(bytes));
        std::fs::write(blobs.join(&digest), bytes).unwrap();
        (format!("sha256:{digest}"), bytes.len())
    };
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(text.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "app/hello.txt", text.as_bytes())
        .unwrap();
    let layer = tar.into_inner().unwrap();
    let diff_id = format!("sha256:{}", hex::encode(Sha256::digest(&layer)));
    let (layer_digest, layer_size) = put(&layer);
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "1000:1000", "Cmd": ["/app/hello.txt"],
                   "Healthcheck": {"Test": ["CMD", "/bin/true"]}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "COPY hello.txt /app/"}]
    });
    let (config_digest, config_size) = put(config.to_string().as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer_size}]
    });
    let (manifest_digest, manifest_size) = put(manifest.to_string().as_bytes());
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(
        layout.join("index.json"),
        serde_json::json!({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": "1"}}]})
        .to_string(),
    )
    .unwrap();
    layout
}

/// Polls `done` every 100 ms until it holds or `within` has passed; whether it held.
pub(crate) fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Generates a key pair with openssl (`algorithm`: `genpkey` arguments such as
/// `["-algorithm", "ED25519"]`): the private key at `DIR/NAME.pem` (PKCS#8), the public one at
/// `DIR/NAME.pub`.
pub(crate) fn generate_key_pair(dir: &Path, name: &str, algorithm: &[&str]) {
    let private = dir.join(format!("{name}.pem"));
    run(Command::new("openssl")
        .arg("genpkey")
        .args(algorithm)
        .arg("-out")
        .arg(&private));
    run(Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(dir.join(format!("{name}.pub"))));
}

/// A directory kept for the life of the test process, then removed by a shell waiting on a
/// pipe that closes when the process ends; keep the returned child with the fixture.
pub(crate) fn kept_work_dir() -> (PathBuf, Child) {
    let work = tempfile::tempdir().unwrap().keep();
    let cleaner = Command::new("sh")
        .arg("-c")
        .arg(r#"read -r _; sleep 2; rm -rf "$0""#)
        .arg(&work)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    (work, cleaner)
}

/// Debian's docker-registry on a free port of 127.0.0.1, storing under `work/storage`; its
/// `host:port` and the process, which stops with the test process.
pub(crate) fn start_registry(work: &Path) -> (String, Child) {
    let binary = Path::new("/usr/bin/docker-registry");
    assert!(
        binary.exists(),
        "docker-registry is not installed: run scripts/install-test-deps.sh"
    );
    let port = free_port();
    let registry = format!("127.0.0.1:{port}");
    std::fs::write(
        work.join("registry.yml"),
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {registry}\n",
            work.join("storage").display()
        ),
    )
    .unwrap();
    let log = work.join("registry.log");
    let process = keep(
        binary,
        &[
            "serve".into(),
            work.join("registry.yml").display().to_string(),
        ],
        &log,
    );
    wait_for_port(port, "docker-registry", &log);
    (registry, process)
}
