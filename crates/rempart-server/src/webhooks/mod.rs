//! Events out: webhooks. What the server decides (a scan completed or failed, a verdict changed
//! after a database update, a promotion done, refused or failed) is sent as JSON to the
//! endpoints that subscribe to it, signed with HMAC-SHA256, retried with exponential backoff,
//! and dead-lettered after the endpoint's last attempt (listed at `/v1/webhooks/deliveries`,
//! sent again on an admin's request).
//!
//! A delivery is queued in the store in the same transaction as the audit line of its event
//! (`NewAudit::deliveries`): an event is sent if and only if what it announces was recorded,
//! and survives any restart. Delivery is at least once: a replica that dies mid-attempt leaves
//! a lease that runs out, and the delivery is attempted again with the same message id.
//!
//! The message format and signature follow the Standard Webhooks specification, so receivers
//! can verify with its libraries: headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`); the body is
//! `{"type", "timestamp", "data"}`.
//!
//! ```yaml
//! endpoints:
//!   - name: security-chat                 # names the endpoint in deliveries and metrics
//!     url: https://hooks.example/rempart
//!     secret_file: /etc/rempart/webhook   # or secret_env: REMPART_WEBHOOK_SECRET
//!     events: [scan.completed, verdict.changed, promotion.done]   # every event when omitted
//!     max_attempts: 8                     # then the delivery is dead-lettered
//! timeout: 10s                            # per attempt
//! first_retry: 30s                        # doubled after each failure...
//! max_retry_delay: 1h                     # ...up to this
//! ```
//!
//! URLs and secrets stay in this file (a Kubernetes Secret in a cluster): the store keeps the
//! endpoint's name only.

mod deliver;
mod signature;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::store::NewDelivery;

pub(crate) use deliver::{DELIVERY_TASKS, Sender, run_deliveries};

/// The file is small; a cap keeps a mistaken path from costing much.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// A secret's file is read whole; a key is never this long.
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// Every event the server sends.
pub const EVENTS: [&str; 7] = [
    "scan.completed",
    "scan.failed",
    "verdict.changed",
    "promotion.done",
    "promotion.refused",
    "promotion.failed",
    "runtime.event",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEndpoint {
    name: String,
    url: String,
    #[serde(default)]
    secret_file: Option<std::path::PathBuf>,
    #[serde(default)]
    secret_env: Option<String>,
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(default)]
    max_attempts: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    endpoints: Vec<FileEndpoint>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default)]
    first_retry: Option<String>,
    #[serde(default)]
    max_retry_delay: Option<String>,
}

/// One receiver of events.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) name: String,
    pub(crate) url: reqwest::Url,
    /// The HMAC key (never logged, never stored).
    key: Vec<u8>,
    /// None: every event.
    events: Option<HashSet<String>>,
    pub(crate) max_attempts: u32,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("url", &self.url.as_str())
            .field("events", &self.events)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    pub(crate) fn wants(&self, event: &str) -> bool {
        self.events
            .as_ref()
            .is_none_or(|events| events.contains(event))
    }

    /// The events it receives, for listings.
    pub(crate) fn events(&self) -> Vec<String> {
        let mut events: Vec<String> = EVENTS
            .iter()
            .filter(|event| self.wants(event))
            .map(|event| (*event).to_owned())
            .collect();
        events.sort();
        events
    }
}

/// Where events go, and how hard the server tries.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub(crate) endpoints: Vec<Endpoint>,
    pub(crate) timeout: Duration,
    pub(crate) first_retry: Duration,
    pub(crate) max_retry_delay: Duration,
}

impl WebhookConfig {
    /// Reads the webhook file and every secret it names; any mistake is an error naming the
    /// file and the endpoint.
    pub fn load(path: &Path) -> Result<WebhookConfig, String> {
        let at = |message: String| format!("{}: {message}", path.display());
        let bytes =
            rempart_core::read_regular_file(path, MAX_FILE_BYTES).map_err(|e| at(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| at("not UTF-8 text".into()))?;
        let file: File = serde_saphyr::from_str(&text).map_err(|e| at(e.to_string()))?;
        WebhookConfig::from_file(file, &|name| std::env::var(name).ok()).map_err(at)
    }

    fn from_file(
        file: File,
        environment: &dyn Fn(&str) -> Option<String>,
    ) -> Result<WebhookConfig, String> {
        let duration = |field: &str, value: Option<&str>, default: Duration, least: Duration| {
            let Some(text) = value else {
                return Ok(default);
            };
            let parsed =
                rempart_core::parse_duration(text).map_err(|e| format!("`{field}`: {e}"))?;
            if parsed < least {
                return Err(format!("`{field}` must be at least {least:?}"));
            }
            Ok(parsed)
        };
        let timeout = duration(
            "timeout",
            file.timeout.as_deref(),
            Duration::from_secs(10),
            Duration::from_secs(1),
        )?;
        let first_retry = duration(
            "first_retry",
            file.first_retry.as_deref(),
            Duration::from_secs(30),
            Duration::from_millis(100),
        )?;
        let max_retry_delay = duration(
            "max_retry_delay",
            file.max_retry_delay.as_deref(),
            Duration::from_hours(1),
            first_retry,
        )?;
        let mut names = HashSet::new();
        let mut endpoints = Vec::new();
        for (index, endpoint) in file.endpoints.into_iter().enumerate() {
            let at = format!("endpoint {} (`{}`)", index + 1, endpoint.name);
            if endpoint.name.is_empty()
                || endpoint.name.len() > 64
                || !endpoint
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(format!(
                    "{at}: a name is 1 to 64 letters, digits, `-`, `_` or `.`"
                ));
            }
            if !names.insert(endpoint.name.clone()) {
                return Err(format!("{at}: another endpoint has this name"));
            }
            let url =
                reqwest::Url::parse(&endpoint.url).map_err(|e| format!("{at}: `url`: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(format!("{at}: `url` must be an http or https URL"));
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err(format!(
                    "{at}: `url` must not hold credentials: receivers check the signature"
                ));
            }
            let secret = match (&endpoint.secret_file, &endpoint.secret_env) {
                (Some(file), None) => {
                    let bytes = rempart_core::read_regular_file(file, MAX_SECRET_BYTES)
                        .map_err(|e| format!("{at}: `secret_file`: {}: {e}", file.display()))?;
                    String::from_utf8(bytes)
                        .map_err(|_| {
                            format!("{at}: `secret_file`: {}: not UTF-8 text", file.display())
                        })?
                        .trim()
                        .to_owned()
                }
                (None, Some(name)) => environment(name)
                    .ok_or_else(|| format!("{at}: `secret_env`: {name} is not set"))?
                    .trim()
                    .to_owned(),
                _ => {
                    return Err(format!(
                        "{at}: give the signing secret with one of `secret_file` or `secret_env`"
                    ));
                }
            };
            let key = signature::key(&secret).map_err(|e| format!("{at}: the secret {e}"))?;
            let events = match endpoint.events {
                None => None,
                Some(events) => {
                    if events.is_empty() {
                        return Err(format!(
                            "{at}: `events` is empty: remove the endpoint, or list events"
                        ));
                    }
                    for event in &events {
                        if !EVENTS.contains(&event.as_str()) {
                            return Err(format!(
                                "{at}: unknown event `{event}` (known: {})",
                                EVENTS.join(", ")
                            ));
                        }
                    }
                    Some(events.into_iter().collect())
                }
            };
            let max_attempts = endpoint.max_attempts.unwrap_or(8);
            if !(1..=50).contains(&max_attempts) {
                return Err(format!("{at}: `max_attempts` must be from 1 to 50"));
            }
            endpoints.push(Endpoint {
                name: endpoint.name,
                url,
                key,
                events,
                max_attempts,
            });
        }
        Ok(WebhookConfig {
            endpoints,
            timeout,
            first_retry,
            max_retry_delay,
        })
    }

    pub(crate) fn endpoint(&self, name: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|endpoint| endpoint.name == name)
    }

    /// How long after its `attempts`-th failed attempt a delivery is tried again: the first
    /// retry delay doubled per failure, capped, and shortened by up to a fifth at random so that
    /// the deliveries of one outage do not all return at the same instant.
    pub(crate) fn retry_delay(&self, attempts: u32) -> Duration {
        let doubled = self.first_retry.saturating_mul(
            1_u32
                .checked_shl(attempts.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let delay = doubled.min(self.max_retry_delay);
        let mut byte = [0_u8; 1];
        let jitter = if getrandom::fill(&mut byte).is_ok() {
            f64::from(byte[0]) / 255.0 * 0.2
        } else {
            0.0
        };
        delay.mul_f64(1.0 - jitter)
    }
}

/// The deliveries announcing an event to each endpoint that wants it (none without webhooks).
pub(crate) fn deliveries(
    config: Option<&WebhookConfig>,
    event: &str,
    data: Value,
    now: i64,
) -> Vec<NewDelivery> {
    debug_assert!(EVENTS.contains(&event), "an undeclared event: {event}");
    let Some(config) = config else {
        return Vec::new();
    };
    let mut body = serde_json::Map::new();
    body.insert("type".into(), Value::from(event));
    body.insert("timestamp".into(), Value::from(crate::clock::rfc3339(now)));
    body.insert("data".into(), data);
    let payload = Value::Object(body).to_string();
    config
        .endpoints
        .iter()
        .filter(|endpoint| endpoint.wants(event))
        .map(|endpoint| NewDelivery {
            id: format!("msg_{}", crate::auth::random_hex(12)),
            endpoint: endpoint.name.clone(),
            event: event.to_owned(),
            payload: payload.clone(),
            created_at: now,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load(text: &str, environment: &[(&str, &str)]) -> Result<WebhookConfig, String> {
        let file: File = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        WebhookConfig::from_file(file, &|name| {
            environment
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn endpoints_get_the_events_they_subscribe_to() {
        let config = load(
            "endpoints:\n  - {name: chat, url: 'https://hooks.test/x', secret_env: S, events: [verdict.changed]}\n  - {name: siem, url: 'http://127.0.0.1:9/in', secret_env: S}\nfirst_retry: 2s\n",
            &[("S", "a-long-enough-test-secret")],
        )
        .unwrap();
        let sent = deliveries(
            Some(&config),
            "scan.completed",
            json!({"digest": "sha256:1"}),
            0,
        );
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].endpoint, "siem");
        let body: Value = serde_json::from_str(&sent[0].payload).unwrap();
        assert_eq!(body["type"], "scan.completed");
        assert_eq!(body["timestamp"], "1970-01-01T00:00:00Z");
        assert_eq!(body["data"]["digest"], "sha256:1");
        let both = deliveries(Some(&config), "verdict.changed", json!({}), 0);
        assert_eq!(both.len(), 2);
        assert_ne!(both[0].id, both[1].id);
        assert!(deliveries(None, "verdict.changed", json!({}), 0).is_empty());
        assert_eq!(
            config.endpoint("chat").unwrap().events(),
            ["verdict.changed"]
        );
        assert_eq!(
            config.endpoint("siem").unwrap().events().len(),
            EVENTS.len()
        );
    }

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let config = load(
            "endpoints: []\nfirst_retry: 10s\nmax_retry_delay: 60s\n",
            &[],
        )
        .unwrap();
        let within = |delay: Duration, nominal: u64| {
            delay <= Duration::from_secs(nominal) && delay >= Duration::from_secs(nominal) * 4 / 5
        };
        assert!(within(config.retry_delay(1), 10));
        assert!(within(config.retry_delay(2), 20));
        assert!(within(config.retry_delay(3), 40));
        assert!(within(config.retry_delay(4), 60));
        assert!(within(config.retry_delay(40), 60));
    }

    #[test]
    fn mistakes_name_the_endpoint() {
        let cases = [
            (
                "endpoints:\n  - {name: a, url: 'https://h/x'}\n",
                "secret_file` or `secret_env",
            ),
            (
                "endpoints:\n  - {name: a, url: 'https://h/x', secret_env: MISSING}\n",
                "MISSING is not set",
            ),
            (
                "endpoints:\n  - {name: a, url: 'ftp://h/x', secret_env: S}\n",
                "http or https",
            ),
            (
                "endpoints:\n  - {name: a, url: 'https://u:p@h/x', secret_env: S}\n",
                "credentials",
            ),
            (
                "endpoints:\n  - {name: a, url: 'https://h/x', secret_env: S, events: [scan.done]}\n",
                "unknown event `scan.done`",
            ),
            (
                "endpoints:\n  - {name: a, url: 'https://h/x', secret_env: S}\n  - {name: a, url: 'https://h/y', secret_env: S}\n",
                "another endpoint",
            ),
            (
                "endpoints:\n  - {name: 'a b', url: 'https://h/x', secret_env: S}\n",
                "a name is",
            ),
            (
                "endpoints:\n  - {name: a, url: 'https://h/x', secret_env: S, max_attempts: 0}\n",
                "max_attempts",
            ),
            (
                "endpoints:\n  - {name: a, url: 'https://h/x', secret_env: E}\n",
                "the secret is empty",
            ),
            (
                "endpoints: []\ntimeout: 10ms\n",
                "`timeout` must be at least",
            ),
            ("endpoints: []\nfirst_retry: soon\n", "`first_retry`"),
        ];
        for (text, expected) in cases {
            let error = load(text, &[("S", "a-long-enough-test-secret"), ("E", "  ")]).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
        assert!(load("endpoints: []\nretries: 3\n", &[]).is_err());
    }
}
