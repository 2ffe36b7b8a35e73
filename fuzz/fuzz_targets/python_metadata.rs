//! Installed Python distributions' metadata (core metadata, email-header format).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_catalog::{CatalogOptions, PythonCataloger};
use rempart_fuzz::feed_paths;

fuzz_target!(|data: &[u8]| {
    feed_paths(
        &PythonCataloger::new(CatalogOptions::image()),
        &[
            (
                "usr/lib/python3/site-packages/x-1.0.dist-info/METADATA",
                0o644,
            ),
            (
                "usr/lib/python3/site-packages/x-1.0.egg-info/PKG-INFO",
                0o644,
            ),
        ],
        data,
    );
});
