//! The mutating webhook: each container image named by tag is pinned to the digest the tag
//! resolves to, when that digest passed its scan policy, so that the verdict and what runs
//! cannot diverge (a tag moved after the decision pulls nothing new). It never denies: the
//! validating webhook does.

use std::sync::Arc;
use std::time::Instant;

use rempart::{Operation, is_workload_kind};
use serde_json::{Value, json};

use super::gather::{Lookup, lookup, namespace_labels, pinned, resolve};
use super::{LoadedPolicy, Review};
use crate::state::AppState;

/// The JSON pointer of the pod spec of a workload kind (`/spec/template/spec`).
fn pod_spec_pointer(kind: &str) -> Option<String> {
    rempart_misconfig::workload_kind(kind)
        .map(|workload| format!("/{}", workload.pod_spec.join("/")))
}

/// The JSON Patch pinning the object's vetted images (`None` when nothing is to change), and
/// what could not be pinned, as warnings.
pub(crate) async fn pin_patch(
    state: &Arc<AppState>,
    loaded: &LoadedPolicy,
    review: &Review,
    deadline: Instant,
) -> (Option<Value>, Vec<String>) {
    let kind = review
        .object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or(&review.kind);
    if !matches!(review.operation, Operation::Create | Operation::Update) || !is_workload_kind(kind)
    {
        return (None, Vec::new());
    }
    let labels = namespace_labels(state, &review.namespace, deadline).await;
    let policy = loaded
        .policy
        .verdict_policy_for(&review.namespace, labels.as_deref())
        .unwrap_or(crate::decide::DEFAULT_POLICY_NAME)
        .to_owned();
    let Some(spec_pointer) = pod_spec_pointer(kind) else {
        return (None, Vec::new());
    };
    let Some(spec) = review.object.pointer(&spec_pointer) else {
        return (None, Vec::new());
    };
    let mut operations = Vec::new();
    let mut warnings = Vec::new();
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(items) = spec.get(list).and_then(Value::as_array) else {
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            let Some(image) = item.get("image").and_then(Value::as_str) else {
                continue;
            };
            if image.trim().is_empty() || pinned(image).is_some() {
                continue;
            }
            let name = item.get("name").and_then(Value::as_str).unwrap_or("?");
            let digest = match resolve(state, image, deadline).await {
                Ok(digest) => digest,
                Err(message) => {
                    warnings.push(format!("container {name} not pinned: {message}"));
                    continue;
                }
            };
            match lookup(state, &digest, &policy).await {
                Lookup::Verdict(verdict) | Lookup::Stale(verdict) if verdict.passed => {
                    operations.push(json!({
                        "op": "replace",
                        "path": format!("{spec_pointer}/{list}/{index}/image"),
                        "value": format!("{image}@{digest}"),
                    }));
                }
                Lookup::Verdict(_) | Lookup::Stale(_) => warnings.push(format!(
                    "container {name} not pinned: {image} ({digest}) did not pass the scan policy `{policy}`"
                )),
                Lookup::NotScanned => warnings.push(format!(
                    "container {name} not pinned: {image} ({digest}) has not been scanned"
                )),
                Lookup::Failed(message) => {
                    warnings.push(format!("container {name} not pinned: {message}"));
                }
            }
        }
    }
    let patch = (!operations.is_empty()).then(|| Value::Array(operations));
    (patch, warnings)
}
