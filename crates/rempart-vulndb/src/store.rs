//! The `SQLite` file: schema, the writer used while importing, and the read-only [`Database`].

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rempart_core::{Epss, KnownExploited, Severity};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use crate::ecosystem::normalize_package_name;
use crate::error::VulnDbError;
use crate::matcher::sort_range_events;
use crate::model::{
    Advisory, AffectedPackage, Event, GoImport, RangeKind, UnfixedState, VersionRange,
};

/// Bumped whenever the tables change meaning; a database of another version is refused.
pub const SCHEMA_VERSION: u32 = 4;

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    input TEXT NOT NULL,
    snapshot TEXT,
    advisories INTEGER NOT NULL
);
CREATE TABLE advisories (
    rowid INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    aliases TEXT NOT NULL,
    severity TEXT NOT NULL,
    cvss TEXT NOT NULL,
    cvss_vector TEXT,
    cvss_score REAL,
    rated_severity TEXT,
    refs TEXT NOT NULL,
    modified TEXT,
    UNIQUE (source, id)
);
CREATE TABLE affected (
    advisory INTEGER NOT NULL REFERENCES advisories (rowid),
    ecosystem TEXT NOT NULL,
    release TEXT NOT NULL,
    name TEXT NOT NULL,
    feed_name TEXT NOT NULL,
    ranges TEXT NOT NULL,
    versions TEXT NOT NULL,
    severity TEXT,
    state TEXT NOT NULL,
    imports TEXT NOT NULL
);
-- Every id an advisory is known by (its own and its aliases): the records of one
-- vulnerability in every database (PYSEC, GHSA, CVE, DSA...) are found through any of them.
CREATE TABLE alias_index (
    alias TEXT NOT NULL,
    advisory INTEGER NOT NULL REFERENCES advisories (rowid)
);
-- CISA's Known Exploited Vulnerabilities catalogue.
CREATE TABLE kev (
    cve TEXT PRIMARY KEY,
    date_added TEXT NOT NULL,
    due_date TEXT,
    ransomware INTEGER NOT NULL
);
-- FIRST's EPSS scores.
CREATE TABLE epss (
    cve TEXT PRIMARY KEY,
    score REAL NOT NULL,
    percentile REAL NOT NULL
);
";

/// Created after the bulk insert: building an index once is faster than maintaining it.
const INDEXES: &str = "
CREATE INDEX affected_by_package ON affected (ecosystem, release, name);
CREATE INDEX affected_by_advisory ON affected (advisory);
CREATE INDEX alias_index_by_alias ON alias_index (alias);
CREATE INDEX alias_index_by_advisory ON alias_index (advisory);
";

/// Maps an `SQLite` error, telling a damaged file (which must be rebuilt) from other failures.
fn sqlite_error(path: &Path) -> impl Fn(rusqlite::Error) -> VulnDbError + '_ {
    move |source| match source.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
            VulnDbError::Damaged {
                path: path.to_owned(),
                detail: source.to_string(),
            }
        }
        _ => VulnDbError::Sqlite {
            path: path.to_owned(),
            source,
        },
    }
}

/// One feed's contribution, as recorded in the `sources` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStatus {
    /// `osv:PyPI`, `alpine-secdb:3.11`, `debian-security-tracker`.
    pub name: String,
    /// The file or directory it was imported from.
    pub input: String,
    /// The newest `modified` time among its advisories (RFC 3339), when the feed dates them.
    pub snapshot: Option<String>,
    pub advisories: u64,
}

/// What a database holds and when it was built.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbStatus {
    pub path: PathBuf,
    pub schema_version: u32,
    /// Seconds since the Unix epoch.
    pub built_at: u64,
    /// The same instant, RFC 3339 (UTC).
    pub built_at_rfc3339: String,
    pub sources: Vec<SourceStatus>,
    pub advisories: u64,
    pub affected_packages: u64,
    pub size_bytes: u64,
}

impl DbStatus {
    /// True when the database was built more than `max_age` before `now` (or in the future,
    /// which means the clock or the file is wrong).
    pub fn is_stale(&self, max_age: Duration, now: SystemTime) -> bool {
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        match now.checked_sub(self.built_at) {
            Some(age) => age > max_age.as_secs(),
            None => true,
        }
    }
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(seconds: u64) -> String {
    let days = i64::try_from(seconds / 86_400).unwrap_or(i64::MAX / 2);
    let rem = seconds % 86_400;
    // Civil-from-days (proleptic Gregorian), valid for any date after 1970.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The record of source `name`, created (as read from `input`) on its first use. A free function
/// so that the writer can hold it while it writes through its connection.
fn source_entry<'a>(
    sources: &'a mut BTreeMap<String, SourceStatus>,
    name: &str,
    input: &Path,
) -> &'a mut SourceStatus {
    sources
        .entry(name.to_owned())
        .or_insert_with(|| SourceStatus {
            name: name.to_owned(),
            input: input.display().to_string(),
            snapshot: None,
            advisories: 0,
        })
}

/// Writes a new database file. Used only by the importer; the file is renamed into place when
/// everything succeeded.
pub(crate) struct Writer {
    connection: Connection,
    path: PathBuf,
    sources: BTreeMap<String, SourceStatus>,
    pub(crate) advisories: u64,
    pub(crate) affected: u64,
    pub(crate) known_exploited: u64,
    pub(crate) epss_scores: u64,
    /// The end-of-life table given as an input, stored instead of the built-in one.
    eol_table: Option<String>,
    /// Ubuntu VEX documents read, waiting in the temporary table `ubuntu_vex` to be combined
    /// with the OSV records once every input is read (see [`Writer::apply_ubuntu_vex`]).
    ubuntu_vex_documents: u64,
    /// The input the first of them came from, which the advisories made from them are counted
    /// under.
    ubuntu_vex_input: PathBuf,
}

impl Writer {
    pub(crate) fn create(path: &Path) -> Result<Writer, VulnDbError> {
        let error = sqlite_error(path);
        let connection = Connection::open(path).map_err(&error)?;
        // The file is private until renamed into place: durability comes from the rename, not
        // from the journal.
        connection
            .execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
            .map_err(&error)?;
        connection.execute_batch(SCHEMA).map_err(&error)?;
        connection.execute_batch("BEGIN").map_err(&error)?;
        Ok(Writer {
            connection,
            path: path.to_owned(),
            sources: BTreeMap::new(),
            advisories: 0,
            affected: 0,
            known_exploited: 0,
            epss_scores: 0,
            eol_table: None,
            ubuntu_vex_documents: 0,
            ubuntu_vex_input: PathBuf::new(),
        })
    }

    /// Adds an advisory under `source`. The same id from the same source is merged: a newer
    /// record (by `modified`) replaces an older one; undated feeds add their packages to it.
    pub(crate) fn add(
        &mut self,
        source: &str,
        input: &Path,
        advisory: &Advisory,
    ) -> Result<(), VulnDbError> {
        let error = sqlite_error(&self.path);
        let status = source_entry(&mut self.sources, source, input);
        if let Some(modified) = &advisory.modified
            && status.snapshot.as_ref().is_none_or(|s| s < modified)
        {
            status.snapshot = Some(modified.clone());
        }
        let existing: Option<(i64, Option<String>)> = self
            .connection
            .prepare_cached("SELECT rowid, modified FROM advisories WHERE source = ?1 AND id = ?2")
            .map_err(&error)?
            .query_row(params![source, advisory.id], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()
            .map_err(&error)?;
        let rowid = match existing {
            Some((rowid, Some(old))) if advisory.modified.as_ref().is_some_and(|m| *m <= old) => {
                // An older or equal copy of a dated record: keep what is there.
                let _ = rowid;
                return Ok(());
            }
            Some((rowid, Some(_))) => {
                // A newer copy of the same record (the same export given twice, or a directory
                // holding two revisions): it replaces the old one.
                let removed = self
                    .connection
                    .execute("DELETE FROM affected WHERE advisory = ?1", params![rowid])
                    .map_err(&error)?;
                self.connection
                    .execute(
                        "DELETE FROM alias_index WHERE advisory = ?1",
                        params![rowid],
                    )
                    .map_err(&error)?;
                self.connection
                    .execute("DELETE FROM advisories WHERE rowid = ?1", params![rowid])
                    .map_err(&error)?;
                self.affected -= removed as u64;
                self.advisories -= 1;
                status.advisories -= 1;
                None
            }
            Some((rowid, None)) => Some(rowid),
            None => None,
        };
        let rowid = if let Some(rowid) = rowid {
            rowid
        } else {
            let json = |v: &[String]| serde_json::to_string(v).unwrap_or_default();
            self.connection
                .prepare_cached(
                    "INSERT INTO advisories (source, id, title, aliases, severity, cvss, \
                     cvss_vector, cvss_score, rated_severity, refs, modified) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .map_err(&error)?
                .execute(params![
                    source,
                    advisory.id,
                    advisory.title,
                    json(&advisory.aliases),
                    advisory.severity.as_str(),
                    json(&advisory.cvss),
                    advisory.cvss_vector,
                    advisory.cvss_score,
                    advisory.rated_severity.map(Severity::as_str),
                    json(&advisory.references),
                    advisory.modified,
                ])
                .map_err(&error)?;
            status.advisories += 1;
            self.advisories += 1;
            let rowid = self.connection.last_insert_rowid();
            let mut index = self
                .connection
                .prepare_cached("INSERT INTO alias_index (alias, advisory) VALUES (?1, ?2)")
                .map_err(&error)?;
            let mut seen = std::collections::BTreeSet::new();
            for alias in std::iter::once(&advisory.id).chain(&advisory.aliases) {
                if seen.insert(alias.as_str()) {
                    index.execute(params![alias, rowid]).map_err(&error)?;
                }
            }
            rowid
        };
        let mut insert = self
            .connection
            .prepare_cached(
                "INSERT INTO affected (advisory, ecosystem, release, name, feed_name, ranges, \
                 versions, severity, state, imports) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(&error)?;
        for affected in &advisory.affected {
            let mut ranges = affected.ranges.clone();
            sort_range_events(&affected.ecosystem, &mut ranges);
            insert
                .execute(params![
                    rowid,
                    affected.ecosystem,
                    affected.release,
                    normalize_package_name(&affected.ecosystem, &affected.name),
                    affected.name,
                    serde_json::to_string(&ranges).unwrap_or_default(),
                    serde_json::to_string(&affected.versions).unwrap_or_default(),
                    affected.severity.map(Severity::as_str),
                    affected.state.as_str(),
                    serde_json::to_string(&affected.imports).unwrap_or_default(),
                ])
                .map_err(&error)?;
            self.affected += 1;
        }
        Ok(())
    }

    /// Records a feed that is not advisories (the KEV catalogue, EPSS scores) as a source.
    fn add_source(&mut self, name: &str, input: &Path, snapshot: Option<String>, entries: u64) {
        let status = source_entry(&mut self.sources, name, input);
        status.advisories += entries;
        if snapshot.is_some() && status.snapshot < snapshot {
            status.snapshot = snapshot;
        }
    }

    /// Stores CISA's catalogue entries; a CVE listed twice (two catalogues given) keeps the
    /// later copy.
    pub(crate) fn add_known_exploited(
        &mut self,
        input: &Path,
        released: Option<String>,
        entries: &[KnownExploited],
    ) -> Result<(), VulnDbError> {
        let path = self.path.clone();
        let error = sqlite_error(&path);
        let mut insert = self
            .connection
            .prepare_cached(
                "INSERT OR REPLACE INTO kev (cve, date_added, due_date, ransomware) \
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(&error)?;
        for entry in entries {
            insert
                .execute(params![
                    entry.cve,
                    entry.date_added,
                    entry.due_date,
                    entry.ransomware
                ])
                .map_err(&error)?;
        }
        drop(insert);
        self.known_exploited += entries.len() as u64;
        self.add_source("cisa-kev", input, released, entries.len() as u64);
        Ok(())
    }

    /// Stores EPSS scores, dated by the export's score date.
    pub(crate) fn add_epss(
        &mut self,
        input: &Path,
        date: Option<String>,
        scores: &[(String, Epss)],
    ) -> Result<(), VulnDbError> {
        let path = self.path.clone();
        let error = sqlite_error(&path);
        let mut insert = self
            .connection
            .prepare_cached(
                "INSERT OR REPLACE INTO epss (cve, score, percentile) VALUES (?1, ?2, ?3)",
            )
            .map_err(&error)?;
        for (cve, epss) in scores {
            insert
                .execute(params![cve, epss.score, epss.percentile])
                .map_err(&error)?;
        }
        drop(insert);
        self.epss_scores += scores.len() as u64;
        let snapshot = date.map(|d| format!("{d}T00:00:00Z"));
        self.add_source("first-epss", input, snapshot, scores.len() as u64);
        Ok(())
    }

    /// Keeps one Ubuntu VEX document's entries until every input is read: the OSV records they
    /// qualify may come later, from another input. A (CVE, release, package) stated twice keeps
    /// the later statement.
    pub(crate) fn add_ubuntu_vex(
        &mut self,
        input: &Path,
        document: &crate::import::ubuntu_vex::Converted,
    ) -> Result<(), VulnDbError> {
        let path = self.path.clone();
        let error = sqlite_error(&path);
        if self.ubuntu_vex_documents == 0 {
            // A temporary table: it is not part of the database written.
            self.connection
                .execute_batch(
                    "CREATE TEMP TABLE ubuntu_vex (
                        cve TEXT NOT NULL,
                        release TEXT NOT NULL,
                        name TEXT NOT NULL,
                        status TEXT NOT NULL,
                        title TEXT NOT NULL,
                        severity TEXT,
                        PRIMARY KEY (cve, release, name)
                    ) WITHOUT ROWID",
                )
                .map_err(&error)?;
            input.clone_into(&mut self.ubuntu_vex_input);
        }
        let mut insert = self
            .connection
            .prepare_cached(
                "INSERT OR REPLACE INTO ubuntu_vex (cve, release, name, status, title, severity) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(&error)?;
        for entry in &document.entries {
            insert
                .execute(params![
                    entry.cve,
                    entry.release,
                    entry.name,
                    entry.status.as_str(),
                    entry.title,
                    entry.severity.map(Severity::as_str),
                ])
                .map_err(&error)?;
        }
        drop(insert);
        self.ubuntu_vex_documents += 1;
        self.add_source("ubuntu-vex", input, document.timestamp.clone(), 1);
        Ok(())
    }

    /// Combines the Ubuntu VEX entries read with Ubuntu's OSV records, once every input is read.
    ///
    /// OSV says which version fixes a release's package, and has no word for why an open entry
    /// has no fix, nor for a release the CVE does not reach; VEX says both, but names the
    /// version each release carries today rather than the first fixed one. So, for the OSV
    /// record of the same CVE (`UBUNTU-CVE-…`, or a record named after the CVE itself), release
    /// and source package:
    ///
    /// - an unfixed state (will not fix, fix deferred, end of life, under investigation,
    ///   affected) becomes the entry's state, shown when no fixed version applies;
    /// - not affected (`not-affected`, `DNE`) removes an entry that has no fix: no finding. An
    ///   entry with a fixed version is kept, since a fix is never taken back on VEX's word;
    /// - fixed changes nothing: the fixed version stays OSV's.
    ///
    /// An unfixed state with no OSV entry behind it becomes an advisory of its own, named after
    /// the CVE, affecting every version of that release's package; a `fixed` statement alone
    /// adds nothing, since its version is not the first fixed one. Multi-CVE records (USNs) are
    /// left as they are: one CVE's state says nothing of the others'.
    pub(crate) fn apply_ubuntu_vex(&mut self) -> Result<(), VulnDbError> {
        // The OSV entry a VEX entry speaks of: same release and package, and a record of that
        // CVE alone.
        const SAME_ENTRY: &str = "v.release = f.release AND v.name = f.name \
             AND v.cve = CASE WHEN a.id LIKE 'UBUNTU-CVE-%' THEN substr(a.id, 8) ELSE a.id END";
        if self.ubuntu_vex_documents == 0 {
            return Ok(());
        }
        let path = self.path.clone();
        let error = sqlite_error(&path);
        self.connection
            .execute(
                &format!(
                    "UPDATE affected AS f SET state = v.status \
                     FROM advisories AS a, ubuntu_vex AS v \
                     WHERE f.ecosystem = 'Ubuntu' AND a.rowid = f.advisory AND {SAME_ENTRY} \
                     AND v.status NOT IN ('fixed', 'not_affected')"
                ),
                [],
            )
            .map_err(&error)?;
        let removed = self
            .connection
            .execute(
                &format!(
                    "DELETE FROM affected WHERE rowid IN ( \
                     SELECT f.rowid FROM affected AS f \
                     JOIN advisories AS a ON a.rowid = f.advisory \
                     JOIN ubuntu_vex AS v ON {SAME_ENTRY} \
                     WHERE f.ecosystem = 'Ubuntu' AND v.status = 'not_affected' \
                     AND instr(f.ranges, '\"Fixed\"') = 0)"
                ),
                [],
            )
            .map_err(&error)?;
        self.affected -= removed as u64;
        let alone = self.ubuntu_vex_without_osv()?;
        let input = self.ubuntu_vex_input.clone();
        for advisory in &alone {
            self.add("ubuntu-vex", &input, advisory)?;
        }
        // The source counts the documents read, not the advisories made from them.
        if let Some(status) = self.sources.get_mut("ubuntu-vex") {
            status.advisories = self.ubuntu_vex_documents;
        }
        self.connection
            .execute_batch("DROP TABLE ubuntu_vex")
            .map_err(&error)?;
        self.ubuntu_vex_documents = 0;
        Ok(())
    }

    /// The unfixed VEX entries no OSV entry of the same CVE, release and package stands for,
    /// as one advisory per CVE.
    fn ubuntu_vex_without_osv(&self) -> Result<Vec<Advisory>, VulnDbError> {
        let error = sqlite_error(&self.path);
        let mut statement = self
            .connection
            .prepare(
                "SELECT v.cve, v.release, v.name, v.status, v.title, v.severity \
                 FROM ubuntu_vex AS v \
                 WHERE v.status NOT IN ('fixed', 'not_affected') AND NOT EXISTS ( \
                 SELECT 1 FROM affected AS f JOIN advisories AS a ON a.rowid = f.advisory \
                 WHERE f.ecosystem = 'Ubuntu' AND f.release = v.release AND f.name = v.name \
                 AND a.id IN (v.cve, 'UBUNTU-' || v.cve)) \
                 ORDER BY v.cve, v.release, v.name",
            )
            .map_err(&error)?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(&error)?;
        let mut advisories: Vec<Advisory> = Vec::new();
        for row in rows {
            let (cve, release, name, status, title, severity) = row.map_err(&error)?;
            let state = UnfixedState::parse(&status).unwrap_or_default();
            let severity = severity.and_then(|s| s.parse::<Severity>().ok());
            if advisories.last().is_none_or(|a| a.id != cve) {
                advisories.push(Advisory {
                    id: cve.clone(),
                    title,
                    aliases: Vec::new(),
                    severity: severity.unwrap_or(Severity::Unknown),
                    cvss: Vec::new(),
                    cvss_vector: None,
                    cvss_score: None,
                    rated_severity: None,
                    references: vec![format!("https://ubuntu.com/security/{cve}")],
                    modified: None,
                    affected: Vec::new(),
                });
            }
            let advisory = advisories.last_mut().expect("pushed above");
            advisory.affected.push(AffectedPackage {
                ecosystem: "Ubuntu".to_owned(),
                release,
                name,
                ranges: vec![VersionRange {
                    kind: RangeKind::Ecosystem,
                    events: vec![Event::Introduced("0".to_owned())],
                    sorted: false,
                }],
                versions: Vec::new(),
                severity,
                state,
                imports: Vec::new(),
            });
        }
        Ok(advisories)
    }

    /// Stores an end-of-life table (checked by the caller) in place of the built-in one: the
    /// database then carries the dates it was built with, wherever it is copied.
    pub(crate) fn set_eol_table(&mut self, input: &Path, text: &str, updated: &str) {
        self.eol_table = Some(text.to_owned());
        self.add_source("os-eol", input, Some(format!("{updated}T00:00:00Z")), 0);
    }

    /// Writes the indexes and the metadata and closes the file.
    pub(crate) fn finish(self, built_at: u64) -> Result<(), VulnDbError> {
        let error = sqlite_error(&self.path);
        self.connection.execute_batch(INDEXES).map_err(&error)?;
        let eol_table = self
            .eol_table
            .clone()
            .unwrap_or_else(|| crate::eol::BUILTIN.to_owned());
        for (key, value) in [
            ("schema_version", SCHEMA_VERSION.to_string()),
            ("built_at", built_at.to_string()),
            ("os_eol", eol_table),
        ] {
            self.connection
                .execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    params![key, value],
                )
                .map_err(&error)?;
        }
        for source in self.sources.values() {
            self.connection
                .execute(
                    "INSERT INTO sources (name, input, snapshot, advisories) VALUES (?1, ?2, ?3, ?4)",
                    params![source.name, source.input, source.snapshot, source.advisories.cast_signed()],
                )
                .map_err(&error)?;
        }
        self.connection.execute_batch("COMMIT").map_err(&error)?;
        self.connection
            .close()
            .map_err(|(_, source)| VulnDbError::Sqlite {
                path: self.path.clone(),
                source,
            })
    }
}

/// One row of `affected` joined with its advisory: what the matcher evaluates.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) severity: Severity,
    pub(crate) cvss: Vec<String>,
    pub(crate) references: Vec<String>,
    pub(crate) ranges: Vec<VersionRange>,
    /// The OSV `versions` list as JSON; matched by exact spelling, as osv.dev does.
    pub(crate) versions_json: String,
    pub(crate) package_severity: Option<Severity>,
    pub(crate) state: UnfixedState,
    pub(crate) imports: Vec<GoImport>,
}

/// What CISA's catalogue and EPSS say of one CVE.
pub(crate) type Exploitation = (Option<KnownExploited>, Option<Epss>);

/// How one record rates its vulnerability: what severity is chosen from, across the records of
/// every alias.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordRating {
    pub(crate) id: String,
    /// The CVEs the record is about (its id or aliases).
    pub(crate) cves: Vec<String>,
    pub(crate) cvss: Vec<String>,
    pub(crate) cvss_vector: Option<String>,
    pub(crate) cvss_score: Option<f64>,
    pub(crate) rated_severity: Option<Severity>,
}

/// A built vulnerability database, opened read-only.
#[derive(Debug)]
pub struct Database {
    path: PathBuf,
    // A connection is not `Sync`; analyzers are shared across threads, and one query per
    // package name is short, so a lock is enough.
    connection: Mutex<Connection>,
}

impl Database {
    /// Opens a database built by [`crate::import_paths`], refusing one of another schema version
    /// or a damaged one.
    pub fn open(path: &Path) -> Result<Database, VulnDbError> {
        let database = Database::open_unchecked(path)?;
        database.check_structure()?;
        Ok(database)
    }

    /// The status of the database at `path` (see [`Database::status`]), read without the
    /// structural check of [`Database::open`]: for a caller that describes the database before
    /// a matcher opens it, so that one scan checks it once. A damaged file still fails here when
    /// what is read is damaged.
    pub fn read_status(path: &Path) -> Result<DbStatus, VulnDbError> {
        Database::open_unchecked(path)?.status()
    }

    /// The `input` of each source recorded in a database of any schema version (the `sources`
    /// table has not changed since version 1): tells a built-in sample set left by an earlier
    /// release, which can be installed again, from a full database, which must be rebuilt.
    pub fn source_inputs_any_schema(path: &Path) -> Result<Vec<String>, VulnDbError> {
        let error = sqlite_error(path);
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(&error)?;
        let mut statement = connection
            .prepare("SELECT input FROM sources ORDER BY name")
            .map_err(&error)?;
        let inputs = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(&error)?
            .collect::<Result<Vec<String>, _>>()
            .map_err(&error)?;
        Ok(inputs)
    }

    /// Opens the file read-only and checks its schema version.
    fn open_unchecked(path: &Path) -> Result<Database, VulnDbError> {
        let error = sqlite_error(path);
        if !path.is_file() {
            return Err(VulnDbError::Io {
                path: path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        // SQLite says only "unable to open database file": opening it first names the cause
        // (permission denied, say).
        std::fs::File::open(path).map_err(|source| VulnDbError::Io {
            path: path.to_owned(),
            source,
        })?;
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(&error)?;
        // Lookups touch pages all over the file: mapping it avoids a read call per page.
        connection
            .execute_batch("PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -65536;")
            .map_err(&error)?;
        let found: Option<String> = connection
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(&error)?;
        if found.as_deref() != Some(SCHEMA_VERSION.to_string().as_str()) {
            return Err(VulnDbError::SchemaMismatch {
                path: path.to_owned(),
                found: found.unwrap_or_else(|| "none".to_owned()),
                expected: SCHEMA_VERSION,
            });
        }
        Ok(Database {
            path: path.to_owned(),
            connection: Mutex::new(connection),
        })
    }

    /// A damaged file must not answer "no vulnerability": `SQLite`'s structural check reads every
    /// page once (about 1 ms per MB), which also warms the page cache for matching.
    fn check_structure(&self) -> Result<(), VulnDbError> {
        let path = &self.path;
        let connection = self.lock();
        let problems: Vec<String> = connection
            .prepare("PRAGMA quick_check(5)")
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| row.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| VulnDbError::Damaged {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
        if problems != ["ok"] {
            return Err(VulnDbError::Damaged {
                path: path.to_owned(),
                detail: problems.join("; "),
            });
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection; a panic elsewhere while it was held leaves nothing half-written (it is
    /// read-only), so a poisoned lock is taken as is.
    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Schema version, sources with their snapshot dates, counts, build time and file size.
    pub fn status(&self) -> Result<DbStatus, VulnDbError> {
        let error = sqlite_error(&self.path);
        let connection = self.lock();
        let built_at: String = connection
            .query_row("SELECT value FROM meta WHERE key = 'built_at'", [], |row| {
                row.get(0)
            })
            .map_err(&error)?;
        let built_at = built_at.parse().unwrap_or(0);
        let mut statement = connection
            .prepare("SELECT name, input, snapshot, advisories FROM sources ORDER BY name")
            .map_err(&error)?;
        let sources = statement
            .query_map([], |row| {
                Ok(SourceStatus {
                    name: row.get(0)?,
                    input: row.get(1)?,
                    snapshot: row.get(2)?,
                    advisories: row.get::<_, i64>(3)?.cast_unsigned(),
                })
            })
            .map_err(&error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&error)?;
        let count = |table: &str| -> Result<u64, VulnDbError> {
            connection
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                    row.get::<_, i64>(0)
                })
                .map(i64::cast_unsigned)
                .map_err(&error)
        };
        let size_bytes = std::fs::metadata(&self.path)
            .map_err(|source| VulnDbError::Io {
                path: self.path.clone(),
                source,
            })?
            .len();
        Ok(DbStatus {
            path: self.path.clone(),
            schema_version: SCHEMA_VERSION,
            built_at,
            built_at_rfc3339: rfc3339(built_at),
            sources,
            advisories: count("advisories")?,
            affected_packages: count("affected")?,
            size_bytes,
        })
    }

    /// Up to `limit` distinct (ecosystem, name) pairs of language packages, as the feeds spell
    /// the names: sample input for benchmarks and completion.
    pub fn package_names(&self, limit: usize) -> Result<Vec<(String, String)>, VulnDbError> {
        let error = sqlite_error(&self.path);
        let connection = self.lock();
        let mut statement = connection
            .prepare(
                "SELECT DISTINCT ecosystem, feed_name FROM affected WHERE release = '' \
                 ORDER BY ecosystem, feed_name LIMIT ?1",
            )
            .map_err(&error)?;
        let rows = statement
            .query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .map_err(&error)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&error)
    }

    /// The advisories filed under each of `names` in one ecosystem and release, each list in
    /// advisory id order. One query for the whole batch: a statement per name would be
    /// re-planned by `SQLite` for every new binding.
    pub(crate) fn candidates(
        &self,
        ecosystem: &str,
        release: &str,
        names: &[&str],
    ) -> Result<HashMap<String, Vec<Candidate>>, VulnDbError> {
        let error = sqlite_error(&self.path);
        let connection = self.lock();
        let mut statement = connection
            .prepare_cached(
                "SELECT f.name, a.id, a.title, a.aliases, a.severity, a.cvss, \
                 a.refs, f.ranges, f.versions, f.severity, f.state, f.imports \
                 FROM affected f JOIN advisories a ON a.rowid = f.advisory \
                 WHERE f.ecosystem = ?1 AND f.release = ?2 \
                 AND f.name IN (SELECT value FROM json_each(?3))",
            )
            .map_err(&error)?;
        let names_json = serde_json::to_string(names).unwrap_or_default();
        // Every stored JSON column is decoded strictly: a row that does not decode is damage,
        // and skipping it would report the package clean.
        let rows = statement
            .query_map(params![ecosystem, release, names_json], |row| {
                let id: String = row.get(1)?;
                let decode = |i: usize| -> rusqlite::Result<Result<Vec<String>, String>> {
                    let text: String = row.get(i)?;
                    Ok(serde_json::from_str(&text).map_err(|e| {
                        format!("advisory {id}: column {i} is not a JSON list of strings: {e}")
                    }))
                };
                let severity = |text: Option<String>| text.and_then(|t| t.parse::<Severity>().ok());
                let ranges: String = row.get(7)?;
                let ranges: Result<Vec<VersionRange>, String> = serde_json::from_str(&ranges)
                    .map_err(|e| format!("advisory {id}: its version ranges are not valid: {e}"));
                let versions_json: String = row.get(8)?;
                let versions = serde_json::from_str::<Vec<String>>(&versions_json)
                    .map(|_| versions_json)
                    .map_err(|e| format!("advisory {id}: its version list is not valid: {e}"));
                let name: String = row.get(0)?;
                let (aliases, cvss, references) = (decode(3)?, decode(5)?, decode(6)?);
                let title: String = row.get(2)?;
                let severity_all = severity(row.get(4)?).unwrap_or(Severity::Unknown);
                let package_severity = severity(row.get(9)?);
                let state: String = row.get(10)?;
                let state = UnfixedState::parse(&state)
                    .ok_or_else(|| format!("advisory {id}: unknown package state `{state}`"));
                let imports: String = row.get(11)?;
                let imports: Result<Vec<GoImport>, String> = serde_json::from_str(&imports)
                    .map_err(|e| format!("advisory {id}: its Go package list is not valid: {e}"));
                Ok((|| {
                    Ok::<_, String>((
                        name,
                        Candidate {
                            title,
                            aliases: aliases?,
                            severity: severity_all,
                            cvss: cvss?,
                            references: references?,
                            ranges: ranges?,
                            versions_json: versions?,
                            package_severity,
                            state: state?,
                            imports: imports?,
                            id,
                        },
                    ))
                })())
            })
            .map_err(&error)?;
        let mut by_name: HashMap<String, Vec<Candidate>> = HashMap::new();
        for row in rows {
            let (name, candidate) =
                row.map_err(&error)?
                    .map_err(|detail| VulnDbError::Damaged {
                        path: self.path.clone(),
                        detail,
                    })?;
            by_name.entry(name).or_default().push(candidate);
        }
        for candidates in by_name.values_mut() {
            candidates.sort_by(|a, b| a.id.cmp(&b.id));
        }
        Ok(by_name)
    }
}

impl Database {
    /// The end-of-life table the database was built with (the built-in one of the rempart that
    /// built it, or one given to `db import`).
    pub fn eol_table(&self) -> Result<crate::EolTable, VulnDbError> {
        let error = sqlite_error(&self.path);
        let text: Option<String> = self
            .lock()
            .query_row("SELECT value FROM meta WHERE key = 'os_eol'", [], |row| {
                row.get(0)
            })
            .optional()
            .map_err(&error)?;
        match text {
            Some(text) => crate::EolTable::from_json(&text).map_err(|e| VulnDbError::Damaged {
                path: self.path.clone(),
                detail: format!("its end-of-life table: {e}"),
            }),
            None => Ok(crate::EolTable::builtin().clone()),
        }
    }

    /// The ratings of every record known by one of `ids` (as its own id or an alias), keyed by
    /// each id asked for. One query for a whole scan.
    pub(crate) fn ratings(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, Vec<RecordRating>>, VulnDbError> {
        let error = sqlite_error(&self.path);
        let connection = self.lock();
        let mut statement = connection
            .prepare_cached(
                "SELECT x.alias, a.id, a.cvss, a.cvss_vector, a.cvss_score, a.rated_severity, \
                 a.aliases \
                 FROM alias_index x JOIN advisories a ON a.rowid = x.advisory \
                 WHERE x.alias IN (SELECT value FROM json_each(?1))",
            )
            .map_err(&error)?;
        let ids_json = serde_json::to_string(ids).unwrap_or_default();
        let rows = statement
            .query_map(params![ids_json], |row| {
                let alias: String = row.get(0)?;
                let id: String = row.get(1)?;
                let cvss: String = row.get(2)?;
                let rated: Option<String> = row.get(5)?;
                let aliases: String = row.get(6)?;
                let cves = serde_json::from_str::<Vec<String>>(&aliases)
                    .map(|aliases| {
                        std::iter::once(id.clone())
                            .chain(aliases)
                            .filter(|a| a.starts_with("CVE-"))
                            .collect::<Vec<String>>()
                    })
                    .map_err(|e| format!("advisory {id}: its alias list is not valid: {e}"));
                Ok((
                    alias,
                    serde_json::from_str::<Vec<String>>(&cvss)
                        .map_err(|e| format!("advisory {id}: its CVSS list is not valid: {e}"))
                        .and_then(|cvss| Ok((cvss, cves?))),
                    id,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, Option<f64>>(4)?,
                    rated.and_then(|r| r.parse::<Severity>().ok()),
                ))
            })
            .map_err(&error)?;
        let mut by_alias: HashMap<String, Vec<RecordRating>> = HashMap::new();
        for row in rows {
            let (alias, cvss, id, cvss_vector, cvss_score, rated_severity) = row.map_err(&error)?;
            let (cvss, cves) = cvss.map_err(|detail| VulnDbError::Damaged {
                path: self.path.clone(),
                detail,
            })?;
            by_alias.entry(alias).or_default().push(RecordRating {
                id,
                cves,
                cvss,
                cvss_vector,
                cvss_score,
                rated_severity,
            });
        }
        Ok(by_alias)
    }

    /// What CISA's catalogue and FIRST's EPSS say of each of `cves` that they list.
    pub(crate) fn exploitation(
        &self,
        cves: &[&str],
    ) -> Result<HashMap<String, Exploitation>, VulnDbError> {
        let error = sqlite_error(&self.path);
        let connection = self.lock();
        let cves_json = serde_json::to_string(cves).unwrap_or_default();
        let mut found: HashMap<String, Exploitation> = HashMap::new();
        let mut statement = connection
            .prepare_cached(
                "SELECT cve, date_added, due_date, ransomware FROM kev \
                 WHERE cve IN (SELECT value FROM json_each(?1))",
            )
            .map_err(&error)?;
        let rows = statement
            .query_map(params![cves_json], |row| {
                Ok(KnownExploited {
                    cve: row.get(0)?,
                    date_added: row.get(1)?,
                    due_date: row.get(2)?,
                    ransomware: row.get(3)?,
                })
            })
            .map_err(&error)?;
        for row in rows {
            let kev = row.map_err(&error)?;
            let cve = kev.cve.clone();
            found.entry(cve).or_default().0 = Some(kev);
        }
        let mut statement = connection
            .prepare_cached(
                "SELECT cve, score, percentile FROM epss \
                 WHERE cve IN (SELECT value FROM json_each(?1))",
            )
            .map_err(&error)?;
        let rows = statement
            .query_map(params![cves_json], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    Epss {
                        score: row.get(1)?,
                        percentile: row.get(2)?,
                    },
                ))
            })
            .map_err(&error)?;
        for row in rows {
            let (cve, epss) = row.map_err(&error)?;
            found.entry(cve).or_default().1 = Some(epss);
        }
        Ok(found)
    }
}

/// Where the CLI keeps the database: `$XDG_CACHE_HOME/rempart/db/vuln.sqlite`, else the
/// platform cache directory (`~/.cache/rempart/db/vuln.sqlite` on Linux).
pub fn default_db_path() -> Result<PathBuf, VulnDbError> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| directories::BaseDirs::new().map(|d| d.cache_dir().to_owned()))
        .ok_or(VulnDbError::NoCacheDir)?;
    Ok(cache.join("rempart").join("db").join("vuln.sqlite"))
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }
}
