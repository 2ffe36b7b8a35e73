//! dpkg's status file, a distroless `status.d` entry and a file list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_catalog::DpkgCataloger;
use rempart_fuzz::feed_paths;

fuzz_target!(|data: &[u8]| {
    feed_paths(
        &DpkgCataloger::new(),
        &[
            ("var/lib/dpkg/status", 0o644),
            ("var/lib/dpkg/status.d/base", 0o644),
            ("var/lib/dpkg/info/base.list", 0o644),
        ],
        data,
    );
});
