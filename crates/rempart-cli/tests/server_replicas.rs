//! Replicas of `rempart server` sharing one PostgreSQL store: one is killed in the middle of
//! the work, and every uploaded image is still scanned exactly once, with its verdict.

// The server crate's own test cluster; not every helper of it is used here.
#[allow(dead_code)]
#[path = "../../rempart-server/src/store/postgres/test_cluster.rs"]
mod test_cluster;

mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
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
    let log = std::fs::File::create(data_dir.parent().unwrap().join(log)).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(["server", "--store", store, "--data-dir"])
        .arg(data_dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--lease", "3s", "--concurrent-scans", "2"])
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

/// A `docker save` archive of a one-layer image holding a file unique to `number`.
fn docker_archive(number: usize) -> Vec<u8> {
    fn add(builder: &mut tar::Builder<Vec<u8>>, name: &str, bytes: &[u8]) {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        builder.append_data(&mut header, name, bytes).unwrap();
    }
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
