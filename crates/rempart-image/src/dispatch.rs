//! Hands one file's content to every analyzer that asked for it, reading it exactly once. Each
//! analyzer's results go to its own output, so the engine can cache them per analyzer.

use std::io::{self, Read};

use rempart_core::{
    AnalysisOutput, FileAnalyzer, FileMeta, FileSink, Interest, SkipReason, SkippedEntry,
};

const CHUNK: usize = 64 * 1024;

/// Reusable per-thread state: the buffers are kept between files so a layer walk allocates them
/// once, not once per file.
pub(crate) struct Dispatcher<'a, 'b> {
    analyzers: &'a [Box<dyn FileAnalyzer + 'b>],
    whole: Vec<usize>,
    content: Vec<u8>,
    chunk: Vec<u8>,
}

impl<'a, 'b> Dispatcher<'a, 'b> {
    pub(crate) fn new(analyzers: &'a [Box<dyn FileAnalyzer + 'b>]) -> Dispatcher<'a, 'b> {
        Dispatcher {
            analyzers,
            whole: Vec::new(),
            content: Vec::new(),
            chunk: vec![0; CHUNK],
        }
    }

    /// Writes analyzer `i`'s results (and the skip made because of its size cap) to `outputs[i]`.
    /// Returns `Ok(false)` when nobody wanted the file (the caller skips its bytes).
    pub(crate) fn dispatch(
        &mut self,
        meta: &FileMeta<'_>,
        reader: &mut dyn Read,
        outputs: &mut [AnalysisOutput],
    ) -> io::Result<bool> {
        debug_assert_eq!(outputs.len(), self.analyzers.len());
        self.whole.clear();
        let mut sinks: Vec<(usize, Box<dyn FileSink + '_>)> = Vec::new();
        for (index, analyzer) in self.analyzers.iter().enumerate() {
            match analyzer.interest(meta) {
                Interest::Skip => {}
                Interest::Whole { max_bytes } if meta.size <= max_bytes => self.whole.push(index),
                Interest::Whole { max_bytes } => outputs[index].skipped.push(SkippedEntry {
                    path: meta.path.to_owned(),
                    layer: None,
                    reason: SkipReason::TooLarge,
                    detail: Some(format!(
                        "{} bytes, over the {} cap of {max_bytes} bytes",
                        meta.size,
                        analyzer.name()
                    )),
                }),
                Interest::Stream => match analyzer.open_stream(meta) {
                    Some(sink) => sinks.push((index, sink)),
                    // An analyzer that asks for a stream and opens none would leave the file
                    // unread without a word.
                    None => outputs[index].skipped.push(SkippedEntry {
                        path: meta.path.to_owned(),
                        layer: None,
                        reason: SkipReason::Unreadable,
                        detail: Some(format!("the {} analyzer opened no stream", analyzer.name())),
                    }),
                },
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
            for (_, sink) in &mut sinks {
                sink.write(chunk);
            }
            if !self.whole.is_empty() {
                self.content.extend_from_slice(chunk);
            }
        }
        for &index in &self.whole {
            self.analyzers[index].analyze(meta, &self.content, &mut outputs[index]);
        }
        for (index, sink) in sinks {
            sink.finish(&mut outputs[index]);
        }
        // Do not keep a large buffer alive between files: one big file must not pin memory for
        // the rest of the layer.
        if self.content.capacity() > 4 * 1024 * 1024 {
            self.content = Vec::new();
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use rempart_core::OsInfo;

    use super::*;

    /// Wants files whole up to 4 bytes and records each one it is given.
    struct Small;
    /// Streams every file and records its length.
    struct Streamed;
    struct Length(usize);

    impl FileAnalyzer for Small {
        fn name(&self) -> &'static str {
            "small"
        }
        fn fingerprint(&self) -> String {
            "1".into()
        }
        fn interest(&self, _file: &FileMeta<'_>) -> Interest {
            Interest::Whole { max_bytes: 4 }
        }
        fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
            let text = String::from_utf8_lossy(content).into_owned();
            out.os.push((
                file.path.to_owned(),
                OsInfo {
                    id: text,
                    ..OsInfo::default()
                },
            ));
        }
    }

    impl FileAnalyzer for Streamed {
        fn name(&self) -> &'static str {
            "streamed"
        }
        fn fingerprint(&self) -> String {
            "1".into()
        }
        fn interest(&self, _file: &FileMeta<'_>) -> Interest {
            Interest::Stream
        }
        fn open_stream(&self, _file: &FileMeta<'_>) -> Option<Box<dyn FileSink + '_>> {
            Some(Box::new(Length(0)))
        }
    }

    impl FileSink for Length {
        fn write(&mut self, chunk: &[u8]) {
            self.0 += chunk.len();
        }
        fn finish(self: Box<Self>, out: &mut AnalysisOutput) {
            out.os.push((self.0.to_string(), OsInfo::default()));
        }
    }

    #[test]
    fn each_analyzer_gets_its_own_results_and_cap_skips() {
        let analyzers: Vec<Box<dyn FileAnalyzer>> = vec![Box::new(Small), Box::new(Streamed)];
        let mut dispatcher = Dispatcher::new(&analyzers);
        let mut outputs = vec![AnalysisOutput::default(); 2];
        for (path, content) in [("a", "abc"), ("b", "too long for small")] {
            let meta = FileMeta {
                path,
                size: content.len() as u64,
                mode: 0o644,
            };
            let wanted = dispatcher
                .dispatch(&meta, &mut content.as_bytes(), &mut outputs)
                .unwrap();
            assert!(wanted);
        }

        let small = &outputs[0];
        assert_eq!(small.os.len(), 1);
        assert_eq!(
            (small.os[0].0.as_str(), small.os[0].1.id.as_str()),
            ("a", "abc")
        );
        assert_eq!(small.skipped.len(), 1);
        assert_eq!(small.skipped[0].path, "b");
        assert_eq!(small.skipped[0].reason, SkipReason::TooLarge);
        assert!(
            small.skipped[0]
                .detail
                .as_ref()
                .unwrap()
                .contains("small cap")
        );

        let streamed: Vec<&str> = outputs[1]
            .os
            .iter()
            .map(|(text, _)| text.as_str())
            .collect();
        assert_eq!(streamed, ["3", "18"]);
        assert!(outputs[1].skipped.is_empty());
    }
}
