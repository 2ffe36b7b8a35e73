//! What the server is told at start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where the store lives.
#[derive(Debug, Clone)]
pub enum StoreLocation {
    /// A SQLite file (the default: `<data dir>/rempart.sqlite`).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user:password@host:port/database`), for
    /// several replicas sharing one store. TLS as libpq's `sslmode` and `sslrootcert` say.
    Postgres(String),
}

/// TLS for the listener: a certificate chain and key in PEM, and for mutual TLS the CAs whose
/// client certificates are accepted.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub certificate: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

/// How the server reaches registries to pull images it is asked to scan: the same settings,
/// made into options the same way, as the command line's.
pub use rempart_image::RegistrySettings;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Uploads, the layer cache, the default store and vulnerability database.
    pub data_dir: PathBuf,
    pub store: StoreLocation,
    /// The vulnerability database; `<data dir>/vuln.sqlite` (the built-in sample set on the
    /// first start) when not given.
    pub database: Option<PathBuf>,
    pub tls: Option<TlsConfig>,
    /// How often the TLS files are read again, and the listener's certificate replaced when
    /// they changed.
    pub tls_reload_interval: Duration,
    pub registry: RegistrySettings,
    /// The registry gate: which pushed repositories are scanned, and which promoted.
    pub gate: Option<crate::gate::GateConfig>,
    /// Where events are sent (webhooks), and how hard the server tries.
    pub webhooks: Option<crate::webhooks::WebhookConfig>,
    /// The Kubernetes admission webhooks.
    pub admission: crate::admission::AdmissionConfig,
    /// A trust policy every registry image is verified against after its scan: unmet
    /// requirements are findings (`TRUST-…`) under the scan policies, so verdicts can require
    /// signatures and attestations.
    pub trust_policy: Option<PathBuf>,
    /// Scans run at once by this process.
    pub concurrent_scans: usize,
    /// How long a worker holds a scan without renewing before another may take it.
    pub lease: Duration,
    pub max_attempts: i64,
    /// The largest uploaded archive.
    pub max_upload_bytes: u64,
    /// The largest JSON or policy request body.
    pub max_request_bytes: usize,
    /// Requests per second each token may make (a burst of this many is allowed).
    pub rate_limit_per_token: u32,
    /// How long shutdown waits for running scans before giving them back to the queue.
    pub shutdown_grace: Duration,
    /// How often the vulnerability database file is checked for a change (which triggers the
    /// re-evaluation of every stored image).
    pub database_check_interval: Duration,
    /// Update the vulnerability database from the feeds this often (off when `None`).
    pub database_update_interval: Option<Duration>,
    /// Where the scheduled update takes the database from: an artifact pushed by
    /// `rempart db push` (`registry/repository:tag`), pulled with the registry settings, instead
    /// of the feeds.
    pub database_pull: Option<String>,
    /// A trust policy the pulled artifact must meet (its signature), read at each pull.
    pub database_pull_trust_policy: Option<PathBuf>,
    pub feeds: rempart::FeedConfig,
    /// How often an idle worker looks at the queue (other replicas may have queued work).
    pub poll_interval: Duration,
}

impl ServerConfig {
    /// The defaults for a server keeping its state in `data_dir`.
    pub fn new(data_dir: PathBuf) -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            store: StoreLocation::Sqlite(data_dir.join("rempart.sqlite")),
            data_dir,
            database: None,
            tls: None,
            tls_reload_interval: Duration::from_secs(30),
            registry: RegistrySettings::default(),
            gate: None,
            webhooks: None,
            admission: crate::admission::AdmissionConfig::default(),
            trust_policy: None,
            concurrent_scans: 2,
            lease: Duration::from_mins(1),
            max_attempts: 3,
            max_upload_bytes: 8 * 1024 * 1024 * 1024,
            max_request_bytes: 4 * 1024 * 1024,
            rate_limit_per_token: 200,
            shutdown_grace: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
            database_check_interval: Duration::from_secs(30),
            database_update_interval: None,
            database_pull: None,
            database_pull_trust_policy: None,
            feeds: rempart::FeedConfig::default(),
        }
    }
}
