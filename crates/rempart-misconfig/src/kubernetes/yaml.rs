//! Loading multi-document YAML with hard limits: untrusted manifests must cost bounded time and
//! memory whatever they contain.

use serde_json::Value;
use serde_saphyr::Spanned;

use crate::error::MisconfigError;

/// Largest manifest file accepted. Real manifests, even big Helm renders, stay far below.
pub(crate) const MAX_MANIFEST_BYTES: usize = 16 * 1024 * 1024;
/// Documents per file: raised from the parser's default of 1,024 because rendered charts of large
/// platforms exceed it, and capped because each document costs a pass of every check.
pub(crate) const MAX_DOCUMENTS: usize = 20_000;
/// Nesting depth: a Pod template sits about 12 levels down; 64 leaves room for CRDs with deep
/// schemas while refusing pathological nesting.
pub(crate) const MAX_DEPTH: usize = 64;

/// One YAML document and the line it starts on.
pub(crate) struct Document {
    pub(crate) line: u32,
    pub(crate) value: Value,
}

pub(crate) fn load(path: &str, text: &str) -> Result<Vec<Document>, MisconfigError> {
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(MisconfigError::TooLarge {
            path: path.to_owned(),
            size: text.len(),
            limit: MAX_MANIFEST_BYTES,
        });
    }
    let mut budget = serde_saphyr::Budget::default();
    budget.max_documents = MAX_DOCUMENTS;
    budget.max_depth = MAX_DEPTH;
    // Events scale with input size; the default one million is too low for a large but honest
    // file at our size cap, so allow one event per two bytes.
    budget.max_events = budget.max_events.max(MAX_MANIFEST_BYTES / 2);
    // Likewise nodes: the default 250,000 is reached by an honest 3 MB rendered chart. Alias
    // bombs are still stopped by the alias/anchor ratio and by this cap.
    budget.max_nodes = budget.max_nodes.max(MAX_MANIFEST_BYTES / 8);
    // Anchors are rare in manifests (compose files use a few `<<: *defaults`); copying more than
    // this many events through them is an alias bomb, and stopping early keeps it cheap.
    budget.max_recorded_anchor_events = 100_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    let documents: Vec<Spanned<Value>> = serde_saphyr::from_multiple_with_options(text, options)
        .map_err(|error| {
            let message = error.to_string();
            if message.contains("documents") && message.contains("budget") {
                MisconfigError::TooManyDocuments {
                    path: path.to_owned(),
                    limit: MAX_DOCUMENTS,
                }
            } else {
                MisconfigError::Yaml {
                    path: path.to_owned(),
                    message: first_lines(&message),
                }
            }
        })?;
    Ok(documents
        .into_iter()
        .filter(|d| !d.value.is_null())
        .map(|d| Document {
            line: u32::try_from(d.referenced.line()).unwrap_or(0).max(1),
            value: d.value,
        })
        .collect())
}

/// Parser messages include a source snippet; keep the summary line only so one error stays one
/// short message.
/// The parser's message, first line only and at most 200 characters: parsers quote the input,
/// and the input may be anything the path pointed at.
fn first_lines(message: &str) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    let mut shown: String = line.chars().take(200).collect();
    if shown.len() < line.len() {
        shown.push('…');
    }
    shown
}
