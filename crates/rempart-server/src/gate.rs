//! The registry gate: the registry's push notifications (the CNCF distribution registry's
//! webhook envelope) become scans, and, for repositories in `promote` mode, images whose verdict
//! passes are copied into the release repository by digest (blobs mounted across repositories,
//! then the manifest, then the tag): an image that fails is never available where deployments
//! pull from. Nothing is deleted: a failed image stays where it was pushed, with its report.
//!
//! ```yaml
//! registry: registry.internal:5000   # the registry the notifications come from
//! rules:                             # the first rule whose prefix matches decides
//!   - prefix: staging/
//!     mode: promote
//!     promote_to: release/           # staging/team/app -> release/team/app
//!     policy: release
//!   - prefix: ""                     # every other repository: scan on push
//!     mode: scan
//! ```

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::clock::now_millis;
use crate::decide::{DEFAULT_POLICY_NAME, decide};
use crate::state::AppState;
use crate::store::{NewAudit, PromotionRecord, PromotionState};

/// The gate file is small; a cap keeps a mistaken path from costing much.
const MAX_GATE_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateMode {
    /// Scan on push and record the verdict.
    Scan,
    /// Scan on push, and copy the image into the release repository when it passes.
    Promote,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRule {
    /// Repositories starting with this (`""` matches every repository).
    pub prefix: String,
    pub mode: GateMode,
    /// For `promote`: the prefix that replaces `prefix` in the destination repository.
    #[serde(default)]
    pub promote_to: Option<String>,
    /// The policy the verdict is decided under (`default` when not given).
    #[serde(default)]
    pub policy: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// `host[:port]` of the registry, as the server reaches it. Notifications name
    /// repositories, not registries: the server never pulls from a host a request names.
    pub registry: String,
    pub rules: Vec<GateRule>,
}

impl GateConfig {
    pub fn load(path: &Path) -> Result<GateConfig, String> {
        let bytes = rempart_core::read_regular_file(path, MAX_GATE_FILE_BYTES)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let text =
            String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
        let config: GateConfig =
            serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        config
            .check()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        if self.registry.trim().is_empty() || self.registry.contains('/') {
            return Err("`registry` must be host[:port], without a scheme or path".into());
        }
        for (index, rule) in self.rules.iter().enumerate() {
            let at = format!("rule {} (prefix `{}`)", index + 1, rule.prefix);
            match (rule.mode, &rule.promote_to) {
                (GateMode::Promote, None) => {
                    return Err(format!("{at}: `promote` needs `promote_to`"));
                }
                (GateMode::Promote, Some(to)) if to == &rule.prefix => {
                    return Err(format!(
                        "{at}: `promote_to` must differ from `prefix`, or a promoted image would be promoted again"
                    ));
                }
                (GateMode::Scan, Some(_)) => {
                    return Err(format!(
                        "{at}: `promote_to` applies to `promote` rules only"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The rule for a repository: the first whose prefix it starts with.
    pub(crate) fn rule_for(&self, repository: &str) -> Option<&GateRule> {
        self.rules
            .iter()
            .find(|rule| repository.starts_with(&rule.prefix))
    }
}

/// The destination repository of a promotion.
pub(crate) fn destination(rule: &GateRule, repository: &str) -> Option<String> {
    let rest = repository.strip_prefix(&rule.prefix)?;
    Some(format!("{}{rest}", rule.promote_to.as_deref()?))
}

/// Acts on the pending promotions of an image whose scan just completed: each is taken once
/// (pending → copying), judged under its policy, and copied or refused.
pub(crate) async fn promote_pending(state: &Arc<AppState>, digest: &str) {
    let lookup = digest.to_owned();
    let pending = match state
        .with_store(move |store| store.pending_promotions(&lookup))
        .await
    {
        Ok(pending) => pending,
        Err(error) => {
            tracing::error!("promotions of {digest}: {error}");
            return;
        }
    };
    for promotion in pending {
        promote_one(state, promotion).await;
    }
}

async fn promote_one(state: &Arc<AppState>, promotion: PromotionRecord) {
    let id = promotion.id.clone();
    let taken = state
        .with_store(move |store| {
            store.move_promotion(
                &id,
                PromotionState::Pending,
                PromotionState::Copying,
                None,
                now_millis(),
            )
        })
        .await;
    if !matches!(taken, Ok(true)) {
        return;
    }
    let (digest, policy) = (promotion.digest.clone(), promotion.policy.clone());
    let decision = state
        .with_store(move |store| Ok(decide(store, &digest, &policy, now_millis())))
        .await;
    let (to, action, detail) = match decision {
        Ok(Ok((decision, _))) if decision.verdict.passed => match copy(state, &promotion).await {
            Ok(report) => (PromotionState::Promoted, "promotion.done", report),
            Err(error) => (PromotionState::Failed, "promotion.failed", error),
        },
        Ok(Ok((decision, _))) => (
            PromotionState::Refused,
            "promotion.refused",
            format!(
                "policy `{}` version {} fails the image: {}",
                decision.verdict.policy,
                decision.verdict.policy_version,
                decision.verdict.reasons.join("; ")
            ),
        ),
        Ok(Err(error)) => (
            PromotionState::Failed,
            "promotion.failed",
            error.to_string(),
        ),
        Err(error) => (
            PromotionState::Failed,
            "promotion.failed",
            error.to_string(),
        ),
    };
    let verdict = match to {
        PromotionState::Promoted => Some("pass".to_owned()),
        PromotionState::Refused => Some("fail".to_owned()),
        _ => None,
    };
    tracing::info!(
        event = action,
        digest = %promotion.digest,
        source = %promotion.source_repository,
        destination = %promotion.destination_repository,
        "{action}: {detail}"
    );
    let shared = Arc::clone(state);
    let recorded = state
        .with_store(move |store| {
            let now = now_millis();
            let deliveries = crate::webhooks::deliveries(
                shared.webhook_config(),
                action,
                serde_json::json!({
                    "promotion_id": promotion.id,
                    "digest": promotion.digest,
                    "registry": promotion.registry,
                    "source_repository": promotion.source_repository,
                    "destination_repository": promotion.destination_repository,
                    "tag": promotion.tag,
                    "policy": promotion.policy,
                    "detail": detail,
                }),
                now,
            );
            store.move_promotion(
                &promotion.id,
                PromotionState::Copying,
                to,
                Some(&detail),
                now,
            )?;
            store.append_audit(&NewAudit {
                at: now,
                actor: "server".into(),
                action: action.into(),
                subject: format!(
                    "{}/{} -> {}{}",
                    promotion.registry,
                    promotion.source_repository,
                    promotion.destination_repository,
                    promotion
                        .tag
                        .as_deref()
                        .map(|tag| format!(":{tag}"))
                        .unwrap_or_default()
                ),
                digest: Some(promotion.digest),
                verdict,
                detail: Some(detail),
                deliveries,
            })
        })
        .await;
    match recorded {
        Ok(_) => state.deliveries_queued(),
        Err(error) => tracing::error!("cannot record a promotion: {error}"),
    }
}

async fn copy(state: &Arc<AppState>, promotion: &PromotionRecord) -> Result<String, String> {
    let options = state.engine().registry_options();
    let promotion = promotion.clone();
    tokio::task::spawn_blocking(move || {
        rempart_image::copy_image(
            &rempart_image::CopyRequest {
                registry: &promotion.registry,
                source_repository: &promotion.source_repository,
                digest: &promotion.digest,
                destination_repository: &promotion.destination_repository,
                tag: promotion.tag.as_deref(),
            },
            &options,
        )
        .map(|report| {
            format!(
                "{} manifest{}: {} blobs mounted, {} already present, {} copied",
                report.manifests,
                if report.manifests == 1 { "" } else { "s" },
                report.blobs_mounted,
                report.blobs_present,
                report.blobs_copied
            )
        })
        .map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(format!("the copy stopped unexpectedly: {e}")))
}

pub(crate) fn default_policy(rule: &GateRule) -> String {
    rule.policy
        .clone()
        .unwrap_or_else(|| DEFAULT_POLICY_NAME.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<GateConfig, String> {
        let config: GateConfig = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        config.check()?;
        Ok(config)
    }

    #[test]
    fn the_first_matching_prefix_decides_and_names_the_destination() {
        let gate = config(
            "registry: r:5000\nrules:\n  - {prefix: staging/, mode: promote, promote_to: release/}\n  - {prefix: '', mode: scan}\n",
        )
        .unwrap();
        let rule = gate.rule_for("staging/team/app").unwrap();
        assert_eq!(rule.mode, GateMode::Promote);
        assert_eq!(
            destination(rule, "staging/team/app").unwrap(),
            "release/team/app"
        );
        assert_eq!(
            gate.rule_for("release/team/app").unwrap().mode,
            GateMode::Scan
        );
    }

    #[test]
    fn mistakes_are_refused() {
        assert!(config("registry: r\nrules:\n  - {prefix: s/, mode: promote}\n").is_err());
        assert!(
            config("registry: r\nrules:\n  - {prefix: s/, mode: promote, promote_to: s/}\n")
                .is_err()
        );
        assert!(
            config("registry: r\nrules:\n  - {prefix: s/, mode: scan, promote_to: x/}\n").is_err()
        );
        assert!(config("registry: https://r/\nrules: []\n").is_err());
        assert!(config("registry: r\nrules: []\nwebhook: x\n").is_err());
    }
}
