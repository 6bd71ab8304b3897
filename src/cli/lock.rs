//! `ciux ignite --lock` and `--locked`: the effects around [`crate::lock`]
//! (reading the commits checkouts are at, writing the lock, moving siblings to
//! the locked commits through the `git` CLI).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::fsutil::write_atomic;
use crate::git::Repo;
use crate::git::clone::Progress;
use crate::lock::{Lock, LockError, lock_path};
use crate::workspace::{self, Checkout, NodeKind, Request, Workspace};

/// The commit each checkout of `ws` (project and git dependencies on disk) is at.
fn heads_of(ws: &Workspace) -> Result<BTreeMap<String, String>> {
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

fn project_root(ws: &Workspace) -> Result<PathBuf> {
    ws.project_node()
        .and_then(|p| p.dir.clone())
        .context("the workspace has no project directory")
}

/// Write the lock of `ws` to `.ciux.d/ciux.lock`; returns its path.
pub(crate) fn write(ws: &Workspace) -> Result<PathBuf> {
    let path = lock_path(&project_root(ws)?);
    let lock = Lock::of(ws, &heads_of(ws)?);
    write_atomic(&path, lock.render().as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn read(root: &Path) -> Result<Lock, LockError> {
    let path = lock_path(root);
    match std::fs::read_to_string(&path) {
        Ok(text) => Lock::parse(&text, &path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(LockError::Missing { path }),
        Err(source) => Err(LockError::Read { path, source }),
    }
}

/// Reproduce the locked resolution from `ws` (resolved as usual): the project
/// must already be at its locked commit (it is the user's checkout, never
/// moved); siblings are checked out at theirs, then the workspace is resolved
/// again without touching the disk, and must match the lock.
pub(crate) fn apply(
    request: &Request,
    ws: Workspace,
    progress: &dyn Progress,
) -> Result<Workspace> {
    let lock = read(&project_root(&ws)?)?;
    let heads = heads_of(&ws)?;
    if let (Some(locked), Some(actual)) = (lock.commit_of(&ws.project), heads.get(&ws.project))
        && locked != actual
    {
        return Err(LockError::Commit {
            name: ws.project.clone(),
            locked: locked.to_owned(),
            actual: actual.clone(),
            hint: ": check the project out at the locked commit",
        }
        .into());
    }
    for node in ws.nodes.iter().filter(|n| n.kind == NodeKind::Git) {
        if let (Some(commit), Some(dir), Some(head)) =
            (lock.commit_of(&node.name), &node.dir, heads.get(&node.name))
            && head != commit
        {
            check_out(&node.name, dir, commit)?;
        }
    }
    let again = Request {
        synchronise: false,
        ..request.clone()
    };
    let ws = workspace::resolve(&again, progress)?;
    lock.check(&Lock::of(&ws, &heads_of(&ws)?))?;
    Ok(ws)
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
