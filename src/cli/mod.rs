//! Command-line interface: clap types, dispatch, and error reporting.

mod args;
#[cfg(feature = "bench")]
mod bench;
mod check;
mod engine;
mod get;
mod ignite;
mod image;
mod man;
mod migrate;
mod packages;
mod plan;
mod progress;
mod release;
mod request;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

pub use args::Cli;
pub(crate) use args::*;

use crate::error::exit_status;

/// Parse the command line, run it, and turn the outcome into an exit status.
///
/// Errors are printed once here: `error: <message>` then one `caused by:` line
/// per source. A broken pipe on stdout is not an error (`ciux ... | head`).
pub fn main() -> ExitCode {
    let cli = Cli::parse_from(reference_verbosity(std::env::args_os()));
    init_logging(cli.verbose.max(cli.verbosity.unwrap_or(0)), cli.quiet);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            // Values in messages come from git, configuration and remotes:
            // rendered so that none can start a line of its own meaning.
            let mut text = format!("error: {err}");
            for cause in err.chain().skip(1) {
                text.push_str(&format!("\ncaused by: {cause}"));
            }
            crate::safe_text::eprint_line(&text);
            ExitCode::from(exit_status(&err))
        }
    }
}

/// Run one parsed command line.
pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Get(args) => get::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "ciux", &mut io::stdout());
            Ok(())
        }
        Command::Ignite(args) => ignite::run(args, quiet),
        Command::Plan(args) => plan::run(args, quiet),
        Command::Explain(args) => image::explain(args),
        Command::Promote(args) => image::promote(args),
        Command::Tag(args) => release::run(args),
        Command::Check(args) => check::run(args),
        Command::Image(command) => engine::run(command),
        Command::Man(args) => man::run(args),
        Command::Hook(command) => check::run_hook(command),
        #[cfg(feature = "bench")]
        Command::Bench(args) => bench::run(args, quiet),
        #[cfg(not(feature = "bench"))]
        Command::Bench(_) => {
            let _ = quiet;
            Err(crate::error::NotImplemented("bench (built without the `bench` feature)").into())
        }
    }
}

/// The reference tool's `-v N` / `-vN` (a number) become `--verbosity=N`; our
/// `-v`, `-vv` stay counts. Only a lone digit after `-v` is taken as its
/// value, and nothing after `--`.
fn reference_verbosity(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    let mut args = args.into_iter().peekable();
    let mut rest = false;
    while let Some(arg) = args.next() {
        if rest {
            out.push(arg);
            continue;
        }
        let text = arg.to_string_lossy().into_owned();
        if text == "--" {
            rest = true;
            out.push(arg);
        } else if let Some(digits) = text
            .strip_prefix("-v")
            .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
        {
            out.push(format!("--verbosity={digits}").into());
        } else if text == "-v"
            && args.peek().is_some_and(|next| {
                next.len() == 1 && next.to_string_lossy().chars().all(|c| c.is_ascii_digit())
            })
        {
            let next = args.next().unwrap_or_default();
            out.push(format!("--verbosity={}", next.to_string_lossy()).into());
        } else {
            out.push(arg);
        }
    }
    out
}

/// Log targets capped whatever the requested level (see [`init_logging`]).
const QUIET_TARGETS: &[&str] = &[
    "hyper=off",
    "hyper_util=off",
    "h2=off",
    "reqwest=off",
    "rustls=off",
    "rustls_platform_verifier=off",
    "docker_credential=off",
];

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let mut filter =
        EnvFilter::try_from_env("CIUX_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // The HTTP stack's own logs print request and response headers (and
    // with them `Authorization` values and tokens) and TLS internals: off at
    // every level, whatever CIUX_LOG says. oci-client's own logs name URLs,
    // scopes and response headers, never a request's credentials.
    for directive in QUIET_TARGETS {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::safe_text::SafeStderr::new)
        .with_target(false)
        .without_time()
        .with_ansi(
            std::env::var_os("NO_COLOR").is_none() && io::IsTerminal::is_terminal(&io::stderr()),
        )
        .try_init();
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Write `text` to stdout, mapping a closed pipe to an error `main` treats as success.
pub(crate) fn print_stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::reference_verbosity;

    fn norm(args: &[&str]) -> Vec<String> {
        reference_verbosity(args.iter().map(|a| a.into()))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn reference_verbosity_numbers() {
        assert_eq!(
            norm(&["ciux", "-v2", "get"]),
            ["ciux", "--verbosity=2", "get"]
        );
        assert_eq!(
            norm(&["ciux", "-v", "2", "get"]),
            ["ciux", "--verbosity=2", "get"]
        );
        assert_eq!(norm(&["ciux", "-vv", "get"]), ["ciux", "-vv", "get"]);
        assert_eq!(
            norm(&["ciux", "-v", "get", "."]),
            ["ciux", "-v", "get", "."]
        );
        assert_eq!(norm(&["ciux", "--", "-v2"]), ["ciux", "--", "-v2"]);
    }
}
