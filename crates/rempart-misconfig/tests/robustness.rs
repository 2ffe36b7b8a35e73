//! Every prefix of every fixture, and fixtures with bytes swapped for shell and YAML
//! metacharacters, go through the checks: a result or an error, never a panic.

use std::path::{Path, PathBuf};

use rempart_misconfig::{detect_kind, scan_config_file};

fn fixture_files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The name the file is checked under: fixtures named `*.Dockerfile` are Dockerfiles already.
fn checked_name(path: &Path) -> &Path {
    Path::new(path.file_name().unwrap())
}

#[test]
fn prefixes_and_mutations_never_panic() {
    let mut checked = 0;
    for path in fixture_files() {
        let bytes = std::fs::read(&path).unwrap();
        let name = checked_name(&path);
        if detect_kind(name, &bytes).is_none() {
            continue;
        }
        let step = if bytes.len() > 4_000 { 97 } else { 3 };
        for end in (0..=bytes.len()).step_by(step) {
            let _ = scan_config_file(name, &bytes[..end]);
            checked += 1;
        }
        for (i, replacement) in [b'[', b'{', b'&', b'*', b'\\', b'`', b'"', b'\'', b'|', b'<']
            .iter()
            .cycle()
            .take(60)
            .enumerate()
        {
            let mut mutated = bytes.clone();
            let at = (i * 7919) % mutated.len().max(1);
            if let Some(byte) = mutated.get_mut(at) {
                *byte = *replacement;
            }
            let _ = scan_config_file(name, &mutated);
            checked += 1;
        }
    }
    assert!(checked > 1_000, "only {checked} inputs checked");
}
