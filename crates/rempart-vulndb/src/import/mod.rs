//! Reads advisory feeds and builds the database file.

mod alpine;
mod csaf;
mod debian_tracker;
mod exploited;
pub(crate) mod osv;
pub(crate) mod ubuntu_vex;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::error::VulnDbError;
use crate::model::Advisory;
use crate::store::Writer;

/// Largest single JSON or YAML document read (the Debian tracker JSON is about 80 MB).
const MAX_DOCUMENT_BYTES: u64 = 512 * 1024 * 1024;
/// Largest OSV record inside a zip or directory: real ones are a few KB, the biggest few MB. A
/// CSAF VEX document in a directory may be as large as any single input
/// ([`MAX_DOCUMENT_BYTES`]): it lists every product a CVE concerns, thousands for a kernel flaw.
const MAX_RECORD_BYTES: u64 = 32 * 1024 * 1024;
/// How many rejected-record messages an import keeps.
const MAX_PROBLEMS_KEPT: usize = 50;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportStats {
    /// Advisories stored (distinct per source and id).
    pub advisories: u64,
    /// Package entries stored (an advisory affecting three packages counts three).
    pub affected_packages: u64,
    /// Records skipped because their publisher withdrew them: OSV records with `withdrawn`, CSAF
    /// VEX documents of a rejected CVE.
    pub withdrawn: u64,
    /// Entries of CISA's Known Exploited Vulnerabilities catalogue stored.
    pub known_exploited: u64,
    /// EPSS scores stored.
    pub epss_scores: u64,
    /// Records that could not be read; the rest of the input was still imported.
    pub rejected: u64,
    /// The first messages about rejected records (which file, which entry, why).
    pub problems: Vec<String>,
    /// Size of the database file written.
    pub db_size_bytes: u64,
}

impl ImportStats {
    fn reject(&mut self, message: String) {
        self.rejected += 1;
        if self.problems.len() < MAX_PROBLEMS_KEPT {
            self.problems.push(message);
        }
    }
}

/// What an import may replace. A database that yields no advisory, or far fewer than the one it
/// would replace, is almost always a wrong input (an empty or wrong directory, a truncated
/// mirror); replacing a working database with it would make every scan report "clean".
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ImportGuard {
    /// Accept a build with no advisory at all.
    pub allow_empty: bool,
    /// Refuse a build holding fewer than this share of the replaced database's advisories
    /// (`Some(0.5)`: refuse losing more than half). `None`: any count.
    pub min_share_of_previous: Option<f64>,
}

/// Builds the database at `db_path` from `inputs`, replacing any database there; a build that
/// yields no advisory is refused (see [`import_paths_guarded`]).
pub fn import_paths(db_path: &Path, inputs: &[PathBuf]) -> Result<ImportStats, VulnDbError> {
    import_paths_guarded(db_path, inputs, ImportGuard::default())
}

/// Builds the database at `db_path` from `inputs`, replacing any database there.
///
/// Each input may be an osv.dev `all.zip` export, a directory of OSV JSON files, Red Hat CSAF
/// VEX documents or Ubuntu OpenVEX CVE documents (searched recursively; `.yaml` secdb files in
/// it are read too), one OSV JSON file, one Red Hat CSAF VEX document, one Ubuntu OpenVEX
/// document, an Alpine secdb YAML file (release from its `distroversion`, else from a `vX.Y`
/// parent directory) or the Debian security-tracker JSON. Ubuntu's OpenVEX documents qualify
/// the Ubuntu OSV records of the same build, whichever input holds them (see
/// `Writer::apply_ubuntu_vex`). The new database is written beside the target and renamed over
/// it only when complete, so an interrupted build leaves the previous database usable, and only
/// when it passes `guard`.
pub fn import_paths_guarded(
    db_path: &Path,
    inputs: &[PathBuf],
    guard: ImportGuard,
) -> Result<ImportStats, VulnDbError> {
    let parent = match db_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|source| VulnDbError::Io {
        path: parent.clone(),
        source,
    })?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".vuln-db-build-").suffix(".sqlite");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // Readable by the other users of a shared database (0644 less the umask), as any file
        // a tool writes; a temporary file alone would stay 0600.
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let temp = builder
        .tempfile_in(&parent)
        .map_err(|source| VulnDbError::Io {
            path: parent.clone(),
            source,
        })?;
    let mut writer = Writer::create(temp.path())?;
    let mut stats = ImportStats::default();
    for input in inputs {
        import_one(&mut writer, input, &mut stats)?;
    }
    writer.apply_ubuntu_vex()?;
    stats.advisories = writer.advisories;
    stats.affected_packages = writer.affected;
    stats.known_exploited = writer.known_exploited;
    stats.epss_scores = writer.epss_scores;
    let built_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    writer.finish(built_at)?;
    check_guard(db_path, &stats, guard)?;
    temp.persist(db_path).map_err(|e| VulnDbError::Persist {
        path: db_path.to_owned(),
        source: e.error,
    })?;
    stats.db_size_bytes = fs::metadata(db_path).map_or(0, |m| m.len());
    Ok(stats)
}

fn check_guard(db_path: &Path, stats: &ImportStats, guard: ImportGuard) -> Result<(), VulnDbError> {
    let refused = |reason: String| VulnDbError::ImportRefused {
        path: db_path.to_owned(),
        reason,
    };
    if stats.advisories == 0 && !guard.allow_empty {
        return Err(refused(format!(
            "the inputs hold no advisory ({} records rejected, {} withdrawn)",
            stats.rejected, stats.withdrawn
        )));
    }
    if let Some(share) = guard.min_share_of_previous
        && db_path.is_file()
        && let Ok(previous) = crate::Database::open(db_path).and_then(|db| db.status())
    {
        #[allow(clippy::cast_precision_loss)]
        let floor = previous.advisories as f64 * share;
        #[allow(clippy::cast_precision_loss)]
        if (stats.advisories as f64) < floor {
            return Err(refused(format!(
                "it would hold {} advisories where the current database holds {}",
                stats.advisories, previous.advisories
            )));
        }
    }
    Ok(())
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> VulnDbError + '_ {
    move |source| VulnDbError::Io {
        path: path.to_owned(),
        source,
    }
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, VulnDbError> {
    let file = rempart_core::open_regular_file(path).map_err(io_error(path))?;
    let mut content = Vec::new();
    file.take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut content)
        .map_err(io_error(path))?;
    if content.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(VulnDbError::TooLarge {
            input: path.display().to_string(),
            what: "the file".to_owned(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(content)
}

fn import_one(
    writer: &mut Writer,
    input: &Path,
    stats: &mut ImportStats,
) -> Result<(), VulnDbError> {
    let metadata = fs::metadata(input).map_err(io_error(input))?;
    if metadata.is_dir() {
        return import_directory(writer, input, input, stats);
    }
    let mut magic = [0u8; 4];
    // A device or FIFO named as an input is refused here, before anything blocks on it.
    let read = rempart_core::open_regular_file(input)
        .and_then(|mut f| f.read(&mut magic))
        .map_err(io_error(input))?;
    if read == 4 && magic == *b"PK\x03\x04" {
        return import_zip(writer, input, stats);
    }
    if read == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] {
        let file = rempart_core::open_regular_file(input).map_err(io_error(input))?;
        let decoder = zstd::Decoder::new(file).map_err(|e| VulnDbError::Parse {
            input: input.display().to_string(),
            reason: format!("not zstd: {e}"),
        })?;
        return import_tar(writer, input, decoder, stats);
    }
    // `FD 37 7A 58 5A 00`: xz, as Canonical publishes its OpenVEX data (`vex-all.tar.xz`).
    if read == 4 && magic == [0xfd, 0x37, 0x7a, 0x58] {
        let file = rempart_core::open_regular_file(input).map_err(io_error(input))?;
        let decoder = liblzma::read::XzDecoder::new_multi_decoder(std::io::BufReader::new(file));
        return import_tar(writer, input, decoder, stats);
    }
    if read >= 2 && magic[..2] == [0x1f, 0x8b] {
        // The one gzipped feed: FIRST's EPSS export (`epss_scores-YYYY-MM-DD.csv.gz`).
        let file = rempart_core::open_regular_file(input).map_err(io_error(input))?;
        let decoder = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
        return import_epss(writer, input, decoder);
    }
    let extension = input
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if extension == "zip" {
        return Err(VulnDbError::Parse {
            input: input.display().to_string(),
            reason: "not a zip archive (it does not start with a zip signature): a truncated or failed download?".to_owned(),
        });
    }
    if extension == "csv" {
        let file = rempart_core::open_regular_file(input).map_err(io_error(input))?;
        return import_epss(writer, input, file);
    }
    let content = read_bounded(input)?;
    if extension == "yaml" || extension == "yml" {
        let text = String::from_utf8_lossy(&content);
        if !alpine::looks_like_secdb(&text) {
            return Err(VulnDbError::UnknownFormat {
                path: input.to_owned(),
            });
        }
        return import_secdb(writer, input, &text);
    }
    let value: serde_json::Value =
        serde_json::from_slice(&content).map_err(|e| VulnDbError::Parse {
            input: input.display().to_string(),
            reason: e.to_string(),
        })?;
    if csaf::is_csaf_vex(&value) {
        return import_csaf_value(writer, input, &input.display().to_string(), value, stats);
    }
    if ubuntu_vex::is_ubuntu_vex(&value) {
        return import_ubuntu_vex_value(writer, input, &input.display().to_string(), value, stats);
    }
    let is_osv = value.get("id").is_some_and(serde_json::Value::is_string)
        && (value.get("affected").is_some() || value.get("modified").is_some());
    if is_osv {
        return import_osv_value(writer, input, &input.display().to_string(), value, stats);
    }
    if value.get("distributions").is_some() && value.get("updated").is_some() {
        let text = String::from_utf8_lossy(&content);
        let table = crate::EolTable::from_json(&text).map_err(|e| VulnDbError::Parse {
            input: input.display().to_string(),
            reason: e.to_string(),
        })?;
        writer.set_eol_table(input, &text, table.updated());
        return Ok(());
    }
    if exploited::looks_like_kev(&value) {
        let catalog: exploited::KevCatalog =
            serde_json::from_value(value).map_err(|e| VulnDbError::Parse {
                input: input.display().to_string(),
                reason: format!("not CISA's Known Exploited Vulnerabilities catalogue: {e}"),
            })?;
        let released = catalog
            .date_released
            .as_deref()
            .and_then(osv::normalize_timestamp);
        let entries = exploited::kev_entries(input, catalog)?;
        return writer.add_known_exploited(input, released, &entries);
    }
    if debian_tracker::looks_like_tracker(&value) {
        let tracker: debian_tracker::Tracker =
            serde_json::from_value(value).map_err(|e| VulnDbError::Parse {
                input: input.display().to_string(),
                reason: format!("not a Debian security-tracker document: {e}"),
            })?;
        for advisory in debian_tracker::convert(tracker) {
            writer.add("debian-security-tracker", input, &advisory)?;
        }
        return Ok(());
    }
    Err(VulnDbError::UnknownFormat {
        path: input.to_owned(),
    })
}

/// Reads an EPSS export, bounded like any document (the real one is about 10 MB unpacked).
fn import_epss(writer: &mut Writer, input: &Path, reader: impl Read) -> Result<(), VulnDbError> {
    let mut bounded = reader.take(MAX_DOCUMENT_BYTES + 1);
    let mut start = [0u8; 32];
    let mut filled = 0;
    while filled < start.len() {
        let read = bounded
            .read(&mut start[filled..])
            .map_err(|e| VulnDbError::Parse {
                input: input.display().to_string(),
                reason: format!("cannot read: {e}"),
            })?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    if !exploited::looks_like_epss(&start[..filled]) {
        return Err(VulnDbError::UnknownFormat {
            path: input.to_owned(),
        });
    }
    let (date, scores) = exploited::epss_scores(input, (&start[..filled]).chain(bounded))?;
    writer.add_epss(input, date, &scores)
}

fn import_secdb(writer: &mut Writer, input: &Path, text: &str) -> Result<(), VulnDbError> {
    let (release, advisories) = alpine::parse(text, input, None)?;
    let source = format!("alpine-secdb:{release}");
    for advisory in &advisories {
        writer.add(&source, input, advisory)?;
    }
    Ok(())
}

/// The source an OSV record is counted under: `osv:` plus its first package's ecosystem.
fn osv_source(advisory: &Advisory) -> String {
    let ecosystem = advisory
        .affected
        .first()
        .map_or("unknown", |a| a.ecosystem.as_str());
    format!("osv:{ecosystem}")
}

fn import_osv_value(
    writer: &mut Writer,
    input: &Path,
    entry: &str,
    value: serde_json::Value,
    stats: &mut ImportStats,
) -> Result<(), VulnDbError> {
    let record: osv::OsvRecord = match serde_json::from_value(value) {
        Ok(record) => record,
        Err(e) => {
            stats.reject(format!("{entry}: not an OSV record: {e}"));
            return Ok(());
        }
    };
    if record.withdrawn.is_some() {
        stats.withdrawn += 1;
        return Ok(());
    }
    if record.is_non_security_erratum() {
        return Ok(());
    }
    let advisory = record.into_advisory();
    writer.add(&osv_source(&advisory), input, &advisory)
}

/// Reads `value` as a document of type `T` (`what`: "a Red Hat CSAF VEX document"). One that
/// does not read as one is a rejected record naming its entry, as a malformed OSV record is: one
/// bad file of an archive of a quarter million must not stop the import.
fn read_document<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    entry: &str,
    what: &str,
    stats: &mut ImportStats,
) -> Option<T> {
    match serde_json::from_value(value) {
        Ok(document) => Some(document),
        Err(e) => {
            stats.reject(format!("{entry}: not {what}: {e}"));
            None
        }
    }
}

/// Reads one Ubuntu OpenVEX document; its entries are combined with the OSV records once every
/// input is read. A document that does not read as one is a rejected record naming it.
fn import_ubuntu_vex_value(
    writer: &mut Writer,
    input: &Path,
    entry: &str,
    value: serde_json::Value,
    stats: &mut ImportStats,
) -> Result<(), VulnDbError> {
    let Some(document) =
        read_document::<ubuntu_vex::VexDocument>(value, entry, "an Ubuntu OpenVEX document", stats)
    else {
        return Ok(());
    };
    match ubuntu_vex::convert(&document) {
        Ok(converted) => writer.add_ubuntu_vex(input, &converted),
        Err(reason) => {
            stats.reject(format!("{entry}: {reason}"));
            Ok(())
        }
    }
}

/// Imports one Red Hat CSAF VEX document; one that does not read is a rejected record.
fn import_csaf_value(
    writer: &mut Writer,
    input: &Path,
    entry: &str,
    value: serde_json::Value,
    stats: &mut ImportStats,
) -> Result<(), VulnDbError> {
    let Some(document) =
        read_document::<csaf::CsafDocument>(value, entry, "a Red Hat CSAF VEX document", stats)
    else {
        return Ok(());
    };
    match csaf::convert(&document) {
        Err(reason) => stats.reject(format!("{entry}: {reason}")),
        Ok(csaf::Converted::Withdrawn) => stats.withdrawn += 1,
        Ok(csaf::Converted::Advisories(advisories)) => {
            for advisory in &advisories {
                writer.add(csaf::SOURCE, input, advisory)?;
            }
        }
    }
    Ok(())
}

/// Imports one JSON record of a zip or directory: a CSAF VEX document, else an OSV record (held
/// to [`MAX_RECORD_BYTES`]).
fn import_json_record(
    writer: &mut Writer,
    input: &Path,
    entry: &str,
    content: &[u8],
    stats: &mut ImportStats,
) -> Result<(), VulnDbError> {
    let value = match serde_json::from_slice::<serde_json::Value>(content) {
        Ok(value) => value,
        Err(e) => {
            stats.reject(format!("{entry}: malformed JSON: {e}"));
            return Ok(());
        }
    };
    if csaf::is_csaf_vex(&value) {
        return import_csaf_value(writer, input, entry, value, stats);
    }
    if ubuntu_vex::is_ubuntu_vex(&value) {
        return import_ubuntu_vex_value(writer, input, entry, value, stats);
    }
    if content.len() as u64 > MAX_RECORD_BYTES {
        stats.reject(format!("{entry}: larger than {MAX_RECORD_BYTES} bytes"));
        return Ok(());
    }
    import_osv_value(writer, input, entry, value, stats)
}

fn import_zip(
    writer: &mut Writer,
    input: &Path,
    stats: &mut ImportStats,
) -> Result<(), VulnDbError> {
    let zip_error = |e: zip::result::ZipError| VulnDbError::Parse {
        input: input.display().to_string(),
        reason: format!("bad zip archive: {e}"),
    };
    let file = rempart_core::open_regular_file(input).map_err(io_error(input))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(zip_error)?;
    let mut content = Vec::new();
    for index in 0..archive.len() {
        let mut member = archive.by_index(index).map_err(zip_error)?;
        let name = member
            .name()
            .map(std::borrow::Cow::into_owned)
            .unwrap_or_default();
        if !member.is_file() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let entry = format!("{}!{name}", input.display());
        if member.size() > MAX_RECORD_BYTES {
            stats.reject(format!("{entry}: larger than {MAX_RECORD_BYTES} bytes"));
            continue;
        }
        content.clear();
        // `size()` comes from the archive's directory, which can lie: bound the read itself.
        (&mut member)
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut content)
            .map_err(|source| VulnDbError::Parse {
                input: entry.clone(),
                reason: format!("cannot decompress: {source}"),
            })?;
        if content.len() as u64 > MAX_RECORD_BYTES {
            stats.reject(format!("{entry}: larger than {MAX_RECORD_BYTES} bytes"));
            continue;
        }
        import_json_record(writer, input, &entry, &content, stats)?;
    }
    Ok(())
}

/// Reads a compressed tar of JSON records, as Red Hat publishes its CSAF VEX documents
/// (`csaf_vex_YYYY-MM-DD.tar.zst`) and Canonical its OpenVEX ones (`vex-all.tar.xz`), one
/// document per CVE: each `.json` member is read like a file of a directory, up to the document
/// cap; other members are passed over. The archive is read as a stream, never unpacked.
fn import_tar(
    writer: &mut Writer,
    input: &Path,
    decoder: impl Read,
    stats: &mut ImportStats,
) -> Result<(), VulnDbError> {
    let bad = |reason: String| VulnDbError::Parse {
        input: input.display().to_string(),
        reason,
    };
    let mut archive = tar::Archive::new(decoder);
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a tar archive: {e}")))?;
    let mut content = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("damaged tar archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let member = format!("{}!{name}", input.display());
        content.clear();
        (&mut entry)
            .take(MAX_DOCUMENT_BYTES + 1)
            .read_to_end(&mut content)
            .map_err(|e| bad(format!("{name}: cannot decompress: {e}")))?;
        if content.len() as u64 > MAX_DOCUMENT_BYTES {
            stats.reject(format!("{member}: larger than {MAX_DOCUMENT_BYTES} bytes"));
            continue;
        }
        import_json_record(writer, input, &member, &content, stats)?;
    }
    Ok(())
}

fn import_directory(
    writer: &mut Writer,
    root: &Path,
    directory: &Path,
    stats: &mut ImportStats,
) -> Result<(), VulnDbError> {
    let mut entries: Vec<PathBuf> = fs::read_dir(directory)
        .map_err(io_error(directory))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io_error(directory))?;
    entries.sort();
    for path in entries {
        let file_type = fs::symlink_metadata(&path)
            .map_err(io_error(&path))?
            .file_type();
        if file_type.is_dir() {
            import_directory(writer, root, &path, stats)?;
            continue;
        }
        if !file_type.is_file() {
            continue;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => {
                // Read up to the document cap: whether the file is a CSAF VEX document (allowed
                // that much) or an OSV record (held to the record cap) is known once it is read.
                let content = match rempart_core::read_regular_file(&path, MAX_DOCUMENT_BYTES) {
                    Ok(content) => content,
                    Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                        stats.reject(format!("{}: {e}", path.display()));
                        continue;
                    }
                    Err(e) => return Err(io_error(&path)(e)),
                };
                import_json_record(writer, root, &path.display().to_string(), &content, stats)?;
            }
            Some("yaml" | "yml") => {
                let content = read_bounded(&path)?;
                let text = String::from_utf8_lossy(&content);
                if alpine::looks_like_secdb(&text) {
                    import_secdb(writer, &path, &text)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}
