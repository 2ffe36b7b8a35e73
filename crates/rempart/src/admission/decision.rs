//! One admission decision: select the namespace's rules, check the pod and every container's
//! image, apply the exemptions, and split what failed into denials and warnings.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use rempart_misconfig::{
    ImageRef, PssLevel, PssVersion, WorkloadKind, evaluate_pod_security, workload_kind,
};
use serde::Serialize;
use serde_json::Value;

use super::image::{is_sha256_digest, pinned_digest, repository_of};
use super::policy::{
    AdmissionPolicy, CompiledRules, PssProfile, RuleMode, SelectionMatch, UnscannedMode,
};
use super::rules;
use super::verdict::{TrustLookup, TrustQuery, VerdictLookup, VerdictQuery, VerdictSource};

/// What the API server is doing with the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

/// One object to decide on.
#[derive(Debug, Clone, Copy)]
pub struct AdmissionRequest<'a> {
    /// The object as the API server (or a manifest) has it.
    pub object: &'a Value,
    /// The namespace it goes into (the request's namespace; for a manifest, its
    /// `metadata.namespace` or the namespace it will be applied in).
    pub namespace: &'a str,
    /// The namespace's labels, when known.
    pub namespace_labels: Option<&'a BTreeMap<String, String>>,
    pub operation: Operation,
    /// The time of the decision, in seconds since the Unix epoch: exemption expiry and verdict
    /// age are judged against it (a parameter, so decisions are reproducible in tests).
    pub now: i64,
}

/// Which list of the pod a container comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerKind {
    Container,
    InitContainer,
    EphemeralContainer,
}

impl ContainerKind {
    fn from_list(list: &str) -> ContainerKind {
        match list {
            "initContainers" => ContainerKind::InitContainer,
            "ephemeralContainers" => ContainerKind::EphemeralContainer,
            _ => ContainerKind::Container,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ContainerKind::Container => "container",
            ContainerKind::InitContainer => "init container",
            ContainerKind::EphemeralContainer => "ephemeral container",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerRef {
    pub kind: ContainerKind,
    pub name: String,
}

/// Why a rule failed: a denial, a warning, or a reason an exemption covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The admission rule (`ADM-IMAGE-NOT-PINNED`).
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The finding behind it, when another rule found it (`K8S-PSS-PRIVILEGED`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    pub message: String,
}

impl Reason {
    /// `[ADM-IMAGE-LATEST] container app (nginx): message`, the form a denial message takes.
    pub fn describe(&self) -> String {
        let mut text = format!("[{}]", self.code);
        if let Some(container) = &self.container {
            let _ = write!(text, " {} {}", container.kind.as_str(), container.name);
            if let Some(image) = &self.image {
                let _ = write!(text, " ({image})");
            }
            text.push(':');
        } else if let Some(image) = &self.image {
            let _ = write!(text, " {image}:");
        }
        let _ = write!(text, " {}", self.message);
        text
    }
}

/// A reason an active exemption covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExemptedReason {
    pub reason: Reason,
    /// The exemption's 1-based position in the policy.
    pub exemption: usize,
    pub exemption_reason: String,
}

/// The object a decision is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

impl ObjectRef {
    /// `Deployment prod/web`.
    pub fn describe(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// The outcome of one admission request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub object: ObjectRef,
    pub allowed: bool,
    /// Why nothing was checked (a kind that runs no pod, a DELETE); the object is allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The namespace selection whose rules applied (`default` when none matched).
    pub selection: String,
    pub denials: Vec<Reason>,
    pub warnings: Vec<Reason>,
    pub exempted: Vec<ExemptedReason>,
    /// The exemptions that covered a reason (1-based positions), for unused-exemption reports.
    pub exemptions_used: Vec<usize>,
    /// The expired exemptions that would have covered a reason (already reported as
    /// `ADM-EXEMPTION-EXPIRED`, so not reported again as unused).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exemptions_expired: Vec<usize>,
}

impl Decision {
    /// The denial message for the API server's `status.message`: the object, then every
    /// denial with its rule, container, image and reason.
    pub fn message(&self) -> String {
        if self.allowed {
            return format!("{} allowed", self.object.describe());
        }
        let mut text = format!(
            "{} denied by the admission policy ({}):",
            self.object.describe(),
            self.selection
        );
        for denial in &self.denials {
            let _ = write!(text, "\n{}", denial.describe());
        }
        text
    }
}

/// Whether objects of `kind` run a pod, and so are decided on.
pub fn is_workload_kind(kind: &str) -> bool {
    workload_kind(kind).is_some()
}

fn get<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

/// The pod spec of a workload object, `None` when it has none.
fn pod_spec<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    get(object, workload_kind(kind)?.pod_spec).filter(|spec| spec.is_object())
}

/// One container and its image, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerImage {
    pub container: ContainerRef,
    /// `None` when the container names no image (a malformed object).
    pub image: Option<String>,
}

/// Every container of the object's pod (regular, init and ephemeral) with its image; empty for
/// an object that runs no pod. Callers fetch verdicts for these before deciding.
pub fn containers_of(object: &Value) -> Vec<ContainerImage> {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let Some(spec) = pod_spec(object, kind) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(items) = spec.get(list).and_then(Value::as_array) else {
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .map_or_else(|| format!("#{}", index + 1), str::to_owned);
            found.push(ContainerImage {
                container: ContainerRef {
                    kind: ContainerKind::from_list(list),
                    name,
                },
                image: item
                    .get("image")
                    .and_then(Value::as_str)
                    .filter(|image| !image.trim().is_empty())
                    .map(str::to_owned),
            });
        }
    }
    found
}

/// A failed rule before modes and exemptions are applied.
struct Raised {
    reason: Reason,
    mode: RuleMode,
    /// Whether exemptions may cover it.
    exemptable: bool,
}

const PSS_LABEL_PREFIX: &str = "pod-security.kubernetes.io/";

impl AdmissionPolicy {
    /// Decides on one object. Never does network I/O itself: verdicts come from `verdicts`.
    pub fn evaluate(
        &self,
        request: &AdmissionRequest<'_>,
        verdicts: &dyn VerdictSource,
    ) -> Decision {
        let object = request.object;
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = get(object, &["metadata", "name"])
            .and_then(Value::as_str)
            .or_else(|| get(object, &["metadata", "generateName"]).and_then(Value::as_str))
            .unwrap_or("<unnamed>");
        let mut decision = Decision {
            object: ObjectRef {
                kind: if kind.is_empty() { "<no kind>" } else { kind }.to_owned(),
                name: name.to_owned(),
                namespace: request.namespace.to_owned(),
            },
            allowed: true,
            skipped: None,
            selection: "default".to_owned(),
            denials: Vec::new(),
            warnings: Vec::new(),
            exempted: Vec::new(),
            exemptions_used: Vec::new(),
            exemptions_expired: Vec::new(),
        };
        if matches!(request.operation, Operation::Delete | Operation::Connect) {
            decision.skipped = Some("only CREATE and UPDATE are checked".to_owned());
            return decision;
        }
        if !is_workload_kind(kind) {
            decision.skipped = Some(if kind.is_empty() {
                "the object has no kind".to_owned()
            } else {
                format!("a {kind} runs no pod")
            });
            return decision;
        }

        let mut raised = Vec::new();
        let rules = self.select(request, &mut decision, &mut raised);
        let Some(spec) = pod_spec(object, kind) else {
            let path = workload_kind(kind).map_or_else(String::new, WorkloadKind::pod_spec_path);
            raised.push(Raised {
                reason: Reason {
                    code: rules::object::RULE.code,
                    container: None,
                    image: None,
                    finding: None,
                    message: format!("the {kind} has no pod template: `{path}` is missing"),
                },
                mode: RuleMode::Enforce,
                exemptable: false,
            });
            self.settle(request, spec_service_account(None), raised, &mut decision);
            return decision;
        };
        pod_security(rules, request, &mut raised);
        for container in containers_of(object) {
            let Some(image) = &container.image else {
                raised.push(Raised {
                    reason: Reason {
                        code: rules::object::RULE.code,
                        container: Some(container.container.clone()),
                        image: None,
                        finding: None,
                        message: "the container names no image".to_owned(),
                    },
                    mode: RuleMode::Enforce,
                    exemptable: false,
                });
                continue;
            };
            image_rules(
                rules,
                request,
                &container.container,
                image,
                verdicts,
                &mut raised,
            );
        }
        self.settle(
            request,
            spec_service_account(Some(spec)),
            raised,
            &mut decision,
        );
        decision
    }

    /// The rules of the first selection that matches the namespace, else the default ones.
    fn select(
        &self,
        request: &AdmissionRequest<'_>,
        decision: &mut Decision,
        raised: &mut Vec<Raised>,
    ) -> &CompiledRules {
        for selection in &self.selections {
            match selection.matches(request.namespace, request.namespace_labels) {
                SelectionMatch::Yes => {
                    decision.selection.clone_from(&selection.name);
                    return &selection.rules;
                }
                SelectionMatch::No => {}
                SelectionMatch::LabelsUnknown => {
                    let wanted: Vec<String> = selection
                        .labels
                        .iter()
                        .map(|(key, value)| format!("{key}={value}"))
                        .collect();
                    raised.push(Raised {
                        reason: Reason {
                            code: rules::namespace_labels::RULE.code,
                            container: None,
                            image: None,
                            finding: None,
                            message: format!(
                                "the selection `{}` needs namespace labels ({}) and the labels of namespace {} are not known; it was skipped",
                                selection.name,
                                wanted.join(", "),
                                request.namespace
                            ),
                        },
                        mode: RuleMode::Audit,
                        exemptable: false,
                    });
                }
            }
        }
        &self.default
    }

    /// The scan policy whose verdicts the namespace's rules require (`None` when they have no
    /// verdict rule), chosen as a decision chooses its rules.
    pub fn verdict_policy_for(
        &self,
        namespace: &str,
        labels: Option<&BTreeMap<String, String>>,
    ) -> Option<&str> {
        let rules = self
            .selections
            .iter()
            .find(|selection| matches!(selection.matches(namespace, labels), SelectionMatch::Yes))
            .map_or(&self.default, |selection| &selection.rules);
        rules.verdict.as_ref().map(|(rule, _)| rule.policy.as_str())
    }

    /// Applies exemptions and modes: each raised reason becomes a denial, a warning, or an
    /// exempted reason.
    fn settle(
        &self,
        request: &AdmissionRequest<'_>,
        service_account: &str,
        raised: Vec<Raised>,
        decision: &mut Decision,
    ) {
        let today = day_number(request.now);
        let mut used = BTreeSet::new();
        let mut expired_warned = BTreeSet::new();
        for item in raised {
            if item.exemptable {
                let covering: Vec<_> = self
                    .exemptions
                    .iter()
                    .filter(|exemption| {
                        exemption.covers(
                            item.reason.code,
                            item.reason.finding.as_deref(),
                            request.namespace,
                            service_account,
                            item.reason.image.as_deref(),
                        )
                    })
                    .collect();
                if let Some(active) = covering.iter().find(|e| e.active_on(today)) {
                    used.insert(active.index);
                    decision.exempted.push(ExemptedReason {
                        reason: item.reason,
                        exemption: active.index,
                        exemption_reason: active.reason.clone(),
                    });
                    continue;
                }
                for expired in covering {
                    if expired_warned.insert(expired.index) {
                        decision.warnings.push(Reason {
                            code: rules::exemption::EXPIRED.code,
                            container: None,
                            image: None,
                            finding: None,
                            message: format!(
                                "exemption {} (\"{}\") expired on {} and no longer applies",
                                expired.index, expired.reason, expired.expires
                            ),
                        });
                    }
                }
            }
            match item.mode {
                RuleMode::Enforce => decision.denials.push(item.reason),
                RuleMode::Audit => decision.warnings.push(item.reason),
            }
        }
        decision.exemptions_used = used.into_iter().collect();
        decision.exemptions_expired = expired_warned.into_iter().collect();
        decision.allowed = decision.denials.is_empty();
    }

    /// The exemptions no decision among `decisions` used, for the unused-exemption report; an
    /// expired one a decision already reported as expired is not reported again.
    pub fn unused_exemptions<'p>(
        &'p self,
        decisions: &[Decision],
    ) -> Vec<&'p super::policy::Exemption> {
        let used: BTreeSet<usize> = decisions
            .iter()
            .flat_map(|d| {
                d.exemptions_used
                    .iter()
                    .chain(&d.exemptions_expired)
                    .copied()
            })
            .collect();
        self.exemptions
            .iter()
            .filter(|e| !used.contains(&e.index))
            .collect()
    }
}

/// The pod's service account, `default` when it names none (as the API server fills it in).
fn spec_service_account(spec: Option<&Value>) -> &str {
    spec.and_then(|spec| {
        spec.get("serviceAccountName")
            .or_else(|| spec.get("serviceAccount"))
    })
    .and_then(Value::as_str)
    .filter(|name| !name.is_empty())
    .unwrap_or("default")
}

/// `YYYYMMDD` of a Unix time (UTC), comparable with exemption dates.
pub(crate) fn day_number(now: i64) -> u32 {
    let date = time::OffsetDateTime::from_unix_timestamp(now)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date();
    u32::try_from(date.year()).unwrap_or(0) * 10_000
        + u32::from(u8::from(date.month())) * 100
        + u32::from(date.day())
}

fn level_of(profile: PssProfile) -> PssLevel {
    match profile {
        PssProfile::Baseline => PssLevel::Baseline,
        PssProfile::Restricted => PssLevel::Restricted,
    }
}

/// A namespace's Pod Security label for `mode` (`enforce`, `warn`, `audit`): its level, as the
/// API server reads it (an unknown value counts as `restricted`), and its version (an unknown
/// or missing one as `latest`).
fn namespace_level(
    labels: &BTreeMap<String, String>,
    mode: &str,
) -> Option<(PssLevel, PssVersion)> {
    let level = labels.get(&format!("{PSS_LABEL_PREFIX}{mode}"))?;
    let level = match level.as_str() {
        "privileged" => PssLevel::Privileged,
        "baseline" => PssLevel::Baseline,
        _ => PssLevel::Restricted,
    };
    let version = labels
        .get(&format!("{PSS_LABEL_PREFIX}{mode}-version"))
        .and_then(|v| PssVersion::parse(v))
        .unwrap_or(PssVersion::Latest);
    Some((level, version))
}

fn pod_security(rules: &CompiledRules, request: &AdmissionRequest<'_>, raised: &mut Vec<Raised>) {
    let Some((rule, policy_version)) = &rules.pod_security else {
        return;
    };
    let mut level = level_of(rule.level);
    let mut version = *policy_version;
    let mut source = "the admission policy".to_owned();
    let labels = request.namespace_labels.filter(|_| rule.namespace_labels);
    if let Some((label_level, label_version)) = labels.and_then(|l| namespace_level(l, "enforce"))
        && label_level > level
    {
        level = label_level;
        version = label_version;
        source = format!(
            "namespace {}'s {PSS_LABEL_PREFIX}enforce label",
            request.namespace
        );
    }
    let mut reported = BTreeSet::new();
    for violation in violations_at(request.object, level, version) {
        reported.insert((
            violation.code,
            violation.container_list,
            violation.container_name.clone(),
        ));
        raised.push(Raised {
            reason: pss_reason(
                rules::pod_security::RULE.code,
                &violation,
                &format!("{} {version}, required by {source}", level.as_str()),
            ),
            mode: rule.mode,
            exemptable: true,
        });
    }
    let Some(labels) = labels else { return };
    for mode in ["warn", "audit"] {
        let Some((level, version)) = namespace_level(labels, mode) else {
            continue;
        };
        for violation in violations_at(request.object, level, version) {
            if !reported.insert((
                violation.code,
                violation.container_list,
                violation.container_name.clone(),
            )) {
                continue;
            }
            raised.push(Raised {
                reason: pss_reason(
                    rules::pod_security::NAMESPACE_RULE.code,
                    &violation,
                    &format!(
                        "{} {version}, namespace {}'s {PSS_LABEL_PREFIX}{mode} label",
                        level.as_str(),
                        request.namespace
                    ),
                ),
                mode: RuleMode::Audit,
                exemptable: true,
            });
        }
    }
}

/// The violations that drop the pod below `level`.
fn violations_at(
    object: &Value,
    level: PssLevel,
    version: PssVersion,
) -> Vec<rempart_misconfig::PssViolation> {
    if level == PssLevel::Privileged {
        return Vec::new();
    }
    evaluate_pod_security(object, version)
        .map(|(_, violations)| violations)
        .unwrap_or_default()
        .into_iter()
        .filter(|violation| violation.profile <= level)
        .collect()
}

fn pss_reason(
    code: &'static str,
    violation: &rempart_misconfig::PssViolation,
    profile: &str,
) -> Reason {
    let container = violation
        .container_list
        .zip(violation.container_name.as_ref())
        .map(|(list, name)| ContainerRef {
            kind: ContainerKind::from_list(list),
            name: name.clone(),
        });
    Reason {
        code,
        container,
        image: None,
        finding: Some(violation.code.to_owned()),
        message: format!(
            "{}: {} (Pod Security Standards {profile})",
            violation.code, violation.message
        ),
    }
}

fn image_rules(
    rules: &CompiledRules,
    request: &AdmissionRequest<'_>,
    container: &ContainerRef,
    image: &str,
    verdicts: &dyn VerdictSource,
    raised: &mut Vec<Raised>,
) {
    let parsed = ImageRef::parse(image);
    let mut raise = |code: &'static str, mode: RuleMode, message: String| {
        raised.push(Raised {
            reason: Reason {
                code,
                container: Some(container.clone()),
                image: Some(image.to_owned()),
                finding: None,
                message,
            },
            mode,
            exemptable: true,
        });
    };
    let mut may_scan = true;
    if let Some((rule, globs)) = &rules.allowed {
        let repository = repository_of(&parsed);
        let short = format!("{}/{}", parsed.registry, parsed.repository);
        if !globs
            .iter()
            .any(|glob| glob.is_match(&repository) || glob.is_match(&short))
        {
            may_scan = rule.mode == RuleMode::Audit;
            raise(
                rules::image_registry::RULE.code,
                rule.mode,
                format!(
                    "{repository} matches none of the allowed patterns ({})",
                    rule.patterns.join(", ")
                ),
            );
        }
    }
    if let Some(rule) = &rules.require_digest
        && pinned_digest(&parsed).is_none()
    {
        let message = match &parsed.digest {
            Some(digest) => format!(
                "`{digest}` is not a sha256 digest: pin the image as {}@sha256:<64 hex digits>",
                repository_of(&parsed)
            ),
            None => format!(
                "the image is not pinned by digest: deploy {image}@sha256:… so that what runs is what was vetted"
            ),
        };
        raise(rules::image_not_pinned::RULE.code, rule.mode, message);
    }
    if let Some(rule) = &rules.forbid_latest
        && parsed.is_latest()
    {
        let message = if parsed.tag.is_some() {
            "the image uses the `latest` tag: deploy an explicit version".to_owned()
        } else {
            "the image has no tag, so `latest` is pulled: deploy an explicit version".to_owned()
        };
        raise(rules::image_latest::RULE.code, rule.mode, message);
    }
    if let Some((rule, max_age)) = &rules.verdict {
        let digest = pinned_digest(&parsed);
        let lookup = verdicts.lookup(&VerdictQuery {
            image,
            digest,
            policy: &rule.policy,
            unscanned: rule.unscanned,
            may_scan,
        });
        let missing = |why: String| -> (RuleMode, String) {
            match rule.unscanned {
                UnscannedMode::Deny => (rule.mode, format!("{why}; unscanned images are denied")),
                UnscannedMode::Warn if verdicts.can_scan() && may_scan => (
                    RuleMode::Audit,
                    format!("{why}; a scan was queued (`unscanned: warn`)"),
                ),
                UnscannedMode::Warn => (
                    RuleMode::Audit,
                    format!("{why}; allowed with a warning (`unscanned: warn`): scan it"),
                ),
                UnscannedMode::Scan if verdicts.can_scan() && !may_scan => (
                    rule.mode,
                    format!(
                        "{why}; it is not scanned, being from a repository the policy does not allow"
                    ),
                ),
                UnscannedMode::Scan if verdicts.can_scan() => (
                    rule.mode,
                    format!("{why}, even after a scan was asked for within the time budget"),
                ),
                UnscannedMode::Scan => (
                    rule.mode,
                    format!(
                        "{why}; `unscanned: scan` needs a verdict source that scans (the server), so the image is denied here"
                    ),
                ),
            }
        };
        match lookup {
            VerdictLookup::Known(verdict) => {
                if !verdict.passed {
                    let reasons = if verdict.reasons.is_empty() {
                        "no reason given".to_owned()
                    } else {
                        verdict.reasons.join("; ")
                    };
                    raise(
                        rules::image_verdict::FAILED.code,
                        rule.mode,
                        format!(
                            "{} failed the scan policy `{}`: {reasons}",
                            verdict.digest, verdict.policy
                        ),
                    );
                } else if let Some(max_age) = max_age
                    && request.now.saturating_sub(verdict.scanned_at) > *max_age
                {
                    let age = request.now.saturating_sub(verdict.scanned_at);
                    raise(
                        rules::image_verdict::STALE.code,
                        rule.mode,
                        format!(
                            "{} passed `{}` but was scanned {} ago, over the {} limit",
                            verdict.digest,
                            verdict.policy,
                            human_duration(age),
                            rule.max_age.as_deref().unwrap_or("")
                        ),
                    );
                }
            }
            VerdictLookup::Unknown { digest: resolved } => {
                // The pinned digest is in the image reference the message starts with already:
                // not repeated, as warnings are cut at 256 characters by the API server.
                let subject = match (digest, resolved.as_deref()) {
                    (Some(digest), _) if is_sha256_digest(digest) => "the image".to_owned(),
                    (None, Some(digest)) if is_sha256_digest(digest) => {
                        format!("{digest} (the tag's digest)")
                    }
                    _ => "the image (a tag no verdict source resolved to a digest)".to_owned(),
                };
                let (mode, message) = missing(format!(
                    "no verdict for {subject} under the scan policy `{}`",
                    rule.policy
                ));
                raise(rules::image_verdict::MISSING.code, mode, message);
            }
            VerdictLookup::Failed(why) => {
                let (mode, message) = missing(format!(
                    "the verdict under `{}` could not be looked up ({why})",
                    rule.policy
                ));
                raise(rules::image_verdict::MISSING.code, mode, message);
            }
        }
    }
    if let Some(rule) = &rules.trust {
        // An image denied anyway is not verified: a pod naming any image must not make the
        // verifier contact any registry. It is not trusted either, so that exempting it from
        // the registry rule does not let it in unverified.
        let lookup = if may_scan {
            verdicts.trust(&TrustQuery {
                image,
                digest: pinned_digest(&parsed),
            })
        } else {
            TrustLookup::Failed(
                "they are not fetched from a repository the policy does not allow".to_owned(),
            )
        };
        match lookup {
            TrustLookup::Verified(trust) if trust.trusted => {}
            TrustLookup::Verified(trust) => {
                let unmet = if trust.unmet.is_empty() {
                    "no reason given".to_owned()
                } else {
                    trust.unmet.join("; ")
                };
                raise(
                    rules::image_trust::UNTRUSTED.code,
                    rule.mode,
                    format!("{} does not meet the trust policy: {unmet}", trust.digest),
                );
            }
            TrustLookup::Unknown => raise(
                rules::image_trust::UNVERIFIED.code,
                rule.mode,
                "its signatures were not verified (no trust policy was given to verify them)"
                    .to_owned(),
            ),
            TrustLookup::Failed(why) => raise(
                rules::image_trust::UNVERIFIED.code,
                rule.mode,
                format!("its signatures could not be verified: {why}"),
            ),
        }
    }
}

/// `3d 4h`, `5h 2m`, `40s`.
fn human_duration(seconds: i64) -> String {
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else if minutes > 0 {
        format!("{minutes}m")
    } else {
        format!("{seconds}s")
    }
}
