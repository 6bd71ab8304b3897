//! A record of configuration reads, for the test that holds the data flow:
//! one run reads each repository's configuration once (docs/architecture.md).
//!
//! When `CIUX_DEBUG_CONFIG_READS` names a file, each [`super::Config::load`]
//! appends the repository's directory to it, one line per read. Unset (always,
//! outside that test), nothing is done.

use std::io::Write;
use std::path::Path;

/// The variable naming the file the reads are appended to.
pub(crate) const CONFIG_READS_VAR: &str = "CIUX_DEBUG_CONFIG_READS";

/// Note one read of the configuration of the repository at `root`.
pub(super) fn note(root: &Path) {
    let Some(file) = std::env::var_os(CONFIG_READS_VAR).filter(|f| !f.is_empty()) else {
        return;
    };
    let line = format!("{}\n", root.display());
    // One `write` of a short line in append mode: reads from threads that
    // describe siblings at once do not interleave.
    let written = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&file)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(err) = written {
        tracing::warn!("cannot record a configuration read: {err}");
    }
}
