//! Just enough of a POSIX shell lexer to see the simple commands of a RUN and how they are
//! joined: quotes are honoured so `echo "a | b"` is one command, and `&&`, `||`, `;`, `&`, `|` and
//! newlines separate commands.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    pub(crate) words: Vec<String>,
    /// This command reads the previous one's output through `|`.
    pub(crate) piped: bool,
}

/// Programs that run the rest of their arguments as a command.
const WRAPPERS: &[&str] = &[
    "sudo", "env", "nice", "nohup", "time", "exec", "command", "doas",
];

impl Command {
    /// The words from the program on: leading `VAR=value` assignments and wrappers such as `sudo`
    /// and `env` skipped, so `sudo -E apt-get install` is seen as `apt-get install`.
    pub(crate) fn program_words(&self) -> &[String] {
        let mut rest = self.words.as_slice();
        loop {
            match rest.first() {
                Some(word) if is_assignment(word) => rest = &rest[1..],
                Some(word) if WRAPPERS.contains(&basename(word)) => {
                    rest = &rest[1..];
                    while rest.first().is_some_and(|w| w.starts_with('-')) {
                        rest = &rest[1..];
                    }
                }
                _ => return rest,
            }
        }
    }

    /// Whether the command runs through `wrapper` (`sudo apt-get ...`, `env A=1 sudo ...`),
    /// as opposed to merely mentioning the word (`apt-get install sudo`).
    pub(crate) fn runs_through(&self, wrapper: &str) -> bool {
        let mut rest = self.words.as_slice();
        while let Some(word) = rest.first() {
            if is_assignment(word) {
                rest = &rest[1..];
                continue;
            }
            let name = basename(word);
            if name == wrapper {
                return true;
            }
            if !WRAPPERS.contains(&name) {
                return false;
            }
            rest = &rest[1..];
            while rest.first().is_some_and(|w| w.starts_with('-')) {
                rest = &rest[1..];
            }
        }
        false
    }

    pub(crate) fn program(&self) -> Option<&str> {
        self.program_words().first().map(|w| basename(w))
    }

    pub(crate) fn has_word(&self, wanted: &str) -> bool {
        self.words.iter().any(|w| w == wanted)
    }
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

pub(crate) fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

pub(crate) fn split_commands(script: &str) -> Vec<Command> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut next_piped = false;
    let mut chars = script.chars().peekable();
    let mut finish = |words: &mut Vec<String>, piped_next: bool, next_piped: &mut bool| {
        if !words.is_empty() {
            commands.push(Command {
                words: std::mem::take(words),
                piped: *next_piped,
            });
        }
        *next_piped = piped_next;
    };
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else if c == '\\' && q == '"' {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            } else {
                word.push(c);
            }
            continue;
        }
        match c {
            '"' | '\'' => {
                quote = Some(c);
                in_word = true;
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(next) => {
                    word.push(next);
                    in_word = true;
                }
            },
            '#' if !in_word => {
                // A comment runs to the end of the line.
                for next in chars.by_ref() {
                    if next == '\n' {
                        break;
                    }
                }
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                finish(&mut words, false, &mut next_piped);
            }
            '|' | '&' | ';' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                let doubled = (c == '|' || c == '&') && chars.peek() == Some(&c);
                if doubled {
                    chars.next();
                }
                finish(&mut words, c == '|' && !doubled, &mut next_piped);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    finish(&mut words, false, &mut next_piped);
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_operators_outside_quotes() {
        let commands = split_commands("A=1 sudo -E apt-get install x && echo 'a | b' | sh; ls");
        assert_eq!(commands.len(), 4);
        assert_eq!(commands[0].program(), Some("apt-get"));
        assert_eq!(commands[1].words, vec!["echo", "a | b"]);
        assert!(commands[2].piped);
        assert!(!commands[3].piped);
        assert!(!split_commands("a || b")[1].piped);
        assert!(split_commands("env A=1 sudo -E make")[0].runs_through("sudo"));
        assert!(!split_commands("apt-get install sudo")[0].runs_through("sudo"));
    }
}
