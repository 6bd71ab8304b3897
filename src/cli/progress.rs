//! Progress of sibling clones on stderr: an indicatif spinner per repository
//! when stderr is a terminal, plain lines otherwise (CI logs), nothing when quiet.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::git::clone::Progress;

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
        } else if std::io::stderr().is_terminal() {
            Self::Bars {
                multi: MultiProgress::new(),
                bars: Mutex::new(BTreeMap::new()),
            }
        } else {
            Self::Lines
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
