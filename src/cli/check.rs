//! `ciux check` and `ciux hook install|uninstall`.

use anyhow::Result;

use super::{CheckArgs, HookCommand, ReportFormat, print_stdout};
use crate::check::{check, parse_pre_push};
use crate::hook;

pub(crate) fn run(args: CheckArgs) -> Result<()> {
    let pushing = if args.pre_push {
        parse_pre_push(std::io::stdin().lock())
    } else {
        Vec::new()
    };
    let report = check(&args.path.path, &pushing)?;
    let text = match args.format {
        ReportFormat::Text => report.to_text(),
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    print_stdout(&text)?;
    match report.failure() {
        None => Ok(()),
        Some(failed) => Err(failed.into()),
    }
}

pub(crate) fn run_hook(command: HookCommand) -> Result<()> {
    let outcome = match command {
        HookCommand::Install(args) => {
            let exe = std::env::current_exe()?;
            hook::install(&args.path, &exe)?
        }
        HookCommand::Uninstall(args) => hook::uninstall(&args.path)?,
    };
    crate::safe_text::eprint_line(&outcome.to_string());
    Ok(())
}
