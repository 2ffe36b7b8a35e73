//! What a workflow step does, as far as the rules need to know: pushes an image, scans or signs
//! one, pushes commits, publishes a package. Read from the action a step `uses` and the
//! commands of its `run:` script (`crate::ci_commands`).

use serde_json::Value;

use crate::ci_commands::{command_is, commands, image_push_command, vetting_command};

/// The step's `run:` script.
fn script(step: &Value) -> Option<&str> {
    step.get("run").and_then(Value::as_str)
}

/// Actions that push an image when their `push` input is on (an expression counts as on: it is
/// on for some runs).
const IMAGE_PUSH_ACTIONS: &[&str] = &["docker/build-push-action", "docker/bake-action"];
/// Actions whose job is to push an image.
const IMAGE_PUSHERS: &[&str] = &[
    "redhat-actions/push-to-registry",
    "akhilerm/tag-push-action",
    "int128/kaniko-action",
];
/// Actions that scan an image or sign it.
const VETTING_ACTIONS: &[&str] = &[
    "aquasecurity/trivy-action",
    "anchore/scan-action",
    "anchore/sbom-action",
    "docker/scout-action",
    "snyk/actions/docker",
    "sigstore/cosign-installer",
    "actions/attest-build-provenance",
    "actions/attest",
];
/// Actions that push commits or tags to the repository.
const GIT_PUSH_ACTIONS: &[&str] = &[
    "stefanzweifel/git-auto-commit-action",
    "peter-evans/create-pull-request",
    "ad-m/github-push-action",
    "EndBug/add-and-commit",
    "actions/create-release",
    "softprops/action-gh-release",
    "googleapis/release-please-action",
    "changesets/action",
];

/// The action a step uses, without its version (`docker/build-push-action`).
pub(crate) fn action(step: &Value) -> Option<&str> {
    let uses = step.get("uses").and_then(Value::as_str)?;
    Some(uses.split_once('@').map_or(uses, |(name, _)| name))
}

fn uses_one_of(step: &Value, actions: &[&str]) -> bool {
    action(step).is_some_and(|name| {
        actions
            .iter()
            .any(|known| name.eq_ignore_ascii_case(known) || name.starts_with(&format!("{known}/")))
    })
}

fn input_on(step: &Value, input: &str) -> bool {
    match step.get("with").and_then(|with| with.get(input)) {
        Some(Value::Bool(on)) => *on,
        Some(Value::String(text)) => text != "false",
        _ => false,
    }
}

/// What pushes an image to a registry in this step, if anything (said in messages).
pub(crate) fn image_push(step: &Value) -> Option<String> {
    if uses_one_of(step, IMAGE_PUSH_ACTIONS) && input_on(step, "push") {
        return action(step).map(|name| format!("{name} with push"));
    }
    if uses_one_of(step, IMAGE_PUSHERS) {
        return action(step).map(str::to_owned);
    }
    script(step).and_then(|script| image_push_command(script).map(|(_, what)| what))
}

/// Whether the step scans an image (rempart, Trivy, Grype, Docker Scout, Snyk) or signs or
/// attests one (cosign, GitHub's attestations).
pub(crate) fn vets_image(step: &Value) -> bool {
    uses_one_of(step, VETTING_ACTIONS) || script(step).is_some_and(|s| vetting_command(s).is_some())
}

/// Whether the step pushes commits or tags (or makes a release) with the job's token.
pub(crate) fn pushes_to_repository(step: &Value) -> bool {
    uses_one_of(step, GIT_PUSH_ACTIONS)
        || commands(script(step).unwrap_or_default())
            .into_iter()
            .any(|words| {
                command_is(&words, "git", &["push"])
                    || command_is(&words, "gh", &["release", "create"])
                    || command_is(&words, "gh", &["pr", "create"])
            })
}

/// Whether the step publishes a package or an image (what `packages: write` is for).
pub(crate) fn publishes_package(step: &Value) -> bool {
    image_push(step).is_some()
        || commands(script(step).unwrap_or_default()).into_iter().any(|words| {
            ["npm", "yarn", "pnpm"]
                .iter()
                .any(|program| command_is(&words, program, &["publish"]))
                || command_is(&words, "mvn", &["deploy"])
                || words.first().is_some_and(|w| w.ends_with("mvn") || w.ends_with("mvnw"))
                    && words.contains(&"deploy")
                || words.first().is_some_and(|w| w.ends_with("gradle") || w.ends_with("gradlew"))
                    && words.iter().any(|w| w.starts_with("publish"))
                || command_is(&words, "dotnet", &["nuget", "push"])
                || command_is(&words, "nuget", &["push"])
                || command_is(&words, "gem", &["push"])
        })
        // Logging in to GitHub's registry is for pushing to it (or for pulling private images:
        // the read scope suffices then, but the job may push through a later tool).
        || (action(step).is_some_and(|name| name.eq_ignore_ascii_case("docker/login-action"))
            && step
                .get("with")
                .and_then(|with| with.get("registry"))
                .and_then(Value::as_str)
                .is_some_and(|registry| registry.contains("ghcr.io")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pushes_are_told_from_builds() {
        for script in [
            "docker push ghcr.io/acme/app:1",
            "sudo docker push $IMAGE",
            "docker buildx build --push -t ghcr.io/acme/app .",
            "make image && podman push ghcr.io/acme/app",
            "skopeo copy oci:out docker://ghcr.io/acme/app:1",
            "/usr/local/bin/crane push image.tar ghcr.io/acme/app",
        ] {
            assert!(image_push(&json!({"run": script})).is_some(), "{script}");
        }
        for script in [
            "docker build -t app .",
            "echo docker push later",
            "# docker push ghcr.io/acme/app",
            "docker pull alpine",
        ] {
            assert!(image_push(&json!({"run": script})).is_none(), "{script}");
        }
        let action =
            |push: Value| json!({"uses": "docker/build-push-action@v6", "with": {"push": push}});
        assert!(image_push(&action(json!(true))).is_some());
        assert!(image_push(&action(json!("${{ github.event_name != 'pull_request' }}"))).is_some());
        assert!(image_push(&action(json!(false))).is_none());
        assert!(image_push(&json!({"uses": "docker/build-push-action@v6"})).is_none());
    }

    #[test]
    fn scans_and_signatures_are_vetting() {
        for script in [
            "rempart image ghcr.io/acme/app:1",
            "trivy image --exit-code 1 app",
            "cosign sign --yes $IMAGE@$DIGEST",
            "grype app:1",
        ] {
            assert!(vets_image(&json!({"run": script})), "{script}");
        }
        assert!(vets_image(
            &json!({"uses": "aquasecurity/trivy-action@0.28.0"})
        ));
        assert!(!vets_image(&json!({"run": "echo trivy image"})));
        assert!(!vets_image(&json!({"run": "cosign verify app"})));
    }
}
