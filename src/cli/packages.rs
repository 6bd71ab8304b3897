//! `ciux ignite`'s package step: run the installs, say what went where, and in
//! GitHub Actions put the Go bin directory on `$GITHUB_PATH` for later steps.

use anyhow::{Context, Result};

use crate::packages::{self, Report};
use crate::workspace::Workspace;

/// Install the packages and Go-module siblings of `ws`; failures are in the report.
pub(crate) fn install(ws: &Workspace, quiet: bool, actions: bool) -> Result<Report> {
    let installs = packages::plan(ws);
    if installs.is_empty() {
        return Ok(Report::default());
    }
    let Some(go) = crate::engine::find_program(
        std::ffi::OsStr::new("go"),
        std::env::var_os("PATH").as_deref(),
    ) else {
        return Ok(Report {
            failed: installs
                .iter()
                .map(|i| {
                    format!(
                        "{} (go is not on PATH: install Go, or pass --no-install-packages)",
                        i.what
                    )
                })
                .collect(),
            ..Report::default()
        });
    };
    let report = packages::run(&installs, &go);
    let place = report
        .bin_dir
        .as_ref()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|| "Go's bin directory".into());
    if !quiet {
        for what in &report.installed {
            crate::safe_text::eprint_line(&format!("installed {what} into {place}"));
        }
    }
    if actions
        && !report.installed.is_empty()
        && let (Some(dir), Some(file)) = (
            &report.bin_dir,
            std::env::var_os(crate::github::ENV_PATH).filter(|p| !p.is_empty()),
        )
    {
        crate::github::add_path(std::path::Path::new(&file), dir)
            .with_context(|| format!("cannot add {} to $GITHUB_PATH", dir.display()))?;
        if !quiet {
            crate::safe_text::eprint_line(&format!("added {place} to $GITHUB_PATH"));
        }
    }
    Ok(report)
}
