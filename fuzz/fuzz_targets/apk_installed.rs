//! apk's installed database.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_catalog::ApkCataloger;
use rempart_fuzz::feed_paths;

fuzz_target!(|data: &[u8]| {
    feed_paths(
        &ApkCataloger::new(),
        &[("lib/apk/db/installed", 0o644)],
        data,
    );
});
