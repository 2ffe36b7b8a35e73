//! Java archives (zip): manifests, `pom.properties`, nested jars.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_catalog::JavaCataloger;
use rempart_fuzz::feed_paths;

fuzz_target!(|data: &[u8]| {
    feed_paths(&JavaCataloger::new(), &[("opt/app/app.jar", 0o644)], data);
});
