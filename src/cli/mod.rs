//! Command-line interface: clap types, dispatch, and error reporting.

mod args;
#[cfg(feature = "bench")]
mod bench;
mod check;
mod get;
mod ignite;
mod image;
mod lock;
mod migrate;
mod plan;
mod progress;
mod release;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

pub use args::*;

use crate::error::exit_status;

/// Parse the command line, run it, and turn the outcome into an exit status.
///
/// Errors are printed once here: `error: <message>` then one `caused by:` line
/// per source. A broken pipe on stdout is not an error (`ciux ... | head`).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
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
pub fn run(cli: Cli) -> anyhow::Result<()> {
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
