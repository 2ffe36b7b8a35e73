//! The analyzer: keyword prefilter, rule regexes, filters, findings.

use std::collections::{BTreeMap, HashSet};

use regex::bytes::{RegexSet, RegexSetBuilder};
use rempart_core::{
    AnalysisOutput, FileAnalyzer, FileMeta, FileSink, Finding, FindingDetails, ImageAnalyzer,
    ImageContext, Interest, Location, ScannerKind, Severity, SkipReason, SkippedEntry,
};

use crate::allow::{BUILTIN_ALLOWED_PATHS, PathAllowlist, is_known_public_value, is_placeholder};
use crate::binary::is_binary;
use crate::builtin;
use crate::config::{DEFAULT_MAX_FILE_SIZE, SecretConfig};
use crate::docs::{DocStyle, Documentation};
use crate::entropy::shannon;
use crate::error::SecretError;
use crate::keywords::KeywordSet;
use crate::redact::redact;
use crate::rule::{Rule, RuleInfo};

/// A rule stops reporting in a file after this many matches, and a file after this many
/// findings: a generated file full of tokens must not flood the report or the layer cache.
const MAX_MATCHES_PER_RULE: usize = 32;
const MAX_FINDINGS_PER_FILE: usize = 100;

/// Placeholders are short, so only the head of a long secret (a PEM body) is checked against
/// them; checking all of it would reject real keys whose random body happens to contain a
/// marker like `xxxxx`.
const PLACEHOLDER_SCAN_BYTES: usize = 128;

/// Where a secret was found in the image config. Such findings are not in a file: their
/// location names the config entry (the list and the entry's 1-based index), and the origin
/// repeats the list's name.
const CONFIG_ORIGINS: [&str; 3] = ["env", "label", "history"];

/// Finds credentials in file content and in the image config.
///
/// Build it once per scan and share it: construction compiles every rule.
pub struct SecretScanner {
    rules: Vec<Rule>,
    prefilter: KeywordSet,
    /// For each prefilter pattern, the rules it enables.
    keyword_rules: Vec<Vec<usize>>,
    /// For each rule with an anchor, the prefilter patterns that are its anchor words.
    anchor_patterns: Vec<Vec<usize>>,
    allowed_paths: PathAllowlist,
    allowed_values: RegexSet,
    max_file_size: u64,
    fingerprint: String,
    /// Where the scanned tree sits (`home/me/.cargo/registry/src/x-1.0`, no leading slash), for
    /// source trees: allowlists are matched on the path as it sits on the machine too, so that
    /// a tree scanned from inside gets the same answer as scanned from above.
    path_prefix: Option<String>,
}

/// A secret located in a buffer, before it becomes a finding.
struct Hit {
    rule: usize,
    start: usize,
    end: usize,
}

impl std::fmt::Debug for SecretScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretScanner")
            .field("rules", &self.rules.len())
            .field("max_file_size", &self.max_file_size)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl SecretScanner {
    /// The built-in rules and allowlists, default size cap.
    pub fn builtin() -> SecretScanner {
        SecretScanner::new(SecretConfig::default()).expect("built-in secret rules compile")
    }

    /// Built-in rules plus the configuration's custom rules, minus disabled ones; the
    /// configuration's allowlists add to the built-in ones.
    #[allow(clippy::needless_pass_by_value)] // the configuration is handed over for good
    pub fn new(config: SecretConfig) -> Result<SecretScanner, SecretError> {
        let mut rules: Vec<Rule> = builtin::all().into_iter().map(Rule::from_def).collect();
        let mut codes: HashSet<String> = rules.iter().map(|r| r.info.code.clone()).collect();
        for custom in &config.rules {
            rules.push(custom_rule(custom)?);
            if !codes.insert(custom.id.clone()) {
                return Err(SecretError::DuplicateRule {
                    rule: custom.id.clone(),
                });
            }
        }
        for id in &config.disable {
            if !codes.contains(id) {
                return Err(SecretError::UnknownRule { rule: id.clone() });
            }
        }
        rules.retain(|r| !config.disable.contains(&r.info.code));

        let max_file_size = config.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE);
        if max_file_size == 0 || max_file_size > 1 << 30 {
            return Err(SecretError::InvalidMaxFileSize(max_file_size));
        }

        let allowed_paths = PathAllowlist::new(
            BUILTIN_ALLOWED_PATHS
                .iter()
                .map(|(glob, _)| *glob)
                .chain(config.allow.paths.iter().map(String::as_str)),
        )?;
        for pattern in &config.allow.values {
            crate::rule::build_regex("allow.values", pattern).map_err(|e| match e {
                SecretError::InvalidRegex { source, .. } => SecretError::InvalidAllowValue {
                    pattern: pattern.clone(),
                    source,
                },
                other => other,
            })?;
        }
        let allowed_values = RegexSetBuilder::new(&config.allow.values)
            .unicode(false)
            .build()
            .map_err(|source| SecretError::InvalidAllowValue {
                pattern: config.allow.values.join(", "),
                source: Box::new(source),
            })?;

        // One automaton for all keywords; a keyword shared by several rules enables them all.
        let mut keyword_index: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, rule) in rules.iter().enumerate() {
            for keyword in &rule.keywords {
                keyword_index
                    .entry(keyword.to_ascii_lowercase())
                    .or_default()
                    .push(index);
            }
        }
        // Anchor words are searched in the same pass; those that are no rule's keyword enable
        // nothing.
        for rule in &rules {
            for word in rule.anchor.iter().flat_map(|a| a.words) {
                keyword_index.entry(word.to_ascii_lowercase()).or_default();
            }
        }
        let (patterns, keyword_rules): (Vec<String>, Vec<Vec<usize>>) =
            keyword_index.into_iter().unzip();
        let anchor_patterns: Vec<Vec<usize>> = rules
            .iter()
            .map(|rule| {
                rule.anchor
                    .iter()
                    .flat_map(|a| a.words)
                    .filter_map(|word| patterns.binary_search(&word.to_ascii_lowercase()).ok())
                    .collect()
            })
            .collect();
        let mut tracked = vec![false; patterns.len()];
        for &pattern in anchor_patterns.iter().flatten() {
            tracked[pattern] = true;
        }
        let prefilter =
            KeywordSet::new(&patterns, tracked).map_err(|reason| SecretError::InvalidRule {
                rule: "keywords".to_owned(),
                reason,
            })?;

        let mut identity = String::new();
        for rule in &rules {
            identity.push_str(&rule.identity);
            identity.push('\n');
        }
        for (glob, _) in BUILTIN_ALLOWED_PATHS {
            identity.push_str(glob);
            identity.push('\n');
        }
        for text in config.allow.paths.iter().chain(&config.allow.values) {
            identity.push_str(text);
            identity.push('\n');
        }
        identity.push_str(&max_file_size.to_string());
        let fingerprint = format!(
            "{}+{:016x}",
            env!("CARGO_PKG_VERSION"),
            rempart_core::fnv1a(&[identity.as_bytes()])
        );

        Ok(SecretScanner {
            rules,
            prefilter,
            keyword_rules,
            anchor_patterns,
            allowed_paths,
            allowed_values,
            max_file_size,
            fingerprint,
            path_prefix: None,
        })
    }

    /// Matches path allowlists also on `prefix/path`: `prefix` is where a scanned source tree
    /// sits (see [`SecretScanner::is_path_allowed`]).
    #[must_use]
    pub fn with_path_prefix(mut self, prefix: &str) -> SecretScanner {
        let prefix = prefix.trim_matches('/');
        self.path_prefix = (!prefix.is_empty()).then(|| prefix.to_owned());
        self
    }

    /// The active rules, in a stable order (built-in first).
    pub fn rules(&self) -> Vec<RuleInfo> {
        self.rules.iter().map(|r| r.info.clone()).collect()
    }

    #[cfg(test)]
    pub(crate) fn rule_keywords(&self, code: &str) -> Option<Vec<String>> {
        self.rules
            .iter()
            .find(|r| r.info.code == code)
            .map(|r| r.keywords.clone())
    }

    pub fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// Whether the path allowlists exclude this path from scanning.
    pub fn is_path_allowed(&self, path: &str) -> bool {
        self.allowed_paths.is_allowed(path)
            || self
                .path_prefix
                .as_ref()
                .is_some_and(|prefix| self.allowed_paths.is_allowed(&format!("{prefix}/{path}")))
    }

    /// Scans text as the content of `path`, without the binary check. Findings carry 1-based
    /// line numbers.
    pub fn scan_text(&self, path: &str, content: &[u8]) -> Vec<Finding> {
        self.scan_text_noting_caps(path, content).0
    }

    /// [`SecretScanner::scan_text`], and a note when a cap cut the findings short.
    fn scan_text_noting_caps(&self, path: &str, content: &[u8]) -> (Vec<Finding>, Option<String>) {
        self.scan_window(path, content, 1, 0..content.len())
    }

    /// Scans `content`, a window of a file whose first line is `first_line`, and keeps the
    /// secrets that start in `report` (the part of the window the next one does not repeat).
    fn scan_window(
        &self,
        path: &str,
        content: &[u8],
        first_line: u32,
        report: std::ops::Range<usize>,
    ) -> (Vec<Finding>, Option<String>) {
        let (mut hits, note) = self.hits_noting_caps(content);
        hits.retain(|hit| report.contains(&hit.start));
        if let Some(style) = DocStyle::of(path)
            && hits.iter().any(|hit| self.rules[hit.rule].generic)
        {
            let mut documentation = Documentation::new(style, content);
            hits.retain(|hit| !self.rules[hit.rule].generic || !documentation.contains(hit.start));
        }
        let mut findings = Vec::with_capacity(hits.len());
        let mut line = first_line;
        let mut counted_to = 0;
        for hit in hits {
            let newlines = memchr::memchr_iter(b'\n', &content[counted_to..hit.start]).count();
            line = line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
            counted_to = hit.start;
            findings.push(self.finding(
                &hit,
                &content[hit.start..hit.end],
                Location::file(path).with_line(line),
                None,
            ));
        }
        (findings, note)
    }

    fn finding(
        &self,
        hit: &Hit,
        secret: &[u8],
        location: Location,
        origin: Option<&str>,
    ) -> Finding {
        let rule = &self.rules[hit.rule];
        Finding {
            scanner: ScannerKind::Secret,
            id: rule.info.code.clone(),
            title: rule.info.title.clone(),
            severity: rule.info.severity,
            location,
            details: FindingDetails::Secret {
                redacted: redact(secret),
                origin: origin.map(str::to_owned),
            },
            primary_url: None,
        }
    }

    /// Every accepted match, sorted by position.
    fn hits(&self, content: &[u8]) -> Vec<Hit> {
        self.hits_noting_caps(content).0
    }

    /// [`SecretScanner::hits`], and a note for each cap that cut the list short: the codes of
    /// rules that stopped at their per-file cap, and whether the per-file cap cut the rest.
    fn hits_noting_caps(&self, content: &[u8]) -> (Vec<Hit>, Option<String>) {
        let mut seen = vec![false; self.prefilter.len()];
        let mut anchors = Vec::new();
        // When too many anchor words were found to list, anchored rules search the whole text.
        let located_all = self
            .prefilter
            .mark_present(content, &mut seen, &mut anchors);
        anchors.sort_unstable();
        anchors.dedup();
        let mut enabled = vec![false; self.rules.len()];
        for (pattern, _) in seen.iter().enumerate().filter(|(_, seen)| **seen) {
            for &rule in &self.keyword_rules[pattern] {
                enabled[rule] = true;
            }
        }

        let mut hits = Vec::new();
        let mut capped_rules: Vec<&str> = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            if !enabled[index] {
                continue;
            }
            let mut matched = 0;
            let compiled = rule.compiled();
            let starts: Vec<usize>;
            let anchor = match &rule.anchor {
                Some(anchor) if located_all => {
                    let wanted = &self.anchor_patterns[index];
                    starts = anchors
                        .iter()
                        .filter(|(_, pattern)| wanted.contains(pattern))
                        .map(|&(start, _)| start)
                        .collect();
                    Some((anchor, starts.as_slice()))
                }
                _ => None,
            };
            compiled.for_each_match(content, anchor, |caps| {
                let Some(secret) = compiled
                    .secret_groups
                    .iter()
                    .find_map(|&g| caps.get(g))
                    .or_else(|| caps.get(0))
                else {
                    return true;
                };
                if self.accept(rule, secret.as_bytes())
                    && rule.check.is_none_or(|check| check(caps))
                {
                    hits.push(Hit {
                        rule: index,
                        start: secret.start(),
                        end: secret.end(),
                    });
                    matched += 1;
                }
                matched < MAX_MATCHES_PER_RULE
            });
            if matched >= MAX_MATCHES_PER_RULE {
                capped_rules.push(&rule.info.code);
            }
        }

        // A loose rule adds nothing where a specific rule, or an earlier loose rule, already
        // named the secret.
        hits.sort_by_key(|h| (self.rules[h.rule].generic, h.start, h.rule));
        let mut kept: Vec<(usize, usize)> = Vec::with_capacity(hits.len());
        hits.retain(|h| {
            if self.rules[h.rule].generic && kept.iter().any(|&(s, e)| h.start < e && s < h.end) {
                return false;
            }
            kept.push((h.start, h.end));
            true
        });
        hits.sort_by_key(|h| (h.start, h.rule));
        let total = hits.len();
        hits.truncate(MAX_FINDINGS_PER_FILE);
        let mut notes = Vec::new();
        if !capped_rules.is_empty() {
            notes.push(format!(
                "{} matched {MAX_MATCHES_PER_RULE} times or more: later matches of each are not reported",
                capped_rules.join(", ")
            ));
        }
        if total > MAX_FINDINGS_PER_FILE {
            notes.push(format!(
                "{total} secrets found: only the first {MAX_FINDINGS_PER_FILE} are reported"
            ));
        }
        (hits, (!notes.is_empty()).then(|| notes.join("; ")))
    }

    fn accept(&self, rule: &Rule, secret: &[u8]) -> bool {
        let head = &secret[..secret.len().min(PLACEHOLDER_SCAN_BYTES)];
        if is_placeholder(head) {
            return false;
        }
        if !rule.allow.is_empty() {
            let lower = head.to_ascii_lowercase();
            if rule
                .allow
                .iter()
                .any(|a| memchr::memmem::find(&lower, a).is_some())
            {
                return false;
            }
        }
        if rule.entropy.is_some_and(|bound| shannon(secret) < bound) {
            return false;
        }
        !is_known_public_value(secret) && !self.allowed_values.is_match(secret)
    }

    /// `text` with every secret a rule finds in it masked (its first four characters kept), or
    /// `None` when there is none.
    pub fn mask(&self, text: &str) -> Option<String> {
        let bytes = text.as_bytes();
        let hits = self.hits(bytes);
        if hits.is_empty() {
            return None;
        }
        let mut masked = String::with_capacity(text.len());
        let mut at = 0;
        for hit in hits {
            if hit.start < at
                || !text.is_char_boundary(hit.start)
                || !text.is_char_boundary(hit.end)
            {
                continue;
            }
            masked.push_str(&text[at..hit.start]);
            let secret = &text[hit.start..hit.end];
            let visible: String = secret.chars().take(4).collect();
            masked.push_str(&visible);
            masked.push_str("********");
            at = hit.end;
        }
        masked.push_str(&text[at..]);
        Some(masked)
    }

    fn scan_config_value(
        &self,
        origin: usize,
        entry: usize,
        text: &str,
        findings: &mut Vec<Finding>,
    ) {
        let origin = CONFIG_ORIGINS[origin];
        let bytes = text.as_bytes();
        for hit in self.hits(bytes) {
            let location = Location::config(origin, u32::try_from(entry + 1).ok());
            findings.push(self.finding(&hit, &bytes[hit.start..hit.end], location, Some(origin)));
        }
    }
}

fn custom_rule(custom: &crate::config::CustomRule) -> Result<Rule, SecretError> {
    let invalid = |reason: &str| SecretError::InvalidRule {
        rule: custom.id.clone(),
        reason: reason.to_owned(),
    };
    if custom.id.is_empty()
        || !custom
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(invalid(
            "id must be non-empty letters, digits, '-', '_' or '.'",
        ));
    }
    if custom.keywords.is_empty() || custom.keywords.iter().any(String::is_empty) {
        return Err(invalid(
            "needs at least one non-empty keyword (the regex runs only where one occurs)",
        ));
    }
    if let Some(entropy) = custom.entropy
        && !(0.0..=8.0).contains(&entropy)
    {
        return Err(invalid("entropy must be between 0 and 8 bits per byte"));
    }
    let severity: Severity = custom
        .severity
        .parse()
        .map_err(|e: rempart_core::ParseSeverityError| invalid(&e.to_string()))?;
    Rule::custom(
        &custom.id,
        &custom.title,
        severity,
        &custom.keywords,
        &custom.regex,
        custom.entropy,
        &custom.doc,
    )
}

impl FileAnalyzer for SecretScanner {
    fn name(&self) -> &'static str {
        "secrets"
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        let whole = self.max_file_size.min(WHOLE_FILE_BYTES);
        if file.size == 0 || self.is_path_allowed(file.path) {
            Interest::Skip
        } else if file.size > whole && file.size <= self.max_file_size {
            Interest::Stream
        } else {
            // Over the cap, the engine reports the file as too large.
            Interest::Whole {
                max_bytes: if file.size > whole {
                    self.max_file_size
                } else {
                    whole
                },
            }
        }
    }

    fn open_stream(&self, file: &FileMeta<'_>) -> Option<Box<dyn FileSink + '_>> {
        Some(Box::new(WindowScan {
            scanner: self,
            path: file.path.to_owned(),
            window: Vec::with_capacity(WINDOW_BYTES),
            first_line: 1,
            started: false,
            binary: false,
            findings: Vec::new(),
            notes: Vec::new(),
        }))
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        if is_binary(content) {
            out.skipped.push(SkippedEntry {
                path: file.path.to_owned(),
                layer: None,
                reason: SkipReason::Binary,
                detail: None,
            });
            return;
        }
        let (findings, note) = self.scan_text_noting_caps(file.path, content);
        out.findings.extend(findings);
        if let Some(note) = note {
            out.skipped.push(SkippedEntry {
                path: file.path.to_owned(),
                layer: None,
                reason: SkipReason::TooManyFindings,
                detail: Some(note),
            });
        }
    }
}

/// Files up to this size are read whole; larger ones, up to the scanner's cap, are scanned in
/// overlapping windows, so that memory stays bounded whatever the file's size.
const WHOLE_FILE_BYTES: u64 = 10 * 1024 * 1024;
const WINDOW_BYTES: usize = 8 * 1024 * 1024;
/// What each window shares with the next: a secret cut by a window's end is whole in the next
/// one. Far longer than any match a rule makes (private-key blocks stay under 16 KiB).
const WINDOW_OVERLAP: usize = 64 * 1024;

/// A big file's scan, one window at a time.
struct WindowScan<'a> {
    scanner: &'a SecretScanner,
    path: String,
    window: Vec<u8>,
    /// Line number of the window's first byte.
    first_line: u32,
    started: bool,
    binary: bool,
    findings: Vec<Finding>,
    notes: Vec<String>,
}

impl WindowScan<'_> {
    /// Scans the window; unless it is the last, keeps its tail as the start of the next.
    fn scan(&mut self, last: bool) {
        if !self.started {
            self.started = true;
            self.binary = is_binary(&self.window);
        }
        if self.binary {
            self.window.clear();
            return;
        }
        let keep_from = if last {
            self.window.len()
        } else {
            self.window.len() - WINDOW_OVERLAP
        };
        let (findings, note) =
            self.scanner
                .scan_window(&self.path, &self.window, self.first_line, 0..keep_from);
        let room = MAX_FINDINGS_PER_FILE.saturating_sub(self.findings.len());
        if findings.len() > room {
            self.notes.push(format!(
                "more than {MAX_FINDINGS_PER_FILE} secrets found: only the first {MAX_FINDINGS_PER_FILE} are reported"
            ));
        }
        self.findings.extend(findings.into_iter().take(room));
        self.notes.extend(note);
        let newlines = memchr::memchr_iter(b'\n', &self.window[..keep_from]).count();
        self.first_line = self
            .first_line
            .saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
        self.window.drain(..keep_from);
    }
}

impl FileSink for WindowScan<'_> {
    fn write(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() {
            let room = WINDOW_BYTES - self.window.len();
            let take = room.min(chunk.len());
            self.window.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.window.len() == WINDOW_BYTES {
                self.scan(false);
            }
        }
    }

    fn finish(mut self: Box<Self>, out: &mut AnalysisOutput) {
        self.scan(true);
        if self.binary {
            out.skipped.push(SkippedEntry {
                path: self.path.clone(),
                layer: None,
                reason: SkipReason::Binary,
                detail: None,
            });
            return;
        }
        out.findings.append(&mut self.findings);
        self.notes.dedup();
        if !self.notes.is_empty() {
            out.skipped.push(SkippedEntry {
                path: self.path.clone(),
                layer: None,
                reason: SkipReason::TooManyFindings,
                detail: Some(self.notes.join("; ")),
            });
        }
    }
}

impl ImageAnalyzer for SecretScanner {
    fn name(&self) -> &'static str {
        "secrets"
    }

    fn analyze_image(
        &self,
        image: &ImageContext<'_>,
        findings: &mut Vec<Finding>,
    ) -> Result<(), rempart_core::ImageAnalysisError> {
        let metadata = image.metadata;
        for (index, env) in metadata.env.iter().enumerate() {
            self.scan_config_value(0, index, env, findings);
        }
        for (index, (key, value)) in metadata.labels.iter().enumerate() {
            self.scan_config_value(1, index, &format!("{key}={value}"), findings);
        }
        for (index, step) in metadata.history.iter().enumerate() {
            self.scan_config_value(2, index, &step.created_by, findings);
        }
        Ok(())
    }

    fn mask_secrets(&self, text: &str) -> Option<String> {
        self.mask(text)
    }
}
