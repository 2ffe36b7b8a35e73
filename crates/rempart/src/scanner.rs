//! The scan pipeline: walk layers (in parallel, or from the cache), merge, run image analyzers.

use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;

use rayon::prelude::*;
use rempart_core::{
    AnalysisOutput, FileAnalyzer, FileMeta, FileSink, GoSymbols, ImageAnalyzer, ImageContext,
    ImageMetadata, Interest, InventoryEntry, LayerSummary, REPORT_SCHEMA_VERSION, ScanResult,
    ScannerKind,
};
use rempart_image::{
    DirOptions, ImageError, ImageSource, LayerAccess, LayerWalk, Limits, WalkError, walk_dir,
    walk_layer, walk_layer_read_ahead,
};

use crate::assemble::{Assembled, assemble};
use crate::cache::{CachedLayer, LayerCache, Tier};
use crate::error::ScanError;

/// What the pipeline reports while it runs, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The layers to read (the others came from the cache).
    Started {
        layers_to_read: usize,
        cached: usize,
    },
    /// One layer has been read.
    LayerRead {
        index: usize,
        files: u64,
        bytes: u64,
    },
    /// All layers are read; merging and image checks follow.
    LayersDone,
}

/// Receives [`Progress`] events, from any scan thread.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Knobs of the pipeline itself (what to look for is decided by the analyzers given).
#[derive(Clone)]
pub struct ScanOptions {
    /// Layers walked at the same time.
    pub parallel: usize,
    pub limits: Limits,
    pub cache: Option<Arc<LayerCache>>,
    /// Told about progress; the engine itself never prints.
    pub progress: Option<ProgressFn>,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            parallel: std::thread::available_parallelism().map_or(2, usize::from),
            limits: Limits::default(),
            cache: None,
            progress: None,
        }
    }
}

/// A scan result plus the final filesystem listing (kept out of the report: it is large).
pub struct ScanOutcome {
    pub result: ScanResult,
    pub inventory: Vec<InventoryEntry>,
    /// The function tables of the Go binaries of the final image: with the result and the
    /// inventory, all that matching vulnerabilities again needs ([`Scanner::rematch`]).
    pub go_symbols: Vec<GoSymbols>,
    /// Where each layer's results came from, in the image's order.
    pub layer_sources: Vec<LayerSource>,
}

/// Where a layer's results came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerSource {
    /// The local tier of the layer cache alone.
    LocalCache,
    /// The layer cache, with something (a result, or the fact that the layer's identity was
    /// verified) from its shared tier: without it, the layer would have been read.
    SharedCache,
    /// The layer was read (for every analyzer, or for those whose output was missing).
    Read,
}

/// Runs file analyzers over every layer once, then image analyzers over the merged image.
pub struct Scanner {
    file_analyzers: Vec<Box<dyn FileAnalyzer>>,
    image_analyzers: Vec<Box<dyn ImageAnalyzer>>,
    scanners: Vec<ScannerKind>,
    options: ScanOptions,
}

impl Scanner {
    pub fn new(
        file_analyzers: Vec<Box<dyn FileAnalyzer>>,
        image_analyzers: Vec<Box<dyn ImageAnalyzer>>,
        scanners: Vec<ScannerKind>,
        options: ScanOptions,
    ) -> Scanner {
        Scanner {
            file_analyzers,
            image_analyzers,
            scanners,
            options,
        }
    }

    fn report(&self, event: Progress) {
        if let Some(progress) = &self.options.progress {
            progress(event);
        }
    }

    /// The analyzers at `indices`, in the shape the walker takes, borrowed.
    fn subset(&self, indices: &[usize]) -> Vec<Box<dyn FileAnalyzer + '_>> {
        indices
            .iter()
            .map(|&index| {
                Box::new(Borrowed(self.file_analyzers[index].as_ref()))
                    as Box<dyn FileAnalyzer + '_>
            })
            .collect()
    }

    /// Scans an image from any source.
    pub fn scan_image(&self, source: &dyn ImageSource) -> Result<ScanOutcome, ScanError> {
        let started = std::time::Instant::now();
        let layers = source.layers();
        let limits_key = format!("{:?}", self.options.limits);
        let identities: Vec<Option<String>> = (0..layers.len())
            .map(|i| source.layer_identity(i))
            .collect();
        // Decoding the cached rows is most of a warm scan; layers decode in parallel. A layer's
        // rows are looked up only when a walk has verified that its bytes have the diff id the
        // image claims: the cache is keyed by diff id, and a hostile image could claim another
        // layer's to be reported with that layer's (clean) results.
        let plans: Vec<CachedLayer> = layers
            .par_iter()
            .enumerate()
            .map(|(index, layer)| {
                let verified = self.options.cache.as_ref().and_then(|cache| {
                    let tier = cache.verified(identities[index].as_deref()?, &layer.diff_id)?;
                    Some((cache, tier))
                });
                match verified {
                    Some((cache, tier)) => {
                        let mut plan =
                            cache.lookup(&layer.diff_id, &limits_key, &self.file_analyzers);
                        plan.from_shared |= tier == Tier::Shared;
                        tracing::debug!(
                            layer = index,
                            complete = plan.is_complete(),
                            from_shared = plan.from_shared,
                            analyzers_to_run = plan.missing().len(),
                            "layer cache lookup"
                        );
                        plan
                    }
                    None => CachedLayer::keys(&layer.diff_id, &limits_key, &self.file_analyzers),
                }
            })
            .collect();
        let cached: Vec<bool> = plans.iter().map(CachedLayer::is_complete).collect();
        let layer_sources: Vec<LayerSource> = plans
            .iter()
            .map(|plan| match (plan.is_complete(), plan.from_shared) {
                (false, _) => LayerSource::Read,
                (true, false) => LayerSource::LocalCache,
                (true, true) => LayerSource::SharedCache,
            })
            .collect();
        let wanted: Vec<usize> = (0..layers.len()).filter(|&i| !cached[i]).collect();
        self.report(Progress::Started {
            layers_to_read: wanted.len(),
            cached: layers.len() - wanted.len(),
        });
        tracing::info!(
            "{} layers: {} to read, {} from the cache",
            layers.len(),
            wanted.len(),
            layers.len() - wanted.len()
        );
        let finish =
            |index: usize, result: Result<LayerWalk, WalkError>| -> Result<LayerWalk, ImageError> {
                let walk = result.map_err(|source| ImageError::Layer {
                    layer: format!("{index} ({})", layers[index].diff_id),
                    source,
                })?;
                self.report(Progress::LayerRead {
                    index,
                    files: walk.files,
                    bytes: walk.bytes,
                });
                // The walk checked the layer's content against its diff id (it failed
                // otherwise), so its results may be stored under that diff id, and the layer's
                // identity recorded as holding it.
                if let Some(cache) = &self.options.cache {
                    let plan = &plans[index];
                    let outputs: Vec<_> = plan.missing_keys().zip(&walk.analyzer_outputs).collect();
                    let verified = identities[index]
                        .as_deref()
                        .map(|identity| (identity, layers[index].diff_id.as_str()));
                    if let Err(error) = cache.put(&plan.base_key, &walk, &outputs, verified) {
                        // A read-only or full cache slows the next scan down; it must not fail
                        // this one.
                        tracing::warn!(%error, "could not store layer results");
                    }
                }
                Ok(walk)
            };
        // Every layer's uncompressed content is checked against its diff id while it is walked.
        let expected = |index: usize| Some(layers[index].diff_id.as_str());
        // With more than one thread allowed, decompression runs beside the analysis.
        let read_ahead = self.options.parallel > 1;
        let walk_random = |index: usize| -> Result<LayerWalk, ImageError> {
            tracing::debug!(layer = index, diff_id = %layers[index].diff_id, "walking layer");
            let layer_started = std::time::Instant::now();
            let mut reader = source.open_layer(index)?;
            let analyzers = self.subset(&plans[index].missing());
            let limits = self.options.limits;
            let result = if read_ahead {
                walk_layer_read_ahead(&mut *reader, &analyzers, limits, expected(index))
            } else {
                walk_layer(&mut *reader, &analyzers, limits, expected(index))
            };
            let walk = finish(index, result)?;
            log_layer(index, &walk, layer_started.elapsed(), analyzers.len());
            Ok(walk)
        };

        let mut walked: Vec<Option<LayerWalk>> = vec![None; layers.len()];
        match source.access() {
            LayerAccess::Random if wanted.len() > 1 && self.options.parallel > 1 => {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(self.options.parallel.min(wanted.len()))
                    .build()
                    .map_err(|e| ScanError::ThreadPool {
                        threads: self.options.parallel,
                        message: e.to_string(),
                    })?;
                // Biggest layers first: the scan lasts as long as its slowest thread, and a big
                // layer started last would run alone at the end. Sizes come from the manifest;
                // an unknown size counts as big.
                let mut by_size = wanted.clone();
                by_size.sort_by_key(|&index| {
                    std::cmp::Reverse(layers[index].size.unwrap_or(u64::MAX))
                });
                let results: Vec<(usize, Result<LayerWalk, ImageError>)> = pool.install(|| {
                    by_size
                        .par_iter()
                        .with_max_len(1)
                        .map(|&index| (index, walk_random(index)))
                        .collect()
                });
                for (index, result) in results {
                    walked[index] = Some(result?);
                }
            }
            LayerAccess::Random => {
                for &index in &wanted {
                    walked[index] = Some(walk_random(index)?);
                }
            }
            LayerAccess::Sequential => {
                let collected = Mutex::new(Vec::new());
                source.for_each_layer(&wanted, &mut |index, reader| {
                    let layer_started = std::time::Instant::now();
                    let analyzers = self.subset(&plans[index].missing());
                    let result =
                        walk_layer(reader, &analyzers, self.options.limits, expected(index));
                    let walk = finish(index, result)?;
                    log_layer(index, &walk, layer_started.elapsed(), analyzers.len());
                    collected.lock().expect("not poisoned").push((index, walk));
                    Ok(())
                })?;
                for (index, walk) in collected.into_inner().expect("not poisoned") {
                    walked[index] = Some(walk);
                }
            }
        }
        let mut walks: Vec<LayerWalk> = plans
            .into_iter()
            .zip(walked)
            .enumerate()
            .map(|(index, (plan, walk))| {
                plan.complete(walk).ok_or_else(|| {
                    ScanError::Image(ImageError::Invalid {
                        input: source.metadata().name.clone(),
                        message: format!("layer {index} was not delivered by the source"),
                    })
                })
            })
            .collect::<Result<_, _>>()?;

        self.report(Progress::LayersDone);
        tracing::info!("layers read in {:.2} s", started.elapsed().as_secs_f64());
        let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.clone()).collect();
        let summaries = layers
            .iter()
            .zip(&walks)
            .enumerate()
            .map(|(index, (layer, walk))| LayerSummary {
                index,
                diff_id: layer.diff_id.clone(),
                digest: layer.digest.clone(),
                created_by: layer.created_by.clone(),
                files: walk.files,
                bytes: walk.bytes,
                cached: cached[index],
            })
            .collect();
        let mut assembled = assemble(&mut walks, &diff_ids);
        assembled
            .skipped
            .extend(rempart_image::unread_through_directory_links(
                &assembled.inventory,
                &self.file_analyzers,
            ));
        self.finish(
            "image",
            source.metadata().clone(),
            summaries,
            assembled,
            layer_sources,
        )
    }

    /// Scans a directory as one layer: `target_kind` is `rootfs` (an unpacked image) or `fs`
    /// (a source tree).
    pub fn scan_dir(
        &self,
        root: &Path,
        target_kind: &str,
        options: &DirOptions,
    ) -> Result<ScanOutcome, ScanError> {
        let mut walk = walk_dir(root, &self.file_analyzers, self.options.limits, options).map_err(
            |source| ScanError::Walk {
                path: root.to_owned(),
                source,
            },
        )?;
        let diff_ids = vec![format!("{target_kind}:{}", root.display())];
        let summary = LayerSummary {
            index: 0,
            diff_id: diff_ids[0].clone(),
            digest: None,
            created_by: None,
            files: walk.files,
            bytes: walk.bytes,
            cached: false,
        };
        let assembled = assemble(std::slice::from_mut(&mut walk), &diff_ids);
        let metadata = ImageMetadata {
            name: root.display().to_string(),
            ..ImageMetadata::default()
        };
        self.finish(
            target_kind,
            metadata,
            vec![summary],
            assembled,
            vec![LayerSource::Read],
        )
    }

    fn finish(
        &self,
        target_kind: &str,
        metadata: ImageMetadata,
        layers: Vec<LayerSummary>,
        assembled: Assembled,
        layer_sources: Vec<LayerSource>,
    ) -> Result<ScanOutcome, ScanError> {
        let Assembled {
            inventory,
            os,
            mut packages,
            mut findings,
            skipped,
            go_symbols,
        } = assembled;
        let context = ImageContext {
            metadata: &metadata,
            inventory: &inventory,
            os: os.as_ref(),
            packages: &packages,
            go_symbols: &go_symbols,
        };
        for analyzer in &self.image_analyzers {
            let analyzer_started = std::time::Instant::now();
            let before = findings.len();
            analyzer
                .analyze_image(&context, &mut findings)
                .map_err(|error| ScanError::ImageAnalyzer {
                    analyzer: analyzer.name(),
                    message: error.0,
                })?;
            tracing::info!(
                "{}: {} findings in {:.3} s",
                analyzer.name(),
                findings.len() - before,
                analyzer_started.elapsed().as_secs_f64()
            );
        }
        let mut metadata = metadata;
        let mut layers = layers;
        let mask = |text: &str| -> String {
            let mut text = text.to_owned();
            for analyzer in &self.image_analyzers {
                if let Some(masked) = analyzer.mask_secrets(&text) {
                    text = masked;
                }
            }
            text
        };
        crate::redact::redact_metadata(&mut metadata, &mask);
        // The layer list repeats the history lines: the same masking.
        for layer in &mut layers {
            if let Some(created_by) = &mut layer.created_by {
                *created_by = crate::redact::redact_text(created_by, &mask);
            }
        }
        packages.sort_by(|a, b| {
            (&a.ecosystem, &a.name, &a.version, &a.locations).cmp(&(
                &b.ecosystem,
                &b.name,
                &b.version,
                &b.locations,
            ))
        });
        sort_findings(&mut findings);
        Ok(ScanOutcome {
            result: ScanResult {
                schema_version: REPORT_SCHEMA_VERSION,
                target_kind: target_kind.to_owned(),
                target: metadata,
                os,
                scanners: self.scanners.clone(),
                layers,
                packages,
                findings,
                skipped,
                vulnerability_data: None,
            },
            inventory,
            go_symbols,
            layer_sources,
        })
    }

    /// Matches a stored result's packages against the vulnerability data again, reading no
    /// layer: the vulnerability findings are replaced by what the vulnerability analyzer finds
    /// now, everything else is kept. `inventory` and `go_symbols` are the scan's own.
    pub fn rematch(
        &self,
        result: &mut ScanResult,
        inventory: &[InventoryEntry],
        go_symbols: &[GoSymbols],
    ) -> Result<(), ScanError> {
        let context = ImageContext {
            metadata: &result.target,
            inventory,
            os: result.os.as_ref(),
            packages: &result.packages,
            go_symbols,
        };
        let mut findings = Vec::new();
        for analyzer in self
            .image_analyzers
            .iter()
            .filter(|analyzer| analyzer.name() == VULNERABILITY_ANALYZER)
        {
            analyzer
                .analyze_image(&context, &mut findings)
                .map_err(|error| ScanError::ImageAnalyzer {
                    analyzer: analyzer.name(),
                    message: error.0,
                })?;
        }
        result
            .findings
            .retain(|finding| finding.scanner != ScannerKind::Vuln);
        result.findings.extend(findings);
        sort_findings(&mut result.findings);
        Ok(())
    }
}

/// The report's order: most severe first, then by rule and place, so that the order does not
/// depend on which analyzer ran first.
fn sort_findings(findings: &mut [rempart_core::Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.location.cmp(&b.location))
    });
}

/// The name the vulnerability matcher gives itself (`rempart_vulndb::VulnMatcher`).
const VULNERABILITY_ANALYZER: &str = "vuln";

/// Lends one of the scanner's analyzers to a walk that runs only some of them.
struct Borrowed<'a>(&'a dyn FileAnalyzer);

impl FileAnalyzer for Borrowed<'_> {
    fn reads_by_name(&self) -> bool {
        self.0.reads_by_name()
    }
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn fingerprint(&self) -> String {
        self.0.fingerprint()
    }
    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        self.0.interest(file)
    }
    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        self.0.analyze(file, content, out);
    }
    fn open_stream(&self, file: &FileMeta<'_>) -> Option<Box<dyn FileSink + '_>> {
        self.0.open_stream(file)
    }
}

/// `-v`: what reading one layer took.
fn log_layer(index: usize, walk: &LayerWalk, elapsed: std::time::Duration, analyzers: usize) {
    #[allow(clippy::cast_precision_loss)] // A size shown in MiB.
    let mib = walk.bytes as f64 / (1024.0 * 1024.0);
    tracing::info!(
        "layer {index}: {} files, {mib:.1} MiB, {analyzers} analyzers, in {:.2} s",
        walk.files,
        elapsed.as_secs_f64()
    );
}
