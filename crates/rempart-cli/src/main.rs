//! The `rempart` binary: parses arguments, runs one command, maps the outcome to an exit code.

mod cli;
mod commands;
mod context;
mod progress;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// glibc's allocator keeps freed memory of the scan's many short-lived buffers: peak RSS grew
/// with the number of layers (136 MiB on the benchmark image, 224 MiB on one three times its
/// size). jemalloc returns it to the system and stays flat.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The process outcome. `main` is the only place that turns it into an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Nothing over the threshold.
    Clean,
    /// Findings remain after filtering; carries the user's `--exit-code`.
    Findings(u8),
}

const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    context::set_color_choice(cli.color);
    // A server's log is read later, by time: info by default, each line timed.
    let server = matches!(cli.command, Command::Server(_));
    init_logging(
        cli.verbose + u8::from(server),
        cli.quiet,
        server,
        cli.log_format,
    );
    progress::set_quiet(cli.quiet);
    let result = match cli.command {
        Command::Image(args) => commands::scan::image(&args),
        Command::Rootfs(args) => commands::scan::dir(&args, "rootfs"),
        Command::Fs(args) => commands::scan::dir(&args, "fs"),
        Command::Sbom(args) => commands::sbom::run(&args),
        Command::Config(args) => commands::config::run(&args),
        Command::Db { command } => commands::db::run(command, cli.quiet),
        Command::Rules(args) => commands::rules::run(&args),
        Command::Server(args) => commands::server::run(&args),
        Command::Admit(args) => commands::admit::run(&args),
        Command::Verify(args) => commands::trust::verify(&args),
        Command::Host(args) => commands::host::run(&args),
        Command::Watch(args) => commands::watch::run(&args),
        Command::Attest(args) => commands::trust::attest(&args),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings(code)) => ExitCode::from(code),
        Err(error) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {}", printable(&error.to_string()));
                for cause in error.chain().skip(1) {
                    eprintln!("  caused by: {}", printable(&cause.to_string()));
                }
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The longest message printed whole; a longer one (a hostile file name, say) keeps its start and
/// end around a note of what was cut.
const MAX_MESSAGE_CHARS: usize = 2000;

/// An error message made safe for a terminal: messages quote names and text from the images and
/// files scanned, so control characters (escape sequences, newlines) are shown escaped, never
/// sent, and the length is bounded.
fn printable(message: &str) -> String {
    let mut escaped = String::with_capacity(message.len().min(MAX_MESSAGE_CHARS * 4));
    for c in message.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    let count = escaped.chars().count();
    if count <= MAX_MESSAGE_CHARS {
        return escaped;
    }
    let keep = MAX_MESSAGE_CHARS / 2;
    let head: String = escaped.chars().take(keep).collect();
    let tail: String = escaped.chars().skip(count - keep).collect();
    format!("{head} […{} characters cut…] {tail}", count - 2 * keep)
}

fn init_logging(verbose: u8, quiet: bool, timed: bool, format: cli::LogFormat) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("REMPART_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "rempart={level},rempart_image={level},rempart_vulndb={level},rempart_server={level},{}",
            if verbose > 1 { "info" } else { "error" }
        ))
    });
    if format == cli::LogFormat::Json {
        // One JSON object per line, always timed: `timestamp`, `level`, `target`, `message`
        // and the event's own fields (scan, digest, endpoint…) at the top level.
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
        return;
    }
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(
            context::color_choice()
                .for_stream(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .with_writer(std::io::stderr)
        .with_target(false);
    if timed {
        subscriber.init();
    } else {
        subscriber.without_time().init();
    }
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn messages_are_escaped_and_bounded() {
        assert_eq!(printable("bad \u{1b}[31mname\n"), "bad \\u{1b}[31mname\\n");
        let long = format!("start{}end", "x".repeat(10_000));
        let shown = printable(&long);
        assert!(
            shown.starts_with("startxx") && shown.ends_with("xxend"),
            "{shown}"
        );
        assert!(shown.contains("characters cut"));
        assert!(shown.chars().count() < 2100);
    }
}
