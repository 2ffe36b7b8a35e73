//! A layer as the walker reads it: compression chosen by magic bytes, tar entries, whiteouts,
//! links, then the files offered to every cataloger.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rempart_catalog::{CatalogOptions, catalogers};
use rempart_core::FileAnalyzer;
use rempart_image::{Limits, walk_layer};

fn analyzers() -> &'static [Box<dyn FileAnalyzer>] {
    static ANALYZERS: OnceLock<Vec<Box<dyn FileAnalyzer>>> = OnceLock::new();
    ANALYZERS.get_or_init(|| catalogers(&CatalogOptions::image()))
}

fuzz_target!(|data: &[u8]| {
    // The production caps allow 64 GiB per layer; a fuzzer's memory limit is far lower, and the
    // caps themselves are what is under test.
    let limits = Limits {
        max_compression_ratio: 100,
        ratio_threshold_bytes: 1024 * 1024,
        max_layer_bytes: 64 * 1024 * 1024,
        max_entries: 10_000,
        max_path_depth: 128,
    };
    let mut reader = data;
    let _ = walk_layer(&mut reader, analyzers(), limits, None);
});
