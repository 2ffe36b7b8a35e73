//! Prometheus metrics (text exposition format at `/metrics`).

use std::sync::atomic::AtomicI64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use rempart::LayerSource;

/// The values of the `source` label of `rempart_layers_total`.
const LAYER_SOURCES: [&str; 3] = ["local_cache", "shared_cache", "read"];

/// The values of the `outcome` label of `rempart_tls_reloads_total`.
const TLS_RELOAD_OUTCOMES: [&str; 2] = ["reloaded", "failed"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub(crate) method: String,
    /// The route pattern (`/v1/scans/{id}`), never the raw path: ids would explode the series.
    pub(crate) route: String,
    pub(crate) status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub(crate) route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutcomeLabels {
    pub(crate) outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DeliveryLabels {
    pub(crate) endpoint: String,
    /// delivered, retried or dead.
    pub(crate) outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct AdmissionLabels {
    /// `validate` or `mutate`.
    pub(crate) webhook: String,
    /// allowed, denied, skipped, patched, unchanged, invalid or unavailable.
    pub(crate) outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct LayerSourceLabels {
    /// `local_cache`, `shared_cache` or `read`.
    pub(crate) source: String,
}

pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) request_seconds: Family<RouteLabels, Histogram>,
    pub(crate) scans: Family<OutcomeLabels, Counter>,
    pub(crate) scan_seconds: Histogram,
    pub(crate) verdicts: Family<OutcomeLabels, Counter>,
    pub(crate) layers: Family<LayerSourceLabels, Counter>,
    pub(crate) queue_depth: Gauge<i64, AtomicI64>,
    pub(crate) running_scans: Gauge<i64, AtomicI64>,
    pub(crate) active_tokens: Gauge<i64, AtomicI64>,
    pub(crate) deliveries: Family<DeliveryLabels, Counter>,
    pub(crate) deliveries_pending: Gauge<i64, AtomicI64>,
    pub(crate) deliveries_dead: Gauge<i64, AtomicI64>,
    pub(crate) admission: Family<AdmissionLabels, Counter>,
    pub(crate) admission_lookups: Family<OutcomeLabels, Counter>,
    pub(crate) admission_policy_version: Gauge<i64, AtomicI64>,
    pub(crate) tls_reloads: Family<OutcomeLabels, Counter>,
    pub(crate) runtime_events: Family<RuntimeLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RuntimeLabels {
    /// malware, drift, timeout or unscanned.
    pub(crate) reason: String,
    /// denied or allowed.
    pub(crate) action: String,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("rempart");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        // From 0.5 ms to about 16 s.
        let request_seconds = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            request_seconds.clone(),
        );
        let scans = Family::<OutcomeLabels, Counter>::default();
        registry.register("scans", "Scans finished, by outcome", scans.clone());
        // From 0.1 s to about 55 minutes.
        let scan_seconds = Histogram::new(exponential_buckets(0.1, 2.0, 16));
        registry.register(
            "scan_duration_seconds",
            "Time to scan an image",
            scan_seconds.clone(),
        );
        let verdicts = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "verdicts",
            "Verdicts decided after a scan, passed or failed",
            verdicts.clone(),
        );
        let layers = Family::<LayerSourceLabels, Counter>::default();
        registry.register(
            "layers",
            "Image layers of finished scans, by where their results came from: this replica's \
             layer cache, the cache shared by the replicas, or a read of the layer",
            layers.clone(),
        );
        // Every source from the start, at zero: a rate over a series that appears late is lost.
        for source in LAYER_SOURCES {
            let _ = layers.get_or_create(&LayerSourceLabels {
                source: source.into(),
            });
        }
        let queue_depth = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "queue_depth",
            "Scans queued or running, over every replica",
            queue_depth.clone(),
        );
        let running_scans = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "running_scans",
            "Scans this replica is running",
            running_scans.clone(),
        );
        let active_tokens = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "active_tokens",
            "API tokens in force (a sudden rise deserves a look)",
            active_tokens.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts by this replica, by endpoint and outcome",
            deliveries.clone(),
        );
        let deliveries_pending = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "webhook_deliveries_pending",
            "Webhook deliveries waiting to be sent, over every replica",
            deliveries_pending.clone(),
        );
        let deliveries_dead = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "webhook_deliveries_dead",
            "Webhook deliveries whose every attempt failed (dead letters), over every replica",
            deliveries_dead.clone(),
        );
        let admission = Family::<AdmissionLabels, Counter>::default();
        registry.register(
            "admission_reviews",
            "Admission requests answered, by webhook and outcome (invalid and unavailable \
             answers make the API server apply the webhook's failure policy)",
            admission.clone(),
        );
        let admission_lookups = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "admission_verdict_lookups",
            "Verdicts admission had to ask the store for (memory answers the rest), by outcome: \
             store, not_scanned, stale (the store failed, memory answered) or failed",
            admission_lookups.clone(),
        );
        let admission_policy_version = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "admission_policy_version",
            "The admission policy version in force on this replica (0: none)",
            admission_policy_version.clone(),
        );
        let tls_reloads = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "tls_reloads",
            "Attempts of this replica to use changed TLS files: reloaded (new connections get \
             the new certificate), or failed (unreadable or unusable files, tried again each \
             interval while they stay so; the current certificate is kept)",
            tls_reloads.clone(),
        );
        let runtime_events = Family::<RuntimeLabels, Counter>::default();
        registry.register(
            "runtime_events",
            "Accesses inside running containers that `rempart watch` reported, by reason and \
             by the answer it gave",
            runtime_events.clone(),
        );
        for outcome in TLS_RELOAD_OUTCOMES {
            let _ = tls_reloads.get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            });
        }
        Metrics {
            registry,
            requests,
            request_seconds,
            scans,
            scan_seconds,
            verdicts,
            layers,
            queue_depth,
            running_scans,
            active_tokens,
            deliveries,
            deliveries_pending,
            deliveries_dead,
            admission,
            admission_lookups,
            admission_policy_version,
            tls_reloads,
            runtime_events,
        }
    }

    /// Counts an attempt to use changed TLS files.
    pub(crate) fn count_tls_reload(&self, reloaded: bool) {
        let outcome = TLS_RELOAD_OUTCOMES[usize::from(!reloaded)];
        self.tls_reloads
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// Counts the layers of a finished scan by where their results came from.
    pub(crate) fn count_layers(&self, sources: &[LayerSource]) {
        for source in sources {
            let source = match source {
                LayerSource::LocalCache => LAYER_SOURCES[0],
                LayerSource::SharedCache => LAYER_SOURCES[1],
                LayerSource::Read => LAYER_SOURCES[2],
            };
            self.layers
                .get_or_create(&LayerSourceLabels {
                    source: source.into(),
                })
                .inc();
        }
    }

    pub(crate) fn count_admission(&self, webhook: &str, outcome: &str) {
        self.admission
            .get_or_create(&AdmissionLabels {
                webhook: webhook.into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    pub(crate) fn count_admission_lookup(&self, outcome: &str) {
        self.admission_lookups
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    pub(crate) fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
