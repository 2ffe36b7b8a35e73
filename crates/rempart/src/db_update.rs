//! `rempart db update`: download the advisory feeds, check them, and rebuild the database.
//!
//! Everything is downloaded into a staging directory beside the database first; only when every
//! feed arrived whole is the database rebuilt (into a new file, renamed over the old one by the
//! importer). A failed or interrupted update therefore leaves the old database as it was.

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

use base64::Engine as _;
use futures_util::StreamExt;
use md5::{Digest, Md5};
use rempart_vulndb::{ImportStats, import_paths};
use tokio::io::AsyncWriteExt;

/// Where the feeds live. Base URLs are configurable so that mirrors (and tests) can serve them.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// Base of the OSV per-ecosystem exports: `{base}/{ecosystem}/all.zip`.
    pub osv_base: String,
    pub osv_ecosystems: Vec<String>,
    /// The Debian security tracker's JSON export, if wanted.
    pub debian_tracker: Option<String>,
    /// Base of Red Hat's CSAF VEX data (`{base}/archive_latest.txt` names the current
    /// `csaf_vex_YYYY-MM-DD.tar.zst` beside it), if wanted.
    pub redhat_csaf: Option<String>,
    /// Canonical's OpenVEX CVE documents (`vex-all.tar.xz`), which give Ubuntu's unfixed
    /// states (deferred, ignored, needs triage) and not-affected verdicts, if wanted.
    pub ubuntu_vex: Option<String>,
    /// CISA's Known Exploited Vulnerabilities catalogue (JSON), if wanted.
    pub kev: Option<String>,
    /// FIRST's current EPSS scores (gzipped CSV), if wanted.
    pub epss: Option<String>,
    /// Cap on any one download.
    pub max_bytes: u64,
}

impl Default for FeedConfig {
    fn default() -> FeedConfig {
        FeedConfig {
            osv_base: "https://osv-vulnerabilities.storage.googleapis.com".into(),
            osv_ecosystems: [
                "PyPI",
                "npm",
                "crates.io",
                "Go",
                "Maven",
                "RubyGems",
                "Packagist",
                "NuGet",
                "Hex",
                "Pub",
                "SwiftURL",
                "Debian",
                "Ubuntu",
                "Alpine",
                "Wolfi",
                "Chainguard",
                "AlmaLinux",
                "Rocky Linux",
                "SUSE",
                "openSUSE",
            ]
            .map(String::from)
            .to_vec(),
            debian_tracker: Some("https://security-tracker.debian.org/tracker/data/json".into()),
            redhat_csaf: Some("https://security.access.redhat.com/data/csaf/v2/vex".into()),
            ubuntu_vex: Some(
                "https://security-metadata.canonical.com/vex/vex-all.tar.xz".into(),
            ),
            kev: Some(
                "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
                    .into(),
            ),
            epss: Some("https://epss.empiricalsecurity.com/epss_scores-current.csv.gz".into()),
            max_bytes: 4 * 1024 * 1024 * 1024,
        }
    }
}

/// Why an update failed. The old database is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("{url}: {message}")]
    Download { url: String, message: String },
    #[error("{url}: MD5 {actual} does not match the {expected} the server announced")]
    Checksum {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Import(#[from] rempart_vulndb::VulnDbError),
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Downloads every configured feed and rebuilds the database at `db_path`.
pub fn update_database(db_path: &Path, feeds: &FeedConfig) -> Result<ImportStats, UpdateError> {
    install_crypto_provider();
    let parent = db_path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|source| UpdateError::Io {
        path: parent.to_owned(),
        source,
    })?;
    let staging = tempfile::tempdir_in(parent).map_err(|source| UpdateError::Io {
        path: parent.to_owned(),
        source,
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| UpdateError::Io {
            path: parent.to_owned(),
            source,
        })?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_mins(2))
        .user_agent(concat!("rempart/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| UpdateError::Download {
            url: feeds.osv_base.clone(),
            message: e.to_string(),
        })?;

    let mut downloads: Vec<(String, PathBuf)> = Vec::new();
    for ecosystem in &feeds.osv_ecosystems {
        // `Rocky Linux` is one of the bucket's folder names: its space is sent encoded.
        let url = format!(
            "{}/{}/all.zip",
            feeds.osv_base.trim_end_matches('/'),
            ecosystem.replace(' ', "%20")
        );
        // The importer names the source after the file: keep the ecosystem in the name.
        let file = staging
            .path()
            .join(format!("{}-all.zip", ecosystem.replace(['/', ':'], "_")));
        downloads.push((url, file));
    }
    if let Some(url) = &feeds.debian_tracker {
        downloads.push((
            url.clone(),
            staging.path().join("debian-security-tracker.json"),
        ));
    }
    if let Some(url) = &feeds.ubuntu_vex {
        downloads.push((url.clone(), staging.path().join("ubuntu-vex-all.tar.xz")));
    }
    if let Some(url) = &feeds.kev {
        downloads.push((
            url.clone(),
            staging.path().join("known_exploited_vulnerabilities.json"),
        ));
    }
    if let Some(url) = &feeds.epss {
        downloads.push((
            url.clone(),
            staging.path().join("epss_scores-current.csv.gz"),
        ));
    }
    runtime.block_on(async {
        if let Some(base) = &feeds.redhat_csaf {
            // The archive's name changes with each publication: its pointer file says it.
            let base = base.trim_end_matches('/');
            let pointer = staging.path().join("archive_latest.txt");
            let pointer_url = format!("{base}/archive_latest.txt");
            download(&client, &pointer_url, &pointer, 4096).await?;
            let name = std::fs::read_to_string(&pointer)
                .map_err(|source| UpdateError::Io {
                    path: pointer.clone(),
                    source,
                })?
                .trim()
                .to_owned();
            // Only a plain file name is followed: the pointer must not send the download
            // elsewhere.
            if name.is_empty()
                || !name.ends_with(".tar.zst")
                || name.contains(['/', '\\'])
                || name.starts_with('.')
            {
                return Err(UpdateError::Download {
                    url: pointer_url,
                    message: format!("`{name}` is not the name of a CSAF VEX archive"),
                });
            }
            std::fs::remove_file(&pointer).map_err(|source| UpdateError::Io {
                path: pointer.clone(),
                source,
            })?;
            downloads.push((format!("{base}/{name}"), staging.path().join(name)));
        }
        for (url, file) in &downloads {
            tracing::info!(%url, "downloading");
            download(&client, url, file, feeds.max_bytes).await?;
        }
        Ok::<(), UpdateError>(())
    })?;
    let inputs: Vec<PathBuf> = downloads.into_iter().map(|(_, file)| file).collect();
    Ok(import_paths(db_path, &inputs)?)
}

async fn download(
    client: &reqwest::Client,
    url: &str,
    target: &Path,
    max_bytes: u64,
) -> Result<(), UpdateError> {
    let error = |message: String| UpdateError::Download {
        url: url.to_owned(),
        message,
    };
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| error(e.to_string()))?;
    if !response.status().is_success() {
        return Err(error(format!("HTTP {}", response.status())));
    }
    let expected_length = response.content_length();
    if expected_length.is_some_and(|length| length > max_bytes) {
        return Err(error(format!(
            "{} bytes, over the {max_bytes} byte cap",
            expected_length.unwrap_or_default()
        )));
    }
    // Google Cloud Storage (where the OSV exports live) announces the object's MD5.
    let announced_md5 = response
        .headers()
        .get_all("x-goog-hash")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|part| part.trim().strip_prefix("md5=").map(str::to_owned));
    let mut file = tokio::fs::File::create(target)
        .await
        .map_err(|source| UpdateError::Io {
            path: target.to_owned(),
            source,
        })?;
    let mut hasher = Md5::new();
    let mut received: u64 = 0;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| error(format!("interrupted after {received} bytes: {e}")))?;
        received += chunk.len() as u64;
        if received > max_bytes {
            return Err(error(format!("over the {max_bytes} byte cap")));
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|source| UpdateError::Io {
                path: target.to_owned(),
                source,
            })?;
    }
    file.flush().await.map_err(|source| UpdateError::Io {
        path: target.to_owned(),
        source,
    })?;
    if let Some(length) = expected_length
        && length != received
    {
        return Err(error(format!("got {received} of {length} bytes")));
    }
    if let Some(expected) = announced_md5 {
        let actual = base64::engine::general_purpose::STANDARD.encode(hasher.finalize());
        if actual != expected {
            return Err(UpdateError::Checksum {
                url: url.to_owned(),
                expected,
                actual,
            });
        }
    }
    Ok(())
}
