//! npm, Yarn and pnpm lock files and installed `package.json` files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_catalog::{CatalogOptions, NpmCataloger};
use rempart_fuzz::feed_paths;

fuzz_target!(|data: &[u8]| {
    feed_paths(
        &NpmCataloger::new(CatalogOptions::filesystem()),
        &[
            ("app/package-lock.json", 0o644),
            ("app/node_modules/dep/package.json", 0o644),
            ("app/yarn.lock", 0o644),
            ("app/pnpm-lock.yaml", 0o644),
        ],
        data,
    );
});
