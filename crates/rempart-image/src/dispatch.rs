//! Hands one file's content to every analyzer that asked for it, reading it exactly once.

use std::io::{self, Read};

use rempart_core::{
    AnalysisOutput, FileAnalyzer, FileMeta, FileSink, Interest, SkipReason, SkippedEntry,
};

const CHUNK: usize = 64 * 1024;

/// Reusable per-thread state: the buffers are kept between files so a layer walk allocates them
/// once, not once per file.
pub(crate) struct Dispatcher<'a> {
    analyzers: &'a [Box<dyn FileAnalyzer>],
    whole: Vec<usize>,
    content: Vec<u8>,
    chunk: Vec<u8>,
}

impl<'a> Dispatcher<'a> {
    pub(crate) fn new(analyzers: &'a [Box<dyn FileAnalyzer>]) -> Dispatcher<'a> {
        Dispatcher {
            analyzers,
            whole: Vec::new(),
            content: Vec::new(),
            chunk: vec![0; CHUNK],
        }
    }

    /// Returns `Ok(false)` when nobody wanted the file (the caller skips its bytes).
    pub(crate) fn dispatch(
        &mut self,
        meta: &FileMeta<'_>,
        reader: &mut dyn Read,
        out: &mut AnalysisOutput,
    ) -> io::Result<bool> {
        self.whole.clear();
        let mut sinks: Vec<Box<dyn FileSink>> = Vec::new();
        for (index, analyzer) in self.analyzers.iter().enumerate() {
            match analyzer.interest(meta) {
                Interest::Skip => {}
                Interest::Whole { max_bytes } if meta.size <= max_bytes => self.whole.push(index),
                Interest::Whole { max_bytes } => out.skipped.push(SkippedEntry {
                    path: meta.path.to_owned(),
                    layer: None,
                    reason: SkipReason::TooLarge,
                    detail: Some(format!(
                        "{} bytes, over the {} cap of {max_bytes} bytes",
                        meta.size,
                        analyzer.name()
                    )),
                }),
                Interest::Stream => sinks.extend(analyzer.open_stream(meta)),
            }
        }
        if self.whole.is_empty() && sinks.is_empty() {
            return Ok(false);
        }

        self.content.clear();
        if !self.whole.is_empty() {
            // The size comes from the header and every wanted size is under an analyzer's cap,
            // so this reservation is bounded.
            self.content
                .reserve(usize::try_from(meta.size).unwrap_or(0));
        }
        loop {
            let n = match reader.read(&mut self.chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            let chunk = &self.chunk[..n];
            for sink in &mut sinks {
                sink.write(chunk);
            }
            if !self.whole.is_empty() {
                self.content.extend_from_slice(chunk);
            }
        }
        for &index in &self.whole {
            self.analyzers[index].analyze(meta, &self.content, out);
        }
        for sink in sinks {
            sink.finish(out);
        }
        // Do not keep a large buffer alive between files: one big file must not pin memory for
        // the rest of the layer.
        if self.content.capacity() > 4 * 1024 * 1024 {
            self.content = Vec::new();
        }
        Ok(true)
    }
}
