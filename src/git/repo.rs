//! Opening a repository and reading its state.

use std::path::{Path, PathBuf};

use git2::Repository;

use super::GitError;

/// An open repository and its top-level directory.
pub struct Repo {
    pub(crate) git: Repository,
    root: PathBuf,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo").field("root", &self.root).finish()
    }
}

impl Repo {
    /// Open the repository containing `path` (any directory inside it).
    pub fn discover(path: &Path) -> Result<Self, GitError> {
        let git = Repository::discover(path).map_err(|source| GitError::NotARepository {
            path: path.to_path_buf(),
            source: source.into(),
        })?;
        let root = match git.workdir() {
            Some(dir) => dir.to_path_buf(),
            None => git.path().to_path_buf(),
        };
        let root = root.canonicalize().unwrap_or(root);
        let root = strip_trailing_slash(root);
        Ok(Self { git, root })
    }

    /// The same repository opened again, for another thread (a libgit2
    /// repository is not shared between threads).
    pub(crate) fn reopen(&self) -> Result<Self, GitError> {
        let git = Repository::open(&self.root)
            .map_err(|source| self.error("cannot open the repository again", source))?;
        Ok(Self {
            git,
            root: self.root.clone(),
        })
    }

    /// The top-level directory of the work tree.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The underlying libgit2 repository.
    pub(crate) fn git(&self) -> &Repository {
        &self.git
    }

    pub(crate) fn error(&self, action: impl Into<String>, source: git2::Error) -> GitError {
        GitError::Git {
            path: self.root.clone(),
            action: action.into(),
            source: source.into(),
        }
    }

    /// The id of the commit HEAD points at.
    pub(crate) fn head_id(&self) -> Result<git2::Oid, GitError> {
        let head = self.git.head().map_err(|source| {
            if source.code() == git2::ErrorCode::UnbornBranch {
                GitError::NoCommit {
                    path: self.root.clone(),
                }
            } else {
                self.error("cannot read HEAD", source)
            }
        })?;
        head.peel_to_commit()
            .map(|c| c.id())
            .map_err(|source| self.error("HEAD is not a commit", source))
    }

    /// The checked-out branch's short name; `None` on a detached HEAD.
    pub(crate) fn current_branch(&self) -> Result<Option<String>, GitError> {
        if self
            .git
            .head_detached()
            .map_err(|source| self.error("cannot read HEAD", source))?
        {
            return Ok(None);
        }
        // An unborn branch still has a name: read HEAD's symbolic target.
        let head = self
            .git
            .find_reference("HEAD")
            .map_err(|source| self.error("cannot read HEAD", source))?;
        let target = head
            .symbolic_target()
            .map_err(|source| self.error("the branch name is not UTF-8", source))?;
        Ok(target
            .and_then(|t| t.strip_prefix("refs/heads/"))
            .map(str::to_owned))
    }

    /// Whether tracked files differ from HEAD (in the index or the work tree).
    /// Untracked and ignored files do not count, as for `git describe --dirty`.
    pub(crate) fn is_dirty(&self) -> Result<bool, GitError> {
        self.has_changes(None)
    }

    /// Whether tracked files under any of `paths` differ from HEAD.
    pub(crate) fn is_dirty_under(&self, paths: &[String]) -> Result<bool, GitError> {
        self.has_changes(Some(paths))
    }

    fn has_changes(&self, paths: Option<&[String]>) -> Result<bool, GitError> {
        super::status::tracked_changes(&self.git, paths)
            .map_err(|source| self.error("cannot read the work tree status", source))
    }

    /// Whether this is a shallow clone (history cut by `--depth`).
    pub(crate) fn is_shallow(&self) -> bool {
        self.git.is_shallow()
    }
}

fn strip_trailing_slash(path: PathBuf) -> PathBuf {
    let s = path.to_string_lossy();
    if s.len() > 1 && s.ends_with('/') {
        PathBuf::from(s.trim_end_matches('/'))
    } else {
        path
    }
}
