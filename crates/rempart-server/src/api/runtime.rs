//! `POST /v1/runtime/events`: what `rempart watch` reports from each node, kept in the audit
//! log (with the node and the token that sent it), counted in the metrics and announced to the
//! webhooks that want `runtime.event`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::access::authorize;
use super::{ApiError, parse_json};
use crate::clock::now_millis;
use crate::metrics::RuntimeLabels;
use crate::state::AppState;
use crate::store::{NewAudit, Role};
use crate::webhooks;

/// Events taken in one request: a watcher sends what it has every second, in batches of at most
/// this many.
pub(crate) const MAX_RUNTIME_EVENTS: usize = 200;

/// The longest text kept from a field: a path or a title is never longer in practice, and a
/// hostile sender does not fill the audit log.
const MAX_FIELD_CHARS: usize = 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    /// The node the events come from (its host name).
    node: String,
    events: Vec<Event>,
}

/// One event as `rempart watch` prints it.
#[derive(Debug, Deserialize)]
struct Event {
    time: String,
    mode: String,
    action: String,
    reason: String,
    rule: String,
    title: String,
    access: String,
    path: String,
    pid: i64,
    #[serde(default)]
    process: Option<String>,
    #[serde(default)]
    container: Option<Container>,
    filesystem: String,
}

#[derive(Debug, Deserialize)]
struct Container {
    id: String,
    name: String,
    #[serde(default)]
    image: Option<String>,
}

pub(crate) async fn events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Runtime).await?;
    let batch: Batch = parse_json(&body)?;
    if batch.events.len() > MAX_RUNTIME_EVENTS {
        return Err(ApiError::bad_request(format!(
            "{} events in one request; at most {MAX_RUNTIME_EVENTS}",
            batch.events.len()
        )));
    }
    for (index, event) in batch.events.iter().enumerate() {
        check(event).map_err(|why| ApiError::bad_request(format!("events[{index}]: {why}")))?;
    }
    let node = clip(&batch.node);
    let now = now_millis();
    let entries: Vec<NewAudit> = batch
        .events
        .iter()
        .map(|event| audit_entry(&state, &caller.name, &node, event, now))
        .collect();
    for event in &batch.events {
        state
            .metrics
            .runtime_events
            .get_or_create(&RuntimeLabels {
                reason: event.reason.clone(),
                action: event.action.clone(),
            })
            .inc();
    }
    let count = entries.len();
    state
        .with_store(move |store| {
            for entry in &entries {
                store.append_audit(entry)?;
            }
            Ok(())
        })
        .await?;
    Ok(axum::Json(json!({ "recorded": count })).into_response())
}

/// The closed sets are checked, so that labels and audit actions stay what the docs list.
fn check(event: &Event) -> Result<(), String> {
    let one_of = |field: &str, value: &str, allowed: &[&str]| {
        if allowed.contains(&value) {
            Ok(())
        } else {
            Err(format!(
                "`{field}` is `{}`; one of {}",
                value.escape_default(),
                allowed.join(", ")
            ))
        }
    };
    one_of("mode", &event.mode, &["enforce", "monitor"])?;
    one_of("action", &event.action, &["allowed", "denied"])?;
    one_of(
        "reason",
        &event.reason,
        &["malware", "drift", "timeout", "unscanned"],
    )?;
    one_of("access", &event.access, &["open", "exec"])?;
    if event.rule.is_empty() || event.path.is_empty() {
        return Err("`rule` and `path` must not be empty".to_owned());
    }
    Ok(())
}

fn audit_entry(state: &AppState, actor: &str, node: &str, event: &Event, now: i64) -> NewAudit {
    let container = event.container.as_ref();
    let subject = container.map_or_else(
        || format!("{node}:{}", clip(&event.filesystem)),
        |c| format!("{node}/{}", clip(&c.name)),
    );
    let image = container
        .and_then(|c| c.image.as_deref())
        .map(clip)
        .unwrap_or_default();
    let detail = format!(
        "{} ({}): {} of {} by {} (pid {}){}; {} mode, at {}",
        clip(&event.rule),
        event.reason,
        event.access,
        clip(&event.path),
        event
            .process
            .as_deref()
            .map_or_else(|| "?".to_owned(), clip),
        event.pid,
        if image.is_empty() {
            String::new()
        } else {
            format!(" in image {image}")
        },
        event.mode,
        clip(&event.time),
    );
    let data = json!({
        "node": node,
        "time": clip(&event.time),
        "mode": event.mode,
        "action": event.action,
        "reason": event.reason,
        "rule": clip(&event.rule),
        "title": clip(&event.title),
        "access": event.access,
        "path": clip(&event.path),
        "pid": event.pid,
        "process": event.process.as_deref().map(clip),
        "container": container.map(|c| json!({
            "id": clip(&c.id),
            "name": clip(&c.name),
            "image": c.image.as_deref().map(clip),
        })),
    });
    NewAudit {
        at: now,
        actor: actor.to_owned(),
        action: format!("runtime.{}", event.action),
        subject,
        verdict: Some(clip(&event.rule)),
        detail: Some(detail),
        deliveries: webhooks::deliveries(state.webhook_config(), "runtime.event", data, now),
        ..NewAudit::default()
    }
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_FIELD_CHARS).collect()
}
