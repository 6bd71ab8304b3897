//! Errors from reading git repositories.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum GitError {
    /// No repository at or above the path.
    #[error("{} is not inside a git repository", path.display())]
    NotARepository {
        path: PathBuf,
        #[source]
        source: Libgit2,
    },
    /// A shallow clone cannot give exact versions.
    #[error(
        "{} is a shallow clone: its version cannot be computed exactly\n  fix: fetch the whole history and the tags, e.g. `git fetch --unshallow --tags`, \
         or in GitHub Actions set `fetch-depth: 0` on actions/checkout",
        path.display()
    )]
    Shallow { path: PathBuf },
    /// The repository has no commit yet.
    #[error("{} has no commit yet", path.display())]
    NoCommit { path: PathBuf },
    /// Any other libgit2 failure, with what we were doing.
    #[error("{} in {}", action, path.display())]
    Git {
        path: PathBuf,
        action: String,
        #[source]
        source: Libgit2,
    },
}

/// A libgit2 error shown by its message alone: its class and code
/// (`class=Repository (6); code=NotFound (-3)`) mean nothing to a user.
#[derive(Debug)]
pub struct Libgit2(pub(crate) git2::Error);

impl std::fmt::Display for Libgit2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::safe_text::escape_value(self.0.message()))
    }
}

impl std::error::Error for Libgit2 {}

impl From<git2::Error> for Libgit2 {
    fn from(error: git2::Error) -> Self {
        Self(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libgit2_errors_show_their_message_only() {
        let Err(error) = git2::Repository::open("/nonexistent/ciux-test") else {
            panic!("no repository there");
        };
        assert!(error.to_string().contains("class="), "{error}");
        let shown = Libgit2(error).to_string();
        assert!(
            !shown.contains("class=") && !shown.contains("code="),
            "{shown}"
        );
        assert!(shown.contains("/nonexistent/ciux-test"), "{shown}");
    }
}
