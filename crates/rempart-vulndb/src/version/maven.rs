//! Maven versions, ordered as Maven's `ComparableVersion` does.
//!
//! The version is split on `.`, `-` and at every switch between digits and letters. A `-` or a
//! digit/letter switch opens a nested list, so `1-1` is a sub-version of `1`. Trailing "null"
//! items (`0`, `ga`, `final`, `release`, the empty qualifier) are dropped, making `1`, `1.0` and
//! `1-ga` equal. Known qualifiers order `alpha < beta < milestone < rc = cr < snapshot < (release)
//! < sp`; unknown qualifiers come after all of them, lexically, and numbers beat qualifiers.

use std::cmp::Ordering;

use super::{Invalid, check_length};

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    /// Digits without leading zeros, compared by length first then lexically: any size works.
    Number(String),
    Qualifier(String),
    List(Vec<Item>),
}

/// The qualifier's rank: known ones by position, unknown ones after all known ones, lexically.
fn qualifier_rank(qualifier: &str) -> (usize, &str) {
    match QUALIFIERS.iter().position(|q| *q == qualifier) {
        Some(i) => (i, ""),
        None => (QUALIFIERS.len(), qualifier),
    }
}

fn compare_numbers(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Item {
    fn number(digits: &str) -> Item {
        let trimmed = digits.trim_start_matches('0');
        Item::Number(trimmed.to_owned())
    }

    fn qualifier(text: &str, followed_by_digit: bool) -> Item {
        let expanded = match text {
            "a" if followed_by_digit => "alpha",
            "b" if followed_by_digit => "beta",
            "m" if followed_by_digit => "milestone",
            "ga" | "final" | "release" => "",
            "cr" => "rc",
            other => other,
        };
        Item::Qualifier(expanded.to_owned())
    }

    fn is_null(&self) -> bool {
        match self {
            Item::Number(n) => n.is_empty(),
            Item::Qualifier(q) => q.is_empty(),
            Item::List(items) => items.is_empty(),
        }
    }

    /// `other` is `None` when the other version has no item at this position.
    fn compare(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Number(n), None) => {
                if n.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Qualifier(q), None) => qualifier_rank(q).cmp(&(RELEASE_INDEX, "")),
            (Item::List(items), None) => items
                .first()
                .map_or(Ordering::Equal, |first| first.compare(None)),
            (Item::Number(a), Some(Item::Number(b))) => compare_numbers(a, b),
            (Item::Number(_), Some(_)) | (Item::List(_), Some(Item::Qualifier(_))) => {
                Ordering::Greater
            }
            (Item::Qualifier(_), Some(Item::Number(_) | Item::List(_)))
            | (Item::List(_), Some(Item::Number(_))) => Ordering::Less,
            (Item::Qualifier(a), Some(Item::Qualifier(b))) => {
                qualifier_rank(a).cmp(&qualifier_rank(b))
            }
            (Item::List(a), Some(Item::List(b))) => {
                for i in 0..a.len().max(b.len()) {
                    let result = match (a.get(i), b.get(i)) {
                        (Some(left), right) => left.compare(right),
                        (None, Some(right)) => right.compare(None).reverse(),
                        (None, None) => Ordering::Equal,
                    };
                    if result != Ordering::Equal {
                        return result;
                    }
                }
                Ordering::Equal
            }
        }
    }
}

/// Drops trailing null items, looking through nested lists, as `ListItem.normalize` does.
fn normalize(items: &mut Vec<Item>) {
    let mut i = items.len();
    while i > 0 {
        i -= 1;
        if let Item::List(inner) = &mut items[i] {
            normalize(inner);
        }
        if items[i].is_null() {
            items.remove(i);
        } else if !matches!(items[i], Item::List(_)) {
            break;
        }
    }
}

fn parse_items(version: &str) -> Item {
    let lower = version.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    // A stack of open lists; each new list is pushed into its parent when closed at the end.
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0;
    let parse_item = |digit: bool, text: &str| {
        if digit {
            Item::number(text)
        } else {
            Item::qualifier(text, false)
        }
    };
    for (i, &c) in bytes.iter().enumerate() {
        let current = stack.last_mut().expect("stack never empty");
        match c {
            b'.' => {
                current.push(if i == start {
                    Item::Number(String::new())
                } else {
                    parse_item(is_digit, &lower[start..i])
                });
                start = i + 1;
            }
            b'-' => {
                current.push(if i == start {
                    Item::Number(String::new())
                } else {
                    parse_item(is_digit, &lower[start..i])
                });
                start = i + 1;
                stack.push(Vec::new());
            }
            c if c.is_ascii_digit() => {
                if !is_digit && i > start {
                    current.push(Item::qualifier(&lower[start..i], true));
                    start = i;
                    stack.push(Vec::new());
                }
                is_digit = true;
            }
            _ => {
                if is_digit && i > start {
                    current.push(Item::number(&lower[start..i]));
                    start = i;
                    stack.push(Vec::new());
                }
                is_digit = false;
            }
        }
    }
    if lower.len() > start {
        let last = parse_item(is_digit, &lower[start..]);
        stack.last_mut().expect("stack never empty").push(last);
    }
    while stack.len() > 1 {
        let mut inner = stack.pop().expect("checked length");
        normalize(&mut inner);
        stack
            .last_mut()
            .expect("checked length")
            .push(Item::List(inner));
    }
    let mut root = stack.pop().expect("stack never empty");
    normalize(&mut root);
    Item::List(root)
}

pub(super) fn parse(version: &str) -> Result<Item, Invalid<'_>> {
    check_length(version)?;
    Ok(parse_items(version))
}

pub(super) fn order(a: &Item, b: &Item) -> Ordering {
    a.compare(Some(b))
}
