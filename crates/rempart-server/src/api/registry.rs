//! `POST /v1/registry/events`: the distribution registry's notifications. Each manifest push
//! in a repository the gate covers queues a scan of the pushed digest (50 pushes of one digest
//! make one scan) and, in `promote` mode, a promotion that waits for its verdict.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::access::authorize;
use super::{ApiError, check_digest, parse_json};
use crate::auth::random_hex;
use crate::clock::now_millis;
use crate::gate::{GateMode, default_policy, destination};
use crate::state::AppState;
use crate::store::{NewAudit, NewScan, PromotionRecord, PromotionState, Role, ScanSource};

/// Registries batch events; more than this in one envelope is not a registry talking.
const MAX_EVENTS: usize = 1000;

const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

#[derive(Deserialize)]
struct Envelope {
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    id: String,
    action: String,
    target: Target,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    repository: String,
    #[serde(default)]
    tag: Option<String>,
}

/// A repository name as the distribution specification defines it: lowercase components of
/// letters and digits joined by `.`, `_`, `__` or dashes, separated by `/`.
pub(crate) fn valid_repository(name: &str) -> bool {
    name.len() <= 255
        && name.split('/').all(|component| {
            let bytes = component.as_bytes();
            !bytes.is_empty()
                && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
                && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
                && bytes.iter().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        })
}

/// A tag as the specification defines it.
pub(crate) fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && tag.as_bytes()[0] != b'.'
        && tag.as_bytes()[0] != b'-'
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub(crate) async fn events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Registry).await?;
    let Some(gate) = state.config.gate.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "gate_not_configured",
            "this server has no registry gate (start it with --gate FILE)",
        ));
    };
    let envelope: Envelope = parse_json(&body)?;
    if envelope.events.len() > MAX_EVENTS {
        return Err(ApiError::bad_request(format!(
            "{} events in one envelope; at most {MAX_EVENTS}",
            envelope.events.len()
        )));
    }
    // Every event is checked before any is acted on: a bad envelope changes nothing.
    let mut work = Vec::new();
    let mut ignored = 0_usize;
    for (index, event) in envelope.events.iter().enumerate() {
        let at = || format!("event {} ({})", index + 1, event.id.escape_default());
        let target = &event.target;
        let is_manifest = target
            .media_type
            .as_deref()
            .is_some_and(|media_type| MANIFEST_TYPES.contains(&media_type));
        if event.action != "push" || !is_manifest {
            ignored += 1;
            continue;
        }
        if !valid_repository(&target.repository) {
            return Err(ApiError::bad_request(format!(
                "{}: `{}` is not a repository name",
                at(),
                target.repository.escape_default()
            )));
        }
        check_digest(&target.digest)
            .map_err(|e| ApiError::bad_request(format!("{}: {}", at(), e.message)))?;
        if let Some(tag) = &target.tag
            && !valid_tag(tag)
        {
            return Err(ApiError::bad_request(format!(
                "{}: `{}` is not a tag",
                at(),
                tag.escape_default()
            )));
        }
        let Some(rule) = gate.rule_for(&target.repository) else {
            ignored += 1;
            continue;
        };
        work.push((
            target.repository.clone(),
            target.digest.clone(),
            target.tag.clone(),
            rule.clone(),
        ));
    }
    let registry = gate.registry.clone();
    let actor = caller.name.clone();
    let results = state
        .with_store(move |store| {
            let mut results = Vec::new();
            for (repository, digest, tag, rule) in work {
                let now = now_millis();
                let policy = default_policy(&rule);
                let mut promotion_to = None;
                if rule.mode == GateMode::Promote
                    && let Some(destination) = destination(&rule, &repository)
                {
                    // Recorded before the scan is queued: the scan's completion then always
                    // finds it, whichever replica completes it.
                    store.add_promotion(&PromotionRecord {
                        id: format!("promotion-{}", random_hex(10)),
                        digest: digest.clone(),
                        registry: registry.clone(),
                        source_repository: repository.clone(),
                        destination_repository: destination.clone(),
                        tag: tag.clone(),
                        policy: policy.clone(),
                        state: PromotionState::Pending,
                        detail: None,
                        created_at: now,
                        finished_at: None,
                    })?;
                    promotion_to = Some(destination);
                }
                let submitted = store.submit_scan(&NewScan {
                    id: format!("scan-{}", random_hex(12)),
                    subject: digest.clone(),
                    source: ScanSource::Registry {
                        reference: format!("{registry}/{repository}@{digest}"),
                    },
                    repository: format!("{registry}/{repository}"),
                    digest: Some(digest.clone()),
                    submitted_by: actor.clone(),
                    now,
                    pinned_to: None,
                })?;
                store.append_audit(&NewAudit {
                    at: now,
                    actor: actor.clone(),
                    action: "registry.push".into(),
                    subject: format!(
                        "{registry}/{repository}{}",
                        tag.as_deref().map(|t| format!(":{t}")).unwrap_or_default()
                    ),
                    digest: Some(digest.clone()),
                    detail: Some(format!(
                        "scan {}{}{}",
                        submitted.scan.id,
                        if submitted.deduplicated {
                            " (already queued)"
                        } else {
                            ""
                        },
                        promotion_to
                            .as_deref()
                            .map(|to| format!("; promotes to {to} if policy `{policy}` passes"))
                            .unwrap_or_default()
                    )),
                    ..NewAudit::default()
                })?;
                results.push(json!({
                    "repository": repository,
                    "digest": digest,
                    "scan": submitted.scan.id,
                    "deduplicated": submitted.deduplicated,
                    "promote_to": promotion_to,
                }));
            }
            Ok(results)
        })
        .await?;
    if !results.is_empty() {
        state.wake.notify_waiters();
    }
    Ok(axum::Json(json!({"accepted": results, "ignored": ignored})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_distribution_specification() {
        assert!(valid_repository("staging/team-a/app_1.2"));
        assert!(!valid_repository("Staging/app"));
        assert!(!valid_repository("staging//app"));
        assert!(!valid_repository("../app"));
        assert!(!valid_repository("app/"));
        assert!(valid_tag("1.0.3-rc1_b"));
        assert!(!valid_tag(".hidden"));
        assert!(!valid_tag("a/b"));
        assert!(!valid_tag(&"a".repeat(129)));
    }
}
