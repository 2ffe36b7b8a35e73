//! What the fuzz targets share: feeding bytes to a file analyzer the way the layer walker does.

use rempart_core::{AnalysisOutput, FileAnalyzer, FileMeta, Interest};

/// Runs `analyzer` over `content` as the file `path`: whole when it asks for the whole file (and
/// the content is under its cap), in chunks when it streams. The chunk size follows the input
/// length so that the fuzzer also explores chunk boundaries.
pub fn feed(analyzer: &dyn FileAnalyzer, path: &str, mode: u32, content: &[u8]) -> AnalysisOutput {
    let meta = FileMeta {
        path,
        size: content.len() as u64,
        mode,
    };
    let mut out = AnalysisOutput::default();
    match analyzer.interest(&meta) {
        Interest::Skip => {}
        Interest::Whole { max_bytes } => {
            if content.len() as u64 <= max_bytes {
                analyzer.analyze(&meta, content, &mut out);
            }
        }
        Interest::Stream => {
            if let Some(mut sink) = analyzer.open_stream(&meta) {
                for piece in content.chunks(1 + content.len() % 4093) {
                    sink.write(piece);
                }
                sink.finish(&mut out);
            }
        }
    }
    out
}

/// Runs `analyzer` over `content` under each of `paths`.
pub fn feed_paths(analyzer: &dyn FileAnalyzer, paths: &[(&str, u32)], content: &[u8]) {
    for (path, mode) in paths {
        feed(analyzer, path, *mode, content);
    }
}
