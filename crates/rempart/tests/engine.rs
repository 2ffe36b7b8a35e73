//! The engine over real image files: deleted-file marking, package layer attribution, the layer
//! cache (hits, invalidation per analyzer, sharing between concurrent scans).

#[path = "../../rempart-image/tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rempart::{LayerCache, ScanOptions, Scanner};
use rempart_core::{
    AnalysisOutput, Ecosystem, FileAnalyzer, FileMeta, Finding, FindingDetails, Interest, Location,
    Package, ScannerKind, Severity,
};
use rempart_image::{DockerArchive, ImageSource, OciLayout, Platform};
use support::{Compression, Image, Layer};

/// Flags files containing `TOKEN` and reads `name==version` lines of `*.pkgs` files as packages.
struct Toy {
    version: &'static str,
    /// Files it was given: shows which scans ran it.
    calls: Arc<AtomicUsize>,
}

impl FileAnalyzer for Toy {
    fn name(&self) -> &'static str {
        "toy"
    }
    fn fingerprint(&self) -> String {
        self.version.into()
    }
    fn interest(&self, _file: &FileMeta<'_>) -> Interest {
        Interest::Whole { max_bytes: 1 << 20 }
    }
    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let text = String::from_utf8_lossy(content);
        if text.contains("TOKEN") {
            out.findings.push(Finding {
                scanner: ScannerKind::Secret,
                id: "TOY-TOKEN".into(),
                title: "token".into(),
                severity: Severity::High,
                location: Location::file(file.path).with_line(1),
                details: FindingDetails::Secret {
                    redacted: "TOKE***".into(),
                    origin: None,
                },
                primary_url: None,
            });
        }
        if std::path::Path::new(file.path)
            .extension()
            .is_some_and(|e| e == "pkgs")
        {
            for line in text.lines() {
                let (name, version) = line.split_once("==").unwrap();
                out.packages.push(Package {
                    ecosystem: Ecosystem::PyPI,
                    name: name.into(),
                    version: version.into(),
                    purl: format!("pkg:pypi/{name}@{version}"),
                    source: None,
                    arch: None,
                    licenses: vec![],
                    locations: vec![Location::file(file.path)],
                    owned_by: None,
                    depends_on: Vec::new(),
                });
            }
        }
    }
}

/// Flags files containing `live`: a second analyzer, cached apart from [`Toy`].
struct Live {
    version: &'static str,
    calls: Arc<AtomicUsize>,
}

impl FileAnalyzer for Live {
    fn name(&self) -> &'static str {
        "live"
    }
    fn fingerprint(&self) -> String {
        self.version.into()
    }
    fn interest(&self, _file: &FileMeta<'_>) -> Interest {
        Interest::Whole { max_bytes: 1 << 20 }
    }
    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if String::from_utf8_lossy(content).contains("live") {
            out.findings.push(Finding {
                scanner: ScannerKind::Secret,
                id: "TOY-LIVE".into(),
                title: "live credential".into(),
                severity: Severity::Critical,
                location: Location::file(file.path),
                details: FindingDetails::Secret {
                    redacted: "li***".into(),
                    origin: None,
                },
                primary_url: None,
            });
        }
    }
}

fn image() -> Image {
    Image::new(vec![
        (
            Layer::new()
                .file("db.pkgs", "alpha==1\nbeta==1\n")
                .file("app/.env", "TOKEN=abc")
                .file("gone.pkgs", "gamma==1\n"),
            Compression::Gzip,
        ),
        (
            Layer::new()
                .file("db.pkgs", "alpha==1\nbeta==2\n")
                .whiteout("app/.env")
                .whiteout("gone.pkgs"),
            Compression::Gzip,
        ),
        (
            Layer::new().file("app/config", "TOKEN=live"),
            Compression::Zstd,
        ),
    ])
}

fn scanner(version: &'static str, cache: Option<Arc<LayerCache>>) -> Scanner {
    let toy = Toy {
        version,
        calls: Arc::default(),
    };
    scanner_with(vec![Box::new(toy)], cache)
}

fn scanner_with(analyzers: Vec<Box<dyn FileAnalyzer>>, cache: Option<Arc<LayerCache>>) -> Scanner {
    Scanner::new(
        analyzers,
        vec![],
        vec![ScannerKind::Secret],
        ScanOptions {
            parallel: 2,
            cache,
            ..ScanOptions::default()
        },
    )
}

fn layout(dir: &std::path::Path) -> OciLayout {
    image().write_oci_layout(dir, "v1");
    OciLayout::open(dir, None, &Platform::host_linux()).unwrap()
}

/// Deletes the layer blobs of a layout: a scan that still succeeds read no layer.
fn remove_layer_blobs(dir: &std::path::Path, source: &OciLayout) {
    for layer in source.layers() {
        let digest = layer.digest.as_ref().unwrap();
        std::fs::remove_file(dir.join("blobs/sha256").join(&digest[7..])).unwrap();
    }
}

#[test]
fn deleted_files_and_package_layers() {
    let temp = tempfile::tempdir().unwrap();
    let source = layout(&temp.path().join("layout"));
    let result = scanner("1", None).scan_image(&source).unwrap().result;

    let secrets: Vec<(&str, usize, bool)> = result
        .findings
        .iter()
        .map(|f| {
            (
                f.location.path.as_str(),
                f.location.layer.as_ref().unwrap().index,
                f.location.deleted,
            )
        })
        .collect();
    assert_eq!(secrets, [("app/.env", 0, true), ("app/config", 2, false)]);

    let packages: Vec<(&str, &str, usize)> = result
        .packages
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.locations[0].layer.as_ref().unwrap().index,
            )
        })
        .collect();
    // alpha 1 came with layer 0 and stayed; beta 2 came with layer 1; gamma was deleted.
    assert_eq!(packages, [("alpha", "1", 0), ("beta", "2", 1)]);
    assert_eq!(result.layers.len(), 3);
    assert_eq!(
        result.layers[1].created_by.as_deref(),
        Some("/bin/sh -c #(nop) layer 1")
    );
}

#[test]
fn warm_scan_reads_no_layer_and_rules_change_invalidates() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("layout");
    let source = layout(&dir);
    let cache = Arc::new(LayerCache::open(&temp.path().join("cache/layers.sqlite")).unwrap());

    let cold = scanner("1", Some(Arc::clone(&cache)))
        .scan_image(&source)
        .unwrap()
        .result;
    assert!(cold.layers.iter().all(|l| !l.cached));

    remove_layer_blobs(&dir, &source);
    let warm = scanner("1", Some(Arc::clone(&cache)))
        .scan_image(&source)
        .unwrap()
        .result;
    assert!(warm.layers.iter().all(|l| l.cached));
    assert_eq!(warm.findings, cold.findings);
    assert_eq!(warm.packages, cold.packages);

    // New rules: the cache no longer applies, so the (now missing) layers are read again.
    let error = scanner("2", Some(cache)).scan_image(&source).err().unwrap();
    assert!(error.to_string().contains("blobs/sha256"), "{error}");
}

fn toy(version: &'static str, calls: &Arc<AtomicUsize>) -> Box<dyn FileAnalyzer> {
    Box::new(Toy {
        version,
        calls: Arc::clone(calls),
    })
}

fn live(version: &'static str, calls: &Arc<AtomicUsize>) -> Box<dyn FileAnalyzer> {
    Box::new(Live {
        version,
        calls: Arc::clone(calls),
    })
}

#[test]
fn fewer_analyzers_than_a_cached_scan_read_no_layer() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("layout");
    let source = layout(&dir);
    let cache = Arc::new(LayerCache::open(&temp.path().join("cache/layers.sqlite")).unwrap());
    let (toy_calls, live_calls) = (Arc::default(), Arc::default());

    let both = scanner_with(
        vec![toy("1", &toy_calls), live("1", &live_calls)],
        Some(Arc::clone(&cache)),
    )
    .scan_image(&source)
    .unwrap()
    .result;
    assert!(both.layers.iter().all(|l| !l.cached));
    let ids: Vec<&str> = both.findings.iter().map(|f| f.id.as_str()).collect();
    assert!(
        ids.contains(&"TOY-TOKEN") && ids.contains(&"TOY-LIVE"),
        "{ids:?}"
    );

    // What a scan with the toy analyzer alone finds, from a copy of the image and no cache.
    let fresh = scanner("1", None)
        .scan_image(&layout(&temp.path().join("copy")))
        .unwrap()
        .result;

    remove_layer_blobs(&dir, &source);
    let toy_before = toy_calls.load(Ordering::Relaxed);
    let alone = scanner_with(vec![toy("1", &toy_calls)], Some(Arc::clone(&cache)))
        .scan_image(&source)
        .unwrap()
        .result;
    assert!(alone.layers.iter().all(|l| l.cached));
    assert_eq!(toy_calls.load(Ordering::Relaxed), toy_before);
    let toy_findings: Vec<Finding> = both
        .findings
        .iter()
        .filter(|f| f.id == "TOY-TOKEN")
        .cloned()
        .collect();
    assert_eq!(alone.findings, toy_findings);
    assert_eq!(alone.findings, fresh.findings);
    assert_eq!(alone.packages, fresh.packages);
    assert_eq!(alone.skipped, fresh.skipped);

    // No file analyzer at all (`--scanners none`): the layers' listings alone, from the cache.
    let none = scanner_with(vec![], Some(cache))
        .scan_image(&source)
        .unwrap()
        .result;
    assert!(none.layers.iter().all(|l| l.cached));
    assert!(none.findings.is_empty() && none.packages.is_empty());
    assert_eq!(
        none.layers.iter().map(|l| l.files).collect::<Vec<_>>(),
        both.layers.iter().map(|l| l.files).collect::<Vec<_>>()
    );
}

#[test]
fn changed_rules_rerun_only_their_analyzer() {
    let temp = tempfile::tempdir().unwrap();
    let source = layout(&temp.path().join("layout"));
    let cache = Arc::new(LayerCache::open(&temp.path().join("cache/layers.sqlite")).unwrap());
    let (toy_calls, live_calls) = (Arc::default(), Arc::default());
    let scan = |analyzers: Vec<Box<dyn FileAnalyzer>>| {
        scanner_with(analyzers, Some(Arc::clone(&cache)))
            .scan_image(&source)
            .unwrap()
            .result
    };

    let first = scan(vec![toy("1", &toy_calls), live("1", &live_calls)]);
    let files: u64 = first.layers.iter().map(|l| l.files).sum();
    let files = usize::try_from(files).unwrap();
    assert_eq!(toy_calls.load(Ordering::Relaxed), files);
    assert_eq!(live_calls.load(Ordering::Relaxed), files);

    // New rules for `live`: every layer is read again, for `live` only.
    let changed = scan(vec![toy("1", &toy_calls), live("2", &live_calls)]);
    assert!(changed.layers.iter().all(|l| !l.cached));
    assert_eq!(toy_calls.load(Ordering::Relaxed), files);
    assert_eq!(live_calls.load(Ordering::Relaxed), 2 * files);
    assert_eq!(changed.findings, first.findings);
    assert_eq!(changed.packages, first.packages);

    // Both are cached now, whatever order the analyzers are given in.
    let again = scan(vec![live("2", &live_calls), toy("1", &toy_calls)]);
    assert!(again.layers.iter().all(|l| l.cached));
    assert_eq!(toy_calls.load(Ordering::Relaxed), files);
    assert_eq!(live_calls.load(Ordering::Relaxed), 2 * files);
    assert_eq!(again.findings, first.findings);
    assert_eq!(again.packages, first.packages);
}

#[test]
fn concurrent_scans_share_one_cache_file() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("layout");
    layout(&dir);
    let cache_path = temp.path().join("cache/layers.sqlite");
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let dir = dir.clone();
                let cache_path = cache_path.clone();
                scope.spawn(move || {
                    let cache = Arc::new(LayerCache::open(&cache_path).unwrap());
                    let source = OciLayout::open(&dir, None, &Platform::host_linux()).unwrap();
                    scanner("1", Some(cache))
                        .scan_image(&source)
                        .unwrap()
                        .result
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for result in &results[1..] {
        assert_eq!(result.findings, results[0].findings);
    }
}

#[test]
fn sequential_and_parallel_sources_agree() {
    let temp = tempfile::tempdir().unwrap();
    let oci = layout(&temp.path().join("layout"));
    let archive_path = temp.path().join("image.tar.gz");
    image().write_docker_archive(&archive_path, Compression::Gzip);
    let archive = DockerArchive::open(&archive_path, None).unwrap();
    let from_layout = scanner("1", None).scan_image(&oci).unwrap().result;
    let from_archive = scanner("1", None).scan_image(&archive).unwrap().result;
    let strip = |findings: &[Finding]| -> Vec<(String, bool)> {
        findings
            .iter()
            .map(|f| (f.location.path.clone(), f.location.deleted))
            .collect()
    };
    assert_eq!(strip(&from_layout.findings), strip(&from_archive.findings));
    assert_eq!(from_layout.packages, from_archive.packages);
}

/// A real image with a live credential, and a lying one: clean content, but its config claims
/// the real layer's diff id.
fn real_and_lying() -> (Image, Image) {
    let real = Image::new(vec![(
        Layer::new().file("app/config", "TOKEN=live"),
        Compression::Gzip,
    )]);
    let mut lying = Image::new(vec![(
        Layer::new().file("app/config", "nothing to see"),
        Compression::Gzip,
    )]);
    lying.claimed_diff_ids = Some(real.diff_ids());
    (real, lying)
}

#[test]
fn a_claimed_diff_id_can_neither_poison_the_cache_nor_borrow_its_results() {
    let temp = tempfile::tempdir().unwrap();
    let cache = Arc::new(LayerCache::open(&temp.path().join("cache/layers.sqlite")).unwrap());
    let (real, lying) = real_and_lying();
    real.write_oci_layout(&temp.path().join("real"), "v1");
    lying.write_oci_layout(&temp.path().join("lying"), "v1");
    let open = |name: &str| {
        OciLayout::open(&temp.path().join(name), None, &Platform::host_linux()).unwrap()
    };
    let lying_archive = temp.path().join("lying.tar");
    lying.write_docker_archive(&lying_archive, Compression::None);

    // Scanned first, the lying image fails on its layer and stores nothing.
    let error = scanner("1", Some(Arc::clone(&cache)))
        .scan_image(&open("lying"))
        .err()
        .expect("a layer whose content is not its diff id is an error");
    assert!(error.to_string().contains("digest mismatch"), "{error}");

    // So the real image is walked, and its credential found.
    let real_result = scanner("1", Some(Arc::clone(&cache)))
        .scan_image(&open("real"))
        .unwrap()
        .result;
    assert!(!real_result.layers[0].cached);
    assert_eq!(real_result.findings.len(), 1, "{:?}", real_result.findings);

    // With the real layer's results cached under the diff id, the lying image (as a layout and
    // as a docker archive) still gets no result of it: its layer is read, and refused.
    for source in [
        Box::new(open("lying")) as Box<dyn ImageSource>,
        Box::new(DockerArchive::open(&lying_archive, None).unwrap()),
    ] {
        let error = scanner("1", Some(Arc::clone(&cache)))
            .scan_image(source.as_ref())
            .err()
            .expect("the lying image must not be reported from the real image's results");
        assert!(error.to_string().contains("digest mismatch"), "{error}");
    }

    // The real image, scanned again, comes from the cache.
    let warm = scanner("1", Some(cache))
        .scan_image(&open("real"))
        .unwrap()
        .result;
    assert!(warm.layers[0].cached);
    assert_eq!(warm.findings, real_result.findings);
}

#[test]
fn a_docker_archive_rewritten_in_place_is_read_again() {
    let temp = tempfile::tempdir().unwrap();
    let cache = Arc::new(LayerCache::open(&temp.path().join("cache/layers.sqlite")).unwrap());
    let (real, lying) = real_and_lying();
    let path = temp.path().join("image.tar");
    real.write_docker_archive(&path, Compression::None);
    let scan = || {
        scanner("1", Some(Arc::clone(&cache)))
            .scan_image(&DockerArchive::open(&path, None).unwrap())
    };
    // A file changed within the last two seconds has no identity yet (its times could still
    // be those of the next write): its layers are read, and no identity is recorded.
    assert!(!scan().unwrap().result.layers[0].cached);
    assert!(
        !scan().unwrap().result.layers[0].cached,
        "too recent to be named"
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert!(!scan().unwrap().result.layers[0].cached);
    assert!(scan().unwrap().result.layers[0].cached, "unchanged: warm");

    // The same path, new bytes claiming the old diff id: the cache must not answer for them,
    // neither at once nor once the write is old enough to name the file again.
    lying.write_docker_archive(&path, Compression::None);
    let error = scan().err().expect("rewritten archive is read again");
    assert!(error.to_string().contains("digest mismatch"), "{error}");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let error = scan().err().expect("rewritten archive is read again");
    assert!(error.to_string().contains("digest mismatch"), "{error}");
}
