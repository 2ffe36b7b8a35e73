//! Rule definitions (built-in and custom) and their compiled form.

use std::sync::OnceLock;

use regex::bytes::{Captures, Regex, RegexBuilder};
use rempart_core::Severity;

use crate::error::SecretError;

/// Compiled programs of a single rule may grow large (counted repetitions of character classes);
/// this bounds the memory one user regex may take while leaving room for the built-ins.
const REGEX_SIZE_LIMIT: usize = 8 * 1024 * 1024;

/// A validator run on a regex match (all its groups); `false` drops the match.
pub(crate) type Check = fn(&Captures<'_>) -> bool;

/// One built-in rule, as written in `builtin/`.
pub(crate) struct RuleDef {
    /// Stable code, never reused.
    pub(crate) code: &'static str,
    pub(crate) title: &'static str,
    pub(crate) severity: Severity,
    /// Case-insensitive literals; the regex runs on a file only if one of them occurs in it. Each
    /// must be part of every text the regex can match, or the rule would miss matches.
    pub(crate) keywords: &'static [&'static str],
    /// The secret is the first matching group named `secret…`, else the whole match.
    pub(crate) regex: &'static str,
    /// Lower bound on the Shannon entropy (bits per byte) of the secret.
    pub(crate) entropy: Option<f64>,
    /// Rule-specific placeholders, compared case-insensitively as substrings of the secret.
    pub(crate) allow: &'static [&'static str],
    pub(crate) check: Option<Check>,
    /// Rules that recognise a secret by its surroundings (`name = value`, a URL's userinfo, an
    /// `Authorization` header, `_authToken=`): dropped where a rule that knows the secret's own
    /// format matched the same text, so one secret gives one finding.
    pub(crate) generic: bool,
    /// What the credential is and why it matters; the category adds how to fix it.
    pub(crate) doc: &'static str,
    pub(crate) category: Category,
}

impl RuleDef {
    /// Field defaults for struct-update syntax in the rule tables.
    pub(crate) const DEFAULT: RuleDef = RuleDef {
        code: "",
        title: "",
        severity: Severity::High,
        keywords: &[],
        regex: "",
        entropy: None,
        allow: &[],
        check: None,
        generic: false,
        doc: "",
        category: Category::ApiKey,
    };
}

/// Groups rules by what to do about a leak, so each doc ends with the right remedy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    Cloud,
    Vcs,
    Chat,
    Payment,
    ApiKey,
    PrivateKey,
    Password,
    Generic,
}

impl Category {
    fn remedy(self) -> &'static str {
        match self {
            Category::Cloud => {
                "Deactivate the key in the cloud console, review the account's audit log for use of \
                 it, and give the workload a role or workload identity instead of a static key."
            }
            Category::Vcs => {
                "Revoke the token in the forge's settings, check the audit log, and pass a \
                 short-lived token to the build as a secret mount instead of baking it in."
            }
            Category::Chat => {
                "Regenerate the token or webhook URL in the workspace's app settings; anyone with \
                 it can post as the integration."
            }
            Category::Payment => {
                "Roll the key in the payment provider's dashboard at once and review recent \
                 transactions; inject keys at run time from a secret store."
            }
            Category::ApiKey => {
                "Revoke the key with its issuer, issue a new one, and supply it at run time \
                 (environment from a secret store, mounted file) rather than in the image."
            }
            Category::PrivateKey => {
                "Treat the key as compromised: replace it and revoke certificates issued for it. \
                 Generate host keys at first boot and mount other keys at run time."
            }
            Category::Password => {
                "Change the password on the server it opens, and read credentials from the \
                 environment or a secret store instead of writing them into URLs or files."
            }
            Category::Generic => {
                "If the value is a real credential, rotate it and load it at run time; if it is a \
                 placeholder, add it to the allowlist of the secret configuration."
            }
        }
    }
}

/// Public description of a rule, for listings and generated docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    pub code: String,
    pub title: String,
    pub severity: Severity,
    /// What the credential is, why a leak matters and how to fix it.
    pub doc: String,
    /// Part of rempart (not from a configuration file).
    pub builtin: bool,
}

/// A rule ready to run.
pub(crate) struct Rule {
    pub(crate) info: RuleInfo,
    pub(crate) keywords: Vec<String>,
    /// The pattern, compiled on first use: most rules never see their keyword in a given scan,
    /// and compiling all of them up front costs more than a warm re-scan of a whole image.
    pattern: &'static str,
    compiled: OnceLock<CompiledPattern>,
    pub(crate) entropy: Option<f64>,
    /// Lower-cased rule-specific placeholders.
    pub(crate) allow: Vec<Vec<u8>>,
    pub(crate) check: Option<Check>,
    pub(crate) generic: bool,
    /// Text that identifies the rule's behaviour, hashed into the analyzer fingerprint.
    pub(crate) identity: String,
}

/// A compiled pattern and its secret capture groups (those whose name starts with `secret`; the
/// first that took part in a match is the secret, or the whole match when there are none).
pub(crate) struct CompiledPattern {
    pub(crate) regex: Regex,
    pub(crate) secret_groups: Vec<usize>,
}

impl CompiledPattern {
    fn new(regex: Regex) -> CompiledPattern {
        CompiledPattern {
            secret_groups: secret_groups(&regex),
            regex,
        }
    }
}

pub(crate) fn build_regex(rule: &str, pattern: &str) -> Result<Regex, SecretError> {
    RegexBuilder::new(pattern)
        // ASCII classes keep the compiled programs small and match on arbitrary bytes.
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|source| SecretError::InvalidRegex {
            rule: rule.to_owned(),
            source: Box::new(source),
        })
}

fn secret_groups(regex: &Regex) -> Vec<usize> {
    regex
        .capture_names()
        .enumerate()
        .filter(|(_, name)| name.is_some_and(|n| n.starts_with("secret")))
        .map(|(index, _)| index)
        .collect()
}

impl Rule {
    /// The compiled pattern. Built-in patterns are compiled lazily; every one of them is compiled
    /// and exercised by the rule tests, so a failure here is a bug in a built-in rule.
    pub(crate) fn compiled(&self) -> &CompiledPattern {
        self.compiled.get_or_init(|| {
            let regex = build_regex(&self.info.code, self.pattern)
                .unwrap_or_else(|error| panic!("built-in secret rule does not compile: {error}"));
            CompiledPattern::new(regex)
        })
    }

    pub(crate) fn from_def(def: &RuleDef) -> Rule {
        let remedy = def.category.remedy();
        let doc = if remedy.is_empty() {
            def.doc.to_owned()
        } else {
            format!("{} {remedy}", def.doc)
        };
        Rule {
            identity: identity(
                def.code,
                def.severity,
                def.keywords.iter().copied(),
                def.regex,
                def.entropy,
                def.allow.iter().copied(),
            ),
            info: RuleInfo {
                code: def.code.to_owned(),
                title: def.title.to_owned(),
                severity: def.severity,
                doc,
                builtin: true,
            },
            keywords: def.keywords.iter().map(|k| (*k).to_owned()).collect(),
            pattern: def.regex,
            compiled: OnceLock::new(),
            entropy: def.entropy,
            allow: def
                .allow
                .iter()
                .map(|a| a.to_ascii_lowercase().into_bytes())
                .collect(),
            check: def.check,
            generic: def.generic,
        }
    }

    pub(crate) fn custom(
        id: &str,
        title: &str,
        severity: Severity,
        keywords: &[String],
        pattern: &str,
        entropy: Option<f64>,
        doc: &str,
    ) -> Result<Rule, SecretError> {
        // A user's pattern is compiled now, so that a bad one is reported at start-up.
        let regex = build_regex(id, pattern)?;
        Ok(Rule {
            identity: identity(
                id,
                severity,
                keywords.iter().map(String::as_str),
                pattern,
                entropy,
                std::iter::empty(),
            ),
            info: RuleInfo {
                code: id.to_owned(),
                title: title.to_owned(),
                severity,
                doc: doc.to_owned(),
                builtin: false,
            },
            keywords: keywords.to_vec(),
            pattern: "",
            compiled: OnceLock::from(CompiledPattern::new(regex)),
            entropy,
            allow: Vec::new(),
            check: None,
            generic: false,
        })
    }
}

fn identity<'a>(
    code: &str,
    severity: Severity,
    keywords: impl Iterator<Item = &'a str>,
    regex: &str,
    entropy: Option<f64>,
    allow: impl Iterator<Item = &'a str>,
) -> String {
    let keywords: Vec<&str> = keywords.collect();
    let allow: Vec<&str> = allow.collect();
    format!(
        "{code}\x1f{severity}\x1f{}\x1f{regex}\x1f{entropy:?}\x1f{}",
        keywords.join("\x1e"),
        allow.join("\x1e")
    )
}

#[cfg(test)]
mod tests {
    use super::Rule;

    /// Built-in patterns compile lazily; this makes sure every one of them compiles at all.
    #[test]
    fn every_builtin_pattern_compiles() {
        for def in crate::builtin::all() {
            let rule = Rule::from_def(def);
            let compiled = rule.compiled();
            assert!(!compiled.regex.as_str().is_empty(), "{}", def.code);
        }
    }
}
