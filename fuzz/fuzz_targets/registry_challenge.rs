//! `WWW-Authenticate` challenges, as a registry (any registry) sends them before a token.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = std::str::from_utf8(data) {
        let (scheme, params) = rempart_image::parse_www_authenticate(header);
        assert!(scheme.len() <= header.len());
        for (key, value) in params {
            assert!(key.len() + value.len() <= header.len());
        }
    }
});
