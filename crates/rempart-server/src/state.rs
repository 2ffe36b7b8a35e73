//! What every handler and worker shares.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::ServerConfig;
use crate::limit::RateLimiter;
use crate::metrics::Metrics;
use crate::scanning::ScanEngine;
use crate::store::{QueuePolicy, Store, StoreError};
use crate::vault::Vault;

pub(crate) struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) engine: Arc<ScanEngine>,
    pub(crate) config: ServerConfig,
    pub(crate) metrics: Metrics,
    /// Woken when a scan is queued here, so an idle worker starts at once.
    pub(crate) wake: Notify,
    /// This process among the replicas: host name and process id, for leases and logs.
    pub(crate) instance: String,
    pub(crate) limiter: RateLimiter,
    /// Registry credentials Harbor sent with its scan requests, in memory only.
    pub(crate) vault: Vault,
}

impl AppState {
    pub(crate) fn queue_policy(&self) -> QueuePolicy {
        QueuePolicy {
            lease_millis: i64::try_from(self.config.lease.as_millis()).unwrap_or(i64::MAX),
            max_attempts: self.config.max_attempts,
        }
    }

    /// Runs store calls off the async threads (the store is synchronous).
    pub(crate) async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || work(store.as_ref()))
            .await
            .unwrap_or_else(|e| {
                Err(StoreError::Backend {
                    store: "store".into(),
                    message: format!("the store call stopped: {e}"),
                })
            })
    }
}
