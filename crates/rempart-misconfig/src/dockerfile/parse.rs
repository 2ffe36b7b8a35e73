//! A Dockerfile parser that follows `BuildKit`'s reading of the file: parser directives, the escape
//! character, line continuations (with comments and blank lines inside them dropped), JSON and
//! shell forms, heredocs, and ARG/ENV substitution for the instructions where `BuildKit` expands
//! variables.

use std::collections::BTreeMap;

/// Longest Dockerfile accepted: real ones are a few KiB; anything near this is hostile or not a
/// Dockerfile, and every later step is linear in the size.
pub(crate) const MAX_DOCKERFILE_BYTES: usize = 4 * 1024 * 1024;

/// Instructions whose arguments `BuildKit` expands with ARG and ENV values. RUN, CMD and ENTRYPOINT
/// are left to the shell at run time.
const EXPANDED: &[&str] = &[
    "ADD",
    "COPY",
    "ENV",
    "EXPOSE",
    "FROM",
    "LABEL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
    "ONBUILD",
    "ARG",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Args {
    /// `["a", "b"]`
    Exec(Vec<String>),
    /// Everything after the keyword and flags, continuations joined.
    Shell(String),
}

impl Args {
    /// The arguments as one command line, for rules that look for words.
    pub(crate) fn text(&self) -> String {
        match self {
            Args::Exec(words) => words.join(" "),
            Args::Shell(text) => text.clone(),
        }
    }

    pub(crate) fn words(&self) -> Vec<String> {
        match self {
            Args::Exec(words) => words.clone(),
            Args::Shell(text) => text.split_whitespace().map(str::to_owned).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Heredoc {
    pub(crate) name: String,
    pub(crate) body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instruction {
    /// 1-based line of the keyword.
    pub(crate) line: u32,
    /// Upper-case keyword (`RUN`).
    pub(crate) keyword: String,
    /// `--name=value` flags before the arguments, in order; `value` is `None` for bare flags.
    pub(crate) flags: Vec<(String, Option<String>)>,
    /// Arguments after variable expansion (for the instructions `BuildKit` expands).
    pub(crate) args: Args,
    pub(crate) heredocs: Vec<Heredoc>,
}

impl Instruction {
    pub(crate) fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(flag, _)| flag == name)
            .map(|(_, value)| value.as_deref().unwrap_or(""))
    }

    /// The command text a RUN executes: its arguments plus any heredoc bodies.
    pub(crate) fn script(&self) -> String {
        let mut text = self.args.text();
        for heredoc in &self.heredocs {
            text.push('\n');
            text.push_str(&heredoc.body);
        }
        text
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stage {
    /// 0-based position in the file.
    pub(crate) index: usize,
    /// The base image reference after ARG expansion.
    pub(crate) base: String,
    /// `AS name`, lower-cased as `BuildKit` compares them.
    pub(crate) name: Option<String>,
    pub(crate) from_line: u32,
    /// Instructions after FROM.
    pub(crate) instructions: Vec<Instruction>,
}

impl Stage {
    pub(crate) fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("stage {} ({name})", self.index),
            None => format!("stage {}", self.index),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Dockerfile {
    /// ARG instructions before the first FROM.
    pub(crate) global_args: Vec<Instruction>,
    pub(crate) stages: Vec<Stage>,
}

impl Dockerfile {
    /// The stage a FROM names, when it names an earlier stage rather than an image.
    pub(crate) fn stage_named(&self, reference: &str, before: usize) -> Option<&Stage> {
        let lower = reference.to_ascii_lowercase();
        self.stages[..before.min(self.stages.len())]
            .iter()
            .rev()
            .find(|stage| stage.name.as_deref() == Some(lower.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) line: u32,
    pub(crate) message: String,
}

/// One logical line: the joined text and the line its first physical line is on.
struct Logical {
    line: u32,
    text: String,
    heredocs: Vec<Heredoc>,
}

pub(crate) fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let (escape, first) = read_directives(&lines);
    let logical = join_lines(&lines, first, escape)?;
    build(logical, escape)
}

/// Reads parser directives (`# escape=`), which only count at the very top of the file.
fn read_directives(lines: &[&str]) -> (char, usize) {
    let mut escape = '\\';
    let mut index = 0;
    while let Some(line) = lines.get(index) {
        let Some(comment) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((name, value)) = comment.split_once('=') else {
            break;
        };
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() || name.contains(char::is_whitespace) {
            break;
        }
        if name == "escape" {
            match value.trim() {
                "`" => escape = '`',
                "\\" => escape = '\\',
                _ => {}
            }
        }
        index += 1;
    }
    (escape, index)
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Joins continuation lines and collects heredoc bodies.
fn join_lines(lines: &[&str], first: usize, escape: char) -> Result<Vec<Logical>, ParseError> {
    let mut out = Vec::new();
    let mut index = first;
    while index < lines.len() {
        let line = lines[index];
        index += 1;
        if line.trim().is_empty() || is_comment(line) {
            continue;
        }
        let start = u32::try_from(index).unwrap_or(u32::MAX);
        let mut text = String::new();
        let mut current = line;
        loop {
            let trimmed = current.trim_end();
            if let Some(body) = trimmed.strip_suffix(escape) {
                text.push_str(body);
                // Comment and blank lines inside a continuation are dropped, not ending it.
                while index < lines.len()
                    && (lines[index].trim().is_empty() || is_comment(lines[index]))
                {
                    index += 1;
                }
                if index >= lines.len() {
                    break;
                }
                current = lines[index];
                index += 1;
            } else {
                text.push_str(trimmed);
                break;
            }
        }
        let mut heredocs = Vec::new();
        let keyword = text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for (name, strip_tabs) in heredoc_markers(&text) {
                let mut body = String::new();
                let mut closed = false;
                while index < lines.len() {
                    let raw = lines[index];
                    index += 1;
                    let candidate = if strip_tabs {
                        raw.trim_start_matches('\t')
                    } else {
                        raw
                    };
                    if candidate == name {
                        closed = true;
                        break;
                    }
                    body.push_str(candidate);
                    body.push('\n');
                }
                if !closed {
                    return Err(ParseError {
                        line: start,
                        message: format!("heredoc <<{name} is never closed"),
                    });
                }
                heredocs.push(Heredoc { name, body });
            }
        }
        out.push(Logical {
            line: start,
            text,
            heredocs,
        });
    }
    Ok(out)
}

/// Finds `<<EOF`, `<<-EOF`, `<<"EOF"` and `<<'EOF'` markers in an instruction line.
fn heredoc_markers(text: &str) -> Vec<(String, bool)> {
    let mut markers = Vec::new();
    let mut rest = text;
    while let Some(position) = rest.find("<<") {
        let mut after = &rest[position + 2..];
        // `<<<` is a here-string, not a heredoc.
        if after.starts_with('<') {
            rest = after.trim_start_matches('<');
            continue;
        }
        let strip_tabs = after.starts_with('-');
        if strip_tabs {
            after = &after[1..];
        }
        let (name, consumed) = if let Some(quote @ ('"' | '\'')) = after.chars().next() {
            match after[1..].find(quote) {
                Some(end) => (after[1..=end].to_owned(), end + 2),
                None => (String::new(), after.len()),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (after[..end].to_owned(), end)
        };
        if !name.is_empty() && !name.chars().all(|c| c.is_ascii_digit()) {
            markers.push((name, strip_tabs));
        }
        rest = &after[consumed..];
    }
    markers
}

fn build(logical: Vec<Logical>, escape: char) -> Result<Dockerfile, ParseError> {
    let mut dockerfile = Dockerfile::default();
    // Values visible to FROM lines: global ARGs with their defaults.
    let mut global_values: BTreeMap<String, String> = BTreeMap::new();
    // Values visible inside the current stage.
    let mut stage_values: BTreeMap<String, String> = BTreeMap::new();
    for Logical {
        line,
        text,
        heredocs,
    } in logical
    {
        let (keyword, rest) = match text.trim_start().split_once(char::is_whitespace) {
            Some((keyword, rest)) => (keyword.to_ascii_uppercase(), rest.trim()),
            None => (text.trim().to_ascii_uppercase(), ""),
        };
        if !keyword.chars().all(|c| c.is_ascii_alphabetic()) {
            // The file may not be a Dockerfile at all (a link to a file of secrets): quote only
            // the letters it starts with, as an instruction would, never a value.
            let excerpt: String = keyword
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .take(24)
                .collect();
            let cut = if excerpt.len() < keyword.len() {
                "…"
            } else {
                ""
            };
            return Err(ParseError {
                line,
                message: format!("unknown instruction {excerpt:?}{cut} (is this a Dockerfile?)"),
            });
        }
        let (flags, rest) = split_flags(rest);
        let values = if dockerfile.stages.is_empty() {
            &global_values
        } else {
            &stage_values
        };
        let expand_here = EXPANDED.contains(&keyword.as_str());
        let args = if rest.starts_with('[') {
            match serde_json::from_str::<Vec<String>>(rest) {
                Ok(words) if expand_here => {
                    Args::Exec(words.iter().map(|w| expand(w, values, escape)).collect())
                }
                Ok(words) => Args::Exec(words),
                Err(_) => Args::Shell(maybe_expand(rest, expand_here, values, escape)),
            }
        } else {
            Args::Shell(maybe_expand(rest, expand_here, values, escape))
        };
        let flags = flags
            .into_iter()
            .map(|(name, value)| {
                let value = value.map(|v| maybe_expand(&v, expand_here, values, escape));
                (name, value)
            })
            .collect();
        let instruction = Instruction {
            line,
            keyword: keyword.clone(),
            flags,
            args,
            heredocs,
        };
        match keyword.as_str() {
            "FROM" => {
                let words = instruction.args.words();
                let base = words.first().cloned().unwrap_or_default();
                let name = match words.as_slice() {
                    [_, as_word, name, ..] if as_word.eq_ignore_ascii_case("as") => {
                        Some(name.to_ascii_lowercase())
                    }
                    _ => None,
                };
                // A stage sees the global ARGs only once it redeclares them.
                stage_values.clear();
                dockerfile.stages.push(Stage {
                    index: dockerfile.stages.len(),
                    base,
                    name,
                    from_line: line,
                    instructions: Vec::new(),
                });
            }
            "ARG" => {
                for (name, value) in key_values(&instruction.args) {
                    if dockerfile.stages.is_empty() {
                        global_values.insert(name, value.unwrap_or_default());
                    } else {
                        let value = value
                            .or_else(|| global_values.get(&name).cloned())
                            .unwrap_or_default();
                        stage_values.entry(name).or_insert(value);
                    }
                }
                if dockerfile.stages.is_empty() {
                    dockerfile.global_args.push(instruction);
                    continue;
                }
            }
            "ENV" => {
                for (name, value) in key_values(&instruction.args) {
                    stage_values.insert(name, value.unwrap_or_default());
                }
            }
            _ => {}
        }
        if keyword == "FROM" {
            continue;
        }
        match dockerfile.stages.last_mut() {
            Some(stage) => stage.instructions.push(instruction),
            None => {
                return Err(ParseError {
                    line,
                    message: format!("{keyword} before the first FROM"),
                });
            }
        }
    }
    Ok(dockerfile)
}

fn maybe_expand(
    text: &str,
    expand_here: bool,
    values: &BTreeMap<String, String>,
    escape: char,
) -> String {
    if expand_here {
        expand(text, values, escape)
    } else {
        text.to_owned()
    }
}

/// Splits leading `--flag[=value]` words off the arguments.
fn split_flags(mut rest: &str) -> (Vec<(String, Option<String>)>, &str) {
    let mut flags = Vec::new();
    while let Some(flag) = rest.strip_prefix("--") {
        let end = flag.find(char::is_whitespace).unwrap_or(flag.len());
        let word = &flag[..end];
        match word.split_once('=') {
            Some((name, value)) => flags.push((
                name.to_ascii_lowercase(),
                Some(value.trim_matches('"').to_owned()),
            )),
            None => flags.push((word.to_ascii_lowercase(), None)),
        }
        rest = flag[end..].trim_start();
    }
    (flags, rest)
}

/// `NAME=value` pairs of ARG, ENV and LABEL, honouring quotes; also the legacy `ENV NAME value`.
pub(crate) fn key_values(args: &Args) -> Vec<(String, Option<String>)> {
    let text = match args {
        Args::Exec(words) => words.join(" "),
        Args::Shell(text) => text.clone(),
    };
    let words = shell_words(&text);
    let Some(first) = words.first() else {
        return Vec::new();
    };
    if !first.contains('=') && words.len() > 1 {
        // Legacy form: the rest of the line is the value.
        let value = text.trim_start()[first.len()..].trim().to_owned();
        return vec![(first.clone(), Some(unquote(&value)))];
    }
    words
        .into_iter()
        .map(|word| match word.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (word, None),
        })
        .collect()
}

fn unquote(value: &str) -> String {
    let bytes = value.as_bytes();
    if bytes.len() >= 2
        && (bytes[0] == b'"' || bytes[0] == b'\'')
        && bytes[bytes.len() - 1] == bytes[0]
    {
        value[1..value.len() - 1].to_owned()
    } else {
        value.to_owned()
    }
}

/// Splits on unquoted whitespace and removes the quotes, as the Dockerfile key=value reader does.
pub(crate) fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (_, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

/// Expands `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}` and
/// `${NAME+alt}`. Unknown names expand to nothing, as in `BuildKit`; the escape character keeps a
/// `$` literal.
pub(crate) fn expand(text: &str, values: &BTreeMap<String, String>, escape: char) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut single_quoted = false;
    while i < chars.len() {
        let c = chars[i];
        if c == escape && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c == '\'' {
            single_quoted = !single_quoted;
        }
        if c != '$' || single_quoted {
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            let Some(close) = chars[i + 2..].iter().position(|&c| c == '}') else {
                out.extend(&chars[i..]);
                break;
            };
            let inner: String = chars[i + 2..i + 2 + close].iter().collect();
            out.push_str(&expand_braced(&inner, values, escape));
            i += close + 3;
        } else {
            let name: String = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            if name.is_empty() {
                out.push('$');
                i += 1;
            } else {
                out.push_str(values.get(&name).map_or("", String::as_str));
                i += 1 + name.chars().count();
            }
        }
    }
    out
}

fn expand_braced(inner: &str, values: &BTreeMap<String, String>, escape: char) -> String {
    let name_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    let operator = &inner[name_end..];
    let value = values.get(name);
    let (colon, op, word) = if let Some(rest) = operator.strip_prefix(':') {
        (true, rest.chars().next(), rest.get(1..).unwrap_or(""))
    } else {
        (
            false,
            operator.chars().next(),
            operator.get(1..).unwrap_or(""),
        )
    };
    // With a colon, an empty value counts as unset.
    let set = value.is_some_and(|v| !colon || !v.is_empty());
    match op {
        Some('-') if set => value.cloned().unwrap_or_default(),
        Some('-') => expand(word, values, escape),
        Some('+') if set => expand(word, values, escape),
        Some('+') => String::new(),
        _ => value.cloned().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn expansion_forms() {
        let v = values(&[("A", "1"), ("EMPTY", "")]);
        assert_eq!(expand("$A-${A}", &v, '\\'), "1-1");
        assert_eq!(expand("${B:-x$A}", &v, '\\'), "x1");
        assert_eq!(expand("${EMPTY:-d}|${EMPTY-d}", &v, '\\'), "d|");
        assert_eq!(expand("${A:+yes}|${B:+yes}", &v, '\\'), "yes|");
        assert_eq!(expand("\\$A", &v, '\\'), "$A");
        assert_eq!(expand("'$A'", &v, '\\'), "'$A'");
    }

    #[test]
    fn continuation_with_custom_escape_and_comments() {
        let text = "# escape=`\nFROM alpine\nRUN echo a `\n# inside\n\n  && echo b\nUSER x\n";
        let parsed = parse(text).unwrap();
        let run = &parsed.stages[0].instructions[0];
        assert_eq!(run.line, 3);
        assert_eq!(run.args.text(), "echo a   && echo b");
        assert_eq!(parsed.stages[0].instructions[1].line, 7);
    }

    #[test]
    fn heredocs_are_bodies_not_instructions() {
        let text = "FROM alpine\nRUN <<EOF\napk add curl\nUSER root\nEOF\nUSER app\n";
        let parsed = parse(text).unwrap();
        let instructions = &parsed.stages[0].instructions;
        assert_eq!(instructions.len(), 2);
        assert_eq!(
            instructions[0].heredocs[0].body,
            "apk add curl\nUSER root\n"
        );
        assert_eq!(instructions[1].line, 6);
        assert!(parse("FROM a\nRUN <<EOF\nnever closed\n").is_err());
    }

    #[test]
    fn stage_args_and_from_expansion() {
        let text = "ARG TAG=3.19\nFROM alpine:${TAG} AS Build\nARG TAG\nENV X=$TAG\nFROM build\n";
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.stages[0].base, "alpine:3.19");
        assert_eq!(parsed.stages[0].name.as_deref(), Some("build"));
        assert_eq!(
            key_values(&parsed.stages[0].instructions[1].args),
            vec![("X".to_owned(), Some("3.19".to_owned()))]
        );
        assert!(parsed.stage_named("BUILD", 1).is_some());
    }
}
