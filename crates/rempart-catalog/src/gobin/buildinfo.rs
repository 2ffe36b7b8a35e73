//! The Go build information blob: `\xff Go buildinf:`, a 32-byte header, then (Go 1.18 and
//! later) the Go version and the module information as length-prefixed strings. Before 1.18 the
//! header held pointers to the strings instead; the module information is then found by its
//! sentinel bytes anywhere in the binary, and the Go version (reachable only through a pointer,
//! possibly to bytes already streamed past) is not reported.
//!
//! Binaries are streamed: the sink scans each chunk for the two markers, copes with a marker
//! split across chunks, and copies only a bounded window after each.

use memchr::memmem::Finder;
use rempart_core::{AnalysisOutput, Dependency, FileAnalyzer, FileMeta, FileSink, Interest};

use super::go_package;
use super::pclntab::PclntabScan;
use crate::common::{CatalogError, fingerprint};

const MAGIC: &[u8] = b"\xff Go buildinf:";
const INFO_START: &[u8] = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
const INFO_END: &[u8] = b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";
const HEADER_LEN: usize = 32;
/// Module information of the largest binaries (Kubernetes, Terraform) is under 100 KiB.
const MAX_WINDOW: usize = 2 * 1024 * 1024;

/// Reads the module list and Go version embedded in Go executables.
#[derive(Debug, Default, Clone, Copy)]
pub struct GoBinaryCataloger;

impl GoBinaryCataloger {
    pub fn new() -> Self {
        GoBinaryCataloger
    }
}

impl FileAnalyzer for GoBinaryCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "go-binary"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        if file.is_executable() && file.size >= 1024 {
            Interest::Stream
        } else {
            Interest::Skip
        }
    }

    fn open_stream(&self, file: &FileMeta<'_>) -> Option<Box<dyn FileSink + '_>> {
        Some(Box::new(BuildInfoSink::new(file.path)))
    }
}

/// Finds the first occurrence of a marker in a stream (at an offset that `accept` allows) and
/// keeps a window starting at it.
struct MarkerWindow {
    finder: Finder<'static>,
    /// The last `marker.len() - 1` bytes seen, for markers split across chunks.
    carry: Vec<u8>,
    window: Option<Vec<u8>>,
    /// True once the window is full (nothing more to copy).
    full: bool,
    /// Bytes of the stream before the current chunk.
    position: u64,
    /// Whether a match at this stream offset, followed by these bytes (as many as the chunk
    /// holds), is the real marker.
    accept: fn(u64, &[u8]) -> bool,
}

/// The build information header sits at the start of its own section (`.go.buildinfo`), which
/// is 16-byte aligned, and names a pointer size of 4 or 8. Go's own reader looks for it only at
/// aligned offsets: the magic also appears as a plain string (in the Go linker, which writes
/// it), and taking that first lost every module of such a binary.
fn is_buildinfo_header(offset: u64, bytes: &[u8]) -> bool {
    offset.is_multiple_of(16) && bytes.get(14).is_none_or(|size| matches!(size, 4 | 8))
}

impl MarkerWindow {
    fn new(marker: &'static [u8]) -> Self {
        Self::accepting(marker, |_, _| true)
    }

    fn accepting(marker: &'static [u8], accept: fn(u64, &[u8]) -> bool) -> Self {
        MarkerWindow {
            finder: Finder::new(marker),
            carry: Vec::with_capacity(marker.len()),
            window: None,
            full: false,
            position: 0,
            accept,
        }
    }

    fn marker_len(&self) -> usize {
        self.finder.needle().len()
    }

    fn write(&mut self, chunk: &[u8]) {
        let start = self.position;
        self.position += chunk.len() as u64;
        self.write_at(start, chunk);
    }

    /// `chunk` starts at stream offset `start`.
    fn write_at(&mut self, start: u64, chunk: &[u8]) {
        if self.full {
            return;
        }
        if let Some(window) = self.window.as_mut() {
            let room = MAX_WINDOW - window.len();
            window.extend_from_slice(&chunk[..room.min(chunk.len())]);
            self.full = window.len() >= MAX_WINDOW;
            return;
        }
        let keep = self.marker_len() - 1;
        if !self.carry.is_empty() {
            let carry_start = start - self.carry.len() as u64;
            let mut boundary = self.carry.clone();
            boundary.extend_from_slice(&chunk[..keep.min(chunk.len())]);
            // A match across the boundary starts inside the carry.
            let found = self
                .finder
                .find_iter(&boundary)
                .filter(|&at| at < self.carry.len())
                .find(|&at| {
                    let mut after = boundary[at..].to_vec();
                    after.extend_from_slice(&chunk[keep.min(chunk.len())..]);
                    (self.accept)(carry_start + at as u64, &after)
                });
            if let Some(at) = found {
                self.window = Some(self.carry[at..].to_vec());
                self.write_at(start, chunk);
                return;
            }
        }
        let accept = self.accept;
        if let Some(at) = self
            .finder
            .find_iter(chunk)
            .find(|&at| accept(start + at as u64, &chunk[at..]))
        {
            self.window = Some(Vec::new());
            self.write_at(start + at as u64, &chunk[at..]);
            return;
        }
        // Remember the end of the stream seen so far for the next boundary.
        let mut joined = std::mem::take(&mut self.carry);
        joined.extend_from_slice(&chunk[chunk.len().saturating_sub(keep)..]);
        let start = joined.len().saturating_sub(keep);
        self.carry = joined[start..].to_vec();
    }
}

struct BuildInfoSink {
    path: String,
    magic: MarkerWindow,
    info: MarkerWindow,
    functions: PclntabScan,
}

impl BuildInfoSink {
    fn new(path: &str) -> Self {
        BuildInfoSink {
            path: path.to_owned(),
            magic: MarkerWindow::accepting(MAGIC, is_buildinfo_header),
            info: MarkerWindow::new(INFO_START),
            functions: PclntabScan::default(),
        }
    }
}

impl FileSink for BuildInfoSink {
    fn write(&mut self, chunk: &[u8]) {
        self.functions.write(chunk);
        self.magic.write(chunk);
        // Go 1.18+ binaries carry the module information right after the header; the separate
        // search is only needed for the pointer format.
        if let Some(window) = &self.magic.window
            && window.len() > 15
            && window[15] & 2 != 0
        {
            self.info.full = true;
            // Stop copying as soon as both strings are complete.
            if !self.magic.full
                && window.len() > HEADER_LEN
                && read_string(&window[HEADER_LEN..])
                    .and_then(|(_, rest)| read_string(rest))
                    .is_some()
            {
                self.magic.full = true;
            }
        }
        self.info.write(chunk);
    }

    fn finish(self: Box<Self>, out: &mut AnalysisOutput) {
        let Some(blob) = self.magic.window else {
            return;
        };
        match decode(&blob, self.info.window.as_deref()) {
            Ok(info) => {
                info.report(&self.path, out);
                // Which functions the binary holds, for advisories that name theirs.
                out.go_symbols.extend(self.functions.finish(&self.path));
            }
            Err(message) => {
                CatalogError::syntax(&self.path, "Go build information", &message).report(out);
            }
        }
    }
}

pub(crate) struct BuildInfo {
    pub(crate) go_version: Option<String>,
    pub(crate) modinfo: String,
}

/// Decodes the blob starting at the magic. `info_window` starts at the module information
/// sentinel, wherever it was found.
pub(crate) fn decode(blob: &[u8], info_window: Option<&[u8]>) -> Result<BuildInfo, String> {
    if blob.len() < HEADER_LEN {
        return Err("truncated header".to_owned());
    }
    let flags = blob[15];
    if flags & 2 != 0 {
        let (version, rest) = read_string(&blob[HEADER_LEN..]).ok_or("bad Go version string")?;
        let (modinfo, _) = read_string(rest).ok_or("bad module information string")?;
        return Ok(BuildInfo {
            go_version: Some(String::from_utf8_lossy(version).into_owned()),
            modinfo: strip_sentinels(modinfo),
        });
    }
    // Pointer format: the strings live elsewhere in the binary.
    let modinfo = info_window
        .and_then(|window| {
            let end = memchr::memmem::find(window, INFO_END)?;
            Some(strip_sentinels(&window[..end + INFO_END.len()]))
        })
        .unwrap_or_default();
    Ok(BuildInfo {
        go_version: None,
        modinfo,
    })
}

/// The semantic version of a Go toolchain, as the Go vulnerability database writes the
/// standard library's: `go1.21.5` is `v1.21.5`, `go1.21` is `v1.21.0`, `go1.21rc2` is
/// `v1.21.0-rc.2` (so it sorts before `v1.21.0`), `go1.18beta1` is `v1.18.0-beta.1`. Only the
/// first word counts (`go1.21.5 X:boringcrypto`).
pub(crate) fn stdlib_version(go: &str) -> Option<String> {
    let number = go.split_whitespace().next()?.strip_prefix("go")?;
    let (release, pre) = match number.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => {
            let (release, pre) = number.split_at(at);
            let digits = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
            let (kind, count) = pre.split_at(digits);
            (
                release,
                Some(format!(
                    "{kind}.{}",
                    if count.is_empty() { "0" } else { count }
                )),
            )
        }
        None => (number, None),
    };
    let parts: Vec<&str> = release.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut version = format!(
        "v{}.{}.{}",
        parts[0],
        parts.get(1).unwrap_or(&"0"),
        parts.get(2).unwrap_or(&"0")
    );
    if let Some(pre) = pre {
        version.push('-');
        version.push_str(&pre);
    }
    Some(version)
}

fn read_string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut length: u64 = 0;
    for (index, byte) in data.iter().take(10).enumerate() {
        length |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            let start = index + 1;
            let end = start.checked_add(usize::try_from(length).ok()?)?;
            return Some((data.get(start..end)?, &data[end..]));
        }
    }
    None
}

fn strip_sentinels(modinfo: &[u8]) -> String {
    let len = modinfo.len();
    let inner = if len >= 33 && modinfo[len - 17] == b'\n' {
        &modinfo[16..len - 16]
    } else {
        modinfo
    };
    String::from_utf8_lossy(inner).into_owned()
}

impl BuildInfo {
    fn report(&self, path: &str, out: &mut AnalysisOutput) {
        let mut modules: Vec<(String, String)> = Vec::new();
        let mut main = None;
        let (mut goos, mut goarch) = (None, None);
        for line in self.modinfo.lines() {
            let mut fields = line.split('\t');
            let kind = fields.next().unwrap_or_default();
            let module = fields.next().unwrap_or_default();
            let version = fields.next().unwrap_or_default();
            match kind {
                // `build\tGOOS=linux`: the target the binary was built for.
                "build" => {
                    if let Some(value) = module.strip_prefix("GOOS=") {
                        goos = Some(value);
                    } else if let Some(value) = module.strip_prefix("GOARCH=") {
                        goarch = Some(value);
                    }
                }
                "mod" if !module.is_empty() => {
                    main = Some((module.to_owned(), version.to_owned()));
                }
                "dep" if !module.is_empty() && !version.is_empty() => {
                    modules.push((module.to_owned(), version.to_owned()));
                }
                // A replacement applies to the line before it. A replacement by a local
                // directory (`./x`, version `(devel)` or none) is not any published version:
                // drop it.
                "=>" => {
                    let local = module.starts_with(['.', '/']);
                    if local || version.is_empty() || version == "(devel)" {
                        modules.pop();
                    } else if let Some(last) = modules.last_mut() {
                        *last = (module.to_owned(), version.to_owned());
                    }
                }
                _ => {}
            }
        }
        // Every module of the binary, the standard library included, was built for its target:
        // advisories limited to other systems or architectures do not apply to it.
        let target = goos.zip(goarch).map(|(os, arch)| format!("{os}/{arch}"));
        let first = out.packages.len();
        let mut linked: Vec<(String, String)> = modules;
        if let Some(go) = &self.go_version
            && let Some(version) = stdlib_version(go)
        {
            linked.push(("stdlib".to_owned(), version));
        }
        if let Some((module, version)) = main {
            let version = if version.is_empty() {
                "(devel)".to_owned()
            } else {
                version
            };
            let mut package = go_package(&module, &version, path);
            // The build information lists every module linked in without saying which needs
            // which: all that is known is that the program uses each of them.
            let targets: std::collections::BTreeSet<Dependency> = linked
                .iter()
                .filter(|(dependency, _)| *dependency != module)
                .map(|(dependency, version)| Dependency::exact(dependency, version))
                .collect();
            package.depends_on = targets.into_iter().collect();
            out.packages.push(package);
        }
        for (module, version) in linked {
            out.packages.push(go_package(&module, &version, path));
        }
        for package in &mut out.packages[first..] {
            package.arch.clone_from(&target);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchain_versions_become_semantic_versions() {
        assert_eq!(stdlib_version("go1.21.5").as_deref(), Some("v1.21.5"));
        assert_eq!(
            stdlib_version("go1.21.5 X:boringcrypto").as_deref(),
            Some("v1.21.5")
        );
        assert_eq!(stdlib_version("go1.21").as_deref(), Some("v1.21.0"));
        assert_eq!(stdlib_version("go1.21rc2").as_deref(), Some("v1.21.0-rc.2"));
        assert_eq!(
            stdlib_version("go1.18beta1").as_deref(),
            Some("v1.18.0-beta.1")
        );
        assert_eq!(stdlib_version("devel +abc"), None);
        assert_eq!(stdlib_version("go1.x"), None);
    }

    /// A Go 1.18+ header with inline strings, at offset `at` of a zero-filled binary.
    fn binary_with_header_at(at: usize, decoy_at: Option<usize>) -> Vec<u8> {
        let mut bytes = vec![0u8; 64 * 1024];
        if let Some(decoy) = decoy_at {
            // The linker's own copy of the magic: a plain string, not a header.
            bytes[decoy..decoy + MAGIC.len()].copy_from_slice(MAGIC);
            bytes[decoy + MAGIC.len()..decoy + MAGIC.len() + 6].copy_from_slice(b"text\x00\x00");
        }
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&[8, 2]);
        header.resize(HEADER_LEN, 0);
        let version = b"go1.21.5";
        let modinfo = format!(
            "{}path\texample.com/app\nmod\texample.com/app\tv1.0.0\t\ndep\tgolang.org/x/net\tv0.17.0\th1:x=\nbuild\t-compiler=gc\nbuild\tGOARCH=arm64\nbuild\tGOOS=linux\n{}",
            String::from_utf8_lossy(INFO_START),
            String::from_utf8_lossy(INFO_END)
        );
        let modinfo = [INFO_START, &modinfo.as_bytes()[INFO_START.len()..]].concat();
        header.push(u8::try_from(version.len()).unwrap());
        header.extend_from_slice(version);
        let mut length = modinfo.len();
        while length >= 0x80 {
            header.push(u8::try_from(length & 0x7f).unwrap() | 0x80);
            length >>= 7;
        }
        header.push(u8::try_from(length).unwrap());
        header.extend_from_slice(&modinfo);
        bytes[at..at + header.len()].copy_from_slice(&header);
        bytes
    }

    fn catalog(bytes: &[u8], chunk: usize) -> Vec<(String, String)> {
        let mut sink = BuildInfoSink::new("usr/bin/app");
        for part in bytes.chunks(chunk) {
            sink.write(part);
        }
        let mut out = AnalysisOutput::default();
        Box::new(sink).finish(&mut out);
        out.packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect()
    }

    #[test]
    fn the_magic_as_a_plain_string_before_the_header_is_passed_over() {
        // The decoy sits at an odd offset before the aligned header, as in Go's linker.
        for chunk in [7, 100, 4096, 1 << 20] {
            let packages = catalog(&binary_with_header_at(32 * 1024, Some(1001)), chunk);
            assert!(
                packages.contains(&("golang.org/x/net".into(), "v0.17.0".into())),
                "chunk {chunk}: {packages:?}"
            );
            assert!(
                packages.contains(&("stdlib".into(), "v1.21.5".into())),
                "{packages:?}"
            );
        }
        // Every module carries the binary's build target, for platform-limited advisories, and
        // the binary's function table comes along.
        let mut binary = binary_with_header_at(32 * 1024, None);
        binary.extend_from_slice(&crate::gobin::pclntab::tests::pclntab(&[
            "runtime.main",
            "golang.org/x/net/http2.(*Framer).ReadFrame",
        ]));
        let mut sink = BuildInfoSink::new("usr/bin/app");
        for part in binary.chunks(4096) {
            sink.write(part);
        }
        let mut out = AnalysisOutput::default();
        Box::new(sink).finish(&mut out);
        assert_eq!(out.go_symbols.len(), 1);
        assert_eq!(out.go_symbols[0].path, "usr/bin/app");
        assert!(out.go_symbols[0].contains_symbol("golang.org/x/net/http2", "Framer.ReadFrame"));
        assert_eq!(out.packages.len(), 3);
        for package in &out.packages {
            assert_eq!(package.arch.as_deref(), Some("linux/arm64"), "{package:?}");
        }
        // A decoy that happens to be aligned but names no pointer size is passed over too.
        let packages = catalog(&binary_with_header_at(32 * 1024, Some(1024)), 4096);
        assert!(
            packages.contains(&("stdlib".into(), "v1.21.5".into())),
            "{packages:?}"
        );
    }
}
