//! Hostile and malformed YAML: a clear error naming the file, bounded cost, never a panic.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use rempart_misconfig::{MisconfigError, scan_kubernetes};

fn assert_fast_error(name: &str, text: &str) -> MisconfigError {
    let start = Instant::now();
    let error = scan_kubernetes(name, text).expect_err(name);
    // Generous, because the machine may be busy: the point is that parsing stops at a limit
    // instead of running away (unbounded, these inputs take minutes or exhaust memory).
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{name} took {:?}",
        start.elapsed()
    );
    assert!(
        error.to_string().contains(name),
        "error does not name the file: {error}"
    );
    error
}

#[test]
fn billion_laughs_is_refused() {
    let mut text = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for level in 1..10 {
        let previous = format!("*a{}", level - 1);
        let refs = [previous.as_str(); 9].join(",");
        writeln!(text, "a{level}: &a{level} [{refs}]").unwrap();
    }
    text.push_str("apiVersion: v1\nkind: ConfigMap\n");
    assert_fast_error("bomb.yaml", &text);
}

#[test]
fn duplicate_keys_are_refused() {
    let text = "apiVersion: v1\nkind: Pod\nkind: Deployment\nmetadata: {name: x}\n";
    let error = assert_fast_error("dup.yaml", text);
    assert!(matches!(error, MisconfigError::Yaml { .. }), "{error:?}");
}

#[test]
fn too_many_documents_are_refused() {
    let text = "---\na: 1\n".repeat(20_001);
    let error = assert_fast_error("many.yaml", &text);
    assert!(
        matches!(error, MisconfigError::TooManyDocuments { .. }),
        "{error:?}"
    );
}

#[test]
fn more_documents_than_the_parser_default_are_accepted() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: nginx}]}\n";
    let text = format!("---\n{pod}").repeat(1_500);
    let report = scan_kubernetes("big.yaml", &text).unwrap();
    assert_eq!(report.workloads.len(), 1_500);
}

#[test]
fn deep_nesting_is_refused() {
    let text = format!(
        "apiVersion: v1\nkind: Pod\nspec: {}{}\n",
        "[".repeat(500),
        "]".repeat(500)
    );
    assert_fast_error("deep.yaml", &text);
    let mut block = String::from("apiVersion: v1\nkind: Pod\nspec:\n");
    for depth in 1..200 {
        writeln!(block, "{}k{depth}:", "  ".repeat(depth)).unwrap();
    }
    assert_fast_error("deep-block.yaml", &block);
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: \"{}\"\n",
        "x".repeat(17 * 1024 * 1024)
    );
    let error = assert_fast_error("huge.yaml", &text);
    assert!(
        matches!(error, MisconfigError::TooLarge { .. }),
        "{error:?}"
    );
}

#[test]
fn malformed_yaml_is_an_error_with_the_file_name() {
    assert_fast_error(
        "broken.yaml",
        "apiVersion: v1\nkind: Pod\nspec: [unclosed\n",
    );
    assert_fast_error("tabs.yaml", "apiVersion: v1\nkind: Pod\n\tspec: {}\n");
}

#[test]
fn non_object_documents_and_odd_shapes_do_not_panic() {
    let text = "--- 42\n--- [1, 2]\n---\napiVersion: v1\nkind: Pod\nspec:\n  containers: {not: a list}\n  volumes: 7\n---\napiVersion: apps/v1\nkind: Deployment\nspec:\n  template: null\n---\nkind: List\nitems: [1, {kind: Pod}]\n";
    let report = scan_kubernetes("odd.yaml", text).unwrap();
    assert_eq!(report.workloads.len(), 1);
}

#[test]
fn a_large_honest_file_is_accepted() {
    // 300,000 nodes: over the parser's default node budget, well under our size cap.
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n");
    for i in 0..150_000 {
        writeln!(text, "  k{i}: v").unwrap();
    }
    let report = scan_kubernetes("big-configmap.yaml", &text).unwrap();
    assert!(report.findings.is_empty());
}
