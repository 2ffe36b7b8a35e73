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
    /// For patterns that start with a long optional run (`[a-z0-9_.-]{0,32}password`): the regex
    /// engine finds no literal to skip to, and its lazy DFA keeps building states over the whole
    /// file. With an anchor, the regex only searches the text around the anchor's words.
    pub(crate) anchor: Option<Anchor>,
}

/// Words every match of a rule's regex contains, and how far a match reaches around them: every
/// match starts at most `before` bytes before the start of one of these words (matched
/// ASCII-case-insensitively) and ends at most `after` bytes past that start. Searching only
/// those windows then finds exactly the matches a search of the whole file finds; the rule's
/// tests check it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Anchor {
    pub(crate) words: &'static [&'static str],
    pub(crate) before: usize,
    pub(crate) after: usize,
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
        anchor: None,
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
    pub(crate) anchor: Option<Anchor>,
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

    /// Every match of the regex in `content`, in order, as a search of the whole content finds
    /// them; `visit` returns false to stop. With an anchor, `starts` are where its words start in
    /// `content`, sorted, and only the windows around them are searched.
    pub(crate) fn for_each_match(
        &self,
        content: &[u8],
        anchor: Option<(&Anchor, &[usize])>,
        mut visit: impl FnMut(&Captures<'_>) -> bool,
    ) {
        let Some((anchor, starts)) = anchor else {
            for caps in self.regex.captures_iter(content) {
                if !visit(&caps) {
                    return;
                }
            }
            return;
        };
        // Windows around the words, merged where they touch. No match crosses a window's end, so
        // the haystack is cut there; the text before a window stays in it, as context.
        let mut resume = 0;
        let mut starts = starts.iter().copied().peekable();
        while let Some(first) = starts.next() {
            let start = first.saturating_sub(anchor.before);
            let mut end = first.saturating_add(anchor.after);
            while let Some(word) = starts.next_if(|&w| w.saturating_sub(anchor.before) <= end) {
                end = end.max(word.saturating_add(anchor.after));
            }
            let haystack = &content[..end.min(content.len())];
            let mut at = start.max(resume);
            while at <= haystack.len() {
                let Some(caps) = self.regex.captures_at(haystack, at) else {
                    break;
                };
                let whole = caps.get(0).expect("group 0 takes part in every match");
                at = whole.end().max(whole.start() + 1);
                resume = at;
                if !visit(&caps) {
                    return;
                }
            }
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
            anchor: def.anchor,
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
            anchor: None,
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
    use super::{Captures, Rule};

    /// Built-in patterns compile lazily; this makes sure every one of them compiles at all.
    #[test]
    fn every_builtin_pattern_compiles() {
        for def in crate::builtin::all() {
            let rule = Rule::from_def(def);
            let compiled = rule.compiled();
            assert!(!compiled.regex.as_str().is_empty(), "{}", def.code);
        }
    }

    /// The windowed search of anchored rules must find exactly what a search of the whole text
    /// finds. Random texts built from the pieces these patterns care about (names, separators,
    /// quotes, values of every length around the bounds, line ends, the end of the text).
    #[test]
    fn anchored_rules_find_what_a_whole_search_finds() {
        use aho_corasick::AhoCorasick;

        let pieces: &[&str] = &[
            "secret",
            "SECRET",
            "token",
            "Api_Key",
            "api-key",
            "apikey",
            "ACCESS_KEY",
            "access-key",
            "accesskey",
            "private_key",
            "Private-Key",
            "PrivateKey",
            "password",
            "PASSWD",
            "passphrase",
            "pwd",
            "my_",
            "x.",
            "_",
            "-",
            "=",
            ":=",
            ":",
            "=>",
            " ",
            "\t",
            "\"",
            "'",
            "`",
            "\n",
            ";",
            ",",
            "==",
            "a1B2",
            "\u{0}",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % bound as u64).expect("bound fits")
        };
        let mut compared = 0;
        for def in crate::builtin::all().iter().filter(|d| d.anchor.is_some()) {
            let rule = Rule::from_def(def);
            let anchor = def.anchor.expect("filtered on it");
            let compiled = rule.compiled();
            let words = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(anchor.words)
                .expect("words build");
            for _ in 0..3000 {
                let mut text = String::new();
                while text.len() < 1500 {
                    if next(8) == 0 {
                        // A name just under, at or over the 32 characters allowed before the word.
                        for _ in 0..30 + next(5) {
                            text.push(char::from(b"a9_.-"[next(5)]));
                        }
                    } else if next(5) == 0 {
                        // A value: runs of every length around the rules' value bounds.
                        let len =
                            [1, 7, 8, 15, 16, 17, 127, 128, 129, 255, 256, 257, 300][next(13)];
                        let alphabet = b"abcXYZ0189+/=_.~-!#%";
                        for _ in 0..len {
                            text.push(char::from(alphabet[next(alphabet.len())]));
                        }
                    } else {
                        text.push_str(pieces[next(pieces.len())]);
                    }
                }
                let text = text.as_bytes();
                let mut starts: Vec<usize> = words
                    .find_overlapping_iter(text)
                    .map(|m| m.start())
                    .collect();
                starts.sort_unstable();
                let spans = |caps: &Captures<'_>| -> Vec<Option<(usize, usize)>> {
                    caps.iter()
                        .map(|g| g.map(|g| (g.start(), g.end())))
                        .collect()
                };
                let whole: Vec<_> = compiled
                    .regex
                    .captures_iter(text)
                    .map(|c| spans(&c))
                    .collect();
                let mut windowed = Vec::new();
                compiled.for_each_match(text, Some((&anchor, &starts)), |caps| {
                    windowed.push(spans(caps));
                    true
                });
                assert_eq!(
                    windowed,
                    whole,
                    "{}: {}",
                    def.code,
                    String::from_utf8_lossy(text)
                );
                compared += whole.len();
            }
        }
        assert!(
            compared > 1000,
            "only {compared} matches compared: the texts miss the rules"
        );
    }

    /// The longest match each anchored rule allows, 32 name characters before the word: the
    /// windows must hold it whole, or the bounds in the rule are too tight.
    #[test]
    fn anchored_rules_hold_their_longest_match() {
        let longest = |word: &str, tail: usize, value: usize| {
            format!(
                "{}{word}{}'    :=    '{}'{}=x",
                "n".repeat(32),
                "t".repeat(tail),
                "v".repeat(value),
                " ".repeat(16)
            )
        };
        for (code, text) in [
            ("SEC-GENERIC-API-KEY", longest("private_key", 16, 256)),
            ("SEC-GENERIC-PASSWORD", longest("passphrase", 0, 128)),
        ] {
            let def = crate::builtin::all()
                .into_iter()
                .find(|d| d.code == code)
                .expect("rule exists");
            let anchor = def.anchor.expect("anchored rule");
            let rule = Rule::from_def(def);
            let compiled = rule.compiled();
            let whole = compiled.regex.find(text.as_bytes()).expect("it matches");
            assert_eq!((whole.start(), whole.end()), (0, text.len()), "{code}");
            let mut windowed = None;
            compiled.for_each_match(text.as_bytes(), Some((&anchor, &[32])), |caps| {
                windowed = caps.get(0).map(|m| (m.start(), m.end()));
                false
            });
            assert_eq!(windowed, Some((0, text.len())), "{code}");
        }
    }
}
