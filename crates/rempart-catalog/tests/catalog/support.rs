use std::path::PathBuf;

use rempart_core::{AnalysisOutput, FileAnalyzer, FileMeta, Interest, Package};

pub(crate) fn fixture_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

pub(crate) fn fixture(relative: &str) -> Vec<u8> {
    let path = fixture_path(relative);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

pub(crate) fn fixture_text(relative: &str) -> String {
    String::from_utf8(fixture(relative)).expect("fixture is UTF-8")
}

/// Feeds a file to an analyzer the way the walker does, streaming in chunks of `chunk` bytes.
pub(crate) fn run_chunked(
    analyzer: &dyn FileAnalyzer,
    path: &str,
    mode: u32,
    content: &[u8],
    chunk: usize,
) -> AnalysisOutput {
    let meta = FileMeta {
        path,
        size: content.len() as u64,
        mode,
    };
    let mut out = AnalysisOutput::default();
    match analyzer.interest(&meta) {
        Interest::Skip => panic!("{} does not want {path}", analyzer.name()),
        Interest::Whole { max_bytes } => {
            assert!(content.len() as u64 <= max_bytes, "{path} over the cap");
            analyzer.analyze(&meta, content, &mut out);
        }
        Interest::Stream => {
            let mut sink = analyzer
                .open_stream(&meta)
                .expect("a sink for a stream interest");
            for piece in content.chunks(chunk.max(1)) {
                sink.write(piece);
            }
            sink.finish(&mut out);
        }
    }
    out
}

pub(crate) fn run(analyzer: &dyn FileAnalyzer, path: &str, content: &[u8]) -> AnalysisOutput {
    run_chunked(analyzer, path, 0o644, content, 64 * 1024)
}

pub(crate) fn wants(analyzer: &dyn FileAnalyzer, path: &str, mode: u32, size: u64) -> bool {
    analyzer.interest(&FileMeta { path, size, mode }) != Interest::Skip
}

pub(crate) fn find<'a>(packages: &'a [Package], name: &str) -> &'a Package {
    packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name} in {packages:#?}"))
}

/// Every package names the file it came from and has a purl of its own type.
pub(crate) fn assert_well_formed(packages: &[Package], path: &str, purl_type: &str) {
    for package in packages {
        assert_eq!(package.locations.len(), 1, "{package:?}");
        assert_eq!(package.locations[0].path, path);
        assert!(
            package.purl.starts_with(&format!("pkg:{purl_type}/")),
            "{}",
            package.purl
        );
        assert!(!package.name.is_empty() && !package.version.is_empty());
    }
}
