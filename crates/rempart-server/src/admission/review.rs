//! `AdmissionReview` (`admission.k8s.io/v1`) in and out: the request read strictly enough to
//! answer it (a version, a `uid`, an operation), the response shaped as the API server expects.

use base64::Engine as _;
use rempart::{Decision, Operation};
use serde::Deserialize;
use serde_json::{Value, json};

/// The API server keeps warnings to this many characters each…
const MAX_WARNING_CHARS: usize = 256;
/// …and ignores those past this many characters in all.
const MAX_WARNINGS_CHARS: usize = 4096;
/// A denial message longer than this is cut: it ends up in `kubectl` output and events.
const MAX_MESSAGE_CHARS: usize = 8192;

/// A request the webhook can answer.
#[derive(Debug)]
pub(crate) struct Review {
    pub(crate) uid: String,
    /// The object's kind as the request names it (`Deployment`).
    pub(crate) kind: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) operation: Operation,
    pub(crate) sub_resource: Option<String>,
    /// The object as it will be stored; its `kind` filled from the request when missing.
    pub(crate) object: Value,
    pub(crate) dry_run: bool,
    /// Who asked (the user or controller creating the object), for the audit log.
    pub(crate) username: String,
}

/// Why a request cannot be answered: the API server applies the webhook's failure policy.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ReviewError(pub(crate) String);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    api_version: Option<String>,
    kind: Option<String>,
    request: Option<RawRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequest {
    uid: Option<Value>,
    kind: Option<GroupVersionKind>,
    #[serde(default)]
    sub_resource: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    operation: Option<String>,
    #[serde(default)]
    user_info: Option<UserInfo>,
    #[serde(default)]
    object: Value,
    #[serde(default)]
    dry_run: Option<bool>,
}

#[derive(Deserialize)]
struct GroupVersionKind {
    #[serde(default)]
    kind: String,
}

#[derive(Deserialize)]
struct UserInfo {
    #[serde(default)]
    username: String,
}

const API_VERSION: &str = "admission.k8s.io/v1";

/// Reads an `AdmissionReview` request. The errors say what is wrong in terms of the
/// `admission.k8s.io/v1` API.
pub(crate) fn parse_review(body: &[u8]) -> Result<Review, ReviewError> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| ReviewError(format!("the body is not an AdmissionReview: {e}")))?;
    if envelope.kind.as_deref() != Some("AdmissionReview") {
        return Err(ReviewError(format!(
            "the body is not an AdmissionReview (`kind` is {})",
            shown(envelope.kind.as_deref())
        )));
    }
    if envelope.api_version.as_deref() != Some(API_VERSION) {
        return Err(ReviewError(format!(
            "only {API_VERSION} AdmissionReviews are answered (`apiVersion` is {}); set `admissionReviewVersions: [v1]`",
            shown(envelope.api_version.as_deref())
        )));
    }
    let request = envelope
        .request
        .ok_or_else(|| ReviewError("the AdmissionReview has no `request`".to_owned()))?;
    let uid = match request.uid {
        Some(Value::String(uid)) if !uid.is_empty() && uid.len() <= 256 => uid,
        Some(Value::String(_)) => {
            return Err(ReviewError(
                "`request.uid` must be 1 to 256 characters".to_owned(),
            ));
        }
        Some(_) => return Err(ReviewError("`request.uid` must be a string".to_owned())),
        None => {
            return Err(ReviewError(
                "the AdmissionReview has no `request.uid`: the answer could not be matched to it"
                    .to_owned(),
            ));
        }
    };
    let operation = match request.operation.as_deref() {
        Some("CREATE") => Operation::Create,
        Some("UPDATE") => Operation::Update,
        Some("DELETE") => Operation::Delete,
        Some("CONNECT") => Operation::Connect,
        other => {
            return Err(ReviewError(format!(
                "`request.operation` must be CREATE, UPDATE, DELETE or CONNECT, not {}",
                shown(other)
            )));
        }
    };
    let kind = request.kind.map(|gvk| gvk.kind).unwrap_or_default();
    let mut object = request.object;
    if let Value::Object(fields) = &mut object
        && !fields.contains_key("kind")
        && !kind.is_empty()
    {
        fields.insert("kind".to_owned(), Value::String(kind.clone()));
    }
    Ok(Review {
        uid,
        kind,
        namespace: request
            .namespace
            .filter(|namespace| !namespace.is_empty())
            .unwrap_or_else(|| "default".to_owned()),
        name: request.name.unwrap_or_default(),
        operation,
        sub_resource: request.sub_resource.filter(|s| !s.is_empty()),
        object,
        dry_run: request.dry_run.unwrap_or(false),
        username: request
            .user_info
            .map(|user| user.username)
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "unknown user".to_owned()),
    })
}

fn shown(value: Option<&str>) -> String {
    value.map_or_else(
        || "missing".to_owned(),
        |text| format!("`{}`", cut(text, 80).escape_default()),
    )
}

/// `text` cut to `limit` characters, with an ellipsis when cut.
fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(limit.saturating_sub(1)).collect();
    kept.push('…');
    kept
}

/// The warnings as the API server passes them on: each cut to its limit, and no more than the
/// total it keeps.
fn warnings(texts: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut kept = Vec::new();
    let mut total = 0;
    for text in texts {
        let text = cut(&text, MAX_WARNING_CHARS);
        total += text.chars().count();
        if total > MAX_WARNINGS_CHARS {
            break;
        }
        kept.push(text);
    }
    kept
}

fn envelope(response: &Value) -> Value {
    json!({"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response})
}

/// The answer to a decision: allowed or denied (403 with every reason in the message),
/// warnings for what audit rules found, and the policy version and selection as audit
/// annotations (the API server records them in its audit log).
pub(crate) fn decision_response(
    uid: &str,
    decision: &Decision,
    policy_version: i64,
    extra_warnings: Vec<String>,
) -> Value {
    let mut response = json!({
        "uid": uid,
        "allowed": decision.allowed,
        "auditAnnotations": {
            "policy-version": policy_version.to_string(),
            "selection": decision.selection,
        },
    });
    if !decision.allowed {
        response["status"] = json!({
            "code": 403,
            "reason": "Forbidden",
            "message": cut(&decision.message(), MAX_MESSAGE_CHARS),
        });
    }
    finish(
        response,
        decision
            .warnings
            .iter()
            .map(rempart::Reason::describe)
            .chain(extra_warnings),
        None,
    )
}

/// Adds the warnings (within the API server's limits) and the patch, and wraps the response.
fn finish(
    mut response: Value,
    texts: impl IntoIterator<Item = String>,
    patch: Option<&Value>,
) -> Value {
    let warnings = warnings(texts);
    if !warnings.is_empty() {
        response["warnings"] = json!(warnings);
    }
    if let Some(patch) = patch {
        response["patchType"] = json!("JSONPatch");
        response["patch"] =
            json!(base64::engine::general_purpose::STANDARD.encode(patch.to_string().as_bytes()));
    }
    envelope(&response)
}

/// Allowed without a decision (the mutating webhook when there is nothing to change), with
/// warnings.
pub(crate) fn allowed_response(
    uid: &str,
    extra_warnings: Vec<String>,
    patch: Option<&Value>,
) -> Value {
    finish(json!({"uid": uid, "allowed": true}), extra_warnings, patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(request: &Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": request,
        }))
        .unwrap()
    }

    #[test]
    fn a_request_is_read_with_its_uid_and_the_object_gets_its_kind() {
        let parsed = parse_review(&review(&json!({
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": "web", "namespace": "shop", "operation": "CREATE",
            "userInfo": {"username": "alice", "groups": ["dev"]},
            "object": {"apiVersion": "apps/v1", "metadata": {"name": "web"}},
            "oldObject": null, "dryRun": true, "options": {"kind": "CreateOptions"},
            "somethingNew": 1,
        })))
        .unwrap();
        assert_eq!(parsed.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
        assert_eq!(parsed.object["kind"], "Deployment");
        assert_eq!(parsed.operation, Operation::Create);
        assert!(parsed.dry_run);
        assert_eq!(
            (parsed.namespace.as_str(), parsed.username.as_str()),
            ("shop", "alice")
        );
    }

    #[test]
    fn requests_that_cannot_be_answered_say_why() {
        let error = |body: &[u8]| parse_review(body).unwrap_err().0;
        assert!(error(b"{").contains("not an AdmissionReview"));
        assert!(error(br#"{"kind":"Pod"}"#).contains("`kind` is `Pod`"));
        let v1beta1 =
            br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}"#;
        assert!(error(v1beta1).contains("admissionReviewVersions"));
        assert!(error(&review(&json!({"operation": "CREATE"}))).contains("no `request.uid`"));
        assert!(error(&review(&json!({"uid": 5, "operation": "CREATE"}))).contains("string"));
        assert!(error(&review(&json!({"uid": "x", "operation": "PATCH"}))).contains("not `PATCH`"));
        // Nesting deeper than the JSON reader's limit is refused, not followed.
        let deep = format!(
            r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"x","operation":"CREATE","object":{}{}}}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(error(deep.as_bytes()).contains("recursion limit"));
    }

    #[test]
    fn warnings_are_kept_within_the_api_servers_limits() {
        let kept = warnings((0..100).map(|n| format!("{n} {}", "x".repeat(400))));
        assert!(kept.iter().all(|w| w.chars().count() <= MAX_WARNING_CHARS));
        assert!(kept.iter().map(|w| w.chars().count()).sum::<usize>() <= MAX_WARNINGS_CHARS);
        assert_eq!(kept.len(), MAX_WARNINGS_CHARS / MAX_WARNING_CHARS);
        assert!(kept[0].ends_with('…'));
    }
}
