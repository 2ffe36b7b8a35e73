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
    /// The layer cache's tier shared by the replicas (PostgreSQL stores only), handed to every
    /// engine built.
    pub(crate) shared_layers: Option<crate::scanning::SharedTier>,
    /// Replaced whole when the vulnerability database changes; a running scan keeps the one it
    /// started with.
    pub(crate) engine: std::sync::RwLock<Arc<ScanEngine>>,
    pub(crate) config: ServerConfig,
    pub(crate) metrics: Metrics,
    /// Woken when a scan is queued here, so an idle worker starts at once.
    pub(crate) wake: Notify,
    /// This process among the replicas: host name and process id, for leases and logs.
    pub(crate) instance: String,
    /// This replica's lasting identity (kept in the data directory, so it survives a restart
    /// with the same disk): the scans that need this disk are pinned to it.
    pub(crate) replica: String,
    pub(crate) limiter: RateLimiter,
    /// Registry credentials Harbor sent with its scan requests, in memory only.
    pub(crate) vault: Vault,
    /// Sends events to the configured webhooks (None when there are none).
    pub(crate) webhooks: Option<crate::webhooks::Sender>,
    /// Woken when a delivery is queued here, so that it is sent at once.
    pub(crate) deliveries_wake: Notify,
    /// The admission webhooks' policy and memory.
    pub(crate) admission: crate::admission::Admission,
}

impl AppState {
    pub(crate) fn engine(&self) -> Arc<ScanEngine> {
        Arc::clone(
            &self
                .engine
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    pub(crate) fn replace_engine(&self, engine: ScanEngine) {
        *self
            .engine
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(engine);
    }

    /// The webhook configuration, for the deliveries an event queues.
    pub(crate) fn webhook_config(&self) -> Option<&crate::webhooks::WebhookConfig> {
        self.webhooks.as_ref().map(|sender| &sender.config)
    }

    /// Wakes the delivery tasks after deliveries were queued: those waiting, and (through the
    /// stored permit) one that is just about to wait.
    pub(crate) fn deliveries_queued(&self) {
        if self.webhooks.is_some() {
            self.deliveries_wake.notify_waiters();
            self.deliveries_wake.notify_one();
        }
    }

    pub(crate) fn queue_policy(&self) -> QueuePolicy {
        QueuePolicy {
            lease_millis: i64::try_from(self.config.lease.as_millis()).unwrap_or(i64::MAX),
            max_attempts: self.config.max_attempts,
            // Replicas say they are alive every third of a lease; three leases of silence is
            // a replica that is gone, not one that is busy.
            replica_silence_millis: i64::try_from((self.config.lease * 3).as_millis())
                .unwrap_or(i64::MAX),
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
