//! Replicas of `rempart server` sharing one PostgreSQL store: one is killed in the middle of
//! the work, and every uploaded image is still scanned exactly once, with its verdict; a layer
//! scanned by one replica is not read again by another; an upload is scanned by the replica
//! whose disk holds it; a dashboard session made on one replica holds on another.

// The server crate's own test cluster; not every helper of it is used here.
#[allow(dead_code)]
#[path = "../../rempart-server/src/store/postgres/test_cluster.rs"]
mod test_cluster;

mod support;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest as _, Sha256};
use support::{free_port, request};

const IMAGES: usize = 20;

/// A running replica, killed when dropped (a failing test leaves no server behind).
struct Replica {
    child: Child,
    port: u16,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_replica(store: &str, data_dir: &Path, port: u16, log: &str) -> Replica {
    start_replica_with(store, data_dir, port, log, &[])
}

fn start_replica_with(
    store: &str,
    data_dir: &Path,
    port: u16,
    log: &str,
    extra: &[&str],
) -> Replica {
    let log = std::fs::File::create(data_dir.parent().unwrap().join(log)).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(["server", "--store", store, "--data-dir"])
        .arg(data_dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--lease", "3s", "--concurrent-scans", "2"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let replica = Replica { child, port };
    let deadline = Instant::now() + Duration::from_mins(3);
    while request(port, "GET", "/readyz", None, &[]).map(|(status, _)| status) != Some(200) {
        assert!(Instant::now() < deadline, "replica on {port} never ready");
        std::thread::sleep(Duration::from_millis(200));
    }
    replica
}

fn add(builder: &mut tar::Builder<Vec<u8>>, name: &str, bytes: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(1_700_000_000);
    header.set_cksum();
    builder.append_data(&mut header, name, bytes).unwrap();
}

/// A `docker save` archive of a one-layer image holding a file unique to `number`.
fn docker_archive(number: usize) -> Vec<u8> {
    let mut layer = tar::Builder::new(Vec::new());
    add(
        &mut layer,
        "etc/image-number",
        format!("image {number}\n").as_bytes(),
    );
    let layer = layer.into_inner().unwrap();
    let diff_id = format!("sha256:{}", hex::encode(Sha256::digest(&layer)));
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }))
    .unwrap();
    let config_name = format!("{}.json", hex::encode(Sha256::digest(&config)));
    let mut archive = tar::Builder::new(Vec::new());
    add(&mut archive, &config_name, &config);
    add(&mut archive, "layer/layer.tar", &layer);
    let manifest = serde_json::json!([{
        "Config": config_name,
        "RepoTags": [format!("test/image-{number}:1")],
        "Layers": ["layer/layer.tar"],
    }]);
    add(
        &mut archive,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    archive.into_inner().unwrap()
}

fn completed_entries(port: u16, token: &str) -> Vec<Value> {
    let (status, audit) = request(port, "GET", "/v1/audit?limit=1000", Some(token), &[]).unwrap();
    assert_eq!(status, 200, "{audit}");
    audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "scan.completed")
        .cloned()
        .collect()
}

#[test]
fn a_replica_killed_mid_way_loses_no_scan_and_none_runs_twice() {
    let store = test_cluster::cluster().create_database();
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().join("data");
    let first = start_replica(&store, &data_dir, free_port(), "first.log");
    let token = std::fs::read_to_string(data_dir.join("admin-token")).unwrap();
    let token = token.trim();

    // Every image is uploaded to the replica about to be killed, alone for now: it queues them
    // all and holds leases on some when it dies.
    let mut ids = Vec::new();
    for number in 0..IMAGES {
        let (status, body) = request(
            first.port,
            "POST",
            &format!("/v1/scans/upload?name=image-{number}"),
            Some(token),
            &docker_archive(number),
        )
        .unwrap();
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["deduplicated"], false);
        ids.push(body["scan"]["id"].as_str().unwrap().to_owned());
    }
    // Killed (SIGKILL: no chance to give its scans back) once one scan is done. These images
    // scan in milliseconds, so it may hold no lease by then: the store's own tests cover the
    // takeover of an expired lease; this one covers replicas starting, sharing and dying.
    let deadline = Instant::now() + Duration::from_mins(2);
    while completed_entries(first.port, token).is_empty() {
        assert!(Instant::now() < deadline, "no scan completed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let first_port = first.port;
    drop(first);
    let second = start_replica(&store, &data_dir, free_port(), "second.log");
    let _third = start_replica(&store, &data_dir, first_port, "third.log");

    let deadline = Instant::now() + Duration::from_mins(5);
    let mut waiting: HashSet<&String> = ids.iter().collect();
    while !waiting.is_empty() {
        assert!(
            Instant::now() < deadline,
            "scans never finished: {waiting:?}"
        );
        waiting.retain(|id| {
            let (_, scan) = request(
                second.port,
                "GET",
                &format!("/v1/scans/{id}"),
                Some(token),
                &[],
            )
            .unwrap();
            assert_ne!(scan["state"], "failed", "{scan}");
            scan["state"] != "done"
        });
        std::thread::sleep(Duration::from_millis(200));
    }
    // No scan completed twice, and each completion carries its verdict.
    let completed = completed_entries(second.port, token);
    let mut per_scan: HashMap<String, usize> = HashMap::new();
    for entry in &completed {
        *per_scan
            .entry(entry["subject"].as_str().unwrap().to_owned())
            .or_default() += 1;
        assert!(
            entry["verdict"] == "pass" || entry["verdict"] == "fail",
            "{entry}"
        );
    }
    assert!(per_scan.values().all(|count| *count == 1), "{per_scan:?}");
    // The result, its verdict and the audit line are stored in one transaction: every scan
    // done has exactly one completion line, even those the killed replica had just finished.
    let unrecorded: Vec<&String> = ids
        .iter()
        .filter(|id| !per_scan.contains_key(*id))
        .collect();
    assert!(
        unrecorded.is_empty(),
        "done without a completion line: {unrecorded:?}"
    );
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A registry on 127.0.0.1 serving one image (`test/shared:1`), over plain HTTP, one request
/// per connection; it records the layer blobs it sends.
struct Registry {
    port: u16,
    layer_downloads: Arc<Mutex<Vec<String>>>,
}

fn serve_image(layers: &[Vec<u8>]) -> Registry {
    let layer_digests: Vec<String> = layers.iter().map(|layer| sha256(layer)).collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        // Uncompressed layers: each blob digest is its diff id.
        "rootfs": {"type": "layers", "diff_ids": layer_digests},
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(&config),
            "size": config.len(),
        },
        "layers": layers.iter().zip(&layer_digests).map(|(layer, digest)| serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": digest,
            "size": layer.len(),
        })).collect::<Vec<_>>(),
    }))
    .unwrap();
    let mut routes: HashMap<String, (Vec<u8>, &str)> = HashMap::new();
    routes.insert(
        "/v2/test/shared/manifests/1".into(),
        (manifest, "application/vnd.oci.image.manifest.v1+json"),
    );
    routes.insert(
        format!("/v2/test/shared/blobs/{}", sha256(&config)),
        (config, "application/octet-stream"),
    );
    for (layer, digest) in layers.iter().zip(&layer_digests) {
        routes.insert(
            format!("/v2/test/shared/blobs/{digest}"),
            (layer.clone(), "application/octet-stream"),
        );
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let layer_downloads = Arc::new(Mutex::new(Vec::new()));
    let downloads = Arc::clone(&layer_downloads);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            if let Some(digest) = layer_digests
                .iter()
                .find(|digest| path.ends_with(digest.as_str()))
            {
                downloads.lock().unwrap().push(digest.clone());
            }
            let _ = match routes.get(path) {
                Some((body, content_type)) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    stream.write_all(body)
                }
                None => write!(
                    stream,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                ),
            };
        }
    });
    Registry {
        port,
        layer_downloads,
    }
}

/// Submits a scan of `reference` to the replica on `port` and waits for it to be done.
fn scan_reference(port: u16, token: &str, reference: &str) {
    let body = serde_json::to_vec(&serde_json::json!({ "reference": reference })).unwrap();
    let (status, submitted) = request(port, "POST", "/v1/scans", Some(token), &body).unwrap();
    assert_eq!(status, 202, "{submitted}");
    let id = submitted["scan"]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let (_, scan) = request(port, "GET", &format!("/v1/scans/{id}"), Some(token), &[]).unwrap();
        assert_ne!(scan["state"], "failed", "{scan}");
        if scan["state"] == "done" {
            return;
        }
        assert!(Instant::now() < deadline, "scan never finished: {scan}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `rempart_layers_total` of the replica on `port`, by source.
fn layers_by_source(port: u16) -> HashMap<String, u64> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut stream, &mut text).unwrap();
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("rempart_layers_total{source=\"")?;
            let (source, count) = rest.split_once("\"} ")?;
            Some((source.to_owned(), count.trim().parse().unwrap()))
        })
        .collect()
}

#[test]
fn a_layer_scanned_by_one_replica_is_not_read_by_another() {
    let store = test_cluster::cluster().create_database();
    let temp = tempfile::tempdir().unwrap();
    let layers: Vec<Vec<u8>> = ["base", "app"]
        .iter()
        .map(|name| {
            let mut layer = tar::Builder::new(Vec::new());
            add(&mut layer, &format!("opt/{name}"), name.as_bytes());
            layer.into_inner().unwrap()
        })
        .collect();
    let registry = serve_image(&layers);
    let reference = format!("127.0.0.1:{}/test/shared:1", registry.port);
    // Each replica has a data directory, and so a local layer cache, of its own.
    let (data_a, data_b) = (temp.path().join("a"), temp.path().join("b"));
    let insecure = ["--insecure-registry"];

    let first = start_replica_with(&store, &data_a, free_port(), "a.log", &insecure);
    let token = std::fs::read_to_string(data_a.join("admin-token")).unwrap();
    let token = token.trim();
    scan_reference(first.port, token, &reference);
    let read_by_first = layers_by_source(first.port);
    assert_eq!(read_by_first["read"], 2, "{read_by_first:?}");
    assert_eq!(registry.layer_downloads.lock().unwrap().len(), 2);
    // Stopped, so that the second replica is the one to take the next scan from the queue.
    drop(first);

    let second = start_replica_with(&store, &data_b, free_port(), "b.log", &insecure);
    scan_reference(second.port, token, &reference);
    let by_source = layers_by_source(second.port);
    assert_eq!(
        (
            by_source["shared_cache"],
            by_source["read"],
            by_source["local_cache"]
        ),
        (2, 0, 0),
        "{by_source:?}"
    );
    // Not even downloaded: the blobs were never needed.
    assert_eq!(registry.layer_downloads.lock().unwrap().len(), 2);
}

/// Two replicas on a fresh database, each with a data directory of its own (`{name}-a`,
/// `{name}-b`), and the admin token.
fn two_replicas(name: &str) -> (tempfile::TempDir, Replica, Replica, String) {
    let store = test_cluster::cluster().create_database();
    let temp = tempfile::tempdir().unwrap();
    let (data_a, data_b) = (
        temp.path().join(format!("{name}-a")),
        temp.path().join(format!("{name}-b")),
    );
    let a = start_replica(&store, &data_a, free_port(), &format!("{name}-a.log"));
    let b = start_replica(&store, &data_b, free_port(), &format!("{name}-b.log"));
    let token = std::fs::read_to_string(data_a.join("admin-token")).unwrap();
    (temp, a, b, token.trim().to_owned())
}

#[test]
fn an_upload_is_scanned_by_the_replica_that_holds_it() {
    // Two replicas with data directories of their own: an archive uploaded to one is on its
    // disk only, and the other, polling the same queue, must leave it alone.
    let (temp, a, b, token) = two_replicas("upload");
    let token = token.as_str();
    let (data_a, data_b) = (temp.path().join("upload-a"), temp.path().join("upload-b"));
    assert_ne!(
        std::fs::read_to_string(data_a.join("replica-id")).unwrap(),
        std::fs::read_to_string(data_b.join("replica-id")).unwrap()
    );

    let signal = |name: &str| {
        let status = Command::new("kill")
            .args([name, &a.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    let ids: Vec<String> = (100..104)
        .map(|number| {
            let (status, body) = request(
                a.port,
                "POST",
                &format!("/v1/scans/upload?name=image-{number}"),
                Some(token),
                &docker_archive(number),
            )
            .unwrap();
            assert_eq!(status, 202, "{body}");
            body["scan"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    // The replica holding the uploads freezes for longer than a lease (3 s) but less than the
    // silence after which it counts as gone (three leases): its queued scans, and any whose
    // lease ran out, are there for the taking, and the other replica must not take them.
    signal("-STOP");
    std::thread::sleep(Duration::from_millis(4_500));
    for id in &ids {
        let (_, scan) =
            request(b.port, "GET", &format!("/v1/scans/{id}"), Some(token), &[]).unwrap();
        assert_ne!(
            scan["state"], "failed",
            "taken by the replica without the upload: {scan}"
        );
    }
    signal("-CONT");
    let deadline = Instant::now() + Duration::from_mins(2);
    for id in &ids {
        loop {
            let (_, scan) =
                request(b.port, "GET", &format!("/v1/scans/{id}"), Some(token), &[]).unwrap();
            assert_ne!(scan["state"], "failed", "{scan}");
            if scan["state"] == "done" {
                break;
            }
            assert!(Instant::now() < deadline, "never scanned: {scan}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A dashboard answer: status, head (for `Location` and `Set-Cookie`) and body.
struct Page {
    status: u16,
    head: String,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// A dashboard request to the replica on `port` as a browser on its own pages sends it: the
/// session cookie when given, and for a form its body with the replica's own `Origin`.
fn ui(port: u16, method: &str, path: &str, session: Option<&str>, form: Option<&str>) -> Page {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let cookie = session.map_or_else(String::new, |session| {
        format!("Cookie: rempart_session={session}\r\n")
    });
    let origin = if form.is_some() {
        format!(
            "Origin: http://127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        )
    } else {
        String::new()
    };
    let body = form.unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{cookie}{origin}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    Page {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

#[test]
fn a_dashboard_session_made_on_one_replica_holds_on_another_until_signed_out() {
    let (_temp, first, second, token) = two_replicas("ui");

    // Signed in on the first replica...
    let signed = ui(
        first.port,
        "POST",
        "/ui/login",
        None,
        Some(&format!("token={}", token.trim())),
    );
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(signed.header("location"), Some("/ui/"));
    let cookie = signed.header("set-cookie").unwrap();
    let session = cookie
        .strip_prefix("rempart_session=")
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_owned();

    // ...the browser is sent to the second, and stays signed in there.
    let fleet = ui(second.port, "GET", "/ui/", Some(&session), None);
    assert_eq!(fleet.status, 200, "{}", fleet.body);
    let from = fleet.body.find("name=\"form_token\" value=\"").unwrap() + 25;
    let form_token = &fleet.body[from..from + 32];

    // Signed out on the second: the first no longer knows the session either.
    let out = ui(
        second.port,
        "POST",
        "/ui/logout",
        Some(&session),
        Some(&format!("form_token={form_token}")),
    );
    assert_eq!(out.status, 303, "{}", out.body);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = ui(first.port, "GET", "/ui/", Some(&session), None);
    assert_eq!(after.status, 303);
    assert_eq!(after.header("location"), Some("/ui/login"));
}
