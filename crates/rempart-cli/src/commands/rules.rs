//! `rempart rules`: the built-in rules and their documentation.

use std::fmt::Write as _;

use anyhow::Result;
use rempart::{RuleDoc, RuleFamily, rule_docs};

use crate::Outcome;
use crate::cli::RulesArgs;
use crate::context::{parse_scanners, write_stdout};

pub(crate) fn run(args: &RulesArgs) -> Result<Outcome> {
    let mut rules = rule_docs();
    if !args.scanners.is_empty() {
        // `admission`, `host` and `runtime` are families of rules but not scanners a scan can
        // select.
        let (families, scanners): (Vec<String>, Vec<String>) =
            args.scanners.iter().cloned().partition(|name| {
                let name = name.trim();
                ["admission", "host", "runtime"]
                    .iter()
                    .any(|family| name.eq_ignore_ascii_case(family))
            });
        let mut wanted: Vec<RuleFamily> = if scanners.is_empty() {
            Vec::new()
        } else {
            parse_scanners(&scanners)?
                .into_iter()
                .filter_map(RuleFamily::of_scanner)
                .collect()
        };
        for family in &families {
            let family = family.trim();
            wanted.push(if family.eq_ignore_ascii_case("host") {
                RuleFamily::Host
            } else if family.eq_ignore_ascii_case("runtime") {
                RuleFamily::Runtime
            } else {
                RuleFamily::Admission
            });
        }
        rules.retain(|rule| wanted.contains(&rule.scanner));
    }
    if let Some(code) = &args.code {
        let wanted = code.trim().to_ascii_uppercase();
        let Some(rule) = rules.iter().find(|rule| rule.code == wanted) else {
            let near: Vec<&str> = rules
                .iter()
                .map(|rule| rule.code.as_str())
                .filter(|known| known.starts_with(wanted.split('-').next().unwrap_or_default()))
                .take(8)
                .collect();
            anyhow::bail!(
                "no built-in rule has the code {code}{}",
                if near.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (codes of that family: {}, …; `rempart rules` lists them all)",
                        near.join(", ")
                    )
                }
            );
        };
        return print(&match args.format.as_str() {
            "json" => serde_json::to_string_pretty(rule)? + "\n",
            "table" => describe(rule),
            other => anyhow::bail!("unknown format {other}: use table or json"),
        });
    }
    print(&match args.format.as_str() {
        "json" => serde_json::to_string_pretty(&rules)? + "\n",
        "table" => list(&rules),
        other => anyhow::bail!("unknown format {other}: use table or json"),
    })
}

fn print(text: &str) -> Result<Outcome> {
    write_stdout(text.as_bytes())?;
    Ok(Outcome::Clean)
}

fn list(rules: &[RuleDoc]) -> String {
    let code_width = rules.iter().map(|r| r.code.len()).max().unwrap_or(4);
    let mut text = String::new();
    for rule in rules {
        let _ = writeln!(
            text,
            "{:<code_width$}  {:<8}  {:<9}  {}",
            rule.code,
            rule.severity.as_str(),
            rule.scanner.as_str(),
            rule.title
        );
    }
    let _ = writeln!(
        text,
        "\n{} rules; `rempart rules CODE` shows one rule's documentation.",
        rules.len()
    );
    text
}

fn describe(rule: &RuleDoc) -> String {
    format!(
        "{} · {} · {}\n{}\n\n{}\n",
        rule.code,
        rule.severity.as_str(),
        rule.scanner.as_str(),
        rule.title,
        rule.doc.trim_end()
    )
}
