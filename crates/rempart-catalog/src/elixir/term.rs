//! A reader for the Elixir terms `mix.lock` is written in: maps (`%{k => v}`, `%{"k": v}`),
//! tuples, lists with keyword entries (`[hex: :mime, optional: false]`), strings, atoms,
//! numbers and the bare words `true`, `false` and `nil`. Nothing is evaluated: there are no
//! operators, calls or sigils, and `#{...}` in a string stays text.
//!
//! The input is untrusted, so the cost is bounded: nesting is at most [`MAX_DEPTH`] deep and a
//! document holds at most [`MAX_TERMS`] terms, each checked as it is read, with the file itself
//! capped by the cataloger's interest. Errors carry the 1-based line they were found on.

/// Deepest nesting read; a real lock nests five levels (map, tuple, list, tuple, keyword list).
pub(super) const MAX_DEPTH: usize = 32;

/// Most terms in one document; a lock of a few hundred packages holds some tens of thousands.
pub(super) const MAX_TERMS: usize = 500_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Term {
    Atom(String),
    String(String),
    /// A number, kept as written: a lock never needs its value.
    Number(String),
    Tuple(Vec<Term>),
    List(Vec<Term>),
    Map(Vec<(Term, Term)>),
}

impl Term {
    /// The text of an atom or a string (map keys are either, depending on the Elixir version
    /// that wrote the lock).
    pub(super) fn text(&self) -> Option<&str> {
        match self {
            Term::Atom(text) | Term::String(text) => Some(text),
            _ => None,
        }
    }
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TermError {
    Syntax { line: usize, message: String },
    Limit { what: &'static str, limit: u64 },
}

/// Reads one term that makes up the whole document (surrounding blanks and comments allowed).
pub(super) fn parse_document(text: &str) -> Result<Term, TermError> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        position: 0,
        line: 1,
        terms: 0,
    };
    let term = reader.term(0)?;
    reader.skip_blanks();
    if reader.position < reader.bytes.len() {
        return Err(reader.error("unexpected text after the end of the document"));
    }
    Ok(term)
}

struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
    line: usize,
    terms: usize,
}

impl Reader<'_> {
    fn error(&self, message: impl Into<String>) -> TermError {
        TermError::Syntax {
            line: self.line,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn advance(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.position += 1;
        if byte == b'\n' {
            self.line += 1;
        }
        Some(byte)
    }

    /// Skips whitespace and `#` comments.
    fn skip_blanks(&mut self) {
        while let Some(byte) = self.peek() {
            match byte {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    self.advance();
                }
                b'#' => {
                    while let Some(byte) = self.advance() {
                        if byte == b'\n' {
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
    }

    fn expect(&mut self, wanted: u8) -> Result<(), TermError> {
        self.skip_blanks();
        match self.peek() {
            Some(byte) if byte == wanted => {
                self.advance();
                Ok(())
            }
            Some(byte) => Err(self.error(format!(
                "expected `{}`, found `{}`",
                char::from(wanted),
                char::from(byte).escape_default()
            ))),
            None => Err(self.error(format!(
                "expected `{}`, found the end of the file",
                char::from(wanted)
            ))),
        }
    }

    fn count_term(&mut self) -> Result<(), TermError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(TermError::Limit {
                what: "number of terms",
                limit: MAX_TERMS as u64,
            });
        }
        Ok(())
    }

    fn term(&mut self, depth: usize) -> Result<Term, TermError> {
        if depth > MAX_DEPTH {
            return Err(TermError::Limit {
                what: "nesting depth",
                limit: MAX_DEPTH as u64,
            });
        }
        self.count_term()?;
        self.skip_blanks();
        let Some(byte) = self.peek() else {
            return Err(self.error("expected a term, found the end of the file"));
        };
        match byte {
            b'%' => {
                self.advance();
                self.expect(b'{')?;
                self.map(depth)
            }
            b'{' => {
                self.advance();
                self.sequence(b'}', depth).map(Term::Tuple)
            }
            b'[' => {
                self.advance();
                self.sequence(b']', depth).map(Term::List)
            }
            b'"' => {
                self.advance();
                self.string().map(Term::String)
            }
            b':' => {
                self.advance();
                if self.peek() == Some(b'"') {
                    self.advance();
                    return self.string().map(Term::Atom);
                }
                let word = self.word();
                if word.is_empty() {
                    Err(self.error("expected an atom name after `:`"))
                } else {
                    Ok(Term::Atom(word))
                }
            }
            b'0'..=b'9' | b'-' => {
                let start = self.position;
                self.advance();
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_'))
                {
                    self.advance();
                }
                Ok(Term::Number(self.slice(start)))
            }
            _ => {
                let word = self.word();
                match word.as_str() {
                    "true" | "false" | "nil" => Ok(Term::Atom(word)),
                    "" => Err(self.error(format!(
                        "unexpected `{}`",
                        char::from(byte).escape_default()
                    ))),
                    _ => Err(self.error(format!("unexpected word `{word}`"))),
                }
            }
        }
    }

    fn slice(&self, start: usize) -> String {
        String::from_utf8_lossy(&self.bytes[start..self.position]).into_owned()
    }

    /// An identifier: letters, digits, `_`, and a trailing `?` or `!`.
    fn word(&mut self) -> String {
        let start = self.position;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'@')
        {
            self.advance();
        }
        if matches!(self.peek(), Some(b'?' | b'!')) {
            self.advance();
        }
        // Only ASCII bytes were taken.
        String::from_utf8_lossy(&self.bytes[start..self.position]).into_owned()
    }

    /// The rest of a double-quoted string, the opening quote already read.
    fn string(&mut self) -> Result<String, TermError> {
        let start_line = self.line;
        let mut out = Vec::new();
        loop {
            let Some(byte) = self.advance() else {
                return Err(TermError::Syntax {
                    line: start_line,
                    message: "unterminated string".to_owned(),
                });
            };
            match byte {
                b'"' => break,
                b'\\' => {
                    let Some(escaped) = self.advance() else {
                        return Err(TermError::Syntax {
                            line: start_line,
                            message: "unterminated string".to_owned(),
                        });
                    };
                    out.push(match escaped {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        other => other,
                    });
                }
                other => out.push(other),
            }
        }
        String::from_utf8(out).map_err(|_| TermError::Syntax {
            line: start_line,
            message: "string is not UTF-8".to_owned(),
        })
    }

    /// Elements up to `close`, separated by commas (a trailing comma allowed); keyword entries
    /// (`key: value`) become `{:key, value}` tuples, as in Elixir.
    fn sequence(&mut self, close: u8, depth: usize) -> Result<Vec<Term>, TermError> {
        let mut items = Vec::new();
        loop {
            self.skip_blanks();
            if self.peek() == Some(close) {
                self.advance();
                return Ok(items);
            }
            let item = match self.keyword_key()? {
                Some(key) => Term::Tuple(vec![Term::Atom(key), self.term(depth + 1)?]),
                None => self.term(depth + 1)?,
            };
            items.push(item);
            self.skip_blanks();
            match self.peek() {
                Some(b',') => {
                    self.advance();
                }
                Some(byte) if byte == close => {}
                _ => {
                    return Err(self.error(format!(
                        "expected `,` or `{}` after an element",
                        char::from(close)
                    )));
                }
            }
        }
    }

    /// The entries of a map, `%{` already read: `key => value` or `key: value`.
    fn map(&mut self, depth: usize) -> Result<Term, TermError> {
        let mut entries = Vec::new();
        loop {
            self.skip_blanks();
            if self.peek() == Some(b'}') {
                self.advance();
                return Ok(Term::Map(entries));
            }
            let entry = if let Some(key) = self.keyword_key()? {
                (Term::Atom(key), self.term(depth + 1)?)
            } else {
                let key = self.term(depth + 1)?;
                self.skip_blanks();
                if !self.bytes[self.position..].starts_with(b"=>") {
                    return Err(self.error("expected `=>` after a map key"));
                }
                self.advance();
                self.advance();
                (key, self.term(depth + 1)?)
            };
            entries.push(entry);
            self.skip_blanks();
            match self.peek() {
                Some(b',') => {
                    self.advance();
                }
                Some(b'}') => {}
                _ => return Err(self.error("expected `,` or `}` after a map entry")),
            }
        }
    }

    /// A keyword key (`name:` or `"quoted name":` followed by a blank) at the current position,
    /// consumed when there is one.
    fn keyword_key(&mut self) -> Result<Option<String>, TermError> {
        self.skip_blanks();
        let start = (self.position, self.line);
        let key = match self.peek() {
            Some(b'"') => {
                self.advance();
                Some(self.string()?)
            }
            Some(byte) if byte.is_ascii_alphabetic() || byte == b'_' => Some(self.word()),
            _ => None,
        };
        let followed_by_colon = self.peek() == Some(b':')
            && self
                .bytes
                .get(self.position + 1)
                .is_none_or(u8::is_ascii_whitespace);
        if let Some(key) = key.filter(|_| followed_by_colon) {
            self.advance();
            return Ok(Some(key));
        }
        // Not a keyword: read the term again from where it starts.
        (self.position, self.line) = start;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_DEPTH, Term, TermError, parse_document};

    fn atom(text: &str) -> Term {
        Term::Atom(text.to_owned())
    }

    fn string(text: &str) -> Term {
        Term::String(text.to_owned())
    }

    #[test]
    fn both_map_key_syntaxes_and_keyword_lists() {
        let text = "%{\"a\": {:hex, :a, \"1.0.0\", [x: true, \"y z\": nil]}, \"b\" => [], c: 1}\n";
        let Term::Map(entries) = parse_document(text).unwrap() else {
            panic!("a map");
        };
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].0, atom("a"));
        assert_eq!(
            entries[0].1,
            Term::Tuple(vec![
                atom("hex"),
                atom("a"),
                string("1.0.0"),
                Term::List(vec![
                    Term::Tuple(vec![atom("x"), atom("true")]),
                    Term::Tuple(vec![atom("y z"), atom("nil")]),
                ]),
            ])
        );
        assert_eq!(entries[1], (string("b"), Term::List(Vec::new())));
        assert_eq!(entries[2], (atom("c"), Term::Number("1".to_owned())));
    }

    #[test]
    fn escapes_and_comments() {
        let text = "# lock\n[\"a\\\"b\\\\\", :\"quoted atom\", \"#{not_code}\"] # end\n";
        assert_eq!(
            parse_document(text).unwrap(),
            Term::List(vec![
                string("a\"b\\"),
                atom("quoted atom"),
                string("#{not_code}")
            ])
        );
    }

    #[test]
    fn hostile_documents_are_errors_with_lines() {
        let unterminated = "%{\n  \"a\": {:hex, :a, \"1.0.0}\n}\n";
        assert_eq!(
            parse_document(unterminated),
            Err(TermError::Syntax {
                line: 2,
                message: "unterminated string".to_owned()
            })
        );
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        assert!(matches!(
            parse_document(&deep),
            Err(TermError::Limit {
                what: "nesting depth",
                ..
            })
        ));
        // A depth far past the limit is refused at the limit, without exhausting the stack.
        let very_deep = "{".repeat(1_000_000);
        assert!(matches!(
            parse_document(&very_deep),
            Err(TermError::Limit { .. })
        ));
        assert!(matches!(
            parse_document("%{} trailing"),
            Err(TermError::Syntax { .. })
        ));
        assert!(matches!(
            parse_document("%{\"a\" 1}"),
            Err(TermError::Syntax { .. })
        ));
        assert!(matches!(
            parse_document("[System.cmd(\"rm\")]"),
            Err(TermError::Syntax { .. })
        ));
        let many = format!("[{}]", "1,".repeat(super::MAX_TERMS + 1));
        assert!(matches!(
            parse_document(&many),
            Err(TermError::Limit {
                what: "number of terms",
                ..
            })
        ));
    }
}
