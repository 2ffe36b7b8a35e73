//! The three rpm database formats (`SQLite`, Berkeley DB, NDB), each chosen by file name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_catalog::RpmCataloger;
use rempart_fuzz::feed_paths;

fuzz_target!(|data: &[u8]| {
    feed_paths(
        &RpmCataloger::new(),
        &[
            ("var/lib/rpm/rpmdb.sqlite", 0o644),
            ("var/lib/rpm/Packages", 0o644),
            ("usr/lib/sysimage/rpm/Packages.db", 0o644),
        ],
        data,
    );
});
