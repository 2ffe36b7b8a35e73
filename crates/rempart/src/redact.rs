//! Keeps secrets out of the report's copy of the image config.
//!
//! The secret and configuration checks have already reported what they found in ENV values and
//! build arguments; the report must not then print the values in full next to the redacted
//! finding. Values whose variable name says it holds a credential are masked, in `env` and in the
//! history lines (`ENV NAME=value`, and `|N NAME=value … /bin/sh -c` build-argument prefixes).

use rempart_core::ImageMetadata;

const SECRET_NAME_PARTS: [&str; 10] = [
    "PASSWORD",
    "PASSWD",
    "PWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
    "ACCESS_KEY",
];

fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|part| upper.contains(part))
}

fn mask(value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    // A fixed-length mask: the length of a secret is part of what must not leak.
    let visible: String = value.chars().take(2).collect();
    format!("{visible}********")
}

/// Masks `NAME=value` words whose name looks like a credential.
fn redact_assignments(text: &str) -> String {
    text.split(' ')
        .map(|word| match word.split_once('=') {
            Some((name, value)) if is_secret_name(name) && !value.is_empty() => {
                format!("{name}={}", mask(value))
            }
            _ => word.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A copy of config text (a history line) with credential-named assignments masked, then what
/// `mask_secrets` (the secret rules) recognizes.
pub(crate) fn redact_text(text: &str, mask_secrets: &dyn Fn(&str) -> String) -> String {
    mask_secrets(&redact_assignments(text))
}

/// Masks every copy of untrusted config text in the report's metadata: ENV values, labels,
/// history lines, entrypoint and command.
pub(crate) fn redact_metadata(metadata: &mut ImageMetadata, mask_secrets: &dyn Fn(&str) -> String) {
    for entry in &mut metadata.env {
        if let Some((name, value)) = entry.split_once('=')
            && is_secret_name(name)
        {
            *entry = format!("{name}={}", mask(value));
        }
        *entry = mask_secrets(entry);
    }
    for value in metadata.labels.values_mut() {
        *value = mask_secrets(value);
    }
    for step in &mut metadata.history {
        step.created_by = redact_text(&step.created_by, mask_secrets);
    }
    for list in [
        &mut metadata.entrypoint,
        &mut metadata.cmd,
        &mut metadata.healthcheck,
    ]
    .into_iter()
    .flatten()
    {
        for word in list.iter_mut() {
            *word = redact_text(word, mask_secrets);
        }
    }
}

#[cfg(test)]
mod tests {
    use rempart_core::HistoryEntry;

    use super::*;

    #[test]
    fn masks_credentials_and_keeps_the_rest() {
        let mut metadata = ImageMetadata {
            env: vec![
                "PATH=/usr/bin".into(),
                "DB_PASSWORD=hunter2-long".into(),
                "GITHUB_TOKEN=".into(),
            ],
            history: vec![HistoryEntry {
                created_by: "|2 GITHUB_TOKEN=ghp_abcdef123456 VERSION=1.2 /bin/sh -c make".into(),
                ..HistoryEntry::default()
            }],
            ..ImageMetadata::default()
        };
        redact_metadata(&mut metadata, &|text| text.to_owned());
        assert_eq!(
            metadata.env,
            ["PATH=/usr/bin", "DB_PASSWORD=hu********", "GITHUB_TOKEN="]
        );
        assert_eq!(
            metadata.history[0].created_by,
            "|2 GITHUB_TOKEN=gh******** VERSION=1.2 /bin/sh -c make"
        );
    }
}
