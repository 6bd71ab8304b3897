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
        source: git2::Error,
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
        source: git2::Error,
    },
}
