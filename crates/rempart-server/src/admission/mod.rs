//! Kubernetes admission: the validating webhook (`POST /admission/validate`), the optional
//! mutating one (`POST /admission/mutate`, tags rewritten to the digests that were vetted), and
//! the admission policy they apply, versioned in the store.
//!
//! Decisions are the engine's (`AdmissionPolicy` in `rempart`, the same code as `rempart admit`). What
//! this module adds is what a decision needs on the API server's deadline:
//! - the policy in memory, reloaded when another replica stores a new version;
//! - image verdicts from memory first, then the store (and a stale memory entry when the store
//!   does not answer), so a decision on known digests makes no network call;
//! - tag references resolved against the registry, cached briefly;
//! - for images without a verdict, what the rule's `unscanned` mode says: nothing more (deny),
//!   a scan queued (warn), or a scan waited for within the time budget (scan).

mod cache;
mod gather;
mod mutate;
mod namespaces;
mod review;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rempart::AdmissionPolicy;
use tokio::sync::watch;

pub(crate) use cache::{TagCache, TrustCache, VerdictCache};
pub(crate) use gather::gather_and_decide;
pub(crate) use mutate::pin_patch;
pub use namespaces::KubernetesApi;
pub(crate) use namespaces::follow_namespaces;
pub(crate) use review::{Review, allowed_response, decision_response, parse_review};

use crate::clock::now_millis;
use crate::state::AppState;
use crate::store::{NewAudit, Store, StoreError};

/// How the server runs its admission webhooks.
#[derive(Debug, Clone)]
pub struct AdmissionConfig {
    /// A policy file stored as a new version at start when it differs from the stored one.
    pub policy_file: Option<PathBuf>,
    /// The longest a decision may take, synchronous scans included: under the webhook's
    /// `timeoutSeconds` (10 s by default), so that the answer arrives before the API server
    /// gives up.
    pub budget: Duration,
    /// Serve the mutating webhook (tags rewritten to vetted digests).
    pub mutate: bool,
    /// Where to read namespace labels (an `AdmissionReview` carries none); unknown without.
    pub kubernetes: Option<KubernetesApi>,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        AdmissionConfig {
            policy_file: None,
            budget: Duration::from_secs(8),
            mutate: false,
            kubernetes: None,
        }
    }
}

/// The admission policy in force: its stored version and the checked document.
pub(crate) struct LoadedPolicy {
    pub(crate) version: i64,
    pub(crate) policy: AdmissionPolicy,
}

/// What the admission webhooks share.
pub(crate) struct Admission {
    policy: RwLock<Option<Arc<LoadedPolicy>>>,
    pub(crate) verdicts: VerdictCache,
    pub(crate) tags: TagCache,
    /// Images verified against the trust policy (`images.trust`).
    pub(crate) trust: TrustCache,
    /// Scans queued by admission recently, by digest: a pod retried in a loop queues its image
    /// once rather than on every attempt, and a retry waits for (or learns the outcome of) the
    /// scan already asked for.
    pub(crate) queued: cache::Recent<String>,
    /// Denials audited recently (by object and message), for the same reason.
    pub(crate) denials: cache::Recent,
    /// Namespace labels from the Kubernetes API, when it is configured.
    pub(crate) namespaces: Option<namespaces::NamespaceLabels>,
    /// How often each exemption of the policy in force covered a reason here, and when last:
    /// the report of unused exemptions.
    exemption_use: std::sync::Mutex<ExemptionUse>,
}

/// Exemption use under one policy version: index → (times used, last use in milliseconds).
#[derive(Default)]
pub(crate) struct ExemptionUse {
    pub(crate) version: i64,
    pub(crate) since: i64,
    pub(crate) used: std::collections::HashMap<usize, (u64, i64)>,
}

/// How often a replica checks whether another stored a new policy version.
const POLICY_CHECK: Duration = Duration::from_secs(5);

impl Admission {
    pub(crate) fn new(config: &AdmissionConfig) -> Result<Admission, String> {
        let namespaces = config
            .kubernetes
            .clone()
            .map(namespaces::NamespaceLabels::new)
            .transpose()?;
        Ok(Admission {
            namespaces,
            policy: RwLock::new(None),
            verdicts: VerdictCache::default(),
            tags: TagCache::new(),
            trust: TrustCache::new(),
            queued: cache::Recent::new(Duration::from_mins(5)),
            denials: cache::Recent::new(Duration::from_mins(1)),
            exemption_use: std::sync::Mutex::new(ExemptionUse::default()),
        })
    }

    /// Records that a decision under `version` used these exemptions.
    pub(crate) fn exemptions_used(&self, version: i64, indexes: &[usize], now: i64) {
        if indexes.is_empty() {
            return;
        }
        let mut usage = self
            .exemption_use
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if usage.version != version {
            return;
        }
        for index in indexes {
            let entry = usage.used.entry(*index).or_insert((0, now));
            entry.0 += 1;
            entry.1 = now;
        }
    }

    /// The use of the exemptions of `version` (empty when another version is in force).
    pub(crate) fn exemption_use(&self, version: i64) -> ExemptionUse {
        let usage = self
            .exemption_use
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if usage.version == version {
            ExemptionUse {
                version,
                since: usage.since,
                used: usage.used.clone(),
            }
        } else {
            ExemptionUse::default()
        }
    }

    pub(crate) fn policy(&self) -> Option<Arc<LoadedPolicy>> {
        self.policy
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_policy(&self, loaded: LoadedPolicy) {
        *self
            .policy
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(loaded));
    }

    /// Loads the stored version `version` (the latest when `None`) if it is not the one in
    /// force. A stored document that no longer reads (written by a newer release) is logged
    /// and the one in force kept.
    pub(crate) fn reload(&self, store: &dyn Store) -> Result<(), StoreError> {
        let current = self.policy().map(|loaded| loaded.version);
        let latest = store.admission_policy_version()?;
        if latest.is_none() || latest == current {
            return Ok(());
        }
        let Some(record) = store.admission_policy(latest)? else {
            return Ok(());
        };
        match parse_stored(&record.document, record.version) {
            Ok(policy) => {
                tracing::info!(version = record.version, "admission policy in force");
                self.set_policy(LoadedPolicy {
                    version: record.version,
                    policy,
                });
                *self
                    .exemption_use
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = ExemptionUse {
                    version: record.version,
                    since: now_millis(),
                    used: std::collections::HashMap::new(),
                };
            }
            Err(message) => tracing::error!(
                version = record.version,
                "the stored admission policy cannot be used, the previous one stays in force: {message}"
            ),
        }
        Ok(())
    }
}

/// Checks a stored (or submitted) document, naming it by version.
pub(crate) fn parse_stored(document: &str, version: i64) -> Result<AdmissionPolicy, String> {
    let origin = PathBuf::from(format!("admission policy version {version}"));
    AdmissionPolicy::parse(document, &origin).map_err(|e| e.to_string())
}

/// At start: the policy file, when one is given, is checked (a bad file stops the start, naming
/// the file and field) and stored as a new version when it differs from the latest stored one;
/// then the latest stored version is put in force.
pub(crate) fn start(
    config: &AdmissionConfig,
    admission: &Admission,
    store: &dyn Store,
    has_trust_policy: bool,
) -> Result<(), String> {
    if let Some(path) = &config.policy_file {
        let policy = AdmissionPolicy::load(path).map_err(|e| e.to_string())?;
        check_trust_policy(&policy, has_trust_policy)
            .map_err(|message| format!("{}: {message}", path.display()))?;
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let stored = store.admission_policy(None).map_err(|e| e.to_string())?;
        if stored.as_ref().is_none_or(|record| record.document != text) {
            let now = now_millis();
            let actor = format!("file {}", path.display());
            let version = store
                .put_admission_policy(&text, &actor, now)
                .map_err(|e| e.to_string())?;
            store
                .append_audit(&NewAudit {
                    at: now,
                    actor,
                    action: "admission_policy.updated".into(),
                    subject: "admission policy".into(),
                    detail: Some(format!("version {version}, from the policy file at start")),
                    ..NewAudit::default()
                })
                .map_err(|e| e.to_string())?;
        }
    }
    admission.reload(store).map_err(|e| e.to_string())?;
    if let Some(loaded) = admission.policy()
        && let Err(message) = check_trust_policy(&loaded.policy, has_trust_policy)
    {
        tracing::warn!(
            version = loaded.version,
            "the admission policy in force: {message}; until then its images are denied"
        );
    }
    Ok(())
}

/// A policy whose rule `images.trust` verifies images needs the server's trust policy.
pub(crate) fn check_trust_policy(
    policy: &AdmissionPolicy,
    has_trust_policy: bool,
) -> Result<(), String> {
    if policy.requires_trust() && !has_trust_policy {
        return Err(
            "the rule `images.trust` verifies images against a trust policy: start the server with --trust-policy FILE"
                .to_owned(),
        );
    }
    Ok(())
}

/// Puts in force the versions other replicas store, checking every few seconds.
pub(crate) async fn follow_policy(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(POLICY_CHECK) => {}
            _ = stop.changed() => return,
        }
        let worker = Arc::clone(&state);
        if let Err(error) = state
            .with_store(move |store| worker.admission.reload(store))
            .await
        {
            tracing::warn!("cannot check the admission policy's version: {error}");
        }
        if let Some(loaded) = state.admission.policy() {
            state.metrics.admission_policy_version.set(loaded.version);
        }
    }
}
