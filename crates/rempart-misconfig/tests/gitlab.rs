//! GitLab CI pipeline checks on small pipelines written for the tests: each rule against a
//! pipeline that trips it and near misses that must not, local includes followed (and only
//! inside the repository), hostile YAML bounded.

use std::path::{Path, PathBuf};

use rempart_misconfig::{ConfigKind, ConfigOptions, detect_kind, scan_config_file_with};

/// A repository in a temporary directory holding `files`.
fn repository(files: &[(&str, &str)]) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "rempart-gitlab-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// `(file, line, code)` of each finding of the repository's `.gitlab-ci.yml`, includes
/// followed from the repository on disk.
fn check_in(dir: &Path) -> Vec<(String, u32, String)> {
    let text = std::fs::read(dir.join(".gitlab-ci.yml")).unwrap();
    let path = Path::new(".gitlab-ci.yml");
    assert_eq!(detect_kind(path, &text), Some(ConfigKind::GitlabCi));
    let options = ConfigOptions {
        pipeline_root: Some(dir.to_path_buf()),
        ..ConfigOptions::default()
    };
    scan_config_file_with(path, &text, &options)
        .unwrap()
        .into_iter()
        .map(|f| (f.location.path, f.location.line.unwrap_or(0), f.id))
        .collect()
}

fn check(text: &str) -> Vec<(u32, String)> {
    let dir = repository(&[(".gitlab-ci.yml", text)]);
    let found = check_in(&dir)
        .into_iter()
        .map(|(_, line, code)| (line, code))
        .collect();
    std::fs::remove_dir_all(dir).unwrap();
    found
}

const DIGEST: &str = "sha256:0f7d5e8e5e4e4a0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081";
const SHA: &str = "2f7c1f1a0b4f0c2d3e4f5a6b7c8d9e0f1a2b3c4d";

#[test]
fn a_hardened_pipeline_is_clean() {
    let text = format!(
        "stages: [build, scan, publish]\ninclude:\n  - local: /ci/common.yml\n  - project: platform/ci\n    ref: {SHA}\n    file: /build.yml\n  - remote: https://example.com/ci.yml\n    integrity: sha256-L3hhJ0Xb3U5n1sBf1mWb8o1Y2yQj7s9R3H3kQvC1a0E=\n  - component: gitlab.com/acme/components/sast@{SHA}\n  - template: Jobs/SAST.gitlab-ci.yml\nimage: node:20@{DIGEST}\nvariables:\n  DEPLOY_TOKEN: $VAULT_DEPLOY_TOKEN\n  TOKEN_FILE: /run/secrets/token\n  GIT_DEPTH: \"10\"\nbuild:\n  stage: build\n  image: gcr.io/kaniko-project/executor:debug@{DIGEST}\n  script:\n    - /kaniko/executor --context . --no-push --tar-path image.tar\nscan:\n  stage: scan\n  script:\n    - rempart image --input image.tar --severity CRITICAL,HIGH\npublish:\n  stage: publish\n  script:\n    - crane push image.tar $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA\n    - 'curl --header \"JOB-TOKEN: $CI_JOB_TOKEN\" \"$CI_API_V4_URL/projects/$CI_PROJECT_ID/packages\"'\n"
    );
    assert_eq!(check(&text), []);
}

#[test]
fn unpinned_images_includes_and_dind() {
    let text = format!(
        "image: node:20\nservices:\n  - name: postgres:16\n  - redis@{DIGEST}\ninclude:\n  - project: platform/ci\n    file: /a.yml\n  - project: platform/ci\n    ref: main\n    file: /b.yml\n  - https://example.com/remote.yml\n  - component: gitlab.com/acme/c/lint@~latest\n  - template: Security/SAST.gitlab-ci.yml\nbuild:\n  image: $CI_REGISTRY_IMAGE/builder:$CI_COMMIT_SHA\n  services: [docker:27-dind]\n  script: [make]\nrootless:\n  services: [\"docker:27-dind-rootless@{DIGEST}\"]\n  script: [make]\n"
    );
    assert_eq!(
        check(&text),
        [
            (1, "CI-GL-UNPINNED-IMAGE".to_owned()),
            (3, "CI-GL-UNPINNED-IMAGE".to_owned()),
            (6, "CI-GL-UNPINNED-INCLUDE".to_owned()),
            (8, "CI-GL-UNPINNED-INCLUDE".to_owned()),
            (11, "CI-GL-UNPINNED-INCLUDE".to_owned()),
            (12, "CI-GL-UNPINNED-INCLUDE".to_owned()),
            (16, "CI-GL-DIND".to_owned()),
            (16, "CI-GL-UNPINNED-IMAGE".to_owned()),
        ]
    );
}

#[test]
fn credentials_in_variables_and_the_job_token() {
    let text = "variables:\n  DEPLOY_TOKEN: glpat-AAAAAAAAAAAAAAAAAAAA\n  DB_PASSWORD: {value: hunter2hunter2, description: db}\n  TOKEN_PATH: /run/token\n  API_KEY: ${VAULT_KEY}\n  SHORT_SECRET: x\ndeploy:\n  variables:\n    NPM_TOKEN: npm_BBBBBBBBBBBBBBBBBBBB\n  script:\n    - 'curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" https://uploads.example.com/put'\n    - echo \"$CI_JOB_TOKEN\"\n    - 'curl -H \"JOB-TOKEN: ${CI_JOB_TOKEN}\" \"${CI_API_V4_URL}/projects\"'\n    - docker login -u gitlab-ci-token -p $CI_JOB_TOKEN $CI_REGISTRY\n";
    assert_eq!(
        check(text),
        [
            (2, "CI-GL-SECRET-VARIABLE".to_owned()),
            (3, "CI-GL-SECRET-VARIABLE".to_owned()),
            (9, "CI-GL-SECRET-VARIABLE".to_owned()),
            (11, "CI-GL-JOB-TOKEN".to_owned()),
            (12, "CI-GL-JOB-TOKEN".to_owned()),
        ]
    );
    // The value is never quoted in the report.
    let dir = repository(&[(".gitlab-ci.yml", text)]);
    let findings = scan_config_file_with(
        Path::new(".gitlab-ci.yml"),
        text.as_bytes(),
        &ConfigOptions::default(),
    )
    .unwrap();
    std::fs::remove_dir_all(dir).unwrap();
    let shown = format!("{findings:?}");
    assert!(
        !shown.contains("glpat-") && !shown.contains("hunter2"),
        "{shown}"
    );
}

#[test]
fn images_pushed_before_any_scan() {
    let pipeline = |scan: &str| {
        format!(
            "stages: [build, test, deploy]\nbuild:\n  stage: build\n  script:\n    - docker build -t $IMAGE .\n{scan}    - docker push $IMAGE\n"
        )
    };
    assert_eq!(
        check(&pipeline("")),
        [(6, "CI-GL-PUSH-WITHOUT-SCAN".to_owned())]
    );
    // Scanned earlier in the same script.
    assert_eq!(
        check(&pipeline("    - trivy image --exit-code 1 $IMAGE\n")),
        []
    );
    // Scanned after the push: still unvetted when it leaves.
    let after = "stages: [build]\nbuild:\n  stage: build\n  script:\n    - docker push $IMAGE\n    - trivy image $IMAGE\n";
    assert_eq!(check(after), [(5, "CI-GL-PUSH-WITHOUT-SCAN".to_owned())]);
    // A scan job in an earlier stage, or one the job needs, vets it; one in a later stage not.
    let jobs = |scan_stage: &str, needs: &str| {
        format!(
            "stages: [build, scan, publish]\nscan:\n  stage: {scan_stage}\n  script: [rempart image --input image.tar]\npublish:\n  stage: publish\n{needs}  script: [skopeo copy oci-archive:image.tar docker://$IMAGE]\n"
        )
    };
    assert_eq!(check(&jobs("scan", "")), []);
    assert_eq!(check(&jobs("publish", "  needs: [scan]\n")), []);
    assert_eq!(
        check(&jobs("publish", "")),
        [(7, "CI-GL-PUSH-WITHOUT-SCAN".to_owned())]
    );
    // GitLab's Container-Scanning template scans in `test`: a push in `deploy` comes after it,
    // a push in `build` before.
    let template = |stage: &str| {
        format!(
            "include:\n  - template: Jobs/Container-Scanning.gitlab-ci.yml\nrelease:\n  stage: {stage}\n  script: [\"/kaniko/executor --destination $IMAGE\"]\n"
        )
    };
    assert_eq!(check(&template("deploy")), []);
    assert_eq!(
        check(&template("build")),
        [(5, "CI-GL-PUSH-WITHOUT-SCAN".to_owned())]
    );
}

#[test]
fn local_includes_are_followed_inside_the_repository_only() {
    let outside = repository(&[("secret.yml", "leak:\n  image: outside:1\n  script: [x]\n")]);
    let outside_file = outside.join("secret.yml");
    let dir = repository(&[
        (
            ".gitlab-ci.yml",
            &format!(
                "include:\n  - local: /ci/build.yml\n  - ci/loop-a.yml\n  - local: ../secret.yml\n  - local: '{}'\n  - local: 'ci/*.yml'\n  - local: /ci/missing.yml\ntest:\n  image: node:20@{DIGEST}\n  script: [npm test]\n",
                outside_file.display()
            ),
        ),
        (
            "ci/build.yml",
            "build:\n  image: docker:27\n  services: [docker:dind]\n  script: [docker push $IMAGE]\n",
        ),
        // Includes that include each other are read once each.
        ("ci/loop-a.yml", "include: [ci/loop-b.yml]\n"),
        (
            "ci/loop-b.yml",
            "include: [ci/loop-a.yml]\nlooped:\n  image: alpine\n  script: [x]\n",
        ),
    ]);
    // A symbolic link out of the repository is not followed either.
    std::os::unix::fs::symlink(&outside_file, dir.join("ci/link.yml")).unwrap();
    let with_link = std::fs::read_to_string(dir.join(".gitlab-ci.yml"))
        .unwrap()
        .replace("include:\n", "include:\n  - local: ci/link.yml\n");
    std::fs::write(dir.join(".gitlab-ci.yml"), with_link).unwrap();

    let found = check_in(&dir);
    assert_eq!(
        found,
        [
            (
                "ci/build.yml".to_owned(),
                2,
                "CI-GL-UNPINNED-IMAGE".to_owned()
            ),
            ("ci/build.yml".to_owned(), 3, "CI-GL-DIND".to_owned()),
            (
                "ci/build.yml".to_owned(),
                3,
                "CI-GL-UNPINNED-IMAGE".to_owned()
            ),
            (
                "ci/build.yml".to_owned(),
                4,
                "CI-GL-PUSH-WITHOUT-SCAN".to_owned()
            ),
            (
                "ci/loop-b.yml".to_owned(),
                3,
                "CI-GL-UNPINNED-IMAGE".to_owned()
            ),
        ]
    );
    // Without a root on disk (a file inside an image), includes are not read.
    let text = std::fs::read(dir.join(".gitlab-ci.yml")).unwrap();
    let alone = scan_config_file_with(
        Path::new(".gitlab-ci.yml"),
        &text,
        &ConfigOptions::default(),
    )
    .unwrap();
    assert!(alone.is_empty(), "{alone:?}");
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(outside).unwrap();
}

#[test]
fn hostile_pipelines_are_bounded_errors_naming_the_file() {
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\njob:\n  script: *g\n";
    let error = scan_config_file_with(
        Path::new("repo/.gitlab-ci.yml"),
        bomb.as_bytes(),
        &ConfigOptions::default(),
    )
    .expect_err("an alias bomb is refused");
    assert!(error.to_string().contains("repo/.gitlab-ci.yml"), "{error}");
    let deep = format!(
        "job:\n  script: {}x{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let error = scan_config_file_with(
        Path::new(".gitlab-ci.yml"),
        deep.as_bytes(),
        &ConfigOptions::default(),
    )
    .expect_err("deep nesting is refused");
    assert!(error.to_string().contains(".gitlab-ci.yml"), "{error}");
    // GitLab's own tags are read, not refused.
    let tagged = "
.setup:
  script: [make deps]
test:
  script:
    - !reference [.setup, script]
    - make test
";
    assert!(
        scan_config_file_with(
            Path::new(".gitlab-ci.yml"),
            tagged.as_bytes(),
            &ConfigOptions::default()
        )
        .is_ok()
    );
}
