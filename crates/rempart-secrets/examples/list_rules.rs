//! Prints the built-in rules and path allowlist as Markdown, for the user documentation.
//!
//! ```text
//! cargo run -p rempart-secrets --example list_rules > docs/secret-rules.md
//! ```

use std::io::Write;

fn main() -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    let rules = rempart_secrets::builtin_rules();
    writeln!(w, "# Secret rules ({} built in)\n", rules.len())?;
    writeln!(w, "| Code | Title | Severity |\n|---|---|---|")?;
    for rule in &rules {
        writeln!(
            w,
            "| `{}` | {} | {} |",
            rule.code, rule.title, rule.severity
        )?;
    }
    writeln!(w)?;
    for rule in &rules {
        writeln!(
            w,
            "## `{}`: {}\n\nSeverity {}. {}\n",
            rule.code, rule.title, rule.severity, rule.doc
        )?;
    }
    writeln!(
        w,
        "# Paths not scanned by default\n\n| Glob | Why |\n|---|---|"
    )?;
    for (glob, reason) in rempart_secrets::builtin_allowed_paths() {
        writeln!(w, "| `{glob}` | {reason} |")?;
    }
    Ok(())
}
