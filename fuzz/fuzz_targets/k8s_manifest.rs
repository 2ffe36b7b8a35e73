//! Kubernetes manifests (YAML, several documents, `List` kinds) and compose files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = rempart_misconfig::scan_kubernetes("deploy.yaml", text);
        let _ = rempart_misconfig::scan_compose("compose.yaml", text);
    }
});
