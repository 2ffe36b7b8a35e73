//! The function names of a Go binary, read from its pclntab as the file streams by.
//!
//! Go (1.16 and later) writes a function-name table into every binary, stripped ones included
//! (`-s -w` drops the ELF symbol table, not the pclntab the runtime needs for stack traces). The
//! table holds every compiled function and every inlined callee, so "is the vulnerable function
//! in this binary" can be told without the ELF symbol table: this is what lets rempart mark
//! vulnerabilities whose code a binary does not contain. Hand-written because no maintained
//! crate reads this table from a stream; the format is Go's (`runtime/symtab.go`,
//! `debug/gosym/pclntab.go`):
//!
//! - header: magic (4 bytes, little-endian `0xfffffffa` for Go 1.16-1.17, `0xfffffff0` for
//!   1.18-1.19, `0xfffffff1` for 1.20+), two zero bytes, the instruction quantum (1, 2 or 4),
//!   the pointer size (4 or 8), then pointer-sized words;
//! - the name table spans `[funcnameOffset, cuOffset)` from the header's start, NUL-separated.
//!
//! Big-endian binaries (s390x, ppc64) and Go before 1.16 are not read: their modules keep
//! reachability unknown.

use rempart_core::GoSymbols;

/// Candidates followed at once: a magic can occur in data before the real table.
const MAX_CANDIDATES: usize = 4;
/// Longest header: 8 bytes then eight 8-byte words.
const MAX_HEADER: usize = 8 + 8 * 8;
/// A name table larger than this is not a real one (the largest binaries, kubelet-sized, hold
/// a few MiB); with `MAX_CANDIDATES`, it bounds what a hostile file can make us hold.
const MAX_NAMES_BYTES: u64 = 16 * 1024 * 1024;
/// A function count above this is not a real header.
const MAX_FUNCTIONS: u64 = 10_000_000;
/// Every Go program has it: a captured table without it was not a function table.
const PROOF: &[u8] = b"runtime.main\0";

/// A name table being copied as the stream passes it.
struct Capture {
    /// Stream offsets of the table.
    start: u64,
    end: u64,
    names: Vec<u8>,
}

/// Finds and copies the name table of a Go binary, chunk by chunk.
#[derive(Default)]
pub(crate) struct PclntabScan {
    position: u64,
    /// The last bytes of the previous chunk, for headers split across chunks.
    carry: Vec<u8>,
    /// Stream offset from which headers are still to be looked for.
    next_header: u64,
    captures: Vec<Capture>,
    found: Option<Vec<u8>>,
}

impl PclntabScan {
    pub(crate) fn write(&mut self, chunk: &[u8]) {
        if self.found.is_some() {
            return;
        }
        let chunk_start = self.position;
        self.position += chunk.len() as u64;
        for capture in &mut self.captures {
            copy_range(capture, chunk_start, chunk);
        }
        if let Some(index) = self
            .captures
            .iter()
            .position(|c| c.names.len() as u64 == c.end - c.start)
        {
            let capture = self.captures.swap_remove(index);
            if memchr::memmem::find(&capture.names, PROOF).is_some() {
                self.found = Some(capture.names);
                self.captures.clear();
                self.carry.clear();
                return;
            }
        }
        let buffer_start = chunk_start - self.carry.len() as u64;
        let mut buffer = std::mem::take(&mut self.carry);
        buffer.extend_from_slice(chunk);
        // The magic's last three bytes and the two zero bytes after them.
        for at in memchr::memmem::find_iter(&buffer, b"\xff\xff\xff\x00\x00") {
            let Some(header_at) = at.checked_sub(1) else {
                continue;
            };
            let offset = buffer_start + header_at as u64;
            if offset < self.next_header
                || !offset.is_multiple_of(4)
                || buffer.len() - header_at < MAX_HEADER
                || self.captures.len() >= MAX_CANDIDATES
            {
                continue;
            }
            if let Some((names_start, names_end)) = header_names_range(&buffer[header_at..]) {
                let mut capture = Capture {
                    start: offset + names_start,
                    end: offset + names_end,
                    names: Vec::new(),
                };
                // The table usually follows the header in this very buffer.
                copy_range(&mut capture, buffer_start, &buffer);
                self.captures.push(capture);
            }
        }
        // Headers starting in the last `MAX_HEADER` bytes are looked at with the next chunk.
        let keep = buffer.len().min(MAX_HEADER);
        self.next_header = self
            .next_header
            .max(buffer_start + (buffer.len() - keep) as u64);
        self.carry = buffer.split_off(buffer.len() - keep);
    }

    /// The binary's function table, or `None` when none was found.
    pub(crate) fn finish(mut self, path: &str) -> Option<GoSymbols> {
        if self.found.is_none() {
            // A table that ends exactly at the end of the stream.
            self.found = self
                .captures
                .into_iter()
                .find(|c| {
                    c.names.len() as u64 == c.end - c.start
                        && memchr::memmem::find(&c.names, PROOF).is_some()
                })
                .map(|c| c.names);
        }
        let names = self.found?;
        let mut keys = Vec::new();
        for name in names.split(|b| *b == 0) {
            let Ok(name) = std::str::from_utf8(name) else {
                continue;
            };
            if let Some((package, symbol)) = split_function_name(name) {
                keys.push(GoSymbols::symbol_key(&package, &symbol));
                keys.push(GoSymbols::package_key(&package));
            }
        }
        keys.sort_unstable();
        keys.dedup();
        Some(GoSymbols {
            path: path.to_owned(),
            keys,
        })
    }
}

/// Copies the part of `chunk` (at stream offset `chunk_start`) that falls in the capture's
/// range and follows what it already holds.
fn copy_range(capture: &mut Capture, chunk_start: u64, chunk: &[u8]) {
    let have = capture.start + capture.names.len() as u64;
    let chunk_end = chunk_start + chunk.len() as u64;
    if have >= capture.end || chunk_end <= have || chunk_start > have {
        return;
    }
    let from = usize::try_from(have - chunk_start).unwrap_or(usize::MAX);
    let to = usize::try_from(capture.end.min(chunk_end) - chunk_start).unwrap_or(usize::MAX);
    if from < to && to <= chunk.len() {
        capture.names.extend_from_slice(&chunk[from..to]);
    }
}

/// Reads a candidate header (at least `MAX_HEADER` bytes): the name table's range, relative to
/// the header's start, when every field is plausible.
fn header_names_range(header: &[u8]) -> Option<(u64, u64)> {
    let magic = u32::from_le_bytes(header[..4].try_into().ok()?);
    let (quantum, pointer) = (header[6], header[7]);
    if header[4] != 0 || header[5] != 0 || !matches!(quantum, 1 | 2 | 4) {
        return None;
    }
    let pointer = usize::from(pointer);
    if pointer != 4 && pointer != 8 {
        return None;
    }
    let word = |index: usize| -> Option<u64> {
        let at = 8 + index * pointer;
        let bytes = header.get(at..at + pointer)?;
        Some(if pointer == 8 {
            u64::from_le_bytes(bytes.try_into().ok()?)
        } else {
            u64::from(u32::from_le_bytes(bytes.try_into().ok()?))
        })
    };
    // Go 1.18 added a word (textStart) before the offsets.
    let (first_offset, header_len) = match magic {
        0xffff_fffa => (2, 8 + 7 * pointer),
        0xffff_fff0 | 0xffff_fff1 => (3, 8 + 8 * pointer),
        _ => return None,
    };
    let functions = word(0)?;
    let names = word(first_offset)?;
    let units = word(first_offset + 1)?;
    let files = word(first_offset + 2)?;
    let pcs = word(first_offset + 3)?;
    let lines = word(first_offset + 4)?;
    let plausible = functions > 0
        && functions < MAX_FUNCTIONS
        && names >= header_len as u64
        && names < units
        && units - names <= MAX_NAMES_BYTES
        && units <= files
        && files <= pcs
        && pcs <= lines;
    plausible.then_some((names, units))
}

/// Splits a function name as the Go vulnerability database names symbols:
/// `net/http.(*Server).Serve` is package `net/http`, symbol `Server.Serve`. The package ends at
/// the first `.` after the last `/` (a `.` in a path element is written `%2e`); type
/// parameters (`[...]`), pointer receivers (`(*T)`), closures (`.func1`, `.1`), goroutine and
/// defer wrappers and method values (`-fm`) are reduced to the function they belong to.
pub(crate) fn split_function_name(name: &str) -> Option<(String, String)> {
    let plain = strip_type_parameters(name);
    let slash = plain.rfind('/').map_or(0, |i| i + 1);
    let dot = slash + plain[slash..].find('.')?;
    let package = String::from_utf8_lossy(&rempart_core::percent_decode(&plain.as_bytes()[..dot]))
        .into_owned();
    if package.is_empty() || package == "main" || package.starts_with("go:") {
        return None;
    }
    let mut parts: Vec<String> = plain[dot + 1..]
        .split('.')
        .map(|part| {
            let part = part
                .trim_start_matches("(*")
                .trim_start_matches('(')
                .trim_end_matches(')');
            let part = part.strip_suffix("-fm").unwrap_or(part);
            match part.find("-range") {
                Some(at) => part[..at].to_owned(),
                None => part.to_owned(),
            }
        })
        .collect();
    while parts.len() > 1 && parts.last().is_some_and(|part| is_generated(part)) {
        parts.pop();
    }
    let symbol = parts.join(".");
    (!symbol.is_empty()).then_some((package, symbol))
}

/// `func1`, `2`, `gowrap1`, `deferwrap3`: names the compiler gives to code inside a function.
fn is_generated(part: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(part)
        || part.strip_prefix("func").is_some_and(digits)
        || part.strip_prefix("gowrap").is_some_and(digits)
        || part.strip_prefix("deferwrap").is_some_and(digits)
}

fn strip_type_parameters(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A Go 1.20+ pclntab (64-bit, little-endian) naming `names`.
    pub(crate) fn pclntab(names: &[&str]) -> Vec<u8> {
        let mut table = Vec::new();
        for name in names {
            table.extend_from_slice(name.as_bytes());
            table.push(0);
        }
        let header_len = 8 + 8 * 8u64;
        let names_end = header_len + table.len() as u64;
        let mut out = vec![0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8];
        for word in [
            names.len() as u64,
            3,
            0,
            header_len,
            names_end,
            names_end + 8,
            names_end + 16,
            names_end + 24,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&table);
        out.extend_from_slice(&[0u8; 32]);
        out
    }

    fn scan(bytes: &[u8], chunk: usize) -> Option<GoSymbols> {
        let mut scan = PclntabScan::default();
        for part in bytes.chunks(chunk) {
            scan.write(part);
        }
        scan.finish("usr/bin/app")
    }

    #[test]
    fn names_split_as_the_vulnerability_database_writes_symbols() {
        let cases = [
            (
                "net/http.(*Server).Serve",
                Some(("net/http", "Server.Serve")),
            ),
            (
                "net/http.ListenAndServe",
                Some(("net/http", "ListenAndServe")),
            ),
            (
                "crypto/tls.(*Conn).Handshake.func1",
                Some(("crypto/tls", "Conn.Handshake")),
            ),
            (
                "sync.(*Map[go.shape.int,go.shape.string]).Load",
                Some(("sync", "Map.Load")),
            ),
            (
                "gopkg.in/yaml%2ev3.Unmarshal",
                Some(("gopkg.in/yaml.v3", "Unmarshal")),
            ),
            (
                "golang.org/x/net/http2.(*Framer).ReadFrame",
                Some(("golang.org/x/net/http2", "Framer.ReadFrame")),
            ),
            (
                "net/http.(*conn).serve.gowrap3",
                Some(("net/http", "conn.serve")),
            ),
            ("os/exec.(*Cmd).Start-fm", Some(("os/exec", "Cmd.Start"))),
            ("main.main", None),
            ("go:buildid", None),
        ];
        for (name, expected) in cases {
            let got = split_function_name(name);
            let got = got.as_ref().map(|(p, s)| (p.as_str(), s.as_str()));
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn the_table_is_found_in_any_chunking_after_decoys() {
        let names = [
            "runtime.main",
            "net/http.(*Server).Serve",
            "crypto/tls.Dial",
        ];
        let mut binary = vec![0u8; 4000];
        // A decoy: the magic with implausible fields, and one aligned copy before the real one.
        binary[100..108].copy_from_slice(&[0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8]);
        let decoy = pclntab(&["no.proof"]);
        binary.extend_from_slice(&decoy);
        while !binary.len().is_multiple_of(4) {
            binary.push(0);
        }
        binary.extend_from_slice(&pclntab(&names));
        binary.extend_from_slice(&[7u8; 1000]);
        for chunk in [1, 3, 64, 100, 4096, 1 << 20] {
            let table = scan(&binary, chunk).unwrap_or_else(|| panic!("chunk {chunk}"));
            assert!(
                table.contains_symbol("net/http", "Server.Serve"),
                "chunk {chunk}"
            );
            assert!(table.contains_symbol("crypto/tls", "Dial"));
            assert!(table.contains_package("crypto/tls"));
            assert!(!table.contains_symbol("net/http", "ListenAndServe"));
            assert!(!table.contains_package("no"));
        }
    }

    #[test]
    fn no_table_no_answer() {
        assert!(scan(&[0u8; 10_000], 512).is_none());
        // A table without runtime.main is not a function table.
        assert!(scan(&pclntab(&["a.b"]), 512).is_none());
    }
}
