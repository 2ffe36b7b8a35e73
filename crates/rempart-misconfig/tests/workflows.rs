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
        "name: ci\non:\n  pull_request:\n  push:\n    branches: [main]\npermissions:\n  contents: read\njobs:\n  build:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n      packages: write\n    steps:\n      - uses: {PINNED_CHECKOUT}\n      - uses: ./.github/actions/local\n      - name: title\n        env:\n          TITLE: ${{{{ github.event.pull_request.title }}}}\n        run: echo \"$TITLE\" ${{{{ github.sha }}}} ${{{{ github.event.pull_request.number }}}}\n"
    );
    assert!(check(&text).is_empty(), "{:?}", check(&text));
}

#[test]
fn permissions() {
    let default = format!(
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {PINNED_CHECKOUT}\n"
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
    let github_script = "on: issue_comment\npermissions: {}\njobs:\n  bot:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea\n        with:\n          script: |\n            console.log(\"${{ github.event.comment.body }}\")\n";
    assert_eq!(codes(github_script), ["CI-GHA-TEMPLATE-INJECTION"]);
}

#[test]
fn untrusted_checkout() {
    let workflow = |trigger: &str, reference: &str| {
        format!(
            "on: {trigger}\npermissions: {{contents: read}}\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {PINNED_CHECKOUT}\n        with:\n          ref: {reference}\n      - run: make test\n"
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
        "on: push\npermissions: {{}}\nenv:\n  ACTIONS_ALLOW_UNSECURE_COMMANDS: true\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {PINNED_CHECKOUT}\n  release:\n    uses: other-org/ci/.github/workflows/release.yml@2f7c1f1a0b4f0c2d3e4f5a6b7c8d9e0f1a2b3c4d\n    secrets: inherit\n  local:\n    uses: ./.github/workflows/reuse.yml\n    secrets: inherit\n"
    );
    assert_eq!(
        check(&text),
        [
            ("CI-GHA-UNSECURE-COMMANDS".to_owned(), 4),
            ("CI-GHA-SECRETS-INHERIT".to_owned(), 12)
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
