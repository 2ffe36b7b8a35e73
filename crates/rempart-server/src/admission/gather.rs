//! Gathering what a decision needs, then deciding. The engine decides without I/O; this runs it
//! first on what memory holds, and only when that left images unknown does it ask the store,
//! resolve tags and (under `unscanned: scan`) wait for scans, then decides again. A decision on
//! known digests thus makes no network call at all.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rempart::{
    AdmissionRequest, Decision, ImageTrust, ImageVerdict, TrustLookup, TrustQuery, UnscannedMode,
    VerdictLookup, VerdictMap, VerdictQuery, VerdictSource, containers_of,
};
use rempart_misconfig::ImageRef;

use super::cache::{Answers, Remembered};
use super::{LoadedPolicy, Review};
use crate::api::scans::{parse_reference, queue_scan};
use crate::clock::now_millis;
use crate::decide::{DecideError, current_verdict};
use crate::state::AppState;
use crate::store::{NewScan, ScanSource, ScanState};

/// How often a scan waited for is looked at.
const SCAN_POLL: Duration = Duration::from_millis(100);

/// A source answering from a map and noting what it could not answer.
struct Recording<'a> {
    map: &'a VerdictMap,
    unknown: RefCell<Vec<Unknown>>,
    /// Images whose verification against the trust policy memory does not hold.
    unverified: RefCell<Vec<String>>,
}

/// An image the first pass found no verdict for.
#[derive(Debug, Clone)]
struct Unknown {
    image: String,
    digest: Option<String>,
    policy: String,
    unscanned: UnscannedMode,
    may_scan: bool,
}

impl VerdictSource for Recording<'_> {
    fn lookup(&self, query: &VerdictQuery<'_>) -> VerdictLookup {
        let answer = self.map.lookup(query);
        if let VerdictLookup::Unknown { digest } = &answer {
            self.unknown.borrow_mut().push(Unknown {
                image: query.image.to_owned(),
                digest: digest.clone(),
                policy: query.policy.to_owned(),
                unscanned: query.unscanned,
                may_scan: query.may_scan,
            });
        }
        answer
    }

    fn trust(&self, query: &TrustQuery<'_>) -> TrustLookup {
        let answer = self.map.trust(query);
        if answer == TrustLookup::Unknown {
            self.unverified.borrow_mut().push(query.image.to_owned());
        }
        answer
    }

    fn can_scan(&self) -> bool {
        true
    }
}

/// The map `source` answers from, able to scan (the server queues or runs scans).
struct Scanned<'a>(&'a VerdictMap);

impl VerdictSource for Scanned<'_> {
    fn lookup(&self, query: &VerdictQuery<'_>) -> VerdictLookup {
        self.0.lookup(query)
    }

    fn trust(&self, query: &TrustQuery<'_>) -> TrustLookup {
        self.0.trust(query)
    }

    fn can_scan(&self) -> bool {
        true
    }
}

/// What the decision used, besides the decision.
pub(crate) struct Gathered {
    pub(crate) decision: Decision,
    /// Said to the user besides the decision's own warnings (a scan queued, a stale verdict).
    pub(crate) notes: Vec<String>,
}

/// The namespace's labels, when the Kubernetes API is configured and answers.
pub(super) async fn namespace_labels(
    state: &AppState,
    namespace: &str,
    deadline: Instant,
) -> Option<Arc<std::collections::BTreeMap<String, String>>> {
    match &state.admission.namespaces {
        Some(namespaces) => namespaces.labels(namespace, deadline).await,
        None => None,
    }
}

/// Decides on a review, gathering verdicts as needed within `deadline`.
pub(crate) async fn gather_and_decide(
    state: &Arc<AppState>,
    loaded: &LoadedPolicy,
    review: &Review,
    deadline: Instant,
) -> Gathered {
    let now = now_millis() / 1000;
    // An AdmissionReview does not carry the namespace's labels: from the Kubernetes API when
    // configured, else unknown (the engine knows `kubernetes.io/metadata.name` from the name).
    let labels = namespace_labels(state, &review.namespace, deadline).await;
    let request = AdmissionRequest {
        object: &review.object,
        namespace: &review.namespace,
        namespace_labels: labels.as_deref(),
        operation: review.operation,
        now,
    };
    let mut map = from_memory(state, &review.object, &loaded.policy.verdict_policies());
    let mut notes = Vec::new();
    let recording = Recording {
        map: &map,
        unknown: RefCell::new(Vec::new()),
        unverified: RefCell::new(Vec::new()),
    };
    let first = loaded.policy.evaluate(&request, &recording);
    let unknown = recording.unknown.into_inner();
    let mut unverified = recording.unverified.into_inner();
    if unknown.is_empty() && unverified.is_empty() {
        return Gathered {
            decision: first,
            notes,
        };
    }
    unverified.sort();
    unverified.dedup();
    // Verifications run beside the verdict lookups and scans: both wait on registries.
    let verifications = futures_util::future::join_all(
        unverified
            .iter()
            .map(|image| async move { (image, verify(state, image, deadline).await) }),
    );
    let ((), verified) = tokio::join!(
        fill(state, review, &unknown, &mut map, &mut notes, deadline),
        verifications
    );
    for (image, outcome) in verified {
        map.insert_trust(image, outcome);
    }
    let decision = loaded.policy.evaluate(&request, &Scanned(&map));
    Gathered { decision, notes }
}

/// The verdicts and tag resolutions memory holds for the object's images.
fn from_memory(state: &AppState, object: &serde_json::Value, policies: &[String]) -> VerdictMap {
    let mut map = VerdictMap::new();
    for container in containers_of(object) {
        let Some(image) = container.image else {
            continue;
        };
        match state.admission.trust.get(&image) {
            Some(Ok(trust)) => map.insert_trust(&image, TrustLookup::Verified(trust)),
            Some(Err(message)) => map.insert_trust(&image, TrustLookup::Failed(message)),
            None => {}
        }
        let digest = match pinned(&image) {
            Some(digest) => digest,
            None => match state.admission.tags.get(&image) {
                Some(Ok(digest)) => {
                    map.insert_reference(&image, &digest);
                    digest
                }
                _ => continue,
            },
        };
        for policy in policies {
            match state.admission.verdicts.get(&digest, policy) {
                Remembered::Fresh(verdict) => map.insert(verdict),
                // Known as not scanned: the first pass reports it unknown, and the second
                // follows `unscanned` without asking the store again.
                Remembered::NotScanned | Remembered::Ask => {}
            }
        }
    }
    map
}

/// The sha256 digest an image reference pins, if any.
pub(super) fn pinned(image: &str) -> Option<String> {
    let parsed = ImageRef::parse(image);
    parsed.digest.filter(|digest| {
        digest.strip_prefix("sha256:").is_some_and(|hex| {
            hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
    })
}

/// Answers the unknowns: tags resolved, verdicts asked of the store, and scans queued or waited
/// for as each rule's `unscanned` says.
async fn fill(
    state: &Arc<AppState>,
    review: &Review,
    unknown: &[Unknown],
    map: &mut VerdictMap,
    notes: &mut Vec<String>,
    deadline: Instant,
) {
    let mut to_scan: Vec<(Unknown, String)> = Vec::new();
    for item in unknown {
        let digest = match &item.digest {
            Some(digest) => digest.clone(),
            None => match resolve(state, &item.image, deadline).await {
                Ok(digest) => {
                    map.insert_reference(&item.image, &digest);
                    digest
                }
                Err(message) => {
                    map.insert_failure(&item.image, &item.policy, message);
                    continue;
                }
            },
        };
        match lookup(state, &digest, &item.policy).await {
            Lookup::Verdict(verdict) => map.insert(verdict),
            Lookup::Stale(verdict) => {
                notes.push(format!(
                    "the store did not answer: the verdict of {digest} under `{}` is the last one this server saw",
                    item.policy
                ));
                map.insert(verdict);
            }
            Lookup::Failed(message) => map.insert_failure(&digest, &item.policy, message),
            Lookup::NotScanned => {
                let wanted = item.may_scan
                    && !review.dry_run
                    && matches!(item.unscanned, UnscannedMode::Warn | UnscannedMode::Scan);
                if wanted && !to_scan.iter().any(|(_, known)| *known == digest) {
                    to_scan.push((item.clone(), digest));
                }
            }
        }
    }
    if to_scan.is_empty() {
        return;
    }
    let mut waited = Vec::new();
    for (item, digest) in &to_scan {
        let Some(scan) = submit(state, &item.image, digest).await else {
            continue;
        };
        if item.unscanned == UnscannedMode::Scan {
            waited.push((item, digest, scan));
        }
    }
    let waits = waited.iter().map(|(item, digest, scan)| async move {
        let finished = wait_for(state, scan, deadline).await;
        (*item, *digest, finished)
    });
    for (item, digest, finished) in futures_util::future::join_all(waits).await {
        match finished {
            Ok(()) => match lookup(state, digest, &item.policy).await {
                Lookup::Verdict(verdict) | Lookup::Stale(verdict) => map.insert(verdict),
                Lookup::Failed(message) => map.insert_failure(digest, &item.policy, message),
                Lookup::NotScanned => {}
            },
            Err(message) => map.insert_failure(digest, &item.policy, message),
        }
    }
}

pub(super) enum Lookup {
    Verdict(ImageVerdict),
    Stale(ImageVerdict),
    NotScanned,
    Failed(String),
}

/// The verdict of `digest` under `policy`: memory, else the store (remembered), else, when the
/// store does not answer, the last one seen.
pub(super) async fn lookup(state: &Arc<AppState>, digest: &str, policy: &str) -> Lookup {
    let cache = &state.admission.verdicts;
    match cache.get(digest, policy) {
        Remembered::Fresh(verdict) => return Lookup::Verdict(verdict),
        Remembered::NotScanned => return Lookup::NotScanned,
        Remembered::Ask => {}
    }
    let (asked_digest, asked_policy) = (digest.to_owned(), policy.to_owned());
    let answer = state
        .with_store(move |store| {
            Ok(current_verdict(
                store,
                &asked_digest,
                &asked_policy,
                now_millis(),
            ))
        })
        .await;
    let outcome = match answer {
        Ok(Ok(decision)) => {
            let verdict = ImageVerdict {
                digest: decision.verdict.digest,
                passed: decision.verdict.passed,
                reasons: decision.verdict.reasons,
                policy: decision.verdict.policy,
                scanned_at: decision.scanned_at / 1000,
            };
            cache.put(&verdict);
            Lookup::Verdict(verdict)
        }
        Ok(Err(DecideError::NoImage(_))) => {
            cache.put_not_scanned(digest, policy);
            Lookup::NotScanned
        }
        Ok(Err(DecideError::NoPolicy(name))) => {
            Lookup::Failed(format!("the server has no scan policy named `{name}`"))
        }
        Ok(Err(DecideError::Store(error))) | Err(error) => {
            if let Some(verdict) = cache.stale(digest, policy) {
                tracing::warn!(
                    "admission: the store did not answer ({error}); a verdict from memory was used"
                );
                Lookup::Stale(verdict)
            } else {
                tracing::warn!("admission: the store did not answer: {error}");
                Lookup::Failed("the server's store did not answer".to_owned())
            }
        }
        Ok(Err(DecideError::Damaged(message))) => {
            tracing::error!("admission: {message}");
            Lookup::Failed("the stored result cannot be read; the server log says why".to_owned())
        }
    };
    state.metrics.count_admission_lookup(match &outcome {
        Lookup::Verdict(_) => "store",
        Lookup::Stale(_) => "stale",
        Lookup::NotScanned => "not_scanned",
        Lookup::Failed(_) => "failed",
    });
    outcome
}

/// The digest a tag reference names in its registry (remembered briefly, failures too). One
/// resolution per reference at a time: requests arriving while it runs wait for the same one,
/// so a slow registry costs one pending request, not one per admission request.
pub(super) async fn resolve(
    state: &Arc<AppState>,
    image: &str,
    deadline: Instant,
) -> Result<String, String> {
    let options = state.engine().registry_options();
    let reference = image.to_owned();
    fetch_once(
        state,
        |state| &state.admission.tags,
        image,
        deadline,
        move || {
            rempart_image::resolve_digest(&reference, &options).map_err(|error| {
                format!(
                    "`{reference}` could not be resolved to a digest: {}",
                    rempart_core::error_chain(&error)
                )
            })
        },
    )
    .await
    .map_err(|failure| match failure {
        Fetch::Failed(message) => message,
        Fetch::Late => format!(
            "`{image}` could not be resolved to a digest within the time budget (the registry is slow)"
        ),
    })
}

/// `image` verified in its registry against the server's trust policy (remembered, failures
/// briefly), one verification per reference at a time.
async fn verify(state: &Arc<AppState>, image: &str, deadline: Instant) -> TrustLookup {
    let engine = state.engine();
    if engine.trust_policy().is_none() {
        return TrustLookup::Failed(
            "the server has no trust policy (start it with --trust-policy)".to_owned(),
        );
    }
    let reference = image.to_owned();
    let answer = fetch_once(
        state,
        |state| &state.admission.trust,
        image,
        deadline,
        move || {
            let Some(policy) = engine.trust_policy() else {
                return Err("the server has no trust policy".to_owned());
            };
            let verified = rempart_trust::PreparedPolicy::new(policy).and_then(|prepared| {
                rempart_trust::verify_registry_image(
                    &reference,
                    &engine.registry_options(),
                    &prepared,
                )
            });
            verified
                .map(|report| ImageTrust::from_report(&report))
                .map_err(|error| rempart_core::error_chain(&error))
        },
    )
    .await;
    state.metrics.count_admission_lookup(match &answer {
        Ok(_) => "trust_verified",
        Err(_) => "trust_failed",
    });
    match answer {
        Ok(trust) => TrustLookup::Verified(trust),
        Err(Fetch::Failed(message)) => TrustLookup::Failed(message),
        Err(Fetch::Late) => {
            TrustLookup::Failed("the registry did not answer within the time budget".to_owned())
        }
    }
}

/// Why [`fetch_once`] has no answer.
enum Fetch {
    Failed(String),
    /// The deadline passed first (the fetch goes on and records its answer for the next ask).
    Late,
}

/// The answer for `key` from `cache`, else from `job` (blocking registry I/O), run once per key
/// at a time and remembered; waits for it until `deadline`.
async fn fetch_once<T: Clone + Send + Sync + 'static>(
    state: &Arc<AppState>,
    cache: fn(&AppState) -> &Answers<T>,
    key: &str,
    deadline: Instant,
    job: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, Fetch> {
    if let Some(answer) = cache(state).get(key) {
        return answer.map_err(Fetch::Failed);
    }
    let pending = cache(state).pending(key, || {
        let state = Arc::clone(state);
        let key = key.to_owned();
        tokio::spawn(async move {
            let answer = tokio::task::spawn_blocking(job)
                .await
                .unwrap_or_else(|error| Err(format!("the registry request stopped: {error}")));
            cache(&state).put(&key, answer.clone());
            answer
        })
    });
    let left = deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(left, pending).await {
        Ok(answer) => answer.map_err(Fetch::Failed),
        Err(_) => Err(Fetch::Late),
    }
}

/// Queues a scan of `image` at `digest`, or finds the one queued for it within the last few
/// minutes (a failed one is not tried again before then); returns the scan's id.
async fn submit(state: &Arc<AppState>, image: &str, digest: &str) -> Option<String> {
    if let Some(scan) = state.admission.queued.get(digest) {
        return Some(scan);
    }
    let Ok((_, repository)) = parse_reference(image) else {
        return None;
    };
    let scan = NewScan {
        id: crate::api::scans::new_scan_id(),
        subject: digest.to_owned(),
        source: ScanSource::Registry {
            reference: format!("{repository}@{digest}"),
        },
        repository,
        digest: Some(digest.to_owned()),
        submitted_by: "admission".to_owned(),
        now: now_millis(),
        pinned_to: None,
    };
    match queue_scan(state, scan, "admission").await {
        Ok(submission) => {
            state
                .admission
                .queued
                .put(digest, submission.scan.id.clone());
            Some(submission.scan.id)
        }
        Err(error) => {
            tracing::warn!(
                "admission: cannot queue a scan of {image}: {}",
                error.message
            );
            None
        }
    }
}

/// Waits until the scan finished or the deadline passed.
async fn wait_for(state: &Arc<AppState>, scan: &str, deadline: Instant) -> Result<(), String> {
    loop {
        let id = scan.to_owned();
        match state.with_store(move |store| store.scan(&id)).await {
            Ok(Some(record)) => match record.state {
                ScanState::Done => return Ok(()),
                ScanState::Failed => {
                    return Err(format!(
                        "the scan failed: {}",
                        record
                            .error
                            .unwrap_or_else(|| "no reason recorded".to_owned())
                    ));
                }
                ScanState::Queued | ScanState::Running => {}
            },
            Ok(None) => return Err("the scan is gone from the store".to_owned()),
            Err(error) => tracing::warn!("admission: cannot follow scan {scan}: {error}"),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("the scan did not finish within the time budget".to_owned());
        }
        tokio::time::sleep(SCAN_POLL.min(left)).await;
    }
}
