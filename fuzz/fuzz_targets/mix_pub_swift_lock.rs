//! Elixir `mix.lock`, Dart `pubspec.lock` and Swift `Package.resolved`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_catalog::{CatalogOptions, HexCataloger, PubCataloger, SwiftCataloger};
use rempart_fuzz::feed_paths;

fuzz_target!(|data: &[u8]| {
    let options = CatalogOptions::filesystem();
    feed_paths(&HexCataloger::new(options), &[("app/mix.lock", 0o644)], data);
    feed_paths(&PubCataloger::new(options), &[("app/pubspec.lock", 0o644)], data);
    feed_paths(
        &SwiftCataloger::new(options),
        &[("app/Package.resolved", 0o644)],
        data,
    );
});
