//! Sending deliveries: a few tasks per replica take due deliveries from the store under a
//! lease, post them, and record the outcome (delivered, retry later, or dead).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::{Endpoint, WebhookConfig, signature};
use crate::clock::now_millis;
use crate::metrics::DeliveryLabels;
use crate::state::AppState;
use crate::store::{DeliveryOutcome, DeliveryRecord};

/// Deliveries in flight at once per replica: a slow receiver holds one task, not the others.
pub(crate) const DELIVERY_TASKS: usize = 4;
/// The start of a receiver's answer kept for the delivery's error (the rest is not read).
const KEPT_ANSWER_BYTES: usize = 512;

/// The HTTP client and the configuration deliveries are made with.
pub(crate) struct Sender {
    pub(crate) config: WebhookConfig,
    client: reqwest::Client,
}

impl Sender {
    pub(crate) fn new(config: WebhookConfig) -> Result<Sender, String> {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A receiver that redirects is misconfigured: a signed body is not sent elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rempart/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot make the webhook client: {e}"))?;
        Ok(Sender { config, client })
    }

    /// One attempt; the answer's status when the receiver answered, and an error unless 2xx.
    async fn post(
        &self,
        endpoint: &Endpoint,
        delivery: &DeliveryRecord,
    ) -> (Option<u16>, Result<(), String>) {
        let timestamp = now_millis() / 1000;
        let body = delivery.payload.as_bytes();
        let sent = self
            .client
            .post(endpoint.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                signature::sign(&endpoint.key, &delivery.id, timestamp, body),
            )
            .header("x-rempart-event", &delivery.event)
            .body(delivery.payload.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => return (None, Err(describe(&error))),
        };
        let status = response.status();
        if status.is_success() {
            return (Some(status.as_u16()), Ok(()));
        }
        let mut answer = Vec::new();
        while answer.len() < KEPT_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => answer.extend_from_slice(&chunk),
                _ => break,
            }
        }
        answer.truncate(KEPT_ANSWER_BYTES);
        let answer = String::from_utf8_lossy(&answer);
        let answer = answer.trim();
        (
            Some(status.as_u16()),
            Err(if answer.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {answer}")
            }),
        )
    }
}

/// reqwest's message and its causes (the outer one alone says little: "error sending request").
fn describe(error: &reqwest::Error) -> String {
    let chain = rempart_core::error_chain(error);
    if error.is_timeout() {
        format!("timed out: {chain}")
    } else {
        chain
    }
}

/// One delivery task: until shutdown, take the next due delivery and attempt it.
pub(crate) async fn run_deliveries(
    state: Arc<AppState>,
    index: usize,
    mut stop: watch::Receiver<bool>,
) {
    let Some(sender) = state.webhooks.as_ref() else {
        return;
    };
    let owner = format!("{}/webhook-{index}", state.instance);
    // Longer than any attempt, so that a live sender never loses its lease.
    let lease = i64::try_from((sender.config.timeout * 2 + Duration::from_secs(5)).as_millis())
        .unwrap_or(i64::MAX);
    loop {
        if *stop.borrow() {
            return;
        }
        let claimant = owner.clone();
        let claimed = state
            .with_store(move |store| store.claim_delivery(&claimant, now_millis(), lease))
            .await;
        match claimed {
            Ok(Some(delivery)) => attempt(&state, sender, &owner, delivery).await,
            Ok(None) => {
                tokio::select! {
                    () = state.deliveries_wake.notified() => {}
                    () = tokio::time::sleep(state.config.poll_interval) => {}
                    _ = stop.changed() => {}
                }
            }
            Err(error) => {
                tracing::warn!("webhooks: cannot read the deliveries: {error}");
                tokio::select! {
                    () = tokio::time::sleep(state.config.poll_interval * 4) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

async fn attempt(state: &Arc<AppState>, sender: &Sender, owner: &str, delivery: DeliveryRecord) {
    let attempts = u32::try_from(delivery.attempts).unwrap_or(u32::MAX);
    let outcome = match sender.config.endpoint(&delivery.endpoint) {
        Some(endpoint) => {
            let (status, sent) = sender.post(endpoint, &delivery).await;
            let status = status.map(i64::from);
            match sent {
                Ok(()) => DeliveryOutcome::Delivered {
                    status: status.unwrap_or_default(),
                },
                Err(error) if attempts >= endpoint.max_attempts => {
                    DeliveryOutcome::Dead { status, error }
                }
                Err(error) => {
                    let delay = sender.config.retry_delay(attempts);
                    let at =
                        now_millis() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
                    DeliveryOutcome::Retry { at, status, error }
                }
            }
        }
        // Its endpoint was removed from the configuration since it was queued.
        None => DeliveryOutcome::Dead {
            status: None,
            error: format!("no endpoint `{}` is configured", delivery.endpoint),
        },
    };
    let label = match &outcome {
        DeliveryOutcome::Delivered { .. } => "delivered",
        DeliveryOutcome::Retry { error, .. } => {
            tracing::warn!(
                delivery = %delivery.id,
                endpoint = %delivery.endpoint,
                event = %delivery.event,
                attempt = attempts,
                "webhook not accepted, tried again later: {error}"
            );
            "retried"
        }
        DeliveryOutcome::Dead { error, .. } => {
            tracing::error!(
                delivery = %delivery.id,
                endpoint = %delivery.endpoint,
                event = %delivery.event,
                attempt = attempts,
                "webhook dead-lettered after its last attempt: {error}"
            );
            "dead"
        }
    };
    state
        .metrics
        .deliveries
        .get_or_create(&DeliveryLabels {
            endpoint: delivery.endpoint.clone(),
            outcome: label.to_owned(),
        })
        .inc();
    let (id, owner) = (delivery.id.clone(), owner.to_owned());
    let recorded = state
        .with_store(move |store| store.finish_delivery(&id, &owner, &outcome, now_millis()))
        .await;
    match recorded {
        Ok(true) => {}
        // The lease ran out meanwhile (a stalled process): another sender has it now.
        Ok(false) => tracing::warn!("webhook {}: the lease was lost", delivery.id),
        Err(error) => tracing::error!(
            "webhook {}: cannot record the attempt: {error}",
            delivery.id
        ),
    }
}
