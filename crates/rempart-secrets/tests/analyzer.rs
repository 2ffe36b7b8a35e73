//! The analyzer as the walker and the engine use it: interest, binary skips, findings with
//! lines, image config findings, configuration, fingerprints.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rempart_core::{
    AnalysisOutput, FileAnalyzer, FileMeta, Finding, FindingDetails, HistoryEntry, ImageAnalyzer,
    ImageContext, ImageMetadata, Interest, ScannerKind, Severity, SkipReason,
};
use rempart_secrets::{DEFAULT_MAX_FILE_SIZE, SecretConfig, SecretError, SecretScanner};

fn meta(path: &str, size: usize) -> FileMeta<'_> {
    FileMeta {
        path,
        size: size as u64,
        mode: 0o644,
    }
}

/// Runs the analyzer as the engine does: whole files under their cap, big ones streamed in
/// chunks, files over the cap reported as too large.
fn analyze(scanner: &SecretScanner, path: &str, content: &[u8]) -> AnalysisOutput {
    let mut out = AnalysisOutput::default();
    let file = meta(path, content.len());
    match scanner.interest(&file) {
        Interest::Whole { max_bytes } if content.len() as u64 <= max_bytes => {
            scanner.analyze(&file, content, &mut out);
        }
        Interest::Whole { .. } => out.skipped.push(rempart_core::SkippedEntry {
            path: path.to_owned(),
            layer: None,
            reason: SkipReason::TooLarge,
            detail: None,
        }),
        Interest::Stream => {
            let mut sink = scanner.open_stream(&file).expect("a sink");
            // The walker's chunk size does not line up with anything.
            for chunk in content.chunks(100_003) {
                sink.write(chunk);
            }
            sink.finish(&mut out);
        }
        Interest::Skip => {}
    }
    out
}

/// A GitHub token assembled at run time so this file holds no credential-shaped literal.
fn github_token() -> String {
    format!("{}{}", "ghp_", "Zq3V8xL2mN5pR7tY1wK4bC6dF9gH0jS2aE4u")
}

fn secret_details(finding: &Finding) -> (&str, Option<&str>) {
    match &finding.details {
        FindingDetails::Secret { redacted, origin } => (redacted.as_str(), origin.as_deref()),
        other => panic!("not a secret finding: {other:?}"),
    }
}

#[test]
fn finding_shape_and_line_number() {
    let scanner = SecretScanner::builtin();
    let token = github_token();
    let text = format!("# deploy settings\n\nexport GH_TOKEN={token}\n");
    let out = analyze(&scanner, "srv/app/.env", text.as_bytes());
    assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
    let f = &out.findings[0];
    assert_eq!(f.scanner, ScannerKind::Secret);
    assert_eq!(f.id, "SEC-GITHUB-PAT");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.location.path, "srv/app/.env");
    assert_eq!(f.location.line, Some(3));
    assert_eq!(f.location.layer, None);
    assert!(!f.location.deleted);
    let (redacted, origin) = secret_details(f);
    assert_eq!(redacted, format!("ghp_{}", "*".repeat(20)));
    assert_eq!(origin, None);
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains(&token[4..]), "secret in serialized output");
}

#[test]
fn lines_are_counted_for_each_of_several_findings() {
    let scanner = SecretScanner::builtin();
    let token = github_token();
    let key_id = format!("{}{}", "AKIA", "QX4Z7NWB3R2T5Y6U");
    let text = format!("a\n{token}\nb\nc\nid = {key_id}\n{token}");
    let found: Vec<(String, Option<u32>)> = scanner
        .scan_text("f", text.as_bytes())
        .into_iter()
        .map(|f| (f.id, f.location.line))
        .collect();
    assert_eq!(
        found,
        vec![
            ("SEC-GITHUB-PAT".to_owned(), Some(2)),
            ("SEC-AWS-ACCESS-KEY-ID".to_owned(), Some(5)),
            ("SEC-GITHUB-PAT".to_owned(), Some(6)),
        ]
    );
}

/// The generic rules search around their anchor words, and the whole file when it has too many
/// of them to list: the same assignment is found either way, on the same line.
#[test]
fn generic_assignments_are_found_with_few_or_countless_anchor_words() {
    let scanner = SecretScanner::builtin();
    let value = format!("{}{}", "Zq3V8xL2mN5pR7tY", "1wK4bC6dF9gH0jS2");
    let line = format!("client_secret = \"{value}\"\n");
    for filler_lines in [1, 70_000] {
        let text = "token\n".repeat(filler_lines) + &line;
        let found: Vec<(String, Option<u32>)> = scanner
            .scan_text("settings.py", text.as_bytes())
            .into_iter()
            .map(|f| (f.id, f.location.line))
            .collect();
        let line_number = u32::try_from(filler_lines + 1).expect("small");
        assert_eq!(
            found,
            vec![("SEC-GENERIC-API-KEY".to_owned(), Some(line_number))],
            "{filler_lines} lines of anchor words first"
        );
    }
}

#[test]
fn interest_respects_size_cap_allowlists_and_empty_files() {
    let scanner = SecretScanner::builtin();
    assert_eq!(
        scanner.interest(&meta("app/config.yml", 10)),
        Interest::Whole {
            max_bytes: 10 * 1024 * 1024
        }
    );
    assert_eq!(DEFAULT_MAX_FILE_SIZE, 256 * 1024 * 1024);
    assert_eq!(scanner.interest(&meta("app/empty", 0)), Interest::Skip);
    assert_eq!(
        scanner.interest(&meta("usr/share/doc/openssl/README", 10)),
        Interest::Skip
    );
    // A security scanner's data: vendors' default logins that it tries, published on purpose.
    assert_eq!(
        scanner.interest(&meta(
            "usr/share/nmap/nselib/data/http-default-accounts-fingerprints.lua",
            10
        )),
        Interest::Skip
    );
    assert_eq!(
        scanner.interest(&meta(
            "usr/local/lib/python3.12/site-packages/requests/tests/certs/server.key",
            10
        )),
        Interest::Skip
    );
    // The application's own tests are not third-party fixtures.
    assert!(matches!(
        scanner.interest(&meta("app/tests/settings.py", 10)),
        Interest::Whole { .. }
    ));

    let config = SecretConfig::from_yaml("max_file_size: 1024\n", "test").unwrap();
    let small = SecretScanner::new(config).unwrap();
    assert_eq!(
        small.interest(&meta("a", 5)),
        Interest::Whole { max_bytes: 1024 }
    );
}

#[test]
fn binary_files_are_recorded_as_skipped() {
    let scanner = SecretScanner::builtin();
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.extend_from_slice(github_token().as_bytes());
    let out = analyze(&scanner, "usr/bin/tool", &elf);
    assert!(out.findings.is_empty());
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(out.skipped[0].path, "usr/bin/tool");
    assert_eq!(out.skipped[0].reason, SkipReason::Binary);

    // A NUL after the first 8 KiB does not make a file binary.
    let mut text = vec![b'#'; 9000];
    text.push(b'\n');
    text.extend_from_slice(github_token().as_bytes());
    text.push(0);
    let out = analyze(&scanner, "app/data.txt", &text);
    assert!(out.skipped.is_empty());
    assert_eq!(out.findings.len(), 1);
}

#[test]
fn image_config_env_labels_and_build_args() {
    let scanner = SecretScanner::builtin();
    let token = github_token();
    let npm = format!("{}{}", "npm_", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
    let password = format!("{}{}", "Wq7#kd", "9vL2xP");
    let mut labels = BTreeMap::new();
    labels.insert(
        "org.opencontainers.image.source".to_owned(),
        "https://github.com/acme/app".to_owned(),
    );
    labels.insert("ci.token".to_owned(), token.clone());
    let metadata = ImageMetadata {
        name: "acme/app:1".to_owned(),
        env: vec![
            "PATH=/usr/local/bin:/usr/bin".to_owned(),
            "PYTHON_GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D".to_owned(),
            format!("DB_PASSWORD={password}"),
            "MYSQL_ROOT_PASSWORD=wordpress".to_owned(),
            // Environment of official images: versions, checksums, paths, references.
            "PYTHON_SHA256=07a0b3cbbb1a0f4c0b1e5b1b1a5c8cbd5d8a1f1a8c5d9b1e5e2f0b0c3a4d5e6f"
                .to_owned(),
            "GOSU_VERSION=1.17".to_owned(),
            "PGDATA=/var/lib/postgresql/data".to_owned(),
            "MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db_root_password".to_owned(),
            "NODE_AUTH_TOKEN=${NPM_TOKEN}".to_owned(),
            "GIT_TERMINAL_PROMPT_TOKEN=false".to_owned(),
        ],
        labels,
        history: vec![
            HistoryEntry {
                created_by: "/bin/sh -c #(nop) ADD file:abc in / ".to_owned(),
                ..HistoryEntry::default()
            },
            HistoryEntry {
                created_by: format!("|2 NPM_TOKEN={npm} VERSION=1.2 /bin/sh -c npm ci"),
                ..HistoryEntry::default()
            },
        ],
        ..ImageMetadata::default()
    };
    let context = ImageContext {
        metadata: &metadata,
        inventory: &[],
        os: None,
        packages: &[],
        go_symbols: &[],
    };
    let mut findings = Vec::new();
    ImageAnalyzer::analyze_image(&scanner, &context, &mut findings).unwrap();
    let summary: Vec<(String, String, Option<u32>, Option<String>)> = findings
        .iter()
        .map(|f| {
            (
                f.id.clone(),
                f.location.path.clone(),
                f.location.line,
                secret_details(f).1.map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "SEC-GENERIC-PASSWORD".into(),
                String::new(),
                Some(3),
                Some("env".into())
            ),
            (
                "SEC-ENV-CREDENTIAL".into(),
                String::new(),
                Some(4),
                Some("env".into())
            ),
            (
                "SEC-GITHUB-PAT".into(),
                String::new(),
                Some(1),
                Some("label".into())
            ),
            (
                "SEC-NPM-ACCESS-TOKEN".into(),
                String::new(),
                Some(2),
                Some("history".into())
            ),
        ]
    );
    let all = format!("{findings:?}");
    assert!(!all.contains(&password) && !all.contains(&npm) && !all.contains(&token));
}

#[test]
fn build_arg_with_generic_name_is_found() {
    let scanner = SecretScanner::builtin();
    let value = format!("{}{}", "f3Kd9QmZ", "x7Lp2VnR8sT4");
    let metadata = ImageMetadata {
        history: vec![HistoryEntry {
            created_by: format!("|1 API_TOKEN={value} /bin/sh -c ./fetch.sh"),
            ..HistoryEntry::default()
        }],
        ..ImageMetadata::default()
    };
    let context = ImageContext {
        metadata: &metadata,
        inventory: &[],
        os: None,
        packages: &[],
        go_symbols: &[],
    };
    let mut findings = Vec::new();
    scanner.analyze_image(&context, &mut findings).unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].id, "SEC-GENERIC-API-KEY");
}

#[test]
fn custom_rules_allowlists_and_disable_from_yaml() {
    let yaml = r#"
rules:
  - id: ACME-API-KEY
    title: Acme API key
    severity: high
    keywords: [acme_live_]
    regex: 'acme_live_(?P<secret>[a-z0-9]{24})'
    entropy: 3.0
allow:
  paths: ["srv/fixtures/**"]
  values: ["^qqqq"]
disable: [SEC-JWT]
"#;
    let config = SecretConfig::from_yaml(yaml, "secrets.yaml").unwrap();
    let scanner = SecretScanner::new(config).unwrap();
    assert!(
        scanner
            .rules()
            .iter()
            .any(|r| r.code == "ACME-API-KEY" && !r.builtin)
    );
    assert!(!scanner.rules().iter().any(|r| r.code == "SEC-JWT"));

    let key = format!("{}{}", "acme_live_", "k3j5h7g9f1d2s4a6p8o0i2u4");
    let found = scanner.scan_text("srv/app/conf", key.as_bytes());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, "ACME-API-KEY");
    assert_eq!(found[0].severity, Severity::High);
    // The prefilter ignores case, the regex does not: an upper-cased key is not this rule.
    assert_eq!(
        scanner.scan_text("a", key.to_uppercase().as_bytes()).len(),
        0
    );

    assert_eq!(
        scanner.interest(&meta("srv/fixtures/a/b.json", 3)),
        Interest::Skip
    );

    let allowed = format!("{}{}", "ghp_", "qqqqV8xL2mN5pR7tY1wK4bC6dF9gH0jS2aE4u");
    assert!(scanner.scan_text("a", allowed.as_bytes()).is_empty());
    assert_eq!(scanner.scan_text("a", github_token().as_bytes()).len(), 1);
}

#[test]
fn configuration_errors_name_their_input() {
    let err = |yaml: &str| {
        SecretConfig::from_yaml(yaml, "cfg.yaml")
            .and_then(SecretScanner::new)
            .unwrap_err()
    };
    let rule = |extra: &str| {
        format!(
            "rules:\n  - id: X-1\n    title: t\n    severity: high\n    keywords: [k]\n    regex: 'k'\n{extra}"
        )
    };
    assert!(
        matches!(err("rules: [\n"), SecretError::Yaml { ref origin, .. } if origin == "cfg.yaml")
    );
    assert!(matches!(err("colour: red\n"), SecretError::Yaml { .. }));
    assert!(
        matches!(err("disable: [SEC-NOPE]\n"), SecretError::UnknownRule { ref rule } if rule == "SEC-NOPE")
    );
    assert!(matches!(
        err("max_file_size: 0\n"),
        SecretError::InvalidMaxFileSize(0)
    ));
    assert!(matches!(
        err("allow:\n  values: ['(']\n"),
        SecretError::InvalidAllowValue { .. }
    ));

    let bad_regex = rule("").replace("regex: 'k'", "regex: 'k(('");
    let e = err(&bad_regex);
    assert!(
        matches!(&e, SecretError::InvalidRegex { rule, .. } if rule == "X-1"),
        "{e}"
    );
    assert!(e.to_string().contains("X-1"));

    let no_keywords = rule("").replace("keywords: [k]", "keywords: []");
    assert!(matches!(err(&no_keywords), SecretError::InvalidRule { .. }));
    let bad_severity = rule("").replace("severity: high", "severity: severe");
    assert!(matches!(
        err(&bad_severity),
        SecretError::InvalidRule { .. }
    ));
    assert!(matches!(
        err(&rule("    entropy: 9\n")),
        SecretError::InvalidRule { .. }
    ));
    let clash = rule("").replace("id: X-1", "id: SEC-GITHUB-PAT");
    assert!(matches!(err(&clash), SecretError::DuplicateRule { .. }));

    // Hostile input: a regex whose compiled form is huge is refused, not built.
    let huge = rule("").replace("regex: 'k'", "regex: '(?:[a-z]{1000}){1000}'");
    assert!(matches!(err(&huge), SecretError::InvalidRegex { .. }));
    // Oversized input is refused before parsing.
    let big = format!("disable: [{}]\n", "SEC-JWT, ".repeat(200_000));
    assert!(matches!(
        SecretConfig::from_yaml(&big, "big.yaml"),
        Err(SecretError::ConfigTooLarge { .. })
    ));
}

#[test]
fn config_loads_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.yaml");
    std::fs::write(&path, "disable: [SEC-JWT]\nmax_file_size: 2048\n").unwrap();
    let config = SecretConfig::load(&path).unwrap();
    assert_eq!(config.disable, vec!["SEC-JWT".to_owned()]);
    assert_eq!(config.max_file_size, Some(2048));
    let missing = SecretConfig::load(&dir.path().join("nope.yaml")).unwrap_err();
    assert!(missing.to_string().contains("nope.yaml"));
}

#[test]
fn fingerprint_follows_the_rule_set() {
    let builtin = SecretScanner::builtin();
    assert_eq!(
        builtin.fingerprint(),
        SecretScanner::builtin().fingerprint()
    );
    assert!(builtin.fingerprint().starts_with(env!("CARGO_PKG_VERSION")));
    let variants = [
        "disable: [SEC-JWT]\n",
        "allow:\n  paths: ['x/**']\n",
        "allow:\n  values: ['^x']\n",
        "max_file_size: 4096\n",
        "rules:\n  - {id: A-1, title: t, severity: low, keywords: [k], regex: k}\n",
    ];
    for yaml in variants {
        let other = SecretScanner::new(SecretConfig::from_yaml(yaml, "t").unwrap()).unwrap();
        assert_ne!(other.fingerprint(), builtin.fingerprint(), "{yaml}");
    }
    assert_eq!(FileAnalyzer::name(&builtin), "secrets");
    assert_eq!(ImageAnalyzer::name(&builtin), "secrets");
}

#[test]
fn rules_have_docs_titles_and_unique_codes() {
    let rules = rempart_secrets::builtin_rules();
    assert!(rules.len() >= 80, "{}", rules.len());
    let mut codes = std::collections::BTreeSet::new();
    for rule in &rules {
        assert!(rule.code.starts_with("SEC-"), "{}", rule.code);
        assert!(codes.insert(rule.code.clone()), "duplicate {}", rule.code);
        assert!(
            !rule.title.is_empty() && rule.doc.len() > 60,
            "{}",
            rule.code
        );
        assert!(rule.builtin);
    }
    for (glob, reason) in rempart_secrets::builtin_allowed_paths() {
        assert!(!glob.is_empty() && !reason.is_empty());
    }
}

#[test]
fn per_file_findings_are_bounded() {
    let scanner = SecretScanner::builtin();
    let mut text = String::new();
    for i in 100..150 {
        for prefix in ["ghp_", "gho_", "ghs_", "ghr_"] {
            writeln!(text, "{prefix}Zq3V8xL2mN5pR7tY1wK4bC6dF9gH0jS{i}xy").unwrap();
        }
    }
    let found = scanner.scan_text("f", text.as_bytes());
    // 4 rules x 32 matches, cut to 100 per file.
    assert_eq!(found.len(), 100);
    let one_rule: String = text
        .lines()
        .filter(|l| l.starts_with("ghp_"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(scanner.scan_text("f", one_rule.as_bytes()).len(), 32);
}

#[test]
fn one_secret_gives_one_finding() {
    let scanner = SecretScanner::builtin();
    let npm = format!("{}{}", "npm_", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
    let token = github_token();
    let cases = [
        (
            format!("//registry.npmjs.org/:_authToken={npm}"),
            "SEC-NPM-ACCESS-TOKEN",
        ),
        (
            format!("git clone https://x-access-token:{token}@github.com/acme/app"),
            "SEC-GITHUB-PAT",
        ),
        (
            format!("curl -H 'Authorization: token {token}' https://api.github.com"),
            "SEC-GITHUB-PAT",
        ),
        (format!("GITHUB_TOKEN={token}"), "SEC-GITHUB-PAT"),
    ];
    for (text, id) in cases {
        let found: Vec<String> = scanner
            .scan_text("f", text.as_bytes())
            .into_iter()
            .map(|f| f.id)
            .collect();
        assert_eq!(found, vec![id.to_owned()], "{text}");
    }
}

#[test]
fn source_code_declarations_are_not_secrets() {
    let scanner = SecretScanner::builtin();
    let lines = [
        "pub const ERROR_CONNECTED_OTHER_PASSWORD: WIN32_ERROR = 2108u32;",
        "pub const InheritPrivateKey: X509RequestInheritOptions = 3i32;",
        "    pub Password: super::super::Win32::Foundation::UNICODE_STRING,",
        "    ///     .all(\"https://Aladdin:opensesame@localhost:8887\")",
        "assert_eq!(url.as_str(), \"ftp://user1:secre1@example.com/\");",
        // axios lib/core/mergeConfig.js
        "    cancelToken: defaultToConfig2,",
        "    withXSRFToken: defaultToConfig2,",
        // lynis's permission table: `file:PATH:MODE:OWNER:GROUP:OS:`.
        "file:/etc/passwd:644:root:root:Linux:",
        "file:/etc/shadow-:640:root:shadow:Linux:",
    ];
    for line in lines {
        assert!(
            scanner.scan_text("src/lib.rs", line.as_bytes()).is_empty(),
            "{line}"
        );
    }
    // The same shapes with a literal value are still found.
    let value = format!("{}{}", "Rk8vQ2", "xL5mZ9");
    let found = scanner.scan_text(
        "src/lib.rs",
        format!("let db_password = \"{value}\";").as_bytes(),
    );
    assert_eq!(found.len(), 1);
}

/// Findings a cap cut short are said to be cut, never dropped in silence.
#[test]
fn findings_cut_by_a_cap_are_noted() {
    let scanner = SecretScanner::builtin();
    // 40 distinct tokens of one rule: over the per-rule cap of 32.
    let mut text = String::new();
    for i in 0..40 {
        let token = format!("ghp_Zq3V8xL2mN5pR7tY1wK4bC6dF9gH0jS{i:05}");
        writeln!(text, "token{i} = {token}").unwrap();
    }
    let out = analyze(&scanner, "app/tokens.txt", text.as_bytes());
    assert_eq!(out.findings.len(), 32, "{:?}", out.findings.len());
    let note = out
        .skipped
        .iter()
        .find(|s| s.reason == SkipReason::TooManyFindings)
        .expect("the cap is noted");
    assert_eq!(note.path, "app/tokens.txt");
    assert!(
        note.detail.as_deref().unwrap().contains("SEC-GITHUB-PAT"),
        "{note:?}"
    );

    // Under the cap: no note.
    let out = analyze(
        &scanner,
        "app/one.txt",
        format!("t = {}\n", github_token()).as_bytes(),
    );
    assert_eq!(out.findings.len(), 1);
    assert!(out.skipped.is_empty());
}

/// Documentation shows how an API is called, credentials included: a docstring, a doctest or a
/// doc comment holds examples. The same URL in configuration, in code or in a plain comment is
/// a credential, and a vendor-format token is reported wherever it sits.
#[test]
fn credentials_in_documentation_are_examples() {
    let scanner = SecretScanner::builtin();
    let urls_py = "def url_parse(url):\n    \"\"\"Parses a URL.\n\n    \
                   >>> url_parse('http://%C3%BCser:p%C3%A4ssword@xn--n3h.net/')\n    \
                   >>> url_fix('http://admin:Zx81kQ@internal.corp:8080/')\n    \"\"\"\n";
    assert!(
        scanner
            .scan_text("werkzeug/urls.py", urls_py.as_bytes())
            .is_empty()
    );
    let doctest = "    >>> connect('amqp://celery:Zx81kQ7Lm@rabbit.internal:5672//')\n";
    assert!(
        scanner
            .scan_text("app/queue.py", doctest.as_bytes())
            .is_empty()
    );
    let rust_doc =
        "/// let db = connect(\"postgres://app:Zx81kQ7Lm@db.internal/app\");\nfn f() {}\n";
    assert!(
        scanner
            .scan_text("src/db.rs", rust_doc.as_bytes())
            .is_empty()
    );
    let javadoc = "/**\n * Example: {@code jdbc:mysql://app:Zx81kQ7Lm@db.internal/app}\n */\n";
    assert!(
        scanner
            .scan_text("src/Db.java", javadoc.as_bytes())
            .is_empty()
    );
    // Hosts reserved for documentation (RFC 2606) cannot be logged into.
    let reserved = "BROKER_URL = 'amqp://celery:Zx81kQ7Lm@rabbit.example.com:5672//'\n";
    assert!(
        scanner
            .scan_text("app/settings.py", reserved.as_bytes())
            .is_empty()
    );

    let found = |path: &str, text: &str| -> Vec<String> {
        scanner
            .scan_text(path, text.as_bytes())
            .into_iter()
            .map(|f| f.id)
            .collect()
    };
    let url = "amqp://celery:Zx81kQ7Lm@rabbit.internal:5672//";
    assert_eq!(
        found("app/settings.py", &format!("BROKER_URL = '{url}'\n")),
        ["SEC-DATABASE-URL-PASSWORD"]
    );
    assert_eq!(
        found("app/settings.py", &format!("# BROKER_URL = '{url}'\n")),
        ["SEC-DATABASE-URL-PASSWORD"]
    );
    assert_eq!(
        found("app/settings.py", &format!("SQL = \"\"\"{url}\"\"\"\n")),
        ["SEC-DATABASE-URL-PASSWORD"]
    );
    assert_eq!(
        found("etc/app.conf", &format!(">>> {url}\n")),
        ["SEC-DATABASE-URL-PASSWORD"]
    );
    assert_eq!(
        found("src/db.rs", &format!("// {url}\n")),
        ["SEC-DATABASE-URL-PASSWORD"]
    );
    let token = github_token();
    assert_eq!(
        found(
            "app/client.py",
            &format!("def f():\n    \"\"\"Token: {token}\"\"\"\n")
        ),
        ["SEC-GITHUB-PAT"]
    );
}

/// Files over 10 MiB are scanned in overlapping windows: nothing is skipped for its size up to
/// the cap, a secret across a window boundary is found once, lines count from the file's start.
#[test]
fn big_files_are_scanned_in_windows() {
    let scanner = SecretScanner::builtin();
    let token = github_token();
    let filler = "x".repeat(99) + "\n";
    let mut text = String::new();
    let mut lines = Vec::new();
    let mut line = 1;
    // Tokens at the start, at 8 MiB (across the first window's end), and at the very end.
    for target in [0usize, 8 * 1024 * 1024 - 20, 11 * 1024 * 1024] {
        while text.len() < target {
            text.push_str(&filler);
            line += 1;
        }
        writeln!(text, "GH_TOKEN={token}").unwrap();
        lines.push(line);
        line += 1;
    }
    assert!(text.len() > 11 * 1024 * 1024);
    assert_eq!(
        scanner.interest(&meta("srv/dump.sql", text.len())),
        Interest::Stream
    );
    let out = analyze(&scanner, "srv/dump.sql", text.as_bytes());
    let found: Vec<(String, Option<u32>)> = out
        .findings
        .iter()
        .map(|f| (f.id.clone(), f.location.line))
        .collect();
    let expected: Vec<(String, Option<u32>)> = lines
        .iter()
        .map(|&l| ("SEC-GITHUB-PAT".to_owned(), Some(l)))
        .collect();
    assert_eq!(found, expected);
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);

    // A big binary file is passed over as binary, not as too large.
    let mut binary = vec![0u8; 12 * 1024 * 1024];
    binary[..4].copy_from_slice(b"\x7fELF");
    let out = analyze(&scanner, "usr/lib/libbig.so", &binary);
    assert!(out.findings.is_empty());
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(out.skipped[0].reason, SkipReason::Binary);

    // Over the cap (an option), the file is reported too large.
    let capped = SecretScanner::new(SecretConfig {
        max_file_size: Some(11 * 1024 * 1024),
        ..SecretConfig::default()
    })
    .unwrap();
    let out = analyze(&capped, "srv/dump.sql", text.as_bytes());
    assert!(out.findings.is_empty());
    assert_eq!(out.skipped[0].reason, SkipReason::TooLarge);
}
