//! RPM packages from the three rpm database formats: `SQLite` (`rpmdb.sqlite`, RPM 4.16 and
//! later: Fedora 33+, RHEL 9, Rocky, Alma, Amazon Linux 2023), Berkeley DB (`Packages`, older
//! releases: RHEL and `CentOS` 7 and 8, Amazon Linux 2) and NDB (`Packages.db`, SUSE: openSUSE,
//! SLES 15, SLE BCI). All three store the same header blobs, parsed by `header`.

mod bdb;
mod header;
mod ndb;

use std::io::Read;

use rempart_core::{AnalysisOutput, Ecosystem, FileAnalyzer, FileMeta, Interest, OwnedFiles};

use crate::common::{CatalogError, MIB, fingerprint, package, purl, whole};

const DATABASES: [&str; 6] = [
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/Packages",
    "var/lib/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
    "var/lib/rpm/Packages.db",
];
/// A full RHEL install's database is around 100 MiB.
const MAX_DATABASE: u64 = 1024 * MIB;
const MAX_PACKAGES: usize = 100_000;

/// Reads the rpm database: `SQLite` (opened from memory, read only, so a hostile file cannot make
/// `SQLite` touch the disk), Berkeley DB hash or NDB (both parsed directly).
#[derive(Debug, Default, Clone, Copy)]
pub struct RpmCataloger;

impl RpmCataloger {
    pub fn new() -> Self {
        RpmCataloger
    }
}

impl FileAnalyzer for RpmCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "rpm"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        if DATABASES.contains(&file.path) {
            whole(MAX_DATABASE)
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        let result = match file.file_name() {
            "Packages" => read_berkeley_db(file.path, content, out),
            "Packages.db" => read_ndb(file.path, content, out),
            _ => read_database(file.path, content, out),
        };
        if let Err(error) = result {
            error.report(out);
        }
    }
}

fn sqlite_error(path: &str, error: &rusqlite::Error) -> CatalogError {
    CatalogError::syntax(path, "rpm SQLite database", &error)
}

fn read_database(path: &str, content: &[u8], out: &mut AnalysisOutput) -> Result<(), CatalogError> {
    if content.len() < 100 || !content.starts_with(b"SQLite format 3\0") {
        return Err(CatalogError::syntax(
            path,
            "rpm SQLite database",
            &"not an SQLite 3 file",
        ));
    }
    // rpm keeps its database in WAL mode; an in-memory database cannot open a WAL-mode header,
    // and the WAL file itself is checkpointed away in images. Present it as a rollback-journal
    // database (header bytes 18 and 19: file format write/read versions).
    let mut header = content[..100].to_vec();
    header[18] = 1;
    header[19] = 1;
    let reader = header.as_slice().chain(&content[100..]);
    let mut connection =
        rusqlite::Connection::open_in_memory().map_err(|e| sqlite_error(path, &e))?;
    connection
        .deserialize_read_exact(rusqlite::MAIN_DB, reader, content.len(), true)
        .map_err(|e| sqlite_error(path, &e))?;
    // A crafted database could define `Packages` as a view over a recursive query; only a plain
    // table scan is linear in the file size.
    let kind: Option<String> = connection
        .query_row(
            "SELECT type FROM sqlite_master WHERE name = 'Packages'",
            [],
            |row| row.get(0),
        )
        .ok();
    if kind.as_deref() != Some("table") {
        return Err(CatalogError::syntax(
            path,
            "rpm SQLite database",
            &"no Packages table",
        ));
    }
    let mut statement = connection
        .prepare("SELECT blob FROM Packages")
        .map_err(|e| sqlite_error(path, &e))?;
    let mut rows = statement.query([]).map_err(|e| sqlite_error(path, &e))?;
    let mut count = 0;
    while let Some(row) = rows.next().map_err(|e| sqlite_error(path, &e))? {
        count += 1;
        if count > MAX_PACKAGES {
            return Err(CatalogError::Limit {
                path: path.to_owned(),
                what: "number of rpm packages",
                limit: MAX_PACKAGES as u64,
            });
        }
        let Ok(blob) = row.get_ref(0).and_then(|value| Ok(value.as_blob()?)) else {
            continue;
        };
        match header::Header::parse(blob) {
            Ok(header) => report(path, &header, out),
            Err(message) => CatalogError::syntax(path, "rpm header", &message).report(out),
        }
    }
    Ok(())
}

fn read_berkeley_db(
    path: &str,
    content: &[u8],
    out: &mut AnalysisOutput,
) -> Result<(), CatalogError> {
    let values = bdb::values(content)
        .map_err(|message| CatalogError::syntax(path, "rpm Berkeley DB", &message))?;
    if values.len() > MAX_PACKAGES {
        return Err(CatalogError::Limit {
            path: path.to_owned(),
            what: "number of rpm packages",
            limit: MAX_PACKAGES as u64,
        });
    }
    for value in values {
        let blob = match value {
            Ok(blob) => blob,
            Err(message) => {
                CatalogError::syntax(path, "rpm Berkeley DB", &message).report(out);
                continue;
            }
        };
        // rpm keeps a small bookkeeping record (the next instance number) next to the headers.
        if blob.len() < 16 {
            continue;
        }
        match header::Header::parse(&blob) {
            Ok(header) => report(path, &header, out),
            Err(message) => CatalogError::syntax(path, "rpm header", &message).report(out),
        }
    }
    Ok(())
}

fn read_ndb(path: &str, content: &[u8], out: &mut AnalysisOutput) -> Result<(), CatalogError> {
    let blobs = ndb::blobs(content, MAX_PACKAGES).map_err(|refused| match refused {
        ndb::Refused::Damaged(message) => CatalogError::syntax(path, "rpm NDB database", &message),
        ndb::Refused::TooManyPackages => CatalogError::Limit {
            path: path.to_owned(),
            what: "number of rpm packages",
            limit: MAX_PACKAGES as u64,
        },
    })?;
    for blob in blobs {
        let parsed = blob
            .map_err(|message| CatalogError::syntax(path, "rpm NDB database", &message))
            .and_then(|blob| {
                header::Header::parse(blob)
                    .map_err(|message| CatalogError::syntax(path, "rpm header", &message))
            });
        match parsed {
            Ok(header) => report(path, &header, out),
            Err(error) => error.report(out),
        }
    }
    Ok(())
}

fn report(path: &str, header: &header::Header<'_>, out: &mut AnalysisOutput) {
    let Some(name) = header.string(header::NAME) else {
        return;
    };
    // Imported signing keys are stored as pseudo-packages.
    if name == "gpg-pubkey" {
        return;
    }
    let (Some(version), Some(release)) = (
        header.string(header::VERSION),
        header.string(header::RELEASE),
    ) else {
        return;
    };
    let epoch = header
        .int32s(header::EPOCH)
        .and_then(|e| e.first().copied());
    let arch = header.string(header::ARCH);
    let full_version = match epoch {
        Some(epoch) if epoch > 0 => format!("{epoch}:{version}-{release}"),
        _ => format!("{version}-{release}"),
    };
    let epoch_text = epoch.map(|e| e.to_string()).unwrap_or_default();
    // A package built in an AppStream module stream (RHEL 8 and 9) says which one
    // (`nodejs:16:8060020220922040605:ad008a3a`): Red Hat fixes such packages per stream, so
    // matching needs it. It goes into the purl's `rpmmod` qualifier, as in Red Hat's own purls,
    // rather than a new `Package` field: SBOMs then carry it too, and nothing else changes.
    let modularity = header
        .string(header::MODULARITYLABEL)
        .map(str::trim)
        .unwrap_or_default();
    let purl = purl(
        "rpm",
        None,
        name,
        Some(&format!("{version}-{release}")),
        &[
            ("arch", arch.unwrap_or_default()),
            ("epoch", &epoch_text),
            ("rpmmod", modularity),
        ],
    );
    let mut pkg = package(Ecosystem::Rpm, name, full_version, purl, path);
    pkg.arch = arch.map(str::to_owned);
    if let Some(license) = header.string(header::LICENSE).filter(|l| !l.is_empty()) {
        pkg.licenses.push(license.to_owned());
    }
    pkg.source = header
        .string(header::SOURCERPM)
        .and_then(|source| parse_source_rpm(source, epoch));
    out.packages.push(pkg);

    let paths = header.file_paths();
    if !paths.is_empty() {
        out.owned_files.push(OwnedFiles {
            package: name.to_owned(),
            source_path: path.to_owned(),
            paths,
        });
    }
}

/// `bash-5.1.8-6.el9.src.rpm` is source `bash`, version `5.1.8-6.el9` (the binary's epoch, which
/// the file name does not carry, prefixed when non-zero).
fn parse_source_rpm(file: &str, epoch: Option<i32>) -> Option<rempart_core::SourcePackage> {
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    let version = match epoch {
        Some(epoch) if epoch > 0 => format!("{epoch}:{version}-{release}"),
        _ => format!("{version}-{release}"),
    };
    Some(rempart_core::SourcePackage {
        name: name.to_owned(),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_rpm_names() {
        let source = parse_source_rpm("bash-5.1.8-6.el9.src.rpm", None).unwrap();
        assert_eq!(
            (source.name.as_str(), source.version.as_str()),
            ("bash", "5.1.8-6.el9")
        );
        let source = parse_source_rpm("python3-dateutil-2.8.1-7.el9.src.rpm", Some(1)).unwrap();
        assert_eq!(source.name, "python3-dateutil");
        assert_eq!(source.version, "1:2.8.1-7.el9");
        assert!(parse_source_rpm("garbage", None).is_none());
    }

    /// A header blob as rpm stores it: the index entries, then the data they point into.
    fn header_blob(strings: &[(u32, &str)], epoch: Option<i32>) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data: Vec<u8> = Vec::new();
        let mut entry = |tag: u32, kind: u32, offset: usize| {
            index.extend(tag.to_be_bytes());
            index.extend(kind.to_be_bytes());
            index.extend(u32::try_from(offset).unwrap().to_be_bytes());
            index.extend(1u32.to_be_bytes());
        };
        for (tag, value) in strings {
            entry(*tag, 6, data.len());
            data.extend(value.as_bytes());
            data.push(0);
        }
        if let Some(epoch) = epoch {
            while !data.len().is_multiple_of(4) {
                data.push(0);
            }
            entry(header::EPOCH, 4, data.len());
            data.extend(epoch.to_be_bytes());
        }
        let count = strings.len() + usize::from(epoch.is_some());
        let mut blob = u32::try_from(count).unwrap().to_be_bytes().to_vec();
        blob.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
        blob.extend(index);
        blob.extend(data);
        blob
    }

    fn report_one(strings: &[(u32, &str)], epoch: Option<i32>) -> rempart_core::Package {
        let blob = header_blob(strings, epoch);
        let header = header::Header::parse(&blob).unwrap();
        let mut out = AnalysisOutput::default();
        report("var/lib/rpm/rpmdb.sqlite", &header, &mut out);
        assert_eq!(out.packages.len(), 1);
        out.packages.remove(0)
    }

    #[test]
    fn modularity_label_goes_into_the_purl() {
        let package = report_one(
            &[
                (header::NAME, "nodejs"),
                (header::VERSION, "16.17.1"),
                (header::RELEASE, "1.module+el8.6.0+16848+a483195a"),
                (header::ARCH, "x86_64"),
                (
                    header::SOURCERPM,
                    "nodejs-16.17.1-1.module+el8.6.0+16848+a483195a.src.rpm",
                ),
                (
                    header::MODULARITYLABEL,
                    "nodejs:16:8060020220922040605:ad008a3a",
                ),
            ],
            Some(1),
        );
        assert_eq!(
            package.purl,
            "pkg:rpm/nodejs@16.17.1-1.module%2Bel8.6.0%2B16848%2Ba483195a\
             ?arch=x86_64&epoch=1&rpmmod=nodejs:16:8060020220922040605:ad008a3a"
        );
        assert_eq!(package.version, "1:16.17.1-1.module+el8.6.0+16848+a483195a");
        let source = package.source.unwrap();
        assert_eq!(source.name, "nodejs");
        assert_eq!(source.version, "1:16.17.1-1.module+el8.6.0+16848+a483195a");

        // Packages outside any module stream carry no label.
        let package = report_one(
            &[
                (header::NAME, "bash"),
                (header::VERSION, "5.1.8"),
                (header::RELEASE, "6.el9"),
                (header::ARCH, "x86_64"),
                (header::SOURCERPM, "bash-5.1.8-6.el9.src.rpm"),
            ],
            None,
        );
        assert_eq!(package.purl, "pkg:rpm/bash@5.1.8-6.el9?arch=x86_64");
    }
}
