//! GitHub Actions expressions (`${{ … }}`): found in a text and read into the context
//! properties they use, so that rules reason about `github.event.issue.title` itself and not
//! about how it happens to be spelled (`github.event['issue'].title`, spaces, functions).

/// The expressions in `text`: the source between each `${{` and its `}}`, quoted strings
/// (which may hold `}}`) skipped over.
pub(crate) fn expressions(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let body = &rest[start + 3..];
        let mut in_string = false;
        let mut end = None;
        let bytes = body.as_bytes();
        let mut index = 0;
        while index < bytes.len() {
            match bytes[index] {
                b'\'' => in_string = !in_string,
                b'}' if !in_string && bytes.get(index + 1) == Some(&b'}') => {
                    end = Some(index);
                    break;
                }
                _ => {}
            }
            index += 1;
        }
        let Some(end) = end else {
            break;
        };
        found.push(&body[..end]);
        rest = &body[end + 2..];
    }
    found
}

/// The context properties an expression reads, normalized: lower case, `a['b']` as `a.b`, and
/// any index as `*` (`github.event.commits[0].message` is `github.event.commits.*.message`).
/// Function names and literals are not properties.
pub(crate) fn properties(expression: &str) -> Vec<String> {
    let chars: Vec<char> = expression.chars().collect();
    let mut found = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        if c == '\'' {
            // A string literal: skip it ('' is an escaped quote inside).
            index += 1;
            while index < chars.len() {
                if chars[index] == '\'' {
                    if chars.get(index + 1) == Some(&'\'') {
                        index += 2;
                        continue;
                    }
                    break;
                }
                index += 1;
            }
            index += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let mut path = String::new();
            let mut segment = String::new();
            loop {
                while index < chars.len()
                    && (chars[index].is_ascii_alphanumeric() || matches!(chars[index], '_' | '-'))
                {
                    segment.push(chars[index].to_ascii_lowercase());
                    index += 1;
                }
                if !segment.is_empty() {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&segment);
                    segment.clear();
                }
                match chars.get(index) {
                    Some('.') => {
                        index += 1;
                        if chars.get(index) == Some(&'*') {
                            path.push_str(".*");
                            index += 1;
                        }
                    }
                    Some('[') => {
                        let close = chars[index..].iter().position(|&c| c == ']');
                        let Some(close) = close else { break };
                        let inner: String = chars[index + 1..index + close].iter().collect();
                        let inner = inner.trim();
                        if let Some(key) =
                            inner.strip_prefix('\'').and_then(|k| k.strip_suffix('\''))
                        {
                            path.push('.');
                            path.push_str(&key.to_ascii_lowercase());
                        } else {
                            path.push_str(".*");
                        }
                        index += close + 1;
                    }
                    _ => break,
                }
            }
            // A name followed by `(` is a function (`contains(…)`), not a property.
            let mut next = index;
            while next < chars.len() && chars[next] == ' ' {
                next += 1;
            }
            if chars.get(next) != Some(&'(') && path.contains('.') {
                found.push(path);
            }
            continue;
        }
        index += 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_and_their_properties() {
        let text =
            "echo \"${{ github.event.issue.title }}\" ${{ format('}}{0}', github.head_ref) }}";
        let found = expressions(text);
        assert_eq!(found.len(), 2);
        assert_eq!(properties(found[0]), ["github.event.issue.title"]);
        assert_eq!(properties(found[1]), ["github.head_ref"]);
        assert_eq!(
            properties("github.event['pull_request'].Title || github.event.commits[0].message"),
            [
                "github.event.pull_request.title",
                "github.event.commits.*.message"
            ]
        );
        assert_eq!(
            properties("contains(github.event.pull_request.labels.*.name, 'x')"),
            ["github.event.pull_request.labels.*.name"]
        );
        assert!(properties("'github.event.issue.title'").is_empty());
        assert!(expressions("no expression ${{ unterminated").is_empty());
    }
}
