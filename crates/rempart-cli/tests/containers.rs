//! `rempart host` and `rempart watch` on real containers: rootful Podman (runc) running an
//! image imported from a rootfs made here (a static busybox), nothing pulled.
//!
//! Needs root, Podman and busybox-static (the project's test set-up installs them). Skipped
//! elsewhere with a message, except under `CI`, where a skip is a failure.

#![allow(clippy::print_stderr)] // skips are said where the test output shows them

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "../../rempart-image/tests/support/mod.rs"]
mod image_support;
mod support;

const EICAR: &str = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
const BUSYBOX: &str = "/bin/busybox";

/// The image every test runs, imported once per test binary; `None` when Podman cannot run
/// containers here.
fn image() -> Option<&'static str> {
    static IMAGE: OnceLock<Option<String>> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            let root = std::fs::metadata("/proc/self")
                .is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
            let podman = Command::new("podman").arg("--version").output().is_ok();
            let busybox_static = std::fs::read(BUSYBOX).is_ok_and(|elf| is_static(&elf));
            if !(root && podman && busybox_static) {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "under CI the container tests need root, podman and busybox-static"
                );
                eprintln!("skipped: needs root, podman and a static {BUSYBOX}");
                return None;
            }
            // One image for every run of the tests: imported when missing.
            let tag = "localhost/rempart-test-busybox:1".to_owned();
            let exists = Command::new("podman")
                .args(["image", "exists", &tag])
                .status();
            if exists.is_ok_and(|status| status.success()) {
                return Some(tag);
            }
            let dir = tempfile::tempdir().unwrap();
            let rootfs = dir.path().join("rootfs");
            for sub in ["bin", "tmp", "etc"] {
                std::fs::create_dir_all(rootfs.join(sub)).unwrap();
            }
            std::fs::copy(BUSYBOX, rootfs.join("bin/busybox")).unwrap();
            for applet in [
                "sh", "ls", "cat", "cp", "chmod", "wget", "sleep", "true", "echo",
            ] {
                std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
            }
            let archive = dir.path().join("rootfs.tar");
            run(Command::new("tar")
                .arg("-C")
                .arg(&rootfs)
                .arg("-cf")
                .arg(&archive)
                .arg("."));
            run(Command::new("podman")
                .args(["import", "-q"])
                .arg(&archive)
                .arg(&tag));
            Some(tag)
        })
        .as_deref()
}

/// A 64-bit ELF without an interpreter (no `PT_INTERP` program header) runs in an empty
/// root: it needs no dynamic loader or library from the image.
fn is_static(elf: &[u8]) -> bool {
    let read = |at: usize, len: usize| -> Option<u64> {
        let bytes = elf.get(at..at + len)?;
        Some(
            bytes
                .iter()
                .rev()
                .fold(0, |value, b| value << 8 | u64::from(*b)),
        )
    };
    let header = || -> Option<bool> {
        if elf.get(..5)? != b"\x7fELF\x02" {
            return Some(false);
        }
        let offset = usize::try_from(read(0x20, 8)?).ok()?;
        let size = usize::try_from(read(0x36, 2)?).ok()?;
        let count = usize::try_from(read(0x38, 2)?).ok()?;
        Some((0..count).all(|i| read(offset + i * size, 4) != Some(3)))
    };
    header().unwrap_or(false)
}

fn run(command: &mut Command) -> Output {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Each test watches only its own container: the watchers of tests running at the same time
/// must not judge each other's.
fn container_name(name: &str) -> String {
    format!("rempart-test-{name}-{}", std::process::id())
}

/// A running container, removed when dropped.
struct Container {
    name: String,
}

impl Container {
    fn start(image: &str, name: &str, extra: &[&str]) -> Container {
        let name = container_name(name);
        let _ = Command::new("podman")
            .args(["rm", "-f", "-t0", &name])
            .output();
        // runc: crun fails on this machine's hybrid cgroups; the ulimits keep Podman from
        // asking for more than the test environment allows.
        run(Command::new("podman")
            .args(["run", "-d", "--name", &name, "--runtime", "runc"])
            .args([
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=1024:1024",
            ])
            .args(extra)
            .args([image, "sleep", "600"]));
        Container { name }
    }

    /// Runs a shell script inside the container.
    fn exec(&self, script: &str) -> Output {
        Command::new("podman")
            .args(["exec", &self.name, "sh", "-c", script])
            .output()
            .unwrap()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rm", "-f", "-t0", &self.name])
            .output();
    }
}

fn rempart() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rempart"))
}

#[test]
fn host_reports_the_running_containers_with_their_image_and_isolation() {
    let Some(image) = image() else { return };
    let plain = Container::start(image, "plain", &["--network", "none"]);
    let privileged = Container::start(image, "privileged", &["--network", "none", "--privileged"]);
    let out = rempart()
        .args(["host", "--skip-packages", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let containers = report["containers"].as_array().unwrap();
    for container in [&plain, &privileged] {
        let listed = containers
            .iter()
            .find(|c| c["name"] == container.name.as_str())
            .unwrap_or_else(|| panic!("{} not listed: {containers:#?}", container.name));
        assert_eq!(listed["image"], image);
        assert_eq!(listed["isolation"], "shared_kernel");
    }
    let check = |code: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == code)
            .unwrap()
            .clone()
    };
    let privileged_check = check("HOST-CONTAINER-PRIVILEGED");
    assert_eq!(privileged_check["status"], "failed");
    let offenders: Vec<&str> = privileged_check["offenders"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert!(
        offenders.contains(&privileged.name.as_str()),
        "{offenders:?}"
    );
    assert!(!offenders.contains(&plain.name.as_str()), "{offenders:?}");
    // Both run as root without a user namespace.
    let root_check = check("HOST-CONTAINER-ROOT");
    assert_eq!(root_check["status"], "failed");
    assert!(root_check["detail"].as_str().unwrap().contains(&plain.name));
}

/// `rempart watch` in its own process, its standard error read line by line.
struct Watch {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Watch {
    fn start(events: &Path, extra: &[&str]) -> Watch {
        Watch::start_with(events, extra, None)
    }

    fn start_with(events: &Path, extra: &[&str], token: Option<&str>) -> Watch {
        let mut command = rempart();
        if let Some(token) = token {
            command.env("REMPART_TOKEN", token);
        }
        let mut child = command
            .args(["watch", "--budget-ms", "2000", "-o"])
            .arg(events)
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        Watch {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line of standard error containing `text`.
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_mins(1);
        while !self.seen.iter().any(|line| line.contains(text)) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|error| {
                panic!("no {text:?} from rempart watch ({error}): {:#?}", self.seen)
            });
            self.seen.push(line);
        }
    }

    /// Stops it as an operator would (SIGTERM) and returns what it said.
    fn stop(mut self) -> Vec<String> {
        run(Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stdout(Stdio::null()));
        let status = self.child.wait().unwrap();
        assert!(status.success(), "rempart watch ended with {status}");
        self.seen.extend(self.lines.iter());
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves one file over HTTP on 127.0.0.1, once: the "download" of a tool after start.
fn serve_once(content: Vec<u8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
                content.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&content);
        }
    });
    port
}

/// A rempart server on SQLite, with a token of the runtime role, stopped with the test.
struct Server {
    port: u16,
    admin: String,
    runtime_token: String,
    viewer_token: String,
    _process: Child,
}

impl Server {
    fn start(work: &Path) -> Server {
        let data_dir = work.join("data");
        let token = |name: &str, role: &str| {
            support::run(
                rempart()
                    .args(["server", "token", "create", "--name", name, "--role", role])
                    .arg("--data-dir")
                    .arg(&data_dir),
            )
            .trim()
            .to_owned()
        };
        let runtime_token = token("node-agent", "runtime");
        let viewer_token = token("reader", "viewer");
        let port = support::free_port();
        let log = work.join("server.log");
        let process = support::keep(
            Path::new(env!("CARGO_BIN_EXE_rempart")),
            &[
                "server".into(),
                "--data-dir".into(),
                data_dir.display().to_string(),
                "--listen".into(),
                format!("127.0.0.1:{port}"),
            ],
            &log,
        );
        support::wait_for_port(port, "rempart server", &log);
        let admin = std::fs::read_to_string(data_dir.join("admin-token"))
            .unwrap()
            .trim()
            .to_owned();
        Server {
            port,
            admin,
            runtime_token,
            viewer_token,
            _process: process,
        }
    }

    /// The Prometheus text of `/metrics`.
    fn metrics(&self) -> String {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    }
}

#[test]
fn watch_denies_malware_and_drift_inside_a_running_container() {
    let Some(image) = image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let events_path = dir.path().join("events.jsonl");
    let server_url = format!("http://127.0.0.1:{}", server.port);
    let mut watch = Watch::start_with(
        &events_path,
        &[
            "--server",
            &server_url,
            "--node",
            "node-a",
            "--container",
            &container_name("watched"),
        ],
        Some(&server.runtime_token),
    );
    // Started after the watcher: found at its next look.
    let container = Container::start(image, "watched", &["--network", "host"]);
    watch.wait_for(&format!("watching container {}", container.name));

    // The image's own programs and files are untouched.
    let clean =
        container.exec("ls / >/dev/null && /bin/busybox true && cat /bin/busybox >/dev/null");
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );

    // EICAR, copied in and executed, then read.
    let eicar = dir.path().join("eicar.com");
    std::fs::write(&eicar, EICAR).unwrap();
    run(Command::new("podman")
        .arg("cp")
        .arg(&eicar)
        .arg(format!("{}:/eicar.com", container.name)));
    let executed = container.exec("chmod +x /eicar.com && /eicar.com");
    assert!(!executed.status.success());
    let stderr = String::from_utf8_lossy(&executed.stderr);
    assert!(stderr.contains("Operation not permitted"), "{stderr}");
    let read = container.exec("cat /eicar.com");
    assert!(String::from_utf8_lossy(&read.stderr).contains("Operation not permitted"));

    // A tool downloaded after start: a clean program, but not the image's.
    let port = serve_once(std::fs::read(BUSYBOX).unwrap());
    let downloaded = container.exec(&format!(
        "wget -q -O /usr-tool http://127.0.0.1:{port}/tool && chmod +x /usr-tool && /usr-tool true"
    ));
    let stderr = String::from_utf8_lossy(&downloaded.stderr);
    assert!(
        stderr.contains("/usr-tool: Operation not permitted"),
        "{stderr}"
    );

    let said = watch.stop();
    assert!(
        said.iter().any(|line| line.contains("accesses judged")),
        "no summary: {said:#?}"
    );
    let events: Vec<Value> = std::fs::read_to_string(&events_path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let find = |rule: &str, path: &str, access: &str| {
        events
            .iter()
            .find(|e| e["rule"] == rule && e["path"] == path && e["access"] == access)
            .unwrap_or_else(|| panic!("no {rule} on {path} ({access}): {events:#?}"))
    };
    let malware = find("MAL-TEST-EICAR", "/eicar.com", "exec");
    assert_eq!(malware["action"], "denied");
    assert_eq!(malware["container"]["name"], container.name.as_str());
    assert_eq!(malware["container"]["image"], image);
    find("MAL-TEST-EICAR", "/eicar.com", "open");
    let drift = find("RUNTIME-DRIFT", "/usr-tool", "exec");
    assert_eq!(drift["action"], "denied");
    assert_eq!(drift["reason"], "drift");
    assert!(
        events
            .iter()
            .all(|e| e["path"] != "/bin/busybox"
                || e["container"]["name"] != container.name.as_str()),
        "the image's own program reported: {events:#?}"
    );

    // Every event reached the server: its audit log, its metrics.
    let summary = format!("{} events recorded by the server, 0 dropped", events.len());
    assert!(said.iter().any(|line| line.contains(&summary)), "{said:#?}");
    let (status, audit) = support::request(
        server.port,
        "GET",
        "/v1/audit?limit=200",
        Some(&server.admin),
        b"",
    )
    .unwrap();
    assert_eq!(status, 200, "{audit}");
    let entries = audit["entries"].as_array().unwrap();
    let recorded = entries
        .iter()
        .find(|e| e["action"] == "runtime.denied" && e["verdict"] == "MAL-TEST-EICAR")
        .unwrap_or_else(|| panic!("no runtime denial in the audit log: {audit:#}"));
    assert_eq!(recorded["actor"], "node-agent");
    assert_eq!(recorded["subject"], format!("node-a/{}", container.name));
    let detail = recorded["detail"].as_str().unwrap();
    assert!(
        detail.contains("/eicar.com") && detail.contains(image),
        "{detail}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "runtime.denied" && e["verdict"] == "RUNTIME-DRIFT"),
        "{audit:#}"
    );
    let metrics = server.metrics();
    assert!(
        metrics.contains(r#"rempart_runtime_events_total{reason="malware",action="denied"}"#),
        "{metrics}"
    );

    // Only the runtime role posts events, and only well-formed ones.
    let event = json!({
        "time": "2026-01-01T00:00:00Z", "mode": "enforce", "action": "denied",
        "reason": "malware", "rule": "MAL-X", "title": "t", "access": "exec",
        "path": "/x", "pid": 1, "filesystem": "/"
    });
    let body = |events: Value| json!({ "node": "n", "events": events }).to_string();
    let post = |token: &str, body: &str| {
        support::request(
            server.port,
            "POST",
            "/v1/runtime/events",
            Some(token),
            body.as_bytes(),
        )
        .unwrap()
    };
    assert_eq!(post(&server.viewer_token, &body(json!([event]))).0, 403);
    assert_eq!(post(&server.admin, &body(json!([event]))).0, 403);
    assert_eq!(post(&server.runtime_token, "{\"node\": ").0, 400);
    let mut wrong = event.clone();
    wrong["action"] = json!("ignored");
    let (status, answer) = post(&server.runtime_token, &body(json!([event, wrong])));
    assert_eq!(status, 400);
    assert!(answer.to_string().contains("events[1]"), "{answer}");
    let many: Vec<Value> = std::iter::repeat_n(event.clone(), 201).collect();
    assert_eq!(post(&server.runtime_token, &body(json!(many))).0, 400);
    let (status, answer) = post(&server.runtime_token, &body(json!([event])));
    assert_eq!((status, answer["recorded"].clone()), (200, json!(1)));
}

#[test]
fn watch_in_monitor_mode_reports_and_lets_the_container_run() {
    let Some(image) = image() else { return };
    let container = Container::start(image, "monitored", &["--network", "none"]);
    let dir = tempfile::tempdir().unwrap();
    let events_path = dir.path().join("events.jsonl");
    let mut watch = Watch::start(
        &events_path,
        &[
            "--mode",
            "monitor",
            "--on",
            "exec",
            "--container",
            &container.name,
        ],
    );
    watch.wait_for(&format!("watching container {}", container.name));
    let dropped = container.exec("mkdir -p /opt && cp /bin/busybox /opt/true && /opt/true");
    assert!(
        dropped.status.success(),
        "{}",
        String::from_utf8_lossy(&dropped.stderr)
    );
    watch.stop();
    let events = std::fs::read_to_string(&events_path).unwrap();
    let drift: Value = events
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|e| e["rule"] == "RUNTIME-DRIFT" && e["path"] == "/opt/true")
        .unwrap_or_else(|| panic!("no drift event: {events}"));
    assert_eq!(drift["action"], "allowed");
    assert_eq!(drift["mode"], "monitor");
}

/// Unmounts a test filesystem when dropped.
struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0).status();
    }
}

/// True as root; else says the test is skipped (a failure under CI, where they must run).
fn running_as_root() -> bool {
    let root =
        std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    if !root {
        assert!(
            std::env::var_os("CI").is_none(),
            "under CI the watch tests need root"
        );
        eprintln!("skipped: needs root");
    }
    root
}

/// Where the watched root is not an overlay (a root filesystem unpacked from an image), drift is
/// judged against the image's own files, listed through the layer cache.
#[test]
fn watch_judges_drift_against_the_image_files_where_there_is_no_overlay() {
    if !running_as_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let program = std::fs::read(which("true")).unwrap();
    let image = image_support::Image::new(vec![(
        image_support::Layer::new()
            .dir("bin")
            .file_mode("bin/true", &program, 0o755)
            .hardlink("bin/also-true", "bin/true"),
        image_support::Compression::Gzip,
    )]);
    let layout = dir.path().join("layout");
    image.write_oci_layout(&layout, "1.0");
    // The root the image was unpacked to, on its own filesystem.
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir(&rootfs).unwrap();
    run(Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64m", "tmpfs"])
        .arg(&rootfs));
    let _unmount = Unmount(&rootfs);
    std::fs::create_dir(rootfs.join("bin")).unwrap();
    let install = |path: &Path, content: &[u8]| {
        std::fs::write(path, content).unwrap();
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    };
    install(&rootfs.join("bin/true"), &program);
    std::fs::hard_link(rootfs.join("bin/true"), rootfs.join("bin/also-true")).unwrap();
    install(&rootfs.join("dropped"), &program);

    let events_path = dir.path().join("events.jsonl");
    let cache = dir.path().join("cache");
    let layout_arg = format!("{}:1.0", layout.display());
    let mut watch = Watch::start(
        &events_path,
        &[
            "--on",
            "exec",
            "--cache-dir",
            cache.to_str().unwrap(),
            "--image",
            &layout_arg,
            rootfs.to_str().unwrap(),
        ],
    );
    watch.wait_for("watching");
    assert!(
        execute(&rootfs.join("bin/true")).unwrap(),
        "the image's program must run"
    );
    assert!(
        execute(&rootfs.join("bin/also-true")).unwrap(),
        "a hard link of it too"
    );
    let dropped = execute(&rootfs.join("dropped"));
    assert!(
        is_eperm(&dropped),
        "a program not in the image ran: {dropped:?}"
    );
    // Rewritten with other content (another size): no longer the image's.
    install(&rootfs.join("bin/true"), b"#!/bin/sh\nexit 0\n");
    let rewritten = execute(&rootfs.join("bin/true"));
    assert!(
        is_eperm(&rewritten),
        "a rewritten program ran: {rewritten:?}"
    );
    let said = watch.stop();
    assert!(
        said.iter()
            .any(|line| line.contains("2 files in the image")),
        "{said:#?}"
    );
    let events = std::fs::read_to_string(&events_path).unwrap();
    let drift: Vec<Value> = events
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|e| e["rule"] == "RUNTIME-DRIFT")
        .collect();
    let paths: Vec<&str> = drift.iter().filter_map(|e| e["path"].as_str()).collect();
    assert_eq!(paths, ["/dropped", "/bin/true"], "{events}");
}

fn which(program: &str) -> std::path::PathBuf {
    ["/usr/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.exists())
        .unwrap()
}

fn execute(path: &Path) -> std::io::Result<bool> {
    Command::new(path).status().map(|status| status.success())
}

fn is_eperm(result: &std::io::Result<bool>) -> bool {
    matches!(result, Err(error) if error.raw_os_error() == Some(1))
}

/// A reader of the events that stops reading (a full pipe) must not stall the decisions: every
/// access is still answered at once, and the watcher still stops when told.
#[test]
fn a_stalled_reader_of_the_events_never_stalls_a_decision() {
    if !running_as_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fs = dir.path().join("fs");
    std::fs::create_dir(&fs).unwrap();
    run(Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
        .arg(&fs));
    let _unmount = Unmount(&fs);
    std::fs::write(fs.join("eicar.com"), EICAR).unwrap();
    let mut child = rempart()
        .args(["watch", "--on", "open"])
        .arg(&fs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Standard output is never read: the pipe fills after a hundred events or so.
    let _unread = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let mut watch = Watch {
        child,
        lines,
        seen: Vec::new(),
    };
    watch.wait_for("watching");
    let started = Instant::now();
    for attempt in 0..400 {
        let opened = Command::new("cat")
            .arg(fs.join("eicar.com"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!opened.success(), "attempt {attempt}: EICAR was read");
    }
    assert!(
        started.elapsed() < Duration::from_mins(1),
        "400 denials took {:?}",
        started.elapsed()
    );
    let said = watch.stop();
    assert!(
        said.iter().any(|line| line.contains("events not written")),
        "{said:#?}"
    );
}
