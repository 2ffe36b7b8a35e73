//! Workers take scans from the queue in the store, hold them under a renewed lease, and store
//! the result and the verdict. A worker that dies leaves a lease that expires; another worker
//! (on this replica or another) then takes the scan. Completion is conditioned on holding the
//! lease, so a scan completes once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde_json::json;
use tokio::sync::watch;

use crate::clock::now_millis;
use crate::decide::{DEFAULT_POLICY_NAME, compress, load_policy, verdict_record};
use crate::metrics::OutcomeLabels;
use crate::scanning::{ScanFailure, uploads_dir};
use crate::state::AppState;
use crate::store::{Completion, Lease, NewAudit, ScanSource, ScannedImage, SeverityCounts};
use crate::webhooks;

pub(crate) async fn run_worker(
    state: Arc<AppState>,
    index: usize,
    mut stop: watch::Receiver<bool>,
) {
    let owner = format!("{}/{index}", state.instance);
    loop {
        if *stop.borrow() {
            return;
        }
        let queue = state.queue_policy();
        let claimant = owner.clone();
        let claimed = state
            .with_store({
                let replica = state.replica.clone();
                move |store| store.claim_scan(&claimant, &replica, now_millis(), queue)
            })
            .await;
        match claimed {
            Ok(Some(lease)) => run_scan(&state, lease, &mut stop).await,
            Ok(None) => {
                tokio::select! {
                    () = state.wake.notified() => {}
                    () = tokio::time::sleep(state.config.poll_interval) => {}
                    _ = stop.changed() => {}
                }
            }
            Err(error) => {
                tracing::warn!("worker {owner}: cannot read the queue: {error}");
                tokio::select! {
                    () = tokio::time::sleep(state.config.poll_interval * 4) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

async fn run_scan(state: &Arc<AppState>, lease: Lease, stop: &mut watch::Receiver<bool>) {
    let scan_id = lease.scan.id.clone();
    let owner = lease.owner.clone();
    tracing::info!(
        scan = %scan_id,
        image = lease.scan.source.name(),
        owner = %owner,
        attempt = lease.scan.attempts,
        "scan started"
    );
    let credentials =
        match crate::vault::credentials_for(&state.vault, &scan_id, &lease.scan.source) {
            Ok(credentials) => credentials,
            Err(failure) => {
                record_failure(state, &lease, failure).await;
                return;
            }
        };
    state.metrics.running_scans.inc();
    let lost = Arc::new(AtomicBool::new(false));
    let heartbeat = tokio::spawn(renew_lease(
        Arc::clone(state),
        scan_id.clone(),
        owner.clone(),
        Arc::clone(&lost),
    ));
    let engine = state.engine();
    let source = lease.scan.source.clone();
    let started = Instant::now();
    let mut scan = tokio::task::spawn_blocking(move || engine.scan(&source, credentials.as_ref()));
    let finished = tokio::select! {
        finished = &mut scan => Some(finished),
        () = shutdown_then_grace(state, stop) => None,
    };
    heartbeat.abort();
    state.metrics.running_scans.dec();
    let Some(finished) = finished else {
        // Shutting down and the scan did not end in time: the next worker starts it again.
        let (id, by) = (scan_id.clone(), owner.clone());
        let _ = state
            .with_store(move |store| store.release_scan(&id, &by))
            .await;
        tracing::warn!("scan {scan_id}: given back to the queue at shutdown");
        return;
    };
    if lost.load(Ordering::Relaxed) {
        tracing::warn!("scan {scan_id}: the lease was lost; another worker finishes it");
    }
    let seconds = started.elapsed().as_secs_f64();
    // Harbor's credentials are kept for another attempt only.
    if !matches!(&finished, Ok(Err(failure)) if failure.retry) {
        state.vault.forget(&scan_id);
    }
    match finished {
        Ok(Ok(outcome)) => {
            state.metrics.scan_seconds.observe(seconds);
            state.metrics.count_layers(&outcome.layer_sources);
            store_result(state, &lease, outcome).await;
        }
        Ok(Err(failure)) => record_failure(state, &lease, failure).await,
        Err(panic) => {
            record_failure(
                state,
                &lease,
                ScanFailure {
                    message: format!("the scan stopped unexpectedly: {panic}"),
                    retry: false,
                },
            )
            .await;
        }
    }
}

/// Resolves when shutdown was asked and the grace period has passed; never otherwise.
async fn shutdown_then_grace(state: &AppState, stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            // The sender is gone only when the server has stopped.
            break;
        }
    }
    tokio::time::sleep(state.config.shutdown_grace).await;
}

async fn renew_lease(state: Arc<AppState>, id: String, owner: String, lost: Arc<AtomicBool>) {
    let every = state.config.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        let until = now_millis() + i64::try_from(state.config.lease.as_millis()).unwrap_or(0);
        let (id, owner) = (id.clone(), owner.clone());
        match state
            .with_store(move |store| store.renew_lease(&id, &owner, until))
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                lost.store(true, Ordering::Relaxed);
                return;
            }
            // The store is unreachable for now: the lease may still be saved by the next try.
            Err(error) => tracing::warn!("cannot renew a lease: {error}"),
        }
    }
}

async fn store_result(state: &Arc<AppState>, lease: &Lease, outcome: rempart::ScanOutcome) {
    let scan = &lease.scan;
    let target = &outcome.result.target;
    // A scan asked by digest is stored under that digest, even when it names an index and the
    // scan read one platform's manifest: that is the digest verdicts are asked for.
    let Some(digest) = scan
        .digest
        .clone()
        .or_else(|| target.manifest_digest.clone())
        .or_else(|| target.config_digest.clone())
    else {
        record_failure(
            state,
            lease,
            ScanFailure {
                message: "the image has neither a manifest nor a config digest".into(),
                retry: false,
            },
        )
        .await;
        return;
    };
    let (result, inventory) = match (
        serde_json::to_vec(&outcome.result),
        serde_json::to_vec(&crate::decide::StoredInventory {
            inventory: outcome.inventory,
            go_symbols: outcome.go_symbols,
        }),
    ) {
        (Ok(result), Ok(inventory)) => (compress(&result), compress(&inventory)),
        (Err(e), _) | (_, Err(e)) => {
            record_failure(
                state,
                lease,
                ScanFailure {
                    message: format!("cannot encode the result: {e}"),
                    retry: false,
                },
            )
            .await;
            return;
        }
    };
    let name = scan.source.name().to_owned();
    let image = ScannedImage {
        digest: digest.clone(),
        repository: scan.repository.clone(),
        name,
        result,
        inventory,
        scanned_at: now_millis(),
        scan_id: scan.id.clone(),
        // Counted here, once, so that listings never decode a stored result.
        severities: Some(SeverityCounts::count(&outcome.result.findings)),
    };
    let (id, owner) = (scan.id.clone(), lease.owner.clone());
    let mut judged = outcome.result;
    let shared = Arc::clone(state);
    let completed = state
        .with_store(move |store| {
            let now = now_millis();
            // The verdict under the default policy is decided before completing, so that the
            // scan, its verdict and its audit line are stored together or not at all.
            let verdict = load_policy(store, DEFAULT_POLICY_NAME, None)
                .and_then(|policy| verdict_record(&image.digest, &policy, &mut judged, now))
                .map_err(|error| tracing::warn!("scan {id}: no verdict: {error}"))
                .ok();
            let audit = NewAudit {
                at: now,
                actor: "server".into(),
                action: "scan.completed".into(),
                subject: id.clone(),
                digest: Some(image.digest.clone()),
                verdict: verdict
                    .as_ref()
                    .map(|v| if v.passed { "pass" } else { "fail" }.to_owned()),
                detail: verdict.as_ref().map(|v| v.reasons.join("; ")),
                deliveries: webhooks::deliveries(
                    shared.webhook_config(),
                    "scan.completed",
                    json!({
                        "scan_id": id,
                        "digest": image.digest,
                        "name": image.name,
                        "repository": image.repository,
                        "findings_by_severity": image.severities,
                        "verdict": verdict,
                    }),
                    now,
                ),
            };
            let completion = Completion {
                image,
                verdict,
                audit,
            };
            let completed = store.complete_scan(&id, &owner, &completion, now)?;
            Ok(completed.then_some(completion.verdict))
        })
        .await;
    let verdict = match completed {
        Ok(Some(verdict)) => verdict,
        Ok(None) => {
            tracing::warn!(
                "scan {}: finished after another worker took it over; this result is dropped",
                scan.id
            );
            return;
        }
        Err(error) => {
            // The lease runs out and another worker scans again: nothing is lost.
            tracing::error!("scan {}: cannot store the result: {error}", scan.id);
            return;
        }
    };
    state.deliveries_queued();
    state
        .metrics
        .scans
        .get_or_create(&outcome_label("done"))
        .inc();
    remove_upload(state, &scan.source);
    if let Some(verdict) = verdict {
        let label = if verdict.passed { "passed" } else { "failed" };
        state
            .metrics
            .verdicts
            .get_or_create(&outcome_label(label))
            .inc();
        tracing::info!(
            scan = %scan.id,
            image = scan.source.name(),
            digest = %digest,
            policy = %verdict.policy,
            verdict = label,
            findings = verdict.findings,
            "scan completed"
        );
    }
    state.admission.verdicts.forget(&digest);
    crate::gate::promote_pending(state, &digest).await;
}

async fn record_failure(state: &Arc<AppState>, lease: &Lease, failure: ScanFailure) {
    let scan = &lease.scan;
    tracing::warn!(
        scan = %scan.id,
        image = scan.source.name(),
        retry = failure.retry,
        "scan failed: {}",
        failure.message
    );
    let queue = state.queue_policy();
    let (id, owner, message) = (
        scan.id.clone(),
        lease.owner.clone(),
        failure.message.clone(),
    );
    let retry = failure.retry;
    let shared = Arc::clone(state);
    let record = scan.clone();
    let recorded = state
        .with_store(move |store| {
            let changed = store.fail_scan(&id, &owner, &message, retry, now_millis(), queue)?;
            let final_failure = store
                .scan(&id)?
                .is_some_and(|scan| scan.state == crate::store::ScanState::Failed);
            if changed && final_failure {
                store.append_audit(&scan_failed_audit(&shared, &record, message, now_millis()))?;
            }
            Ok(final_failure)
        })
        .await;
    match recorded {
        Ok(true) => {
            state.deliveries_queued();
            failed_for_good(state, &scan.source);
        }
        Ok(false) => {}
        Err(error) => tracing::error!("scan {}: cannot record the failure: {error}", scan.id),
    }
}

/// What follows a scan's final failure once it is recorded: the metric, and the uploaded
/// archive no attempt will read again.
fn failed_for_good(state: &AppState, source: &ScanSource) {
    state
        .metrics
        .scans
        .get_or_create(&outcome_label("failed"))
        .inc();
    remove_upload(state, source);
}

/// The audit line of a scan that failed for good, with its `scan.failed` event.
fn scan_failed_audit(
    state: &AppState,
    scan: &crate::store::ScanRecord,
    message: String,
    now: i64,
) -> NewAudit {
    let data = json!({
        "scan_id": scan.id,
        "name": scan.source.name(),
        "repository": scan.repository,
        "digest": scan.digest,
        "attempts": scan.attempts,
        "error": message,
    });
    NewAudit {
        at: now,
        actor: "server".into(),
        action: "scan.failed".into(),
        subject: scan.id.clone(),
        detail: Some(message),
        deliveries: webhooks::deliveries(state.webhook_config(), "scan.failed", data, now),
        ..NewAudit::default()
    }
}

/// Fails the scans that can no longer run (their last attempt's worker died, or the replica
/// they are pinned to is gone), with a `scan.failed` audit line and event each, like any other
/// failure. Run with the heartbeat, not at every look at the queue.
pub(crate) async fn fail_stranded(state: &Arc<AppState>) {
    let queue = state.queue_policy();
    let replica = state.replica.clone();
    let shared = Arc::clone(state);
    let failed = state
        .with_store(move |store| {
            let now = now_millis();
            let failed = store.fail_stranded_scans(&replica, now, queue)?;
            for scan in &failed {
                let message = scan.error.clone().unwrap_or_default();
                store.append_audit(&scan_failed_audit(&shared, scan, message, now))?;
            }
            Ok(failed)
        })
        .await;
    match failed {
        Ok(failed) if !failed.is_empty() => {
            state.deliveries_queued();
            for scan in &failed {
                tracing::warn!(
                    scan = %scan.id,
                    image = scan.source.name(),
                    "scan failed: {}",
                    scan.error.as_deref().unwrap_or_default()
                );
                failed_for_good(state, &scan.source);
            }
        }
        Ok(_) => {}
        Err(error) => tracing::warn!("cannot fail the scans that can no longer run: {error}"),
    }
}

fn remove_upload(state: &AppState, source: &ScanSource) {
    if let ScanSource::Upload { file, .. } = source {
        let path = uploads_dir(&state.config.data_dir).join(file);
        if let Err(error) = std::fs::remove_file(&path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot remove {}: {error}", path.display());
        }
    }
}

fn outcome_label(outcome: &str) -> OutcomeLabels {
    OutcomeLabels {
        outcome: outcome.to_owned(),
    }
}
