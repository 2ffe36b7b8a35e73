//! Image configs (the JSON that names the layers' diff ids, the history and the run settings),
//! as every image source parses them; and layer names, which may be any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = rempart_image::parse_config(data, "fuzz config") {
        // Every diff id that parsed is a well-formed sha256 digest.
        for diff_id in &config.diff_ids {
            assert!(diff_id.starts_with("sha256:") && diff_id.len() == 71, "{diff_id}");
        }
    }
    // A name escaped for display keeps every valid UTF-8 run and never panics; normalizing it
    // never yields a path that climbs out of the root.
    let escaped = rempart_core::escape_non_utf8(data);
    if let Ok(path) = rempart_core::normalize_entry_path(&escaped) {
        assert!(!path.split('/').any(|part| part == ".."), "{path}");
    }
});
