//! The layer cache's shared second tier: what one machine's walk stored is found by another
//! machine's cache without reading the layer, only under identities a walk verified, and a
//! failing shared tier never fails a scan.

#[path = "../../rempart-image/tests/support/mod.rs"]
mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rempart::{LayerCache, LayerSource, ScanOptions, Scanner, SharedLayerResults};
use rempart_core::{
    AnalysisOutput, FileAnalyzer, FileMeta, Finding, FindingDetails, Interest, Location,
    ScannerKind, Severity,
};
use rempart_image::{ImageSource, OciLayout, Platform};
use support::{Compression, Image, Layer};

/// Flags files containing `TOKEN`, counting the files it is shown.
struct Toy {
    calls: Arc<AtomicUsize>,
}

impl FileAnalyzer for Toy {
    fn name(&self) -> &'static str {
        "toy"
    }
    fn fingerprint(&self) -> String {
        "1".into()
    }
    fn interest(&self, _file: &FileMeta<'_>) -> Interest {
        Interest::Whole { max_bytes: 1 << 20 }
    }
    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if String::from_utf8_lossy(content).contains("TOKEN") {
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
    }
}

/// The second tier in memory, as several machines would share it.
#[derive(Default)]
struct Shared {
    rows: Mutex<HashMap<String, Vec<u8>>>,
    verified: Mutex<HashSet<(String, String)>>,
}

impl SharedLayerResults for Shared {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.rows.lock().unwrap().get(key).cloned())
    }
    fn put(&self, key: &str, data: &[u8]) -> Result<(), String> {
        self.rows
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_insert_with(|| data.to_vec());
        Ok(())
    }
    fn is_verified(&self, identity: &str, diff_id: &str) -> Result<bool, String> {
        Ok(self
            .verified
            .lock()
            .unwrap()
            .contains(&(identity.to_owned(), diff_id.to_owned())))
    }
    fn mark_verified(&self, identity: &str, diff_id: &str) -> Result<(), String> {
        self.verified
            .lock()
            .unwrap()
            .insert((identity.to_owned(), diff_id.to_owned()));
        Ok(())
    }
}

/// A shared tier that is down: every call fails, and is counted.
#[derive(Default)]
struct Down {
    calls: AtomicUsize,
}

impl SharedLayerResults for Down {
    fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, String> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Err("connection refused".into())
    }
    fn put(&self, _key: &str, _data: &[u8]) -> Result<(), String> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Err("connection refused".into())
    }
    fn is_verified(&self, _identity: &str, _diff_id: &str) -> Result<bool, String> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Err("connection refused".into())
    }
    fn mark_verified(&self, _identity: &str, _diff_id: &str) -> Result<(), String> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Err("connection refused".into())
    }
}

fn image() -> Image {
    Image::new(vec![
        (
            Layer::new().file("app/.env", "TOKEN=abc"),
            Compression::Gzip,
        ),
        (Layer::new().file("app/config", "quiet"), Compression::Zstd),
    ])
}

/// A local cache of its own (another machine's), with `shared` as its second tier.
fn cache(path: &Path, shared: &Arc<dyn SharedLayerResults>) -> Arc<LayerCache> {
    Arc::new(
        LayerCache::open(path)
            .unwrap()
            .with_shared(Arc::clone(shared)),
    )
}

fn scanner(cache: Arc<LayerCache>, calls: &Arc<AtomicUsize>) -> Scanner {
    Scanner::new(
        vec![Box::new(Toy {
            calls: Arc::clone(calls),
        })],
        vec![],
        vec![ScannerKind::Secret],
        ScanOptions {
            parallel: 2,
            cache: Some(cache),
            ..ScanOptions::default()
        },
    )
}

fn open(dir: &Path) -> OciLayout {
    OciLayout::open(dir, None, &Platform::host_linux()).unwrap()
}

#[test]
fn a_layer_stored_through_one_cache_is_found_through_another_without_reading_it() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("layout");
    image().write_oci_layout(&dir, "v1");
    let shared = Arc::new(Shared::default());
    let tier: Arc<dyn SharedLayerResults> = Arc::clone(&shared) as _;
    let calls = Arc::new(AtomicUsize::new(0));

    let cold = scanner(cache(&temp.path().join("a/layers.sqlite"), &tier), &calls)
        .scan_image(&open(&dir))
        .unwrap();
    assert_eq!(cold.layer_sources, [LayerSource::Read, LayerSource::Read]);
    assert_eq!(cold.result.findings.len(), 1);
    let walked = calls.load(Ordering::Relaxed);
    assert_eq!(walked, 2);
    // Every layer's blob digest is recorded as verified for its diff id.
    let source = open(&dir);
    for layer in source.layers() {
        let fact = (layer.digest.clone().unwrap(), layer.diff_id.clone());
        assert!(shared.verified.lock().unwrap().contains(&fact), "{fact:?}");
    }

    // Another machine: its own, empty local cache. The layer blobs are gone, so a scan that
    // succeeds read no layer.
    for layer in source.layers() {
        let digest = layer.digest.as_ref().unwrap();
        std::fs::remove_file(dir.join("blobs/sha256").join(&digest[7..])).unwrap();
    }
    let other = cache(&temp.path().join("b/layers.sqlite"), &tier);
    let warm = scanner(Arc::clone(&other), &calls)
        .scan_image(&open(&dir))
        .unwrap();
    assert_eq!(
        warm.layer_sources,
        [LayerSource::SharedCache, LayerSource::SharedCache]
    );
    assert!(warm.result.layers.iter().all(|layer| layer.cached));
    assert_eq!(warm.result.findings, cold.result.findings);
    assert_eq!(
        calls.load(Ordering::Relaxed),
        walked,
        "no file analyzed again"
    );

    // What the shared tier gave was copied into the local one: found there, even without it.
    let again = scanner(other, &calls).scan_image(&open(&dir)).unwrap();
    assert_eq!(
        again.layer_sources,
        [LayerSource::LocalCache, LayerSource::LocalCache]
    );
    let alone = Arc::new(LayerCache::open(&temp.path().join("b/layers.sqlite")).unwrap());
    let alone = scanner(alone, &calls).scan_image(&open(&dir)).unwrap();
    assert_eq!(alone.result.findings, cold.result.findings);
}

#[test]
fn a_claimed_diff_id_borrows_nothing_from_the_shared_tier() {
    let temp = tempfile::tempdir().unwrap();
    let real = Image::new(vec![(
        Layer::new().file("app/config", "TOKEN=live"),
        Compression::Gzip,
    )]);
    // Clean content whose config claims the real layer's diff id.
    let mut lying = Image::new(vec![(
        Layer::new().file("app/config", "nothing to see"),
        Compression::Gzip,
    )]);
    lying.claimed_diff_ids = Some(real.diff_ids());
    real.write_oci_layout(&temp.path().join("real"), "v1");
    lying.write_oci_layout(&temp.path().join("lying"), "v1");
    let shared = Arc::new(Shared::default());
    let tier: Arc<dyn SharedLayerResults> = Arc::clone(&shared) as _;
    let calls = Arc::new(AtomicUsize::new(0));

    let stored = scanner(cache(&temp.path().join("a/layers.sqlite"), &tier), &calls)
        .scan_image(&open(&temp.path().join("real")))
        .unwrap();
    assert_eq!(stored.result.findings.len(), 1);
    let rows = shared.rows.lock().unwrap().len();
    assert!(rows > 0);

    // On another machine, the lying image's blob was never verified to hold that diff id: its
    // layer is read, and refused, rather than reported with the real layer's results.
    let error = scanner(cache(&temp.path().join("b/layers.sqlite"), &tier), &calls)
        .scan_image(&open(&temp.path().join("lying")))
        .err()
        .expect("the lying image must not be reported from the shared results");
    assert!(error.to_string().contains("digest mismatch"), "{error}");
    // And nothing was recorded for it.
    assert_eq!(shared.verified.lock().unwrap().len(), 1);
    assert_eq!(shared.rows.lock().unwrap().len(), rows);
}

#[test]
fn a_shared_tier_that_is_down_slows_no_scan_and_fails_none() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("layout");
    image().write_oci_layout(&dir, "v1");
    let down = Arc::new(Down::default());
    let tier: Arc<dyn SharedLayerResults> = Arc::clone(&down) as _;
    let calls = Arc::new(AtomicUsize::new(0));
    let cache = cache(&temp.path().join("a/layers.sqlite"), &tier);

    let cold = scanner(Arc::clone(&cache), &calls)
        .scan_image(&open(&dir))
        .unwrap();
    assert_eq!(cold.result.findings.len(), 1);
    // After its first failure the tier is left alone for a while, not asked once per row.
    assert!(
        down.calls.load(Ordering::Relaxed) <= 2,
        "{down:?}",
        down = down.calls
    );
    let warm = scanner(cache, &calls).scan_image(&open(&dir)).unwrap();
    assert_eq!(
        warm.layer_sources,
        [LayerSource::LocalCache, LayerSource::LocalCache]
    );
}
