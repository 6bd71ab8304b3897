//! Progress on stderr: an indicatif spinner per repository when stderr is a
//! terminal outside CI, plain lines otherwise (CI logs), nothing when quiet.
//!
//! CI runners may give a step a pseudo-terminal (act's host mode, some
//! self-hosted runners). Spinners there redraw a line that does not end in a
//! newline, so the workflow command printed next (`::endgroup::` on an error)
//! lands mid-line, the runner never reads it and the error stays folded. So a
//! run with `GITHUB_ACTIONS=true` or `CI` set never draws bars: every line it
//! writes is whole, and every workflow command starts a line.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::emit::names;
use crate::git::clone::Progress;

/// Whether progress bars may be drawn on stderr: not quiet, stderr a terminal,
/// and not in CI (see the module documentation).
pub(crate) fn bars_allowed(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal() && !in_ci()
}

/// `GITHUB_ACTIONS=true`, or `CI` set to anything but empty, `false` or `0`
/// (GitHub, GitLab, act and most CI services set `CI=true`).
pub(crate) fn in_ci() -> bool {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    var(names::GITHUB_ACTIONS) == "true" || !matches!(var(names::CI).as_str(), "" | "false" | "0")
}

pub(crate) enum StderrProgress {
    Quiet,
    Lines,
    Bars {
        multi: MultiProgress,
        bars: Mutex<BTreeMap<String, ProgressBar>>,
    },
}

impl StderrProgress {
    pub(crate) fn new(quiet: bool) -> Self {
        if quiet {
            Self::Quiet
        } else if bars_allowed(quiet) {
            Self::Bars {
                multi: MultiProgress::new(),
                bars: Mutex::new(BTreeMap::new()),
            }
        } else {
            Self::Lines
        }
    }
}

/// Bars still drawn (a clone that failed, an early return) are cleared, so
/// what follows on stderr (the error) starts at the beginning of a line.
impl Drop for StderrProgress {
    fn drop(&mut self) {
        if let Self::Bars { multi, bars } = self {
            for bar in bars.get_mut().unwrap_or_else(|e| e.into_inner()).values() {
                bar.finish_and_clear();
            }
            let _ = multi.clear();
        }
    }
}

impl Progress for StderrProgress {
    fn start(&self, name: &str, message: &str) {
        match self {
            Self::Quiet => {}
            Self::Lines => {
                crate::safe_text::eprint_line(&format!("{name}: {message}"));
            }
            Self::Bars { multi, bars } => {
                let bar = multi.add(ProgressBar::new_spinner());
                if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}") {
                    bar.set_style(style);
                }
                bar.set_prefix(name.to_owned());
                bar.set_message(message.to_owned());
                bar.enable_steady_tick(Duration::from_millis(100));
                bars.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(name.to_owned(), bar);
            }
        }
    }

    fn finish(&self, name: &str, message: &str) {
        match self {
            Self::Quiet => {}
            Self::Lines => {
                crate::safe_text::eprint_line(&format!("{name}: {message}"));
            }
            Self::Bars { bars, .. } => {
                if let Some(bar) = bars.lock().unwrap_or_else(|e| e.into_inner()).remove(name) {
                    bar.finish_with_message(message.to_owned());
                }
            }
        }
    }
}
