//! GitHub Actions integration: every runner file command ciux writes
//! (`$GITHUB_OUTPUT`, `$GITHUB_ENV`, `$GITHUB_PATH`, `$GITHUB_STEP_SUMMARY`),
//! the markdown step summary, what `ignite` and `plan` publish, and
//! `::group::` log folding.
//!
//! The builders are pure and write to `&mut impl Write`; [`append_file`] is the
//! one effect, appending to the file a runner variable names. Every value that comes
//! from git (branch names, tags, paths) is treated as hostile: outputs use a
//! heredoc delimiter absent from the value, the summary entity-encodes text, and
//! workflow-command data is percent-escaped.

mod env;
mod output;
mod path;
mod publish;
mod summary;

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

pub use env::parse_github_file;
pub(crate) use env::{AppendEnvError, append_env};
pub(crate) use output::{
    OUTPUT_ENV_FILE, OUTPUT_IMAGE_DIGEST, OUTPUT_IMAGE_INPUTS, plan_outputs, write_file_command,
    write_file_commands,
};
pub(crate) use path::add_path;
pub(crate) use publish::publish;
pub(crate) use summary::write_summary;

pub(crate) use crate::emit::names::{
    GITHUB_ACTIONS as ENV_ACTIONS, GITHUB_ENV as ENV_ENV, GITHUB_OUTPUT as ENV_OUTPUT,
    GITHUB_PATH as ENV_PATH, GITHUB_STEP_SUMMARY as ENV_STEP_SUMMARY,
};

#[derive(Debug, Error)]
pub(crate) enum GithubError {
    #[error("output name `{name}` is not a plain identifier")]
    BadName { name: String },
    #[error("cannot write the GitHub output `{name}`")]
    Write {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("{} has a line break in its name: not added to $GITHUB_PATH", crate::safe_text::escape_value(&path.to_string_lossy()))]
    BadPath { path: PathBuf },
    #[error("${var} is not set although GITHUB_ACTIONS=true")]
    Unset { var: &'static str },
    #[error("cannot append to {path} (${var})")]
    Append {
        var: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Whether we run inside a GitHub Actions step.
pub(crate) fn in_actions() -> bool {
    std::env::var_os(ENV_ACTIONS).is_some_and(|v| v == "true")
}

/// Append `bytes` to the file named by the runner variable `var` (e.g.
/// [`ENV_OUTPUT`]). The runner reads these files after the step, so appending
/// is the protocol; other steps' content must be kept.
pub(crate) fn append_to(var: &'static str, bytes: &[u8]) -> Result<(), GithubError> {
    let path: PathBuf = std::env::var_os(var)
        .filter(|p: &OsString| !p.is_empty())
        .ok_or(GithubError::Unset { var })?
        .into();
    append_file(var, &path, bytes)
}

/// Append `bytes` to `path`, the file the runner variable `var` names.
pub(crate) fn append_file(var: &'static str, path: &Path, bytes: &[u8]) -> Result<(), GithubError> {
    let append = || -> io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)?;
        file.write_all(bytes)?;
        file.flush()
    };
    append().map_err(|source| GithubError::Append {
        var,
        path: path.to_path_buf(),
        source,
    })
}

/// Escape the data of a workflow command (`::group::TITLE`): the runner decodes
/// `%25`, `%0D`, `%0A`, so a newline in a title cannot start a new command.
pub(crate) fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Start a folded log group; every line until [`group_end`] goes in it.
pub(crate) fn group_start(out: &mut impl Write, title: &str) -> io::Result<()> {
    writeln!(out, "::group::{}", escape_data(title))
}

/// End the current log group.
pub(crate) fn group_end(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "::endgroup::")
}

/// Run `body` inside a log group when `enabled` (in Actions), else just run it.
#[cfg(test)]
pub(crate) fn grouped<W: Write, T>(
    out: &mut W,
    enabled: bool,
    title: &str,
    body: impl FnOnce(&mut W) -> io::Result<T>,
) -> io::Result<T> {
    if !enabled {
        return body(out);
    }
    group_start(out, title)?;
    let result = body(out);
    group_end(out)?;
    result
}

/// A log group on stderr for the life of the value: started by [`StderrGroup::start`]
/// when enabled, ended on drop, so an error returned through it is printed
/// after `::endgroup::`, outside the folded section, where it is seen.
#[must_use = "the group ends when this value is dropped"]
pub(crate) struct StderrGroup {
    enabled: bool,
}

impl StderrGroup {
    pub(crate) fn start(enabled: bool, title: &str) -> Self {
        if enabled {
            let _ = group_start(&mut io::stderr().lock(), title);
        }
        Self { enabled }
    }
}

impl Drop for StderrGroup {
    fn drop(&mut self) {
        if self.enabled {
            let _ = group_end(&mut io::stderr().lock());
        }
    }
}

#[cfg(test)]
mod tests;
