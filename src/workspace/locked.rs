//! `--lock` and `--locked`: the effects around [`crate::lock`] (reading the
//! commits checkouts are at, writing the lock, moving siblings to the locked
//! commits through the `git` CLI).
//!
//! A lock is an input of the resolution ([`super::Request::locked`]), not a
//! second pass: the walk checks each sibling out at its locked commit before
//! it describes it and reads its configuration, so the next level is the
//! locked one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::fsutil::write_atomic;
use crate::git::Repo;
use crate::lock::{Lock, LockError, lock_path};

use super::{Checkout, NodeKind, Workspace, WorkspaceError};

/// The commit each checkout of `ws` (project and git dependencies on disk) is at.
pub(crate) fn heads_of(ws: &Workspace) -> Result<BTreeMap<String, String>, WorkspaceError> {
    let mut heads = BTreeMap::new();
    for node in &ws.nodes {
        let on_disk = !matches!(node.checkout, None | Some(Checkout::RemoteOnly));
        if let (NodeKind::Project | NodeKind::Git, Some(dir), true) =
            (node.kind, &node.dir, on_disk)
        {
            let head = Repo::discover(dir)?.head_id()?;
            heads.insert(node.name.clone(), head.to_string());
        }
    }
    Ok(heads)
}

/// Why the lock of a workspace could not be written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteLockError {
    #[error("the workspace has no project directory")]
    NoProject,
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Write the lock of `ws` to `.ciux.d/ciux.lock`; returns its path.
pub(crate) fn write(ws: &Workspace) -> Result<PathBuf, WriteLockError> {
    let root = ws
        .project_node()
        .and_then(|p| p.dir.clone())
        .ok_or(WriteLockError::NoProject)?;
    let path = lock_path(&root);
    let lock = Lock::of(ws, &heads_of(ws)?);
    write_atomic(&path, lock.render().as_bytes()).map_err(|source| WriteLockError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Read the lock of the project at `root`.
pub(crate) fn read(root: &Path) -> Result<Lock, LockError> {
    let path = lock_path(root);
    match std::fs::read_to_string(&path) {
        Ok(text) => Lock::parse(&text, &path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(LockError::Missing { path }),
        Err(source) => Err(LockError::Read { path, source }),
    }
}

/// The project is the user's checkout, never moved: it must already be at
/// its locked commit.
pub(crate) fn check_project(lock: &Lock, name: &str, root: &Path) -> Result<(), WorkspaceError> {
    let actual = Repo::discover(root)?.head_id()?.to_string();
    match lock.commit_of(name) {
        Some(locked) if locked != actual => Err(LockError::Commit {
            name: name.to_owned(),
            locked: locked.to_owned(),
            actual,
            hint: ": check the project out at the locked commit",
        }
        .into()),
        _ => Ok(()),
    }
}

/// Check each new git node on disk out at its locked commit.
pub(crate) fn check_out_level(
    lock: &Lock,
    ws: &Workspace,
    new_git: &[usize],
) -> Result<(), WorkspaceError> {
    for &i in new_git {
        let node = &ws.nodes[i];
        let on_disk = !matches!(node.checkout, None | Some(Checkout::RemoteOnly));
        if let (Some(commit), Some(dir), true) = (lock.commit_of(&node.name), &node.dir, on_disk) {
            let head = Repo::discover(dir)?.head_id()?.to_string();
            if head != commit {
                check_out(&node.name, dir, commit)?;
            }
        }
    }
    Ok(())
}

/// The resolution must reproduce the lock.
pub(crate) fn verify(lock: &Lock, ws: &Workspace) -> Result<(), WorkspaceError> {
    Ok(lock.check(&Lock::of(ws, &heads_of(ws)?))?)
}

/// Detach `dir` at `commit`, fetching from `origin` when the commit is missing.
/// A checkout with uncommitted changes is refused, never overwritten.
fn check_out(name: &str, dir: &Path, commit: &str) -> Result<(), LockError> {
    let failed = |message: String| LockError::Checkout {
        name: name.to_owned(),
        commit: commit.to_owned(),
        dir: dir.to_path_buf(),
        message,
    };
    let repo = Repo::discover(dir).map_err(|e| failed(e.to_string()))?;
    if repo.is_dirty().map_err(|e| failed(e.to_string()))? {
        return Err(LockError::Dirty {
            name: name.to_owned(),
            dir: dir.to_path_buf(),
        });
    }
    let has = |repo: &Repo| {
        git2::Oid::from_str(commit).is_ok_and(|id| repo.git().find_commit(id).is_ok())
    };
    if !has(&repo) {
        git(dir, &["fetch", "-q", "origin"]).map_err(failed)?;
        let repo = Repo::discover(dir).map_err(|e| failed(e.to_string()))?;
        if !has(&repo) {
            git(dir, &["fetch", "-q", "origin", commit]).map_err(failed)?;
        }
    }
    git(dir, &["checkout", "-q", "--detach", commit]).map_err(failed)
}

/// Run git in `dir`, never prompting; the error is git's message.
fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let mut cmd = crate::git::cli::git_command();
    cmd.current_dir(dir)
        .args(["-c", "advice.detachedHead=false"])
        .args(args);
    let output = crate::git::cli::output(&mut cmd).map_err(|e| e.describe())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}
