//! The admission policy document: which rules apply in which namespaces, and the exemptions.
//!
//! ```yaml
//! version: 1
//! default:
//!   pod_security: {level: baseline}
//!   images:
//!     forbid_latest: {}
//! namespaces:
//!   - name: production
//!     match: {names: ["prod-*"], labels: {tier: prod}}
//!     rules:
//!       pod_security: {level: restricted, version: v1.30, namespace_labels: true}
//!       images:
//!         allowed: {patterns: ["registry.example.com/**"]}
//!         require_digest: {mode: audit}
//!         forbid_latest: {}
//!         verdict: {policy: release, max_age: 7d, unscanned: warn}
//!         trust: {}
//! exemptions:
//!   - namespace: "legacy-*"
//!     image: "docker.io/library/busybox*"
//!     rules: [ADM-IMAGE-LATEST]
//!     reason: the legacy batch jobs move to pinned images in Q3
//!     expires: 2026-09-30
//! ```
//!
//! Parsing is strict: an unknown field is an error naming the file and the field's path, since
//! a misspelt rule silently not applying is exactly what an admission policy must not allow.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

use crate::document::{DocumentError, read_capped};
use crate::ignore::parse_date;
use rempart_misconfig::PssVersion;

/// Admission policies are small; the cap keeps a mistaken file (a log, a binary) from costing
/// much, and matches the server's policy document cap.
pub const MAX_ADMISSION_POLICY_BYTES: usize = 4 * 1024 * 1024;

/// The one version of the document this release reads.
const DOCUMENT_VERSION: u32 = 1;

/// Whether a failed rule denies the object or only warns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleMode {
    /// The object is denied.
    #[default]
    Enforce,
    /// The object is allowed with a warning.
    Audit,
}

/// What to do with an image no verdict is known for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnscannedMode {
    /// Deny it.
    #[default]
    Deny,
    /// Allow it with a warning (the server also queues a scan).
    Warn,
    /// Scan it before deciding, within a time budget; where the verdict source cannot scan
    /// (offline), the image is denied with a message that says so.
    Scan,
}

/// The Pod Security Standards profile a policy requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PssProfile {
    Baseline,
    Restricted,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PodSecurityRule {
    pub level: PssProfile,
    /// `latest` or `v1.N`; `latest` when absent.
    #[serde(default)]
    pub version: Option<String>,
    /// Also apply the namespace's `pod-security.kubernetes.io/enforce` label (the stricter of it
    /// and `level` wins) and turn its `warn` and `audit` labels into warnings, when the labels
    /// are known.
    #[serde(default)]
    pub namespace_labels: bool,
    #[serde(default)]
    pub mode: RuleMode,
}

/// A rule with nothing to set but its mode (`require_digest: {}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimpleRule {
    #[serde(default)]
    pub mode: RuleMode,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedImagesRule {
    /// Globs over `registry/repository` (`registry.example.com/**`, `ghcr.io/acme/*`); images
    /// without a registry are `docker.io/library/NAME` or `docker.io/OWNER/NAME`, as the
    /// container runtime pulls them.
    pub patterns: Vec<String>,
    #[serde(default)]
    pub mode: RuleMode,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictRule {
    /// The scan policy the verdict must have been decided under; `default` when absent.
    #[serde(default = "default_policy_name")]
    pub policy: String,
    /// The oldest scan accepted (`12h`, `7d`, `3600s`); any age when absent.
    #[serde(default)]
    pub max_age: Option<String>,
    #[serde(default)]
    pub unscanned: UnscannedMode,
    #[serde(default)]
    pub mode: RuleMode,
}

fn default_policy_name() -> String {
    "default".to_owned()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRules {
    #[serde(default)]
    pub allowed: Option<AllowedImagesRule>,
    #[serde(default)]
    pub require_digest: Option<SimpleRule>,
    #[serde(default)]
    pub forbid_latest: Option<SimpleRule>,
    #[serde(default)]
    pub verdict: Option<VerdictRule>,
    /// The image must meet the trust policy (signatures, attestations, base image) the caller
    /// verifies it against: the server's `--trust-policy`, `rempart admit --trust-policy`.
    #[serde(default)]
    pub trust: Option<SimpleRule>,
}

/// The rules of one namespace selection (or of the default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    #[serde(default)]
    pub pod_security: Option<PodSecurityRule>,
    #[serde(default)]
    pub images: ImageRules,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    /// Namespace name globs; any name when absent.
    #[serde(default)]
    names: Vec<String>,
    /// Labels the namespace must carry, all of them with these values (a `matchLabels`).
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawSelection {
    name: String,
    #[serde(rename = "match")]
    selector: RawMatch,
    rules: RuleSet,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawExemption {
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    service_account: Option<String>,
    #[serde(default)]
    image: Option<String>,
    /// Rule codes the exemption covers; every rule when absent.
    #[serde(default)]
    rules: Vec<String>,
    reason: String,
    expires: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: u32,
    #[serde(default)]
    default: RuleSet,
    #[serde(default)]
    namespaces: Vec<RawSelection>,
    #[serde(default)]
    exemptions: Vec<RawExemption>,
}

/// A namespace selection, checked and compiled.
#[derive(Debug, Clone)]
pub(crate) struct Selection {
    pub(crate) name: String,
    names: Vec<GlobMatcher>,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) rules: CompiledRules,
}

/// The label the API server sets on every namespace, to its name.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Whether a selection matches a namespace.
pub(crate) enum SelectionMatch {
    Yes,
    No,
    /// The names match but the selection needs labels that are not known.
    LabelsUnknown,
}

impl Selection {
    pub(crate) fn matches(
        &self,
        namespace: &str,
        labels: Option<&BTreeMap<String, String>>,
    ) -> SelectionMatch {
        if !self.names.is_empty() && !self.names.iter().any(|glob| glob.is_match(namespace)) {
            return SelectionMatch::No;
        }
        // The API server gives every namespace this label, its name: known without the others.
        let mut unknown = false;
        for (key, value) in &self.labels {
            let found = if key == NAME_LABEL {
                Some(namespace)
            } else if let Some(labels) = labels {
                labels.get(key).map(String::as_str)
            } else {
                unknown = true;
                continue;
            };
            if found != Some(value.as_str()) {
                return SelectionMatch::No;
            }
        }
        if unknown {
            SelectionMatch::LabelsUnknown
        } else {
            SelectionMatch::Yes
        }
    }
}

/// A rule set with its globs compiled and its values checked.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRules {
    pub(crate) pod_security: Option<(PodSecurityRule, PssVersion)>,
    pub(crate) allowed: Option<(AllowedImagesRule, Vec<GlobMatcher>)>,
    pub(crate) require_digest: Option<SimpleRule>,
    pub(crate) forbid_latest: Option<SimpleRule>,
    pub(crate) verdict: Option<(VerdictRule, Option<i64>)>,
    pub(crate) trust: Option<SimpleRule>,
}

/// An exemption from admission rules: who it covers, why, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exemption {
    /// 1-based position in the policy's `exemptions`, which messages name.
    pub index: usize,
    pub namespace: Option<String>,
    pub service_account: Option<String>,
    pub image: Option<String>,
    pub rules: Vec<String>,
    pub reason: String,
    /// `YYYY-MM-DD`; the exemption applies up to and including that day.
    pub expires: String,
    #[serde(skip)]
    pub(crate) expires_on: u32,
    #[serde(skip)]
    namespace_glob: Option<GlobMatcherEq>,
    #[serde(skip)]
    service_account_glob: Option<GlobMatcherEq>,
    #[serde(skip)]
    image_glob: Option<GlobMatcherEq>,
}

/// A compiled glob compared by its pattern, so exemptions can be compared in tests.
#[derive(Debug, Clone)]
struct GlobMatcherEq(GlobMatcher);

impl PartialEq for GlobMatcherEq {
    fn eq(&self, other: &Self) -> bool {
        self.0.glob() == other.0.glob()
    }
}
impl Eq for GlobMatcherEq {}

impl Exemption {
    /// Whether the exemption covers a reason with `code` (or the `finding` behind it) about `image` for a pod of
    /// `service_account` in `namespace`, ignoring its expiry. An image exemption covers only
    /// reasons about that image: a pod-level reason has none.
    pub(crate) fn covers(
        &self,
        code: &str,
        finding: Option<&str>,
        namespace: &str,
        service_account: &str,
        image: Option<&str>,
    ) -> bool {
        if !self.rules.is_empty()
            && !self
                .rules
                .iter()
                .any(|rule| rule == code || Some(rule.as_str()) == finding)
        {
            return false;
        }
        if let Some(glob) = &self.namespace_glob
            && !glob.0.is_match(namespace)
        {
            return false;
        }
        if let Some(glob) = &self.service_account_glob
            && !glob.0.is_match(service_account)
        {
            return false;
        }
        if let Some(glob) = &self.image_glob {
            let Some(image) = image else { return false };
            if !glob.0.is_match(image) && !glob.0.is_match(super::image::normalized(image)) {
                return false;
            }
        }
        true
    }

    /// Whether it still applies on `today` (`YYYY-MM-DD` as a number, see `parse_date`).
    pub(crate) fn active_on(&self, today: u32) -> bool {
        today <= self.expires_on
    }

    /// Whether it has expired at `now` (seconds since the epoch, UTC days).
    pub fn expired_at(&self, now: i64) -> bool {
        !self.active_on(super::decision::day_number(now))
    }
}

/// Why an admission policy could not be used. Names the file (or the server's policy) and, for
/// a bad value, the field.
pub type AdmissionPolicyError = DocumentError;

/// A checked admission policy.
#[derive(Debug, Clone)]
pub struct AdmissionPolicy {
    /// The file (or the server's name for the policy) it came from.
    pub source: PathBuf,
    pub(crate) default: CompiledRules,
    pub(crate) selections: Vec<Selection>,
    pub(crate) exemptions: Vec<Exemption>,
}

impl AdmissionPolicy {
    /// Reads a policy file (YAML or JSON).
    pub fn load(path: &Path) -> Result<AdmissionPolicy, AdmissionPolicyError> {
        let bytes = read_capped(path, MAX_ADMISSION_POLICY_BYTES as u64)?;
        let text =
            String::from_utf8(bytes).map_err(|_| DocumentError::invalid(path, "not UTF-8 text"))?;
        AdmissionPolicy::parse(&text, path)
    }

    /// Checks a policy document; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<AdmissionPolicy, AdmissionPolicyError> {
        let invalid = |message: String| DocumentError::invalid(origin, message);
        if text.len() > MAX_ADMISSION_POLICY_BYTES {
            return Err(invalid(format!(
                "{} bytes, over the {MAX_ADMISSION_POLICY_BYTES}-byte limit",
                text.len()
            )));
        }
        // Read as a generic value first, then typed through a path-tracking deserializer: the
        // YAML parser's own errors give a line, not the field, and the field is what a reader
        // of `unknown field` needs.
        let mut options = serde_saphyr::Options::default();
        let mut budget = serde_saphyr::Budget::default();
        budget.max_depth = 32;
        options.budget = Some(budget);
        options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
        let value: serde_json::Value = serde_saphyr::from_str_with_options(text, options)
            .map_err(|error| invalid(first_line(&error.to_string())))?;
        if value.is_null() {
            return Err(invalid("the document is empty".to_owned()));
        }
        let raw: RawPolicy = serde_path_to_error::deserialize(value).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            if path == "." {
                invalid(inner.to_string())
            } else {
                invalid(format!("{path}: {inner}"))
            }
        })?;
        if raw.version != DOCUMENT_VERSION {
            return Err(invalid(format!(
                "version: this release reads version {DOCUMENT_VERSION}, not {}",
                raw.version
            )));
        }
        let default = compile_rules(raw.default, "default", &invalid)?;
        let mut selections = Vec::new();
        for (index, selection) in raw.namespaces.into_iter().enumerate() {
            let at = format!("namespaces[{index}]");
            if selection.name.trim().is_empty() {
                return Err(invalid(format!("{at}.name: empty")));
            }
            if selection.selector.names.is_empty() && selection.selector.labels.is_empty() {
                return Err(invalid(format!(
                    "{at}.match: give `names` or `labels` (the `default` rules cover every namespace)"
                )));
            }
            let names = selection
                .selector
                .names
                .iter()
                .enumerate()
                .map(|(n, pattern)| glob(pattern, &format!("{at}.match.names[{n}]"), &invalid))
                .collect::<Result<Vec<_>, _>>()?;
            selections.push(Selection {
                name: selection.name,
                names,
                labels: selection.selector.labels,
                rules: compile_rules(selection.rules, &format!("{at}.rules"), &invalid)?,
            });
        }
        let mut exemptions = Vec::new();
        for (index, raw) in raw.exemptions.into_iter().enumerate() {
            let at = format!("exemptions[{index}]");
            if raw.reason.trim().is_empty() {
                return Err(invalid(format!(
                    "{at}.reason: every exemption needs a reason"
                )));
            }
            let expires_on = parse_date(&raw.expires).ok_or_else(|| {
                invalid(format!(
                    "{at}.expires: must be YYYY-MM-DD, not `{}`",
                    raw.expires
                ))
            })?;
            if raw.namespace.is_none() && raw.service_account.is_none() && raw.image.is_none() {
                return Err(invalid(format!(
                    "{at}: name a `namespace`, `service_account` or `image` (an exemption of \
                     everything would turn the policy off)"
                )));
            }
            for (n, code) in raw.rules.iter().enumerate() {
                if !super::rules::is_exemptable(code) {
                    return Err(invalid(format!(
                        "{at}.rules[{n}]: `{code}` is not an admission rule code that can be exempted"
                    )));
                }
            }
            let compile = |pattern: &Option<String>, field: &str| {
                pattern
                    .as_deref()
                    .map(|p| glob(p, &format!("{at}.{field}"), &invalid).map(GlobMatcherEq))
                    .transpose()
            };
            exemptions.push(Exemption {
                index: index + 1,
                namespace_glob: compile(&raw.namespace, "namespace")?,
                service_account_glob: compile(&raw.service_account, "service_account")?,
                image_glob: compile(&raw.image, "image")?,
                namespace: raw.namespace,
                service_account: raw.service_account,
                image: raw.image,
                rules: raw.rules,
                reason: raw.reason,
                expires: raw.expires,
                expires_on,
            });
        }
        Ok(AdmissionPolicy {
            source: origin.to_owned(),
            default,
            selections,
            exemptions,
        })
    }

    /// The scan policies the verdict rules name, each once: what a caller fetches verdicts
    /// under before deciding.
    pub fn verdict_policies(&self) -> Vec<String> {
        let mut names: Vec<String> = std::iter::once(&self.default)
            .chain(self.selections.iter().map(|s| &s.rules))
            .filter_map(|rules| rules.verdict.as_ref().map(|(rule, _)| rule.policy.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Whether a rule set requires images to meet the trust policy: the caller then needs one,
    /// and verifies the images before deciding.
    pub fn requires_trust(&self) -> bool {
        std::iter::once(&self.default)
            .chain(self.selections.iter().map(|s| &s.rules))
            .any(|rules| rules.trust.is_some())
    }

    /// The exemptions, in the document's order.
    pub fn exemptions(&self) -> &[Exemption] {
        &self.exemptions
    }
}

fn glob(
    pattern: &str,
    at: &str,
    invalid: &dyn Fn(String) -> DocumentError,
) -> Result<GlobMatcher, DocumentError> {
    // Literal separators: `registry.example.com/*` must not reach into nested repositories,
    // which `**` states explicitly.
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|glob: Glob| glob.compile_matcher())
        .map_err(|error| invalid(format!("{at}: {error}")))
}

fn compile_rules(
    rules: RuleSet,
    at: &str,
    invalid: &dyn Fn(String) -> DocumentError,
) -> Result<CompiledRules, DocumentError> {
    let pod_security = rules
        .pod_security
        .map(|rule| {
            let version = match rule.version.as_deref() {
                None => PssVersion::Latest,
                Some(text) => PssVersion::parse(text).ok_or_else(|| {
                    invalid(format!(
                        "{at}.pod_security.version: `latest` or `v1.N`, not `{text}`"
                    ))
                })?,
            };
            Ok::<_, DocumentError>((rule, version))
        })
        .transpose()?;
    let allowed = rules
        .images
        .allowed
        .map(|rule| {
            if rule.patterns.is_empty() {
                return Err(invalid(format!(
                    "{at}.images.allowed.patterns: empty (it would deny every image)"
                )));
            }
            let globs = rule
                .patterns
                .iter()
                .enumerate()
                .map(|(n, p)| glob(p, &format!("{at}.images.allowed.patterns[{n}]"), invalid))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((rule, globs))
        })
        .transpose()?;
    let verdict = rules
        .images
        .verdict
        .map(|rule| {
            if rule.policy.trim().is_empty() {
                return Err(invalid(format!("{at}.images.verdict.policy: empty")));
            }
            let max_age = rule
                .max_age
                .as_deref()
                .map(|text| {
                    parse_duration(text).ok_or_else(|| {
                        invalid(format!(
                            "{at}.images.verdict.max_age: a number of seconds, minutes, hours or days (`90s`, `30m`, `12h`, `7d`), not `{text}`"
                        ))
                    })
                })
                .transpose()?;
            Ok((rule, max_age))
        })
        .transpose()?;
    Ok(CompiledRules {
        pod_security,
        allowed,
        require_digest: rules.images.require_digest,
        forbid_latest: rules.images.forbid_latest,
        verdict,
        trust: rules.images.trust,
    })
}

/// `90s`, `30m`, `12h`, `7d` as seconds.
fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => return None,
    };
    (number > 0).then(|| number.checked_mul(scale)).flatten()
}

fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    line.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AdmissionPolicy, String> {
        AdmissionPolicy::parse(text, Path::new("admission.yaml")).map_err(|e| e.to_string())
    }

    #[test]
    fn unknown_fields_name_the_file_and_the_field() {
        let error = parse("version: 1\ndefault:\n  images:\n    forbid_latets: {}\n").unwrap_err();
        assert!(error.starts_with("admission.yaml: "), "{error}");
        assert!(error.contains("default.images"), "{error}");
        assert!(error.contains("forbid_latets"), "{error}");
        let error = parse(
            "version: 1\nnamespaces:\n  - name: prod\n    match: {names: [prod]}\n    rules:\n      pod_security: {level: restricted, mode: deny}\n",
        )
        .unwrap_err();
        assert!(
            error.contains("namespaces[0].rules.pod_security.mode"),
            "{error}"
        );
    }

    #[test]
    fn values_are_checked() {
        for (text, expected) in [
            ("version: 2\n", "version 1, not 2"),
            ("default: {}\n", "missing field `version`"),
            ("", "empty"),
            (
                "version: 1\ndefault: {pod_security: {level: restricted, version: '1.30'}}\n",
                "default.pod_security.version",
            ),
            (
                "version: 1\ndefault: {images: {verdict: {max_age: 7 days}}}\n",
                "default.images.verdict.max_age",
            ),
            (
                "version: 1\ndefault: {images: {allowed: {patterns: []}}}\n",
                "default.images.allowed.patterns: empty",
            ),
            (
                "version: 1\nexemptions: [{namespace: dev, reason: '', expires: 2030-01-01}]\n",
                "exemptions[0].reason",
            ),
            (
                "version: 1\nexemptions: [{namespace: dev, reason: r}]\n",
                "missing field `expires`",
            ),
            (
                "version: 1\nexemptions: [{namespace: dev, reason: r, expires: soon}]\n",
                "exemptions[0].expires: must be YYYY-MM-DD",
            ),
            (
                "version: 1\nexemptions: [{reason: r, expires: 2030-01-01}]\n",
                "exemptions[0]: name a `namespace`",
            ),
            (
                "version: 1\nexemptions: [{image: x, rules: [K8S-IMAGE-LATEST], reason: r, expires: 2030-01-01}]\n",
                "exemptions[0].rules[0]",
            ),
            (
                "version: 1\nnamespaces: [{name: x, match: {}, rules: {}}]\n",
                "namespaces[0].match",
            ),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn json_is_read_too() {
        let policy = parse(
            r#"{"version": 1, "default": {"images": {"verdict": {"max_age": "12h", "unscanned": "scan"}}}}"#,
        )
        .unwrap();
        let (rule, age) = policy.default.verdict.unwrap();
        assert_eq!(rule.unscanned, UnscannedMode::Scan);
        assert_eq!(rule.policy, "default");
        assert_eq!(age, Some(12 * 3600));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("7d"), Some(7 * 86_400));
        for bad in ["7", "d", "-1d", "0h", "1w", "99999999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
