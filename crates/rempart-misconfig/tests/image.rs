//! Image checks over real inputs: an OCI image config, and file listings of real Debian 12
//! packages (`dpkg-deb -c`) plus an application layer in the same `tar -tv` format.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rempart_core::{
    EntryKind, Finding, FindingDetails, HistoryEntry, ImageAnalyzer, ImageContext, ImageMetadata,
    InventoryEntry, OsInfo,
};
use rempart_misconfig::ImageConfigChecks;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/image")
            .join(name),
    )
    .unwrap()
}

/// Reads an OCI image config the way an image source fills [`ImageMetadata`].
fn metadata_from_config(json: &str, name: &str, tag: Option<&str>) -> ImageMetadata {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let c = &v["config"];
    let strings = |value: &serde_json::Value| -> Option<Vec<String>> {
        value.as_array().map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
    };
    ImageMetadata {
        name: name.to_owned(),
        config_digest: Some("sha256:feed".to_owned()),
        os: v["os"].as_str().map(str::to_owned),
        user: c["User"].as_str().map(str::to_owned),
        env: strings(&c["Env"]).unwrap_or_default(),
        exposed_ports: c["ExposedPorts"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
        entrypoint: strings(&c["Entrypoint"]),
        cmd: strings(&c["Cmd"]),
        healthcheck: strings(&c["Healthcheck"]["Test"]),
        history: v["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| HistoryEntry {
                created: h["created"].as_str().map(str::to_owned),
                created_by: h["created_by"].as_str().unwrap_or("").to_owned(),
                comment: h["comment"].as_str().map(str::to_owned),
                empty_layer: h["empty_layer"].as_bool().unwrap_or(false),
            })
            .collect(),
        requested_tag: tag.map(str::to_owned),
        labels: BTreeMap::new(),
        ..ImageMetadata::default()
    }
}

/// Parses `tar -tv` lines (`-rwsr-xr-x root/root 48896 2025-12-14 14:00 ./usr/bin/newgrp`).
fn inventory_from_listing(listing: &str, layer: usize, out: &mut BTreeMap<String, InventoryEntry>) {
    for line in listing
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let perms = fields[0].as_bytes();
        let mut mode = 0_u32;
        for (i, bit) in [0o400, 0o200, 0o100, 0o40, 0o20, 0o10, 0o4, 0o2, 0o1]
            .iter()
            .enumerate()
        {
            if perms[i + 1] != b'-' && !matches!(perms[i + 1], b'S' | b'T') {
                mode |= bit;
            }
        }
        match perms[3] {
            b's' | b'S' => mode |= 0o4000,
            _ => {}
        }
        match perms[6] {
            b's' | b'S' => mode |= 0o2000,
            _ => {}
        }
        match perms[9] {
            b't' | b'T' => mode |= 0o1000,
            _ => {}
        }
        let path = fields[5]
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_owned();
        if path.is_empty() {
            continue;
        }
        let kind = match perms[0] {
            b'd' => EntryKind::Dir,
            b'l' => EntryKind::Symlink {
                target: fields[7].to_owned(),
            },
            b'h' => EntryKind::HardLink {
                target: fields[7].to_owned(),
            },
            _ => EntryKind::File,
        };
        let uid = if fields[1].starts_with("root/") {
            0
        } else {
            100
        };
        let entry = InventoryEntry {
            path: path.clone(),
            kind,
            size: fields[2].parse().unwrap(),
            mode,
            uid,
            gid: 0,
            layer,
        };
        out.insert(path, entry);
    }
}

fn run(
    metadata: &ImageMetadata,
    inventory: &[InventoryEntry],
    os: Option<&OsInfo>,
) -> Vec<Finding> {
    let context = ImageContext {
        metadata,
        inventory,
        os,
        packages: &[],
        go_symbols: &[],
    };
    let mut findings = Vec::new();
    ImageConfigChecks::new()
        .analyze_image(&context, &mut findings)
        .unwrap();
    findings
}

fn rows(findings: &[Finding]) -> Vec<(String, String)> {
    let mut rows: Vec<_> = findings
        .iter()
        .map(|f| {
            let FindingDetails::Misconfig { resource, .. } = &f.details else {
                panic!()
            };
            (f.id.clone(), resource.clone())
        })
        .collect();
    rows.sort();
    rows
}

fn debian_image() -> Vec<InventoryEntry> {
    let mut files = BTreeMap::new();
    inventory_from_listing(&fixture("debian12-packages.list"), 0, &mut files);
    inventory_from_listing(&fixture("app-layer.list"), 1, &mut files);
    files.into_values().collect()
}

#[test]
fn debian_application_image() {
    let metadata = metadata_from_config(
        &fixture("config.json"),
        "registry.example.com/app:latest",
        Some("latest"),
    );
    let os = OsInfo {
        id: "debian".to_owned(),
        version_id: "12".to_owned(),
        ..OsInfo::default()
    };
    let findings = run(&metadata, &debian_image(), Some(&os));
    let expected: Vec<(&str, &str)> = vec![
        ("IMG-ADD-REMOTE", "image history step 2"),
        ("IMG-ENV-SECRET", "image config env AWS_SECRET_ACCESS_KEY"),
        ("IMG-EXPOSE-RISKY", "image config exposed port 22"),
        ("IMG-EXPOSE-RISKY", "image config exposed port 6379"),
        (
            "IMG-LATEST-TAG",
            "image reference registry.example.com/app:latest",
        ),
        ("IMG-NO-HEALTHCHECK", "image config"),
        ("IMG-PKG-CACHE", "root/.cache/pip (1 files, 40960 bytes)"),
        (
            "IMG-PKG-CACHE",
            "var/cache/apt/archives (1 files, 390124 bytes)",
        ),
        (
            "IMG-PKG-CACHE",
            "var/lib/apt/lists (2 files, 9148327 bytes)",
        ),
        ("IMG-ROOT-USER", "image config (user: no USER set)"),
        ("IMG-SETUID", "usr/bin/sudo (mode 4755, uid 0, layer 0)"),
        (
            "IMG-SETUID",
            "usr/local/bin/debug-shell (mode 4755, uid 0, layer 1)",
        ),
        ("IMG-WORLD-WRITABLE", "app/uploads (mode 777, layer 1)"),
        (
            "IMG-WORLD-WRITABLE",
            "usr/local/bin/entrypoint.sh (mode 777, layer 1)",
        ),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
    assert_eq!(rows(&findings), expected);
    // Config findings name their entry, numbered as the report shows it (1-based).
    let add = findings.iter().find(|f| f.id == "IMG-ADD-REMOTE").unwrap();
    assert_eq!(
        add.location.config,
        Some(rempart_core::ConfigEntry {
            field: "history".to_owned(),
            index: Some(2)
        })
    );
    assert_eq!(add.location.path, "");
    let json = serde_json::to_string(&findings).unwrap();
    assert!(!json.contains("wJalrXUtnFEMI"), "secret value leaked");
}

#[test]
fn hardened_config_and_no_config() {
    let mut metadata =
        metadata_from_config(&fixture("config.json"), "app@sha256:abc", Some("latest"));
    metadata.pinned_by_digest = true;
    metadata.user = Some("10001:10001".to_owned());
    metadata.healthcheck = Some(vec!["NONE".to_owned()]);
    metadata.env.retain(|e| e.starts_with("PATH="));
    metadata.exposed_ports = vec!["8000/tcp".to_owned()];
    metadata
        .history
        .retain(|h| !h.created_by.contains("EXPOSE") && !h.created_by.contains("ADD"));
    assert_eq!(rows(&run(&metadata, &[], None)), vec![]);

    // A root filesystem directory has no config: only the content checks run.
    let empty = ImageMetadata {
        name: "./rootfs".to_owned(),
        ..ImageMetadata::default()
    };
    let ids: Vec<_> = rows(&run(&empty, &debian_image(), None))
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert!(
        !ids.iter()
            .any(|id| id == "IMG-ROOT-USER" || id == "IMG-NO-HEALTHCHECK"),
        "{ids:?}"
    );
    assert!(ids.iter().any(|id| id == "IMG-SETUID"));
}

#[test]
fn usual_setuid_set_depends_on_the_distribution() {
    let alpine_bbsuid = InventoryEntry {
        path: "bin/bbsuid".to_owned(),
        kind: EntryKind::File,
        size: 14000,
        mode: 0o4111,
        uid: 0,
        gid: 0,
        layer: 0,
    };
    let metadata = ImageMetadata::default();
    let alpine = OsInfo {
        id: "alpine".to_owned(),
        ..OsInfo::default()
    };
    let debian = OsInfo {
        id: "debian".to_owned(),
        ..OsInfo::default()
    };
    let inventory = [alpine_bbsuid];
    assert!(run(&metadata, &inventory, Some(&alpine)).is_empty());
    assert_eq!(
        run(&metadata, &inventory, Some(&debian))[0].id,
        "IMG-SETUID"
    );
}

#[test]
fn flood_of_world_writable_files_is_capped() {
    let inventory: Vec<_> = (0..500)
        .map(|i| InventoryEntry {
            path: format!("data/f{i:03}"),
            kind: EntryKind::File,
            size: 1,
            mode: 0o666,
            uid: 0,
            gid: 0,
            layer: 0,
        })
        .collect();
    let findings = run(&ImageMetadata::default(), &inventory, None);
    assert_eq!(findings.len(), 51);
    let FindingDetails::Misconfig { resource, .. } = &findings[50].details else {
        panic!()
    };
    assert_eq!(resource, "450 more world-writable paths");
}
