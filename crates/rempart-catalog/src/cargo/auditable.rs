//! `cargo auditable` binaries: a zlib-compressed JSON dependency list in the ELF section
//! `.dep-v0`.
//!
//! Binaries are streamed, never buffered whole. The section is not loaded at run time, so the
//! linker places it after every loadable segment: the sink reads the ELF and program headers from
//! the first bytes, then keeps only what follows the last loadable segment (non-loaded sections
//! and the section header table, small for release binaries) and finds the section there.
//! Only ELF is read: PE and Mach-O binaries are rare in Linux container images.

use std::io::Read;

use rempart_core::{AnalysisOutput, Dependency, FileAnalyzer, FileMeta, FileSink, Interest};
use serde::Deserialize;

use super::crate_package;
use crate::common::{CatalogError, MIB, fingerprint};

/// Enough for the ELF header and program headers of any real binary.
const HEAD_BYTES: usize = 64 * 1024;
/// Cap on the non-loaded tail kept in memory. Stripped release binaries have a tail of a few
/// KiB; unstripped ones carry their debug sections there (13 MiB for a 40 MiB Go binary).
const MAX_TAIL: u64 = 64 * MIB;
/// The decompressed list of a large application is a few hundred KiB.
const MAX_JSON: u64 = 16 * MIB;
const SECTION: &[u8] = b".dep-v0";

/// Reads the dependency list embedded by `cargo auditable` in ELF executables and shared
/// libraries.
#[derive(Debug, Default, Clone, Copy)]
pub struct CargoAuditableCataloger;

impl CargoAuditableCataloger {
    pub fn new() -> Self {
        CargoAuditableCataloger
    }
}

impl FileAnalyzer for CargoAuditableCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "cargo-auditable"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        let library = file.file_name().contains(".so");
        if (file.is_executable() || library) && file.size >= 64 {
            Interest::Stream
        } else {
            Interest::Skip
        }
    }

    fn open_stream(&self, file: &FileMeta<'_>) -> Option<Box<dyn FileSink + '_>> {
        Some(Box::new(ElfTailSink {
            path: file.path.to_owned(),
            head: Vec::new(),
            position: 0,
            layout: Layout::Unknown,
            tail: Vec::new(),
        }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Still reading the headers.
    Unknown,
    /// Not ELF, or no section table: nothing to do.
    Ignore,
    /// The tail starting at this file offset is being kept.
    Tail(Elf),
    /// The tail exceeded [`MAX_TAIL`].
    Overflow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Elf {
    is_64: bool,
    little_endian: bool,
    tail_start: u64,
    section_offset: u64,
    section_entry_size: u64,
    section_count: u64,
    names_index: u64,
}

struct ElfTailSink {
    path: String,
    head: Vec<u8>,
    position: u64,
    layout: Layout,
    tail: Vec<u8>,
}

impl FileSink for ElfTailSink {
    fn write(&mut self, chunk: &[u8]) {
        let start = self.position;
        self.position += chunk.len() as u64;
        if self.layout == Layout::Unknown {
            let wanted = HEAD_BYTES.saturating_sub(self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..wanted]);
            self.layout = match parse_elf_header(&self.head) {
                Ok(Some(elf)) => Layout::Tail(elf),
                Ok(None) if self.head.len() < HEAD_BYTES && wanted == chunk.len() => {
                    Layout::Unknown
                }
                _ => Layout::Ignore,
            };
            if let Layout::Tail(elf) = self.layout {
                // The bytes already seen that belong to the tail are in the head buffer.
                let from = usize::try_from(elf.tail_start).unwrap_or(usize::MAX);
                if from < self.head.len() {
                    self.tail.extend_from_slice(&self.head[from..]);
                }
                let consumed = start + wanted as u64;
                self.keep(elf, consumed, &chunk[wanted..]);
            }
            return;
        }
        if let Layout::Tail(elf) = self.layout {
            self.keep(elf, start, chunk);
        }
    }

    fn finish(self: Box<Self>, out: &mut AnalysisOutput) {
        match self.layout {
            Layout::Tail(elf) => {
                if let Some(section) = find_section(&elf, &self.tail)
                    && let Err(error) = parse_section(&self.path, section, out)
                {
                    error.report(out);
                }
            }
            Layout::Overflow => CatalogError::Limit {
                path: self.path,
                what: "non-loaded part of the ELF binary",
                limit: MAX_TAIL,
            }
            .report(out),
            Layout::Unknown | Layout::Ignore => {}
        }
    }
}

impl ElfTailSink {
    /// Keeps the part of `chunk` (which starts at file offset `start`) at or after the tail.
    fn keep(&mut self, elf: Elf, start: u64, chunk: &[u8]) {
        let end = start + chunk.len() as u64;
        if end <= elf.tail_start {
            return;
        }
        let skip = usize::try_from(elf.tail_start.saturating_sub(start)).unwrap_or(usize::MAX);
        let part = &chunk[skip.min(chunk.len())..];
        if self.tail.len() as u64 + part.len() as u64 > MAX_TAIL {
            self.layout = Layout::Overflow;
            self.tail = Vec::new();
            return;
        }
        self.tail.extend_from_slice(part);
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    little_endian: bool,
}

impl Reader<'_> {
    fn u16(&self, offset: u64) -> Option<u64> {
        let at = usize::try_from(offset).ok()?;
        let b: [u8; 2] = self.bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(u64::from(if self.little_endian {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }))
    }

    fn u32(&self, offset: u64) -> Option<u64> {
        let at = usize::try_from(offset).ok()?;
        let b: [u8; 4] = self.bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(u64::from(if self.little_endian {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }))
    }

    fn u64(&self, offset: u64) -> Option<u64> {
        let at = usize::try_from(offset).ok()?;
        let b: [u8; 8] = self.bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(if self.little_endian {
            u64::from_le_bytes(b)
        } else {
            u64::from_be_bytes(b)
        })
    }
}

/// `Ok(None)` means "not enough bytes yet", `Err` means "not a usable ELF file".
fn parse_elf_header(head: &[u8]) -> Result<Option<Elf>, ()> {
    if head.len() < 64 {
        return if b"\x7fELF".starts_with(&head[..head.len().min(4)]) {
            Ok(None)
        } else {
            Err(())
        };
    }
    if &head[..4] != b"\x7fELF" {
        return Err(());
    }
    let is_64 = match head[4] {
        1 => false,
        2 => true,
        _ => return Err(()),
    };
    let little_endian = match head[5] {
        1 => true,
        2 => false,
        _ => return Err(()),
    };
    let r = Reader {
        bytes: head,
        little_endian,
    };
    let (ph_offset, sh_offset, ph_size_at) = if is_64 {
        (r.u64(0x20), r.u64(0x28), 0x36)
    } else {
        (r.u32(0x1c), r.u32(0x20), 0x2a)
    };
    let (Some(ph_offset), Some(section_offset)) = (ph_offset, sh_offset) else {
        return Err(());
    };
    let ph_entry_size = r.u16(ph_size_at).ok_or(())?;
    let ph_count = r.u16(ph_size_at + 2).ok_or(())?;
    let section_entry_size = r.u16(ph_size_at + 4).ok_or(())?;
    let section_count = r.u16(ph_size_at + 6).ok_or(())?;
    let names_index = r.u16(ph_size_at + 8).ok_or(())?;
    if section_offset == 0 || section_count == 0 {
        return Err(());
    }
    let ph_end = ph_offset + ph_entry_size * ph_count;
    if ph_end > head.len() as u64 {
        return if ph_end <= HEAD_BYTES as u64 {
            Ok(None)
        } else {
            Err(())
        };
    }
    let mut tail_start = 0;
    for index in 0..ph_count {
        const PT_LOAD: u64 = 1;
        let entry = ph_offset + index * ph_entry_size;
        if r.u32(entry) != Some(PT_LOAD) {
            continue;
        }
        let (offset, file_size) = if is_64 {
            (r.u64(entry + 8), r.u64(entry + 32))
        } else {
            (r.u32(entry + 4), r.u32(entry + 16))
        };
        if let (Some(offset), Some(file_size)) = (offset, file_size) {
            tail_start = tail_start.max(offset.saturating_add(file_size));
        }
    }
    Ok(Some(Elf {
        is_64,
        little_endian,
        tail_start,
        section_offset,
        section_entry_size,
        section_count,
        names_index,
    }))
}

/// Finds `.dep-v0` in the tail (which starts at `elf.tail_start`).
fn find_section<'a>(elf: &Elf, tail: &'a [u8]) -> Option<&'a [u8]> {
    let r = Reader {
        bytes: tail,
        little_endian: elf.little_endian,
    };
    let base = elf.section_offset.checked_sub(elf.tail_start)?;
    let header = |index: u64| -> Option<(u64, u64, u64)> {
        let at = base + index * elf.section_entry_size;
        let name = r.u32(at)?;
        let (offset, size) = if elf.is_64 {
            (r.u64(at + 0x18)?, r.u64(at + 0x20)?)
        } else {
            (r.u32(at + 0x10)?, r.u32(at + 0x14)?)
        };
        Some((name, offset, size))
    };
    let slice = |offset: u64, size: u64| -> Option<&'a [u8]> {
        let start = usize::try_from(offset.checked_sub(elf.tail_start)?).ok()?;
        let end = start.checked_add(usize::try_from(size).ok()?)?;
        tail.get(start..end)
    };
    let (_, names_offset, names_size) = header(elf.names_index)?;
    let names = slice(names_offset, names_size)?;
    for index in 0..elf.section_count {
        let Some((name, offset, size)) = header(index) else {
            continue;
        };
        let name = usize::try_from(name).ok()?;
        if names.get(name..name + SECTION.len()) == Some(SECTION)
            && names.get(name + SECTION.len()) == Some(&0)
        {
            return slice(offset, size);
        }
    }
    None
}

#[derive(Deserialize)]
struct VersionInfo {
    packages: Vec<AuditablePackage>,
}

#[derive(Deserialize)]
struct AuditablePackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    /// The crate the binary was built from.
    #[serde(default)]
    root: bool,
    /// Indices into `packages` of the crates this one uses.
    #[serde(default)]
    dependencies: Vec<usize>,
}

impl AuditablePackage {
    /// `local` crates (the binary's own workspace) and git checkouts are not crates.io releases;
    /// alternative registries are kept, like Cargo.lock's. The root crate is the program itself:
    /// a component of the image, listed even though it is local.
    fn reported(&self) -> bool {
        self.root || matches!(self.source.as_deref(), Some("crates.io" | "registry"))
    }
}

fn parse_section(
    path: &str,
    compressed: &[u8],
    out: &mut AnalysisOutput,
) -> Result<(), CatalogError> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|error| CatalogError::syntax(path, "cargo-auditable zlib data", &error))?;
    if json.len() as u64 > MAX_JSON {
        return Err(CatalogError::Limit {
            path: path.to_owned(),
            what: "decompressed cargo-auditable data",
            limit: MAX_JSON,
        });
    }
    let info: VersionInfo = serde_json::from_slice(&json)
        .map_err(|error| CatalogError::syntax(path, "cargo-auditable JSON", &error))?;
    for entry in &info.packages {
        if entry.reported() {
            let mut package = crate_package(&entry.name, &entry.version, path);
            let targets: std::collections::BTreeSet<Dependency> = entry
                .dependencies
                .iter()
                .filter_map(|index| info.packages.get(*index))
                .filter(|target| target.reported())
                .map(|target| Dependency::exact(&target.name, &target.version))
                .collect();
            package.depends_on = targets.into_iter().collect();
            out.packages.push(package);
        }
    }
    Ok(())
}
