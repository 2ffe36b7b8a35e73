//! The sending side of `POST /v1/runtime/events`, for `rempart watch` on each node: kept in
//! this crate beside the endpoint, so that one crate owns the wire format.
//!
//! The watcher must never wait on the network: events go into a bounded queue (past it they
//! are counted and dropped, and the count is said), and one thread sends them in batches, again
//! after a failure with a growing pause.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::api::MAX_RUNTIME_EVENTS;

/// Events waiting to be sent, at most.
const QUEUE: usize = 10_000;
/// How long events wait to be sent with others.
const BATCH_WINDOW: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// The time given to the last batches when the watcher stops.
const FINAL_FLUSH: Duration = Duration::from_secs(5);

/// Forwards events to a rempart server.
pub struct RuntimeEventForwarder {
    queue: Option<SyncSender<Value>>,
    dropped: Arc<AtomicU64>,
    thread: Option<JoinHandle<u64>>,
}

impl RuntimeEventForwarder {
    /// `server`: the server's base URL (`https://rempart.example:8443`); `token`: a token with
    /// the runtime role; `node`: the name events are recorded under; `ca_file`: a PEM file of
    /// certificate authorities trusted besides the system's.
    pub fn start(
        server: &str,
        token: String,
        node: String,
        ca_file: Option<&Path>,
    ) -> Result<RuntimeEventForwarder, String> {
        let url = format!("{}/v1/runtime/events", server.trim_end_matches('/'));
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "{server}: the server's URL must start with https:// or http://"
            ));
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut roots = Vec::new();
        if let Some(path) = ca_file {
            let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            roots = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("{}: not PEM certificates: {e}", path.display()))?;
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rempart/", env!("CARGO_PKG_VERSION")))
            .tls_certs_merge(roots)
            .build()
            .map_err(|e| format!("cannot make the HTTP client: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the sending thread's runtime: {e}"))?;
        let (queue, events) = sync_channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let sender = Sender {
            client,
            url,
            token,
            node,
        };
        let thread = std::thread::Builder::new()
            .name("runtime-events".to_owned())
            .spawn(move || runtime.block_on(sender.run(&events)))
            .map_err(|e| format!("cannot start the sending thread: {e}"))?;
        Ok(RuntimeEventForwarder {
            queue: Some(queue),
            dropped,
            thread: Some(thread),
        })
    }

    /// Queues an event; never blocks.
    pub fn send(&self, event: Value) {
        let Some(queue) = &self.queue else {
            return;
        };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = queue.try_send(event) {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!("{dropped} runtime events dropped: the server is not taking them");
            }
        }
    }

    /// Sends what is queued (for a few seconds at most) and stops; returns how many events
    /// were recorded by the server, and how many were dropped.
    pub fn finish(mut self) -> (u64, u64) {
        drop(self.queue.take());
        let sent = self
            .thread
            .take()
            .and_then(|thread| thread.join().ok())
            .unwrap_or(0);
        (sent, self.dropped.load(Ordering::Relaxed))
    }
}

struct Sender {
    client: reqwest::Client,
    url: String,
    token: String,
    node: String,
}

impl Sender {
    /// The only task of its runtime: blocking on the queue between sends stops nothing else.
    async fn run(&self, events: &Receiver<Value>) -> u64 {
        let mut sent = 0;
        let mut batch: Vec<Value> = Vec::new();
        let mut pause = Duration::from_secs(1);
        let mut closing_by: Option<Instant> = None;
        loop {
            // Gather for a window, or until the batch is full or the queue closed.
            let window_end = Instant::now() + BATCH_WINDOW;
            while batch.len() < MAX_RUNTIME_EVENTS && closing_by.is_none() {
                let left = window_end.saturating_duration_since(Instant::now());
                match events.recv_timeout(left) {
                    Ok(event) => batch.push(event),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        closing_by = Some(Instant::now() + FINAL_FLUSH);
                    }
                }
            }
            if closing_by.is_some() {
                batch.extend(events.try_iter().take(MAX_RUNTIME_EVENTS - batch.len()));
            }
            if batch.is_empty() {
                if closing_by.is_some() {
                    return sent;
                }
                continue;
            }
            match self.post(&batch).await {
                Ok(()) => {
                    sent += batch.len() as u64;
                    batch.clear();
                    pause = Duration::from_secs(1);
                }
                Err(Failure::Refused(why)) => {
                    tracing::error!("the server refused {} runtime events: {why}", batch.len());
                    batch.clear();
                }
                Err(Failure::Retry(why)) => {
                    tracing::warn!("runtime events not sent ({why}); again in {pause:?}");
                    if closing_by.is_some_and(|by| Instant::now() + pause > by) {
                        return sent;
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                }
            }
        }
    }

    async fn post(&self, batch: &[Value]) -> Result<(), Failure> {
        let body = json!({ "node": self.node, "events": batch });
        let answer = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| Failure::Retry(format!("{}: {e}", self.url)))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(());
        }
        let text = answer.text().await.unwrap_or_default();
        let why = format!(
            "{}: {status} {}",
            self.url,
            text.chars().take(300).collect::<String>()
        );
        // Wrong token, wrong role, malformed: sending again changes nothing.
        if status.is_client_error() && status.as_u16() != 429 {
            Err(Failure::Refused(why))
        } else {
            Err(Failure::Retry(why))
        }
    }
}

enum Failure {
    Retry(String),
    Refused(String),
}
