//! GitHub Actions workflow checks on small workflows written for the tests: each rule against a
//! workflow that trips it and near misses that must not (the same shapes done safely).

use rempart_misconfig::{ConfigKind, detect_kind, scan_config_file};
use std::path::Path;

/// `(code, line)` of each finding on `text` as `.github/workflows/ci.yml`.
fn check(text: &str) -> Vec<(String, u32)> {
    let path = Path::new(".github/workflows/ci.yml");
    assert_eq!(
        detect_kind(path, text.as_bytes()),
        Some(ConfigKind::GithubWorkflow)
    );
    scan_config_file(path, text.as_bytes())
        .unwrap()
        .into_iter()
        .map(|f| (f.id, f.location.line.unwrap_or(0)))
        .collect()
}

fn codes(text: &str) -> Vec<String> {
    let mut codes: Vec<String> = check(text).into_iter().map(|(code, _)| code).collect();
    codes.sort();
    codes.dedup();
    codes
}

const PINNED_CHECKOUT: &str = "actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11";

#[test]
fn a_hardened_workflow_is_clean() {
    let text = format!(
        "name: ci\non:\n  pull_request:\n  push:\n    branches: [main]\npermissions:\n  contents: read\njobs:\n  build:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n      packages: write\n    steps:\n      - uses: {PINNED_CHECKOUT}\n        with: {{persist-credentials: false}}\n      - uses: ./.github/actions/local\n      - name: title\n        env:\n          TITLE: ${{{{ github.event.pull_request.title }}}}\n        run: echo \"$TITLE\" ${{{{ github.sha }}}} ${{{{ github.event.pull_request.number }}}}\n      - run: docker build -t ghcr.io/acme/app:${{{{ github.sha }}}} .\n      - run: rempart image ghcr.io/acme/app:${{{{ github.sha }}}} --severity CRITICAL\n      - run: docker push ghcr.io/acme/app:${{{{ github.sha }}}}\n"
    );
    assert!(check(&text).is_empty(), "{:?}", check(&text));
}

#[test]
fn permissions() {
    let default = format!(
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {PINNED_CHECKOUT}\n        with: {{persist-credentials: false}}\n"
    );
    assert_eq!(
        check(&default),
        [("CI-GHA-DEFAULT-PERMISSIONS".to_owned(), 3)]
    );
    // Set on the job: bounded.
    let job_level = default.replace(
        "    runs-on",
        "    permissions: {contents: read}\n    runs-on",
    );
    assert!(check(&job_level).is_empty());
    let write_all = default.replace("on: push\n", "on: push\npermissions: write-all\n");
    assert_eq!(check(&write_all), [("CI-GHA-WRITE-ALL".to_owned(), 2)]);
}

#[test]
fn template_injection() {
    let run = |script: &str| {
        format!(
            "on: issues\npermissions: {{}}\njobs:\n  triage:\n    runs-on: ubuntu-latest\n    steps:\n      - name: greet\n        run: |\n          echo hello\n          {script}\n"
        )
    };
    for script in [
        "echo \"${{ github.event.issue.title }}\"",
        "echo ${{github.event['issue'].body}}",
        "git checkout ${{ github.head_ref }}",
        "echo '${{ github.event.commits[0].message }}'",
        "echo ${{ github.event.pull_request.head.ref || 'main' }}",
    ] {
        let found = check(&run(script));
        assert_eq!(
            found,
            [("CI-GHA-TEMPLATE-INJECTION".to_owned(), 10)],
            "{script}"
        );
    }
    for near_miss in [
        "echo ${{ github.event.issue.number }}",
        "echo ${{ github.sha }} ${{ github.repository }}",
        "echo '${{ github.event.issue.title }' literal",
        "echo \"$TITLE\" # github.event.issue.title",
        "echo ${{ toJSON('github.event.issue.title') }}",
    ] {
        assert!(check(&run(near_miss)).is_empty(), "{near_miss}");
    }
    // A step's outputs carry what it read: untrusted in a run outsiders start, not on push.
    let outputs = |trigger: &str| {
        check(&format!(
            "on: {trigger}\npermissions: {{}}\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - id: changed\n        run: ./list-changed.sh\n      - run: eslint ${{{{ steps.changed.outputs.files }}}}\n"
        ))
    };
    assert_eq!(
        outputs("pull_request"),
        [("CI-GHA-TEMPLATE-INJECTION".to_owned(), 9)]
    );
    assert!(outputs("push").is_empty());
    let github_script = "on: issue_comment\npermissions: {}\njobs:\n  bot:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea\n        with:\n          script: |\n            console.log(\"${{ github.event.comment.body }}\")\n";
    assert_eq!(codes(github_script), ["CI-GHA-TEMPLATE-INJECTION"]);
}

#[test]
fn untrusted_checkout() {
    let workflow = |trigger: &str, reference: &str| {
        format!(
            "on: {trigger}\npermissions: {{contents: read}}\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {PINNED_CHECKOUT}\n        with:\n          ref: {reference}\n          persist-credentials: false\n      - run: make test\n"
        )
    };
    for reference in [
        "${{ github.event.pull_request.head.sha }}",
        "${{ github.head_ref }}",
        "refs/pull/${{ github.event.number }}/merge",
    ] {
        assert_eq!(
            check(&workflow("pull_request_target", reference)),
            [("CI-GHA-UNTRUSTED-CHECKOUT".to_owned(), 9)],
            "{reference}"
        );
    }
    // The same checkout on pull_request runs without secrets; the base ref is trusted code.
    assert!(
        check(&workflow(
            "pull_request",
            "${{ github.event.pull_request.head.sha }}"
        ))
        .is_empty()
    );
    assert!(check(&workflow("pull_request_target", "${{ github.base_ref }}")).is_empty());
    let workflow_run = workflow("workflow_run", "${{ github.event.workflow_run.head_sha }}");
    assert_eq!(codes(&workflow_run), ["CI-GHA-UNTRUSTED-CHECKOUT"]);
}

#[test]
fn unpinned_actions_and_images() {
    let text = "on: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    container: node:20\n    services:\n      db:\n        image: postgres@sha256:0f7d5e8e5e4e4a0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081\n    steps:\n      - uses: actions/checkout@v4\n      - uses: some-org/deploy@main\n      - uses: docker://alpine:3.20\n      - uses: ./local-action\n  call:\n    uses: other-org/ci/.github/workflows/build.yml@v1\n";
    let found = check(text);
    let lines: Vec<u32> = found
        .iter()
        .filter(|(code, _)| code == "CI-GHA-UNPINNED")
        .map(|(_, line)| *line)
        .collect();
    assert_eq!(lines, [6, 11, 12, 13, 16], "{found:?}");
}

#[test]
fn unsecure_commands_and_inherited_secrets() {
    let text = format!(
        "on: push\npermissions: {{}}\nenv:\n  ACTIONS_ALLOW_UNSECURE_COMMANDS: true\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {PINNED_CHECKOUT}\n        with: {{persist-credentials: false}}\n  release:\n    uses: other-org/ci/.github/workflows/release.yml@2f7c1f1a0b4f0c2d3e4f5a6b7c8d9e0f1a2b3c4d\n    secrets: inherit\n  local:\n    uses: ./.github/workflows/reuse.yml\n    secrets: inherit\n"
    );
    assert_eq!(
        check(&text),
        [
            ("CI-GHA-UNSECURE-COMMANDS".to_owned(), 4),
            ("CI-GHA-SECRETS-INHERIT".to_owned(), 13)
        ]
    );
}

#[test]
fn only_workflow_files_are_workflows_and_hostile_yaml_is_bounded() {
    let text = b"on: push\njobs: {}\n";
    assert_eq!(detect_kind(Path::new("app/ci.yml"), text), None);
    assert_eq!(
        detect_kind(Path::new("repo/.github/workflows/release.yaml"), text),
        Some(ConfigKind::GithubWorkflow)
    );
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\non: [*g]\n";
    let error = scan_config_file(Path::new(".github/workflows/bomb.yml"), bomb.as_bytes())
        .expect_err("an alias bomb is refused");
    assert!(error.to_string().contains("bomb.yml"), "{error}");
}

/// A workflow whose `build` job runs `steps` (indented as steps), with read-only defaults.
fn job_with(trigger: &str, permissions: &str, steps: &str) -> String {
    format!(
        "on: {trigger}\npermissions: {{contents: read}}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    permissions: {permissions}\n    steps:\n{steps}"
    )
}

#[test]
fn images_pushed_before_any_scan_or_signature() {
    let build_push = "      - uses: docker/build-push-action@4f58ea79222b3b9dc2c8bbdd6debcef730109a75\n        with:\n          push: ${{ github.event_name != 'pull_request' }}\n          tags: ghcr.io/acme/app:latest\n";
    let scan = "      - run: trivy image --exit-code 1 ghcr.io/acme/app:latest\n";
    let text = job_with("push", "{packages: write}", &format!("{build_push}{scan}"));
    assert_eq!(check(&text), [("CI-GHA-PUSH-WITHOUT-SCAN".to_owned(), 8)]);
    // The same with the scan first, or signing first, is vetted.
    let scanned = job_with(
        "push",
        "{packages: write}",
        &format!(
            "      - run: docker build -t ghcr.io/acme/app:latest .\n{scan}      - run: docker push ghcr.io/acme/app:latest\n"
        ),
    );
    assert!(check(&scanned).is_empty(), "{:?}", check(&scanned));
    // A scan in a job the pushing job needs counts; one in an unrelated job does not.
    let jobs = |needs: &str| {
        format!(
            "on: push\npermissions: {{contents: read}}\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n      - run: rempart image --input image.tar\n  publish:\n    runs-on: ubuntu-latest\n{needs}    permissions: {{packages: write}}\n    steps:\n      - run: skopeo copy oci-archive:image.tar docker://ghcr.io/acme/app:1\n"
        )
    };
    assert!(check(&jobs("    needs: [scan]\n")).is_empty());
    assert_eq!(
        check(&jobs("")),
        [("CI-GHA-PUSH-WITHOUT-SCAN".to_owned(), 12)]
    );
    // Building without pushing is not a push.
    let local = job_with(
        "pull_request",
        "{}",
        "      - run: docker build -t app .\n      - uses: docker/build-push-action@4f58ea79222b3b9dc2c8bbdd6debcef730109a75\n        with: {push: false}\n",
    );
    assert!(check(&local).is_empty(), "{:?}", check(&local));
}

#[test]
fn write_scopes_no_step_uses() {
    let test_job = job_with(
        "push",
        "{contents: read, packages: write}",
        "      - run: make test\n",
    );
    assert_eq!(check(&test_job), [("CI-GHA-UNUSED-WRITE".to_owned(), 6)]);
    // Inherited from the workflow: reported at the workflow's grant.
    let inherited = "on: push\npermissions:\n  contents: read\n  packages: write\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n  call:\n    uses: ./.github/workflows/publish.yml\n";
    assert_eq!(check(inherited), [("CI-GHA-UNUSED-WRITE".to_owned(), 4)]);
    for publishing in [
        "      - run: npm publish --access public\n",
        "      - run: ./gradlew publish\n",
        "      - uses: docker/login-action@74a5d142397b4f367a81961eba4e8cd7edddf772\n        with: {registry: ghcr.io}\n",
    ] {
        let text = job_with("push", "{contents: read, packages: write}", publishing);
        assert!(check(&text).is_empty(), "{publishing}: {:?}", check(&text));
    }
    assert!(check(&job_with("push", "{packages: read}", "      - run: make\n")).is_empty());
}

#[test]
fn credentials_left_by_checkout_and_secrets_in_logs() {
    let checkout = format!("      - uses: {PINNED_CHECKOUT}\n      - run: npm test\n");
    assert_eq!(
        check(&job_with("push", "{}", &checkout)),
        [("CI-GHA-PERSIST-CREDENTIALS".to_owned(), 8)]
    );
    // A job that pushes commits needs the token where git finds it.
    let pushing = format!(
        "      - uses: {PINNED_CHECKOUT}\n      - run: |\n          git commit -am 'bump'\n          git push origin HEAD\n"
    );
    assert!(check(&job_with("push", "{contents: write}", &pushing)).is_empty());

    let secrets = |line: &str| {
        job_with(
            "push",
            "{}",
            &format!("      - run: |\n          make\n          {line}\n"),
        )
    };
    for printed in [
        "echo ${{ secrets.NPM_TOKEN }} | base64",
        "printf '%s' \"${{ secrets['DEPLOY_KEY'] }}\"",
        "cat <<< '${{ toJSON(secrets) }}' > all.json",
    ] {
        assert_eq!(
            check(&secrets(printed)),
            [("CI-GHA-SECRET-IN-LOG".to_owned(), 10)],
            "{printed}"
        );
    }
    for near_miss in [
        "echo \"token set: ${{ secrets.NPM_TOKEN != '' }}\" > /dev/null && deploy",
        "deploy --token ${{ secrets.NPM_TOKEN }}",
        "echo ${{ github.sha }}",
    ] {
        assert!(check(&secrets(near_miss)).is_empty(), "{near_miss}");
    }
}

#[test]
fn self_hosted_runners_on_pull_requests() {
    let workflow = |trigger: &str, runs_on: &str| {
        format!(
            "on: {trigger}\npermissions: {{}}\njobs:\n  test:\n    runs-on: {runs_on}\n    steps:\n      - run: make test\n"
        )
    };
    for runs_on in [
        "self-hosted",
        "[self-hosted, linux, x64]",
        "{group: ci, labels: [self-hosted]}",
    ] {
        assert_eq!(
            check(&workflow("pull_request", runs_on)),
            [("CI-GHA-SELF-HOSTED-PR".to_owned(), 5)],
            "{runs_on}"
        );
        assert!(check(&workflow("push", runs_on)).is_empty(), "{runs_on}");
    }
    assert!(check(&workflow("pull_request", "ubuntu-latest")).is_empty());
    assert_eq!(
        codes(&workflow("[pull_request_target, push]", "[self-hosted]")),
        ["CI-GHA-SELF-HOSTED-PR"]
    );
}

/// The public-style workflows of `fixtures/workflows` (the ones `bench/workflows-compare.sh`
/// also runs an independent analyzer on): every finding, by file, code and line.
#[test]
fn public_style_workflows_get_exactly_these_findings() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workflows/.github/workflows");
    let mut found = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let shown = Path::new(".github/workflows").join(&name);
        for finding in scan_config_file(&shown, &text).unwrap() {
            found.push(format!(
                "{name}:{}:{}",
                finding.location.line.unwrap_or(0),
                finding.id
            ));
        }
    }
    found.sort();
    assert_eq!(
        found,
        [
            "deploy.yml:12:CI-GHA-UNPINNED",
            "deploy.yml:18:CI-GHA-SECRET-IN-LOG",
            "deploy.yml:21:CI-GHA-UNPINNED",
            "deploy.yml:22:CI-GHA-SECRETS-INHERIT",
            "deploy.yml:8:CI-GHA-UNSECURE-COMMANDS",
            "lint-comment.yml:15:CI-GHA-KNOWN-BAD-ACTION",
            "lint-comment.yml:15:CI-GHA-UNPINNED",
            "lint-comment.yml:17:CI-GHA-CACHE-POISONING",
            "lint-comment.yml:20:CI-GHA-TEMPLATE-INJECTION",
            "lint-comment.yml:21:CI-GHA-KNOWN-BAD-ACTION",
            "pr-target.yml:13:CI-GHA-UNTRUSTED-CHECKOUT",
            "pr-target.yml:9:CI-GHA-SELF-HOSTED-PR",
            "release-unvetted.yml:13:CI-GHA-PERSIST-CREDENTIALS",
            "release-unvetted.yml:13:CI-GHA-UNPINNED",
            "release-unvetted.yml:14:CI-GHA-SECRET-TO-UNPINNED",
            "release-unvetted.yml:14:CI-GHA-UNPINNED",
            "release-unvetted.yml:19:CI-GHA-PUSH-WITHOUT-SCAN",
            "release-unvetted.yml:19:CI-GHA-UNPINNED",
            "release-unvetted.yml:27:CI-GHA-PERSIST-CREDENTIALS",
            "release-unvetted.yml:27:CI-GHA-UNPINNED",
            "release-unvetted.yml:8:CI-GHA-UNUSED-WRITE",
            "triage.yml:10:CI-GHA-WRITE-ALL",
            "triage.yml:13:CI-GHA-TEMPLATE-INJECTION",
            "triage.yml:14:CI-GHA-TEMPLATE-INJECTION",
            "triage.yml:18:CI-GHA-TEMPLATE-INJECTION",
        ]
    );
}

#[test]
fn known_bad_actions_caches_and_secrets_given_to_unpinned_actions() {
    let step = |trigger: &str, steps: &str| job_with(trigger, "{}", steps);
    let compromised = |reference: &str| {
        codes(&step(
            "push",
            &format!("      - uses: tj-actions/changed-files@{reference}\n"),
        ))
    };
    assert!(compromised("v45").contains(&"CI-GHA-KNOWN-BAD-ACTION".to_owned()));
    // The malicious commit itself, and an audited one that is not.
    assert_eq!(
        compromised("0e58ed8671d6b60d0890c21b07f8835ace038e67"),
        ["CI-GHA-KNOWN-BAD-ACTION"]
    );
    assert!(compromised("2f7c1f1a0b4f0c2d3e4f5a6b7c8d9e0f1a2b3c4d").is_empty());
    assert_eq!(
        codes(&step(
            "push",
            "      - uses: actions/create-release@0cb9c9b65d5d1901c1f53e5e66eaf4afd303e70e\n"
        )),
        ["CI-GHA-KNOWN-BAD-ACTION"]
    );

    let cache = "      - uses: actions/cache@5a3ec84eff668545956fd18022155c47e93e2684\n        with: {path: ~/.npm, key: npm}\n";
    assert_eq!(
        check(&step("pull_request_target", cache)),
        [("CI-GHA-CACHE-POISONING".to_owned(), 8)]
    );
    assert!(check(&step("push", cache)).is_empty());
    let restore_only = cache.replace("actions/cache@", "actions/cache/restore@");
    assert!(check(&step("issue_comment", &restore_only)).is_empty());
    let setup_without_cache = "      - uses: actions/setup-node@1d0ff469b7ec7b3cb9d8673fde0c81c44821de2a\n        with: {node-version: 22}\n";
    assert!(check(&step("workflow_run", setup_without_cache)).is_empty());

    let given = |uses: &str| {
        check(&step(
            "push",
            &format!("      - uses: {uses}\n        with:\n          token: ${{{{ secrets.DEPLOY_TOKEN }}}}\n"),
        ))
        .into_iter()
        .filter(|(code, _)| code == "CI-GHA-SECRET-TO-UNPINNED")
        .collect::<Vec<_>>()
    };
    assert_eq!(
        given("some-org/deploy@v2"),
        [("CI-GHA-SECRET-TO-UNPINNED".to_owned(), 8)]
    );
    assert!(given("some-org/deploy@2f7c1f1a0b4f0c2d3e4f5a6b7c8d9e0f1a2b3c4d").is_empty());
    assert!(given("./.github/actions/deploy").is_empty());
}
