//! Where in a source file a match sits: in its documentation (Python docstrings and doctests,
//! `///` and `/** … */` doc comments) or in its code.
//!
//! Documentation shows how an API is called, credentials included
//! (`>>> url_parse("http://user:p%C3%A4ss@host")`): those are examples. Only the loose rules
//! (generic passwords, URL credentials) are held back there; a token with a vendor's format is
//! reported wherever it sits. Plain `#` and `//` comments are not documentation: a commented-out
//! line of configuration still leaks what it holds. No parser here: the languages are told by
//! the file name, and the forms looked for are the ones their documentation tools define.

use std::ops::Range;

/// How a file's documentation is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocStyle {
    /// Docstrings (triple-quoted strings opening a module, class or function) and doctests.
    Python,
    /// `///` and `//!` line comments, `/** … */` and `/*! … */` blocks.
    CLike,
}

impl DocStyle {
    /// The style of a source file, by its extension; `None` for anything else (configuration,
    /// scripts, data), where every match counts.
    pub(crate) fn of(path: &str) -> Option<DocStyle> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let extension = name.rsplit_once('.').map(|(_, e)| e)?;
        match extension {
            "py" | "pyi" => Some(DocStyle::Python),
            "rs" | "go" | "js" | "mjs" | "cjs" | "ts" | "tsx" | "jsx" | "java" | "kt" | "scala"
            | "swift" | "c" | "h" | "cc" | "cpp" | "hpp" | "cs" | "php" | "dart" => {
                Some(DocStyle::CLike)
            }
            _ => None,
        }
    }
}

/// The documentation of one file, found on first use and then asked about each match.
pub(crate) struct Documentation<'a> {
    style: DocStyle,
    content: &'a [u8],
    docstrings: Option<Vec<Range<usize>>>,
}

impl<'a> Documentation<'a> {
    pub(crate) fn new(style: DocStyle, content: &'a [u8]) -> Documentation<'a> {
        Documentation {
            style,
            content,
            docstrings: None,
        }
    }

    /// Whether the byte at `offset` is part of the file's documentation.
    pub(crate) fn contains(&mut self, offset: usize) -> bool {
        let line = line_at(self.content, offset).trim_ascii_start();
        match self.style {
            DocStyle::Python => {
                if line.starts_with(b">>>") {
                    return true;
                }
                let content = self.content;
                self.docstrings
                    .get_or_insert_with(|| python_docstrings(content))
                    .iter()
                    .any(|range| range.contains(&offset))
            }
            DocStyle::CLike => {
                line.starts_with(b"///")
                    || line.starts_with(b"//!")
                    || in_doc_block(self.content, offset)
            }
        }
    }
}

fn line_at(content: &[u8], offset: usize) -> &[u8] {
    let offset = offset.min(content.len());
    let start = memchr::memrchr(b'\n', &content[..offset]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &content[offset..]).map_or(content.len(), |i| offset + i);
    &content[start..end]
}

/// Inside a `/** … */` or `/*! … */` block: the last block opened before `offset` is one and is
/// not closed before it.
fn in_doc_block(content: &[u8], offset: usize) -> bool {
    let before = &content[..offset.min(content.len())];
    let Some(open) = memchr::memmem::rfind(before, b"/*") else {
        return false;
    };
    let doc = matches!(before.get(open + 2), Some(b'*' | b'!'))
        // `/**/` is an empty plain comment.
        && before.get(open + 3) != Some(&b'/');
    doc && memchr::memmem::find(&before[open + 2..], b"*/").is_none()
}

/// The byte ranges of a Python file's docstrings: triple-quoted strings that are the first
/// statement of the module or follow a `def`/`class` header. Other triple-quoted strings (SQL,
/// templates, configuration) are code and stay scanned.
fn python_docstrings(content: &[u8]) -> Vec<Range<usize>> {
    // Where the first statement starts: before it, only blank lines and comments (shebang,
    // encoding, licence).
    let mut first_code = content.len();
    let mut line_start = 0;
    for line in content.split(|b| *b == b'\n') {
        let trimmed = line.trim_ascii();
        if !trimmed.is_empty() && !trimmed.starts_with(b"#") {
            first_code = line_start + (line.len() - line.trim_ascii_start().len());
            break;
        }
        line_start += line.len() + 1;
    }
    let mut ranges = Vec::new();
    let mut at = 0;
    while let Some(found) = next_triple_quote(content, at) {
        let quote = &content[found..found + 3];
        let body = found + 3;
        let end = memchr::memmem::find(&content[body..], quote).map_or(content.len(), |i| body + i);
        if opens_docstring(content, found, first_code) {
            ranges.push(found..end);
        }
        at = (end + 3).min(content.len());
        if at >= content.len() {
            break;
        }
    }
    ranges
}

fn next_triple_quote(content: &[u8], from: usize) -> Option<usize> {
    let rest = content.get(from..)?;
    let double = memchr::memmem::find(rest, b"\"\"\"");
    let single = memchr::memmem::find(rest, b"'''");
    match (double, single) {
        (Some(d), Some(s)) => Some(from + d.min(s)),
        (Some(i), None) | (None, Some(i)) => Some(from + i),
        (None, None) => None,
    }
}

/// A `def`/`class` header longer than this is not looked for: the string is then code.
const MAX_HEADER_BYTES: usize = 4096;

/// Whether the triple quote at `at` opens a docstring: only a string prefix (`r`, `u`, `b`)
/// and blank space stand between it and the `:` ending a `def`/`class` header, or the start of
/// the file (after comments: shebang, encoding, licence).
fn opens_docstring(content: &[u8], at: usize, first_code: usize) -> bool {
    let mut start = at;
    while start > 0 && matches!(content[start - 1], b'r' | b'R' | b'u' | b'U' | b'b' | b'B') {
        start -= 1;
    }
    if start <= first_code {
        return true;
    }
    let trimmed = content[..start].trim_ascii_end();
    if !trimmed.ends_with(b":") {
        return false;
    }
    // The header may span lines (`def f(\n    a,\n) -> str:`): find the statement's first
    // line by going back to the line that opens the parentheses.
    let floor = trimmed.len().saturating_sub(MAX_HEADER_BYTES);
    let mut depth = 0i32;
    let mut index = trimmed.len();
    while index > floor {
        index -= 1;
        match trimmed[index] {
            b')' | b']' => depth += 1,
            b'(' | b'[' => depth -= 1,
            b'\n' if depth <= 0 => {
                index += 1;
                break;
            }
            _ => {}
        }
    }
    let header = trimmed[index..].trim_ascii_start();
    header.starts_with(b"def ")
        || header.starts_with(b"async def ")
        || header.starts_with(b"class ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(style: DocStyle, text: &str, needle: &str) -> bool {
        let offset = text.find(needle).expect("needle in text");
        Documentation::new(style, text.as_bytes()).contains(offset)
    }

    #[test]
    fn python_docstrings_and_doctests_are_documentation() {
        let text = "#!/usr/bin/env python\n\"\"\"Module doc: MODULE\"\"\"\nimport x\n\n\
                    def f(\n    a,\n) -> str:\n    r'''Call it.\n\n    FUNC\n    '''\n    \
                    return a\n\nclass C:\n    \"\"\"CLASS\"\"\"\n    q = \"\"\"SQL\"\"\"\n\n\
                    # >>> not a doctest: COMMENT\n    >>> DOCTEST\n";
        assert!(doc(DocStyle::Python, text, "MODULE"));
        assert!(doc(DocStyle::Python, text, "FUNC"));
        assert!(doc(DocStyle::Python, text, "CLASS"));
        assert!(doc(DocStyle::Python, text, "DOCTEST"));
        assert!(
            !doc(DocStyle::Python, text, "SQL"),
            "a string assigned to a name"
        );
        assert!(!doc(DocStyle::Python, text, "import"));
        assert!(!doc(DocStyle::Python, text, "COMMENT"));
    }

    #[test]
    fn doc_comments_are_documentation_plain_comments_are_not() {
        let text = "/// DOC\n//! INNER\n// PLAIN\n/** BLOCK\n * STAR */\n/* C */ CODE\n\
                    /**/ AFTER\n";
        for needle in ["DOC", "INNER", "BLOCK", "STAR"] {
            assert!(doc(DocStyle::CLike, text, needle), "{needle}");
        }
        for needle in ["PLAIN", "C */", "CODE", "AFTER"] {
            assert!(!doc(DocStyle::CLike, text, needle), "{needle}");
        }
    }

    #[test]
    fn styles_come_from_the_file_name() {
        assert_eq!(
            DocStyle::of("usr/lib/python3/x/urls.py"),
            Some(DocStyle::Python)
        );
        assert_eq!(DocStyle::of("src/lib.rs"), Some(DocStyle::CLike));
        assert_eq!(DocStyle::of("etc/app.conf"), None);
        assert_eq!(DocStyle::of("Makefile"), None);
        assert_eq!(DocStyle::of(".env"), None);
    }
}
