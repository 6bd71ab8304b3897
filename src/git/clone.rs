//! Sibling checkouts: clone, or bring an existing clean clone onto a branch,
//! through the `git` CLI (credential helpers and ssh agents apply), several
//! repositories at once.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;
use thiserror::Error;

use super::remote::redact_url;

/// Repositories synchronised at the same time: enough to overlap network waits,
/// few enough not to flood a small CI machine.
const PARALLEL: usize = 8;

/// One repository to bring to `commit` on `branch` in `dir`.
#[derive(Debug, Clone)]
pub struct SyncJob {
    pub name: String,
    pub url: String,
    pub dir: PathBuf,
    pub branch: String,
    /// The remote's commit for `branch`, from the listing.
    pub commit: String,
}

/// What was done to a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    /// Cloned into a new directory.
    Cloned,
    /// Already there, on the branch at the remote's commit: nothing to do.
    UpToDate,
    /// Already there and clean: fetched and checked out on the branch.
    Updated,
    /// Already there with uncommitted changes: left alone.
    Dirty,
    /// Already there, but the local branch has commits the remote lacks: left
    /// on the local branch.
    Diverged,
}

#[derive(Debug, Error)]
pub enum CloneError {
    #[error("cannot {action} {name} ({url}) in {}: {message}", dir.display())]
    Git {
        name: String,
        url: String,
        dir: PathBuf,
        action: &'static str,
        message: String,
    },
    #[error("{} exists and is not a git repository; move it away to let ciux clone {name} there", dir.display())]
    NotARepository { name: String, dir: PathBuf },
}

/// Where progress goes: a spinner per repository on a terminal, plain lines
/// otherwise, nothing when quiet.
pub trait Progress: Sync {
    fn start(&self, name: &str, message: &str);
    fn finish(&self, name: &str, message: &str);
}

/// Synchronise every job, `PARALLEL` at a time; results come back in job order.
pub fn sync_all(jobs: &[SyncJob], progress: &dyn Progress) -> Vec<Result<SyncOutcome, CloneError>> {
    crate::parallel::map(jobs, PARALLEL, |job| sync_one(job, progress))
}

fn git_error(job: &SyncJob, action: &'static str, message: String) -> CloneError {
    CloneError::Git {
        name: job.name.clone(),
        url: redact_url(&job.url),
        dir: job.dir.clone(),
        action,
        message: message.replace(&job.url, &redact_url(&job.url)),
    }
}

/// Run git in `dir` (or the current directory), quietly, never prompting.
fn run_git(
    job: &SyncJob,
    dir: Option<&Path>,
    action: &'static str,
    args: &[&str],
) -> Result<(), CloneError> {
    let mut cmd = Command::new("git");
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let output = cmd
        .args(["-c", "advice.detachedHead=false"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| git_error(job, action, format!("cannot run git: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(git_error(
            job,
            action,
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ))
    }
}

fn sync_one(job: &SyncJob, progress: &dyn Progress) -> Result<SyncOutcome, CloneError> {
    let url = redact_url(&job.url);
    if !job.dir.exists() {
        progress.start(&job.name, &format!("cloning {url} ({})", job.branch));
        let dir = job.dir.to_string_lossy();
        let branch = format!("--branch={}", job.branch);
        let result = run_git(
            job,
            None,
            "clone",
            &["clone", "-q", &branch, "--", clone_source(&job.url), &dir],
        );
        progress.finish(
            &job.name,
            if result.is_ok() {
                "cloned"
            } else {
                "clone failed"
            },
        );
        return result.map(|()| SyncOutcome::Cloned);
    }
    let repo = git2::Repository::open(&job.dir).map_err(|_| CloneError::NotARepository {
        name: job.name.clone(),
        dir: job.dir.clone(),
    })?;
    let facts = InPlace::read(&repo, &job.branch, &job.commit);
    drop(repo);
    let facts = facts.map_err(|e| git_error(job, "read", e.message().to_owned()))?;
    if facts.dirty {
        return Ok(SyncOutcome::Dirty);
    }
    if facts.on_branch && facts.head == job.commit {
        return Ok(SyncOutcome::UpToDate);
    }
    progress.start(&job.name, &format!("updating in place ({})", job.branch));
    let result = update_in_place(job, &facts);
    progress.finish(
        &job.name,
        if result.is_ok() {
            "updated"
        } else {
            "update failed"
        },
    );
    result
}

/// What to hand to `git clone`: a `file://` URL becomes its path, so that git
/// clones locally (hard links to the remote's objects) instead of packing
/// every object through the transport. Percent-encoded URLs are left to git.
fn clone_source(url: &str) -> &str {
    match url.strip_prefix("file://") {
        Some(path) if path.starts_with('/') && !path.contains('%') => path,
        _ => url,
    }
}

/// What an existing checkout looks like.
struct InPlace {
    dirty: bool,
    on_branch: bool,
    head: String,
    has_commit: bool,
    has_branch: bool,
}

impl InPlace {
    fn read(repo: &git2::Repository, branch: &str, commit: &str) -> Result<Self, git2::Error> {
        let mut options = git2::StatusOptions::new();
        options
            .include_untracked(false)
            .include_ignored(false)
            .exclude_submodules(true);
        let dirty = repo
            .statuses(Some(&mut options))?
            .iter()
            .any(|e| e.status() != git2::Status::CURRENT);
        let head_ref = repo.head().ok();
        let full = format!("refs/heads/{branch}");
        let on_branch = head_ref
            .as_ref()
            .is_some_and(|h| h.name().ok() == Some(full.as_str()));
        let head = head_ref
            .and_then(|h| h.target())
            .map(|id| id.to_string())
            .unwrap_or_default();
        let has_commit = git2::Oid::from_str(commit).is_ok_and(|id| repo.find_commit(id).is_ok());
        let has_branch = repo.find_branch(branch, git2::BranchType::Local).is_ok();
        Ok(Self {
            dirty,
            on_branch,
            head,
            has_commit,
            has_branch,
        })
    }
}

/// Fetch if the commit is missing, then check out the branch and fast-forward it.
fn update_in_place(job: &SyncJob, facts: &InPlace) -> Result<SyncOutcome, CloneError> {
    let dir = Some(job.dir.as_path());
    if !facts.has_commit {
        let refspec = format!("+refs/heads/{0}:refs/remotes/origin/{0}", job.branch);
        run_git(
            job,
            dir,
            "fetch",
            &["fetch", "-q", "--tags", "--", &job.url, &refspec],
        )?;
    }
    if facts.has_branch {
        if !facts.on_branch {
            run_git(
                job,
                dir,
                "check out",
                &["checkout", "-q", &job.branch, "--"],
            )?;
        }
        if run_git(
            job,
            dir,
            "fast-forward",
            &["merge", "-q", "--ff-only", &job.commit],
        )
        .is_err()
        {
            return Ok(SyncOutcome::Diverged);
        }
    } else {
        run_git(
            job,
            dir,
            "check out",
            &["checkout", "-q", "-b", &job.branch, &job.commit, "--"],
        )?;
    }
    Ok(SyncOutcome::Updated)
}
