//! `ciux man`: man pages generated from the same clap definitions as `--help`.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::{Cli, ManArgs, print_stdout};

pub(crate) fn run(args: ManArgs) -> Result<()> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    match &args.out_dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            print_stdout(&String::from_utf8_lossy(&page))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut written = Vec::new();
            write_pages(&cmd, dir, &mut written)?;
            let text: String = written.iter().map(|p| format!("{p}\n")).collect();
            print_stdout(&text)?;
        }
    }
    Ok(())
}

/// One page for `cmd` and each visible subcommand, depth first; each file
/// written atomically.
fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut Vec<String>) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    let man = clap_mangen::Man::new(cmd.clone());
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    man.render(&mut page)?;
    crate::fsutil::write_atomic(&path, &page)
        .with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path.display().to_string());
    Ok(())
}
