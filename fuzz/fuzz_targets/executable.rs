//! Executables: Go build information and cargo-auditable dependency lists (ELF sections).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_catalog::{CargoAuditableCataloger, GoBinaryCataloger};
use rempart_fuzz::feed_paths;

fuzz_target!(|data: &[u8]| {
    let path = [("usr/local/bin/app", 0o755)];
    feed_paths(&GoBinaryCataloger::new(), &path, data);
    feed_paths(&CargoAuditableCataloger::new(), &path, data);
});
