//! The rempart server: scans images on request (a registry reference or an uploaded archive)
//! through a durable queue in its store, keeps every result, and decides verdicts under named,
//! versioned policies with the engine's own policy code. Access is by API token (a role and
//! repository scopes each); every decision and every change is in an append-only audit log.
//!
//! [`run`] starts it; [`create_token`] makes a token without a running server (the first
//! admin token of a fresh installation, or a lost one); [`webhook_configuration`] writes the
//! cluster's admission webhook configuration for it.

mod admission;
mod api;
mod auth;
mod clock;
mod config;
mod dashboard;
mod decide;
mod gate;
mod limit;
mod metrics;
mod reevaluate;
mod runtime_client;
mod scanning;
mod state;
mod store;
mod tls;
mod vault;
mod webhook_config;
mod webhooks;
mod worker;

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::{Notify, watch};

pub use admission::{AdmissionConfig, KubernetesApi};
pub use auth::TOKEN_PREFIX;
pub use config::{RegistrySettings, ServerConfig, StoreLocation, TlsConfig};
pub use gate::{GateConfig, GateMode, GateRule};
pub use runtime_client::RuntimeEventForwarder;
pub use store::{Role, SCHEMA_VERSION, StoreError};
pub use webhook_config::{
    CaBundle, FailurePolicy, MUTATE_PATH, VALIDATE_PATH, WebhookConfigError, WebhookConfigOptions,
    WebhookTarget, webhook_configuration,
};
pub use webhooks::{EVENTS as WEBHOOK_EVENTS, WebhookConfig};

use crate::state::AppState;
use crate::store::{NewAudit, PostgresStore, SqliteStore, Store};

/// Why the server could not start or went down.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot set up the scan engine: {0}")]
    Engine(String),
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("cannot listen on {address}: {message}")]
    Listen { address: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

fn file_error(path: &Path, error: &impl std::fmt::Display) -> ServerError {
    ServerError::File {
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

fn open_store(config: &ServerConfig) -> Result<Arc<dyn Store>, ServerError> {
    match &config.store {
        StoreLocation::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path)?)),
        StoreLocation::Postgres(url) => Ok(Arc::new(PostgresStore::open(url)?)),
    }
}

/// The store, and with PostgreSQL the layer cache's tier shared by the replicas (a single
/// server on SQLite has its local cache only). Without the shared tier's tables (a database
/// user that may not create them) the server runs, each replica reading its own layers.
fn open_server_store(
    config: &ServerConfig,
) -> Result<(Arc<dyn Store>, Option<scanning::SharedTier>), ServerError> {
    match &config.store {
        StoreLocation::Sqlite(path) => Ok((Arc::new(SqliteStore::open(path)?), None)),
        StoreLocation::Postgres(url) => {
            let store = PostgresStore::open(url)?;
            let shared = match store.shared_layers() {
                Ok(shared) => Some(Arc::new(shared) as scanning::SharedTier),
                Err(error) => {
                    tracing::warn!("layer results are not shared between replicas: {error}");
                    None
                }
            };
            Ok((Arc::new(store), shared))
        }
    }
}

/// The data directory, private to the server's user: it holds uploads and, by default, the
/// store with its token hashes.
fn prepare_data_dir(config: &ServerConfig) -> Result<(), ServerError> {
    let dir = &config.data_dir;
    std::fs::create_dir_all(dir).map_err(|e| file_error(dir, &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| file_error(dir, &e))?;
    }
    Ok(())
}

/// Makes a token in the store without a running server; returns its secret (shown once).
pub fn create_token(
    config: &ServerConfig,
    name: &str,
    role: Role,
    scopes: Vec<String>,
) -> Result<String, ServerError> {
    auth::check_scopes(&scopes).map_err(ServerError::Invalid)?;
    prepare_data_dir(config)?;
    let store = open_store(config)?;
    let (token, secret) = api::make_token_record(name, role, scopes, "command line");
    store.create_token(&token)?;
    store.append_audit(&NewAudit {
        at: token.created_at,
        actor: "command line".into(),
        action: "token.created".into(),
        subject: token.name.clone(),
        detail: Some(format!(
            "role {}, scopes {}",
            token.role.as_str(),
            token.scopes.join(",")
        )),
        ..NewAudit::default()
    })?;
    Ok(secret)
}

/// On a store with no admin token in force, an admin token written to
/// `<data dir>/admin-token` (readable by the server's user only), so that a fresh server can
/// be administered at once (a registry token made first does not count).
fn bootstrap_admin_token(config: &ServerConfig, store: &dyn Store) -> Result<(), ServerError> {
    let has_admin = store
        .tokens()?
        .iter()
        .any(|token| token.role == Role::Admin && token.revoked_at.is_none());
    if has_admin {
        return Ok(());
    }
    let (token, secret) =
        api::make_token_record("bootstrap-admin", Role::Admin, vec!["*".into()], "server");
    let path = config.data_dir.join("admin-token");
    let mut file = tempfile::NamedTempFile::new_in(&config.data_dir)
        .map_err(|e| file_error(&config.data_dir, &e))?;
    writeln!(file, "{secret}").map_err(|e| file_error(&path, &e))?;
    // NamedTempFile is created with mode 0600.
    file.persist(&path)
        .map_err(|e| file_error(&path, &e.error))?;
    store.create_token(&token)?;
    store.append_audit(&NewAudit {
        at: token.created_at,
        actor: "server".into(),
        action: "token.created".into(),
        subject: token.name,
        detail: Some("no admin token existed: one was written to the data directory".into()),
        ..NewAudit::default()
    })?;
    tracing::warn!(
        "no admin token existed: one was written to {} (mode 0600); use it to create your own tokens, then revoke it",
        path.display()
    );
    Ok(())
}

fn ensure_default_policy(store: &dyn Store) -> Result<(), ServerError> {
    if store.policy(decide::DEFAULT_POLICY_NAME, None)?.is_none() {
        let now = clock::now_millis();
        store.put_policy(
            decide::DEFAULT_POLICY_NAME,
            decide::DEFAULT_POLICY,
            "server",
            now,
        )?;
        store.append_audit(&NewAudit {
            at: now,
            actor: "server".into(),
            action: "policy.updated".into(),
            subject: decide::DEFAULT_POLICY_NAME.into(),
            detail: Some("version 1 (the built-in default)".into()),
            ..NewAudit::default()
        })?;
    }
    Ok(())
}

/// The replica's lasting identity, in `<data dir>/replica-id` (made on the first start). Two
/// processes sharing one data directory share it, and rightly: they share its uploads too.
fn replica_id(config: &ServerConfig) -> Result<String, ServerError> {
    let path = config.data_dir.join("replica-id");
    match std::fs::read_to_string(&path) {
        Ok(text) if is_replica_id(text.trim()) => return Ok(text.trim().to_owned()),
        Ok(_) => {
            return Err(ServerError::Invalid(format!(
                "{}: not a replica id (`replica-` and 16 hex digits); remove it to make a new one",
                path.display()
            )));
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(file_error(&path, &error)),
    }
    let id = format!("replica-{}", auth::random_hex(8));
    // Written aside and renamed: a crash never leaves half an id.
    let partial = config.data_dir.join(".replica-id.partial");
    std::fs::write(&partial, format!("{id}\n")).map_err(|e| file_error(&partial, &e))?;
    std::fs::rename(&partial, &path).map_err(|e| file_error(&path, &e))?;
    Ok(id)
}

fn is_replica_id(text: &str) -> bool {
    text.strip_prefix("replica-")
        .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn instance_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map_or_else(|_| "rempart".to_owned(), |name| name.trim().to_owned());
    format!("{host}-{}-{}", std::process::id(), auth::random_hex(3))
}

/// A replica that takes its database from a registry and has none yet pulls it before it
/// serves: it must not start on the built-in sample, nor fail for want of a file it was told
/// where to get.
fn pull_missing_database(config: &ServerConfig) -> Result<(), ServerError> {
    let Some(reference) = &config.database_pull else {
        return Ok(());
    };
    let path = scanning::database_path(config);
    if path.exists() {
        return Ok(());
    }
    let options = config
        .registry
        .options(rempart_image::blob_dir(&config.data_dir.join("cache")));
    let pulled = reevaluate::pull_database(
        reference,
        &path,
        &options,
        config.database_pull_trust_policy.as_deref(),
    )
    .map_err(|error| {
        ServerError::Engine(format!(
            "no vulnerability database at {} yet, and pulling it from {reference} failed: \
             {error}",
            path.display()
        ))
    })?;
    tracing::info!(
        "vulnerability database pulled before start: {}",
        pulled.describe()
    );
    Ok(())
}

/// Runs the server until SIGTERM or SIGINT, then shuts down gracefully: stops taking requests
/// and scans, lets running scans finish within the grace period, gives the others back to the
/// queue.
pub fn run(config: ServerConfig) -> Result<(), ServerError> {
    prepare_data_dir(&config)?;
    let (store, shared_layers) = open_server_store(&config)?;
    ensure_default_policy(store.as_ref())?;
    bootstrap_admin_token(&config, store.as_ref())?;
    tracing::info!("store: {}", store.describe());
    let replica = replica_id(&config)?;
    let instance = instance_name();
    // Alive before the first request: a scan pinned here must not look orphaned to others.
    store
        .replica_seen(&replica, &instance, clock::now_millis())
        .map_err(ServerError::Store)?;
    tracing::info!(replica = %replica, instance = %instance, "replica identity");
    pull_missing_database(&config)?;
    let engine =
        scanning::ScanEngine::new(&config, shared_layers.clone()).map_err(ServerError::Engine)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rempart-server")
        .build()
        .map_err(|e| ServerError::Invalid(format!("cannot start the async runtime: {e}")))?;
    // Kept until the runtime is gone: the PostgreSQL client's connections hold small runtimes
    // of their own, which must not be dropped on one of the server's async threads.
    let keep_store = Arc::clone(&store);
    let webhooks = config
        .webhooks
        .clone()
        .map(webhooks::Sender::new)
        .transpose()
        .map_err(ServerError::Invalid)?;
    let admission = admission::Admission::new(&config.admission).map_err(ServerError::Invalid)?;
    let state = Arc::new(AppState {
        store,
        shared_layers,
        engine: std::sync::RwLock::new(Arc::new(engine)),
        limiter: limit::RateLimiter::new(config.rate_limit_per_token),
        metrics: metrics::Metrics::new(),
        wake: Notify::new(),
        vault: vault::Vault::default(),
        webhooks,
        deliveries_wake: Notify::new(),
        admission,
        instance,
        replica,
        config,
    });
    admission::start(
        &state.config.admission,
        &state.admission,
        state.store.as_ref(),
        state.engine().trust_policy().is_some(),
    )
    .map_err(ServerError::Invalid)?;
    if let Some(loaded) = state.admission.policy() {
        state.metrics.admission_policy_version.set(loaded.version);
    }
    let served = runtime.block_on(serve(state));
    drop(runtime);
    drop(keep_store);
    served
}

async fn serve(state: Arc<AppState>) -> Result<(), ServerError> {
    let (stop_sender, stop) = watch::channel(false);
    let mut workers = Vec::new();
    for index in 0..state.config.concurrent_scans.max(1) {
        workers.push(tokio::spawn(worker::run_worker(
            Arc::clone(&state),
            index,
            stop.clone(),
        )));
    }
    if state.webhooks.is_some() {
        for index in 0..webhooks::DELIVERY_TASKS {
            workers.push(tokio::spawn(webhooks::run_deliveries(
                Arc::clone(&state),
                index,
                stop.clone(),
            )));
        }
    }
    let watcher = tokio::spawn(reevaluate::watch_database(Arc::clone(&state), stop.clone()));
    let heartbeat = tokio::spawn(heartbeat(Arc::clone(&state), stop.clone()));
    let admission_policy = tokio::spawn(admission::follow_policy(Arc::clone(&state), stop.clone()));
    let namespaces = tokio::spawn(admission::follow_namespaces(
        Arc::clone(&state),
        stop.clone(),
    ));
    let handle = axum_server::Handle::new();
    let shutdown_handle = handle.clone();
    let grace = state.config.shutdown_grace;
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: no new requests or scans");
        let _ = stop_sender.send(true);
        shutdown_handle.graceful_shutdown(Some(grace));
    });
    let app = api::router(Arc::clone(&state)).into_make_service();
    let address = state.config.listen;
    let listen_error = |e: std::io::Error| ServerError::Listen {
        address: address.to_string(),
        message: e.to_string(),
    };
    let scheme = if state.config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!("listening on {scheme}://{address}");
    match &state.config.tls {
        Some(tls) => {
            let loaded = tls::load(tls)?;
            tracing::info!(
                certificate = %tls.certificate.display(),
                not_after = loaded.not_after.as_deref().unwrap_or("unknown"),
                "TLS certificate loaded"
            );
            let listener = axum_server::tls_rustls::RustlsConfig::from_config(loaded.config);
            workers.push(tokio::spawn(tls::watch(
                Arc::clone(&state),
                tls.clone(),
                listener.clone(),
                loaded.files,
                stop.clone(),
            )));
            axum_server::bind_rustls(address, listener)
                .handle(handle)
                .serve(app)
                .await
                .map_err(listen_error)?;
        }
        None => {
            axum_server::bind(address)
                .handle(handle)
                .serve(app)
                .await
                .map_err(listen_error)?;
        }
    }
    for worker in workers {
        let _ = worker.await;
    }
    let _ = watcher.await;
    let _ = heartbeat.await;
    let _ = admission_policy.await;
    let _ = namespaces.await;
    tracing::info!("stopped");
    Ok(())
}

/// Tells the other replicas this one is alive, every third of a lease, and fails the scans that
/// can no longer run (those pinned to a replica silent for three leases, and those whose last
/// attempt's worker died).
async fn heartbeat(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let every = (state.config.lease / 3).max(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        let (replica, instance) = (state.replica.clone(), state.instance.clone());
        if let Err(error) = state
            .with_store(move |store| store.replica_seen(&replica, &instance, clock::now_millis()))
            .await
        {
            tracing::warn!("cannot record this replica as alive: {error}");
        }
        worker::fail_stranded(&state).await;
    }
}

async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = interrupt.await;
            return;
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
