//! Shell commands of CI scripts (GitHub Actions `run:`, GitLab CI `script:`), read well enough
//! to tell the ones that push an image and the ones that scan or sign one. Hand-written: the
//! scripts are short shell snippets and the rules only need each command's first words, not a
//! shell grammar.

/// The shell commands of a script, each as its words: one per line, or after `&&`, `;`, `|`.
pub(crate) fn commands(script: &str) -> Vec<Vec<&str>> {
    script
        .lines()
        .flat_map(|line| line.split(['&', ';', '|']))
        .map(|command| {
            command
                .split_whitespace()
                // `sudo docker push`, `env X=1 docker push`: the command proper.
                .skip_while(|word| *word == "sudo" || *word == "env" || word.contains('='))
                .collect::<Vec<_>>()
        })
        .filter(|words| !words.is_empty() && !words[0].starts_with('#'))
        .collect()
}

/// Whether `words` start with `program` (its name, or a path ending in it) then `arguments`.
pub(crate) fn command_is(words: &[&str], program: &str, arguments: &[&str]) -> bool {
    let Some(first) = words.first() else {
        return false;
    };
    let name = first.rsplit('/').next().unwrap_or(first);
    name == program && words.len() > arguments.len() && words[1..=arguments.len()] == *arguments
}

/// The first command of `script` that pushes an image to a registry: its index among the
/// script's commands and its first words (said in messages).
pub(crate) fn image_push_command(script: &str) -> Option<(usize, String)> {
    commands(script).into_iter().enumerate().find_map(|(index, words)| {
        let pushes = ["docker", "podman", "buildah", "nerdctl"].iter().any(|program| {
            command_is(&words, program, &["push"]) || command_is(&words, program, &["image", "push"])
        }) || command_is(&words, "crane", &["push"])
            || command_is(&words, "crane", &["copy"])
            || command_is(&words, "skopeo", &["copy"])
            || command_is(&words, "oras", &["push"])
            || command_is(&words, "ko", &["build"])
            // Kaniko's executor pushes to every `--destination` unless told not to.
            || (command_is(&words, "executor", &[])
                && words.iter().any(|w| w.starts_with("--destination"))
                && !words.contains(&"--no-push"))
            || ((command_is(&words, "docker", &["build"])
                || command_is(&words, "docker", &["buildx", "build"])
                || command_is(&words, "docker", &["buildx", "bake"]))
                && words
                    .iter()
                    .any(|word| *word == "--push" || word.starts_with("--output=type=registry")));
        pushes.then(|| (index, words.iter().take(3).copied().collect::<Vec<_>>().join(" ")))
    })
}

/// The first command of `script` that scans an image (rempart, Trivy, Grype, Docker Scout,
/// Snyk) or signs or attests one (cosign): its index among the script's commands.
pub(crate) fn vetting_command(script: &str) -> Option<usize> {
    commands(script).into_iter().position(|words| {
        command_is(&words, "rempart", &["image"])
            || command_is(&words, "rempart", &["attest"])
            || command_is(&words, "rempart", &["verify"])
            || command_is(&words, "trivy", &["image"])
            || command_is(&words, "grype", &[])
            || command_is(&words, "docker", &["scout", "cves"])
            || command_is(&words, "snyk", &["container", "test"])
            || command_is(&words, "cosign", &["sign"])
            || command_is(&words, "cosign", &["attest"])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_and_vetting_in_order() {
        let script = "docker build -t app .\ntrivy image app && docker push app\n";
        assert_eq!(
            image_push_command(script),
            Some((2, "docker push app".to_owned()))
        );
        assert_eq!(vetting_command(script), Some(1));
        let kaniko = "/kaniko/executor --context . --destination $CI_REGISTRY_IMAGE:1";
        assert!(image_push_command(kaniko).is_some());
        assert!(image_push_command(&format!("{kaniko} --no-push")).is_none());
    }
}
