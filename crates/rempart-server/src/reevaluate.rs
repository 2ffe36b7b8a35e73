//! Continuous re-evaluation: when the vulnerability database changes (a scheduled
//! `db update`, or a file swapped in by an operator), the scan engine is rebuilt on the new
//! data and every stored image is matched again from its stored packages and inventory (no
//! layer is read, no registry asked), and each recorded verdict is decided again. A verdict that
//! changes is written to the audit log (`verdict.changed`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use serde::Serialize;
use serde_json::json;
use tokio::sync::watch;

use crate::clock::now_millis;
use crate::decide::{compress, decide, decide_result, stored_inventory, stored_result};
use crate::scanning::ScanEngine;
use crate::state::AppState;
use crate::store::{NewAudit, Store, StoreError};
use crate::webhooks::{self, WebhookConfig};

/// What one re-evaluation did.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Reevaluation {
    pub(crate) images: usize,
    pub(crate) rematched: usize,
    /// Images whose result could not be read or matched (the log says why).
    pub(crate) failed: usize,
    pub(crate) verdicts: usize,
    pub(crate) verdicts_changed: usize,
    pub(crate) seconds: f64,
}

/// Identifies one version of the database file: a swapped-in file differs in inode or time.
fn fingerprint(path: &Path) -> Option<(u64, u64, SystemTime)> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.ino(), metadata.len(), metadata.modified().ok()?))
}

/// Watches the database file, and updates it on a schedule when asked; re-evaluates on change.
pub(crate) async fn watch_database(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let path: PathBuf = state.engine().database_path().to_owned();
    let mut known = fingerprint(&path);
    // A replica that pulls its database does so as soon as it starts: it must not match
    // against whatever file it started with until the first interval has passed. Downloading
    // all feeds is heavy, so the feeds wait for the first interval.
    let mut last_update = if state.config.database_pull.is_some() {
        None
    } else {
        Some(Instant::now())
    };
    loop {
        tokio::select! {
            () = tokio::time::sleep(state.config.database_check_interval) => {}
            _ = stop.changed() => return,
        }
        if let Some(every) = state.config.database_update_interval
            && last_update.is_none_or(|last| last.elapsed() >= every)
        {
            last_update = Some(Instant::now());
            let (target, feeds) = (path.clone(), state.config.feeds.clone());
            if let Some(reference) = state.config.database_pull.clone() {
                // A fleet takes the database its operators pushed: every replica then matches
                // against the same data, and none needs to reach the feeds.
                let options = state.engine().registry_options();
                let policy = state.config.database_pull_trust_policy.clone();
                match tokio::task::spawn_blocking(move || {
                    pull_database(&reference, &target, &options, policy.as_deref())
                })
                .await
                {
                    Ok(Ok(pulled)) if pulled.replaced => {
                        tracing::info!("vulnerability database pulled: {}", pulled.describe());
                    }
                    Ok(Ok(_)) => tracing::debug!("vulnerability database already up to date"),
                    Ok(Err(error)) => tracing::warn!("scheduled database pull failed: {error}"),
                    Err(error) => tracing::warn!("scheduled database pull stopped: {error}"),
                }
            } else {
                match tokio::task::spawn_blocking(move || rempart::update_database(&target, &feeds))
                    .await
                {
                    Ok(Ok(stats)) => tracing::info!("vulnerability database updated: {stats:?}"),
                    Ok(Err(error)) => tracing::warn!("scheduled database update failed: {error}"),
                    Err(error) => tracing::warn!("scheduled database update stopped: {error}"),
                }
            }
        }
        let now = fingerprint(&path);
        if now.is_some() && now != known {
            known = now;
            match reload_and_reevaluate(&state).await {
                Ok(done) => tracing::info!(
                    images = done.images,
                    seconds = done.seconds,
                    verdicts_changed = done.verdicts_changed,
                    "re-evaluated every stored image after a database change"
                ),
                Err(error) => tracing::error!("re-evaluation after a database change: {error}"),
            }
        }
    }
}

/// Pulls the database artifact `reference` into `target`, judged by the trust policy at
/// `policy` when there is one. The policy is read at each pull, so a rotated key needs no
/// restart.
pub(crate) fn pull_database(
    reference: &str,
    target: &Path,
    options: &rempart_image::RegistryOptions,
    policy: Option<&Path>,
) -> Result<rempart::DbArtifact, rempart::DbArtifactError> {
    let policy = policy.map(rempart_trust::TrustPolicy::load).transpose()?;
    let checks = rempart::PullChecks {
        allow_older: false,
        trust_policy: policy.as_ref(),
    };
    rempart::pull_database(reference, target, options, checks)
}

/// Rebuilds the engine on the database as it is now, then re-evaluates every stored image.
pub(crate) async fn reload_and_reevaluate(state: &Arc<AppState>) -> Result<Reevaluation, String> {
    let config = state.config.clone();
    let shared_layers = state.shared_layers.clone();
    let engine = tokio::task::spawn_blocking(move || ScanEngine::new(&config, shared_layers))
        .await
        .map_err(|e| e.to_string())??;
    state.replace_engine(engine);
    let engine = state.engine();
    let shared = Arc::clone(state);
    let done = tokio::task::spawn_blocking(move || {
        reevaluate_all(shared.store.as_ref(), &engine, shared.webhook_config())
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    if done.verdicts_changed > 0 {
        state.deliveries_queued();
    }
    // Admission decides with the new verdicts from now on, not after its memory expires.
    state.admission.verdicts.clear();
    Ok(done)
}

fn reevaluate_all(
    store: &dyn Store,
    engine: &ScanEngine,
    webhooks: Option<&WebhookConfig>,
) -> Result<Reevaluation, StoreError> {
    let started = Instant::now();
    let mut done = Reevaluation::default();
    for summary in store.images(i64::MAX)? {
        done.images += 1;
        let Some(image) = store.image(&summary.digest)? else {
            continue;
        };
        let rematched = stored_result(&image)
            .and_then(|result| Ok((result, stored_inventory(&image)?)))
            .map_err(|e| e.to_string())
            .and_then(|(mut result, kept)| {
                engine
                    .rematch(&mut result, &kept.inventory, &kept.go_symbols)
                    .map_err(|e| e.to_string())?;
                let json = serde_json::to_vec(&result).map_err(|e| e.to_string())?;
                Ok((result, json))
            });
        let (result, json) = match rematched {
            Ok(rematched) => rematched,
            Err(error) => {
                done.failed += 1;
                tracing::error!("cannot re-evaluate {}: {error}", image.digest);
                continue;
            }
        };
        // When a newer scan replaced the result meanwhile, verdicts are decided on that one.
        let replaced =
            store.replace_image_result(&image.digest, &image.scan_id, &compress(&json))?;
        if replaced {
            done.rematched += 1;
        }
        for recorded in store.verdicts(&image.digest)? {
            let now = now_millis();
            let decided = if replaced {
                decide_result(
                    store,
                    &image.digest,
                    &recorded.policy,
                    &mut result.clone(),
                    now,
                )
            } else {
                decide(store, &image.digest, &recorded.policy, now)
                    .map(|(decision, previous)| (decision.verdict, previous))
            };
            match decided {
                Ok((verdict, previous)) => {
                    done.verdicts += 1;
                    let Some(previous) = previous else { continue };
                    if previous.passed == verdict.passed {
                        continue;
                    }
                    done.verdicts_changed += 1;
                    let word = |passed: bool| if passed { "pass" } else { "fail" };
                    let deliveries = webhooks::deliveries(
                        webhooks,
                        "verdict.changed",
                        json!({
                            "digest": image.digest,
                            "name": summary.name,
                            "repository": summary.repository,
                            "previous": previous,
                            "verdict": verdict,
                            "cause": "vulnerability database change",
                        }),
                        now,
                    );
                    store.append_audit(&NewAudit {
                        at: now,
                        actor: "server".into(),
                        action: "verdict.changed".into(),
                        subject: format!("{} ({})", summary.name, verdict.policy),
                        digest: Some(image.digest.clone()),
                        verdict: Some(word(verdict.passed).into()),
                        detail: Some(format!(
                            "{} -> {} after a vulnerability database change{}",
                            word(previous.passed),
                            word(verdict.passed),
                            if verdict.reasons.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", verdict.reasons.join("; "))
                            }
                        )),
                        deliveries,
                    })?;
                }
                // A policy deleted or damaged since: nothing to decide under it.
                Err(error) => tracing::warn!(
                    "verdict of {} under `{}`: {error}",
                    image.digest,
                    recorded.policy
                ),
            }
        }
    }
    done.seconds = started.elapsed().as_secs_f64();
    Ok(done)
}
