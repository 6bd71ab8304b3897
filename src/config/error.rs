//! Configuration errors: every one names the file, the line and column, and the key.

use std::path::PathBuf;

use thiserror::Error;

/// Where in a configuration file a problem lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub(crate) line: usize,
    /// 1-based column (in characters).
    pub(crate) column: usize,
}

/// An error in `.ciux.toml` or the legacy `.ciux`; exit status 2.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The path is not a regular file (a FIFO, a device, a directory, a
    /// dangling symbolic link or one that leaves the repository).
    #[error("{} is {what}: a configuration must be a regular file, or a symbolic link to one inside the repository", path.display())]
    NotAFile { path: PathBuf, what: String },
    /// The content is invalid: syntax, unknown key, wrong type or a bad value.
    #[error("{}:{}:{}: {key}: {message}", path.display(), position.line, position.column)]
    Invalid {
        path: PathBuf,
        position: Position,
        /// Dotted key path, e.g. `dependencies[2].url`; `(document)` when none applies.
        key: String,
        message: String,
    },
    /// `ciux migrate` could not write the new file (a failure, exit 1).
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `ciux migrate` would overwrite an existing `.ciux.toml`.
    #[error("{} already exists; remove it first to migrate again", path.display())]
    WouldOverwrite { path: PathBuf },
    /// `ciux migrate` found no legacy file.
    #[error("no legacy .ciux file in {}", dir.display())]
    NoLegacy { dir: PathBuf },
    /// A label selector is malformed (`-l`); `position` is a 0-based byte offset.
    #[error("invalid selector `{selector}` at position {position}: {message}")]
    Selector {
        selector: String,
        position: usize,
        message: String,
    },
}

impl ConfigError {
    /// Bad configuration or usage (exit status 2): every variant but a failure to write.
    pub(crate) fn is_usage(&self) -> bool {
        !matches!(self, Self::Write { .. })
    }
}

/// 1-based line and column of a byte offset in `text`.
pub(crate) fn position_of(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Position { line, column }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(position_of(text, 0), Position { line: 1, column: 1 });
        assert_eq!(position_of(text, 6), Position { line: 2, column: 1 });
        assert_eq!(position_of(text, 9), Position { line: 2, column: 3 });
        assert_eq!(position_of(text, 999), Position { line: 3, column: 1 });
    }
}
