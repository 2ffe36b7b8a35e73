//! Alpine package versions, ordered as apk-tools does.
//!
//! A version is `digits{.digits}[letter]{_suffix[digits]}[-rN]`. apk reads it as a stream of
//! typed tokens and compares token by token; when one version runs out first, the longer one is
//! newer unless what follows is a pre-release suffix (`_alpha`, `_beta`, `_pre`, `_rc`). A number
//! with leading zeros after a dot compares as a decimal fraction (`1.01 < 1.1`), as in Gentoo's
//! rules that apk follows.

use std::cmp::Ordering;

use super::{Invalid, check_length};

const PRE_SUFFIXES: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST_SUFFIXES: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// Token kinds in apk's order: when two versions share a prefix, the one whose next token kind
/// comes later here is the older one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Token {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    RevisionNumber,
    End,
}

struct Cursor<'a> {
    rest: &'a [u8],
    token: Token,
}

impl Cursor<'_> {
    fn new(version: &str) -> Cursor<'_> {
        Cursor {
            rest: version.as_bytes(),
            token: Token::Digit,
        }
    }

    /// Reads the value of the current token and advances to the next one.
    fn next_value(&mut self) -> i64 {
        if self.rest.is_empty() {
            self.token = Token::End;
            return 0;
        }
        let mut consumed = 0;
        let mut value: i64 = 0;
        let mut forced_next = None;
        match self.token {
            // Leading zeros before more digits (`.01`) make the part compare like a decimal
            // fraction; a plain `0` is just the number zero.
            Token::DigitOrZero
                if self.rest[0] == b'0' && self.rest.get(1).is_some_and(u8::is_ascii_digit) =>
            {
                while consumed < self.rest.len()
                    && self.rest[consumed] == b'0'
                    && self.rest.get(consumed + 1).is_some_and(u8::is_ascii_digit)
                {
                    consumed += 1;
                }
                value = -i64::try_from(consumed).unwrap_or(i64::MAX);
                forced_next = Some(Token::Digit);
            }
            Token::DigitOrZero | Token::Digit | Token::SuffixNumber | Token::RevisionNumber => {
                while consumed < self.rest.len() && self.rest[consumed].is_ascii_digit() {
                    value = value
                        .saturating_mul(10)
                        .saturating_add(i64::from(self.rest[consumed] - b'0'));
                    consumed += 1;
                }
            }
            Token::Letter => {
                value = i64::from(self.rest[0]);
                consumed = 1;
            }
            Token::Suffix => {
                if let Some(i) = PRE_SUFFIXES
                    .iter()
                    .position(|s| self.rest.starts_with(s.as_bytes()))
                {
                    consumed = PRE_SUFFIXES[i].len();
                    // Pre-release suffixes are negative: older than no suffix at all.
                    value = i64::try_from(i).unwrap_or(0) - 4;
                } else if let Some(i) = POST_SUFFIXES
                    .iter()
                    .position(|s| self.rest.starts_with(s.as_bytes()))
                {
                    consumed = POST_SUFFIXES[i].len();
                    value = i64::try_from(i).unwrap_or(0);
                } else {
                    self.token = Token::Invalid;
                    return -1;
                }
            }
            Token::Invalid | Token::End => {
                self.token = Token::Invalid;
                return -1;
            }
        }
        self.rest = &self.rest[consumed..];
        if self.rest.is_empty() {
            self.token = Token::End;
        } else if let Some(next) = forced_next {
            self.token = next;
        } else {
            self.advance_kind();
        }
        value
    }

    /// Decides the kind of the next token from the separator in front of it.
    fn advance_kind(&mut self) {
        let first = self.rest[0];
        let next = if matches!(self.token, Token::Digit | Token::DigitOrZero)
            && first.is_ascii_lowercase()
        {
            Token::Letter
        } else if self.token == Token::Letter && first.is_ascii_digit() {
            Token::Digit
        } else if self.token == Token::Suffix && first.is_ascii_digit() {
            Token::SuffixNumber
        } else {
            let kind = match first {
                b'.' => Token::DigitOrZero,
                b'_' => Token::Suffix,
                b'-' if self.rest.get(1) == Some(&b'r') => {
                    self.rest = &self.rest[1..];
                    Token::RevisionNumber
                }
                _ => Token::Invalid,
            };
            self.rest = &self.rest[1..];
            kind
        };
        self.token = next;
    }
}

fn validate(version: &str) -> Result<(), Invalid<'_>> {
    check_length(version)?;
    if !version.as_bytes()[0].is_ascii_digit() {
        return Err(Invalid::new(version, "does not start with a digit"));
    }
    let mut cursor = Cursor::new(version);
    while cursor.token != Token::End {
        cursor.next_value();
        if cursor.token == Token::Invalid {
            return Err(Invalid::new(
                version,
                "not of the form 1.2.3[a][_suffix][-rN]",
            ));
        }
    }
    Ok(())
}

pub(super) fn parse(version: &str) -> Result<String, Invalid<'_>> {
    validate(version)?;
    Ok(version.to_owned())
}

/// Orders two versions already checked by [`parse`].
pub(super) fn order(a: &str, b: &str) -> Ordering {
    let (mut left, mut right) = (Cursor::new(a), Cursor::new(b));
    let (mut left_value, mut right_value) = (0, 0);
    while left.token == right.token
        && !matches!(left.token, Token::End | Token::Invalid)
        && left_value == right_value
    {
        left_value = left.next_value();
        right_value = right.next_value();
    }
    match left_value.cmp(&right_value) {
        Ordering::Equal => {}
        other => return other,
    }
    if left.token == right.token {
        return Ordering::Equal;
    }
    // One side continues: it is newer unless it continues with a pre-release suffix.
    if left.token == Token::Suffix && left.next_value() < 0 {
        return Ordering::Less;
    }
    if right.token == Token::Suffix && right.next_value() < 0 {
        return Ordering::Greater;
    }
    right.token.cmp(&left.token)
}
