//! Sibling checkouts: clone, or bring an existing clean clone onto a branch,
//! through the `git` CLI (credential helpers and ssh agents apply), several
//! repositories at once.

use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use super::remote::redact_url;

/// Repositories synchronised at the same time: enough to overlap network waits,
/// few enough not to flood a small CI machine.
const PARALLEL: usize = 8;

/// One repository to bring to `commit` on `branch` in `dir`.
#[derive(Debug, Clone)]
pub(crate) struct SyncJob {
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) dir: PathBuf,
    pub(crate) branch: String,
    /// The remote's commit for `branch`, from the listing.
    pub(crate) commit: String,
}

/// What was done to a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SyncOutcome {
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
pub(crate) enum CloneError {
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
pub(crate) trait Progress: Sync {
    fn start(&self, name: &str, message: &str);
    fn finish(&self, name: &str, message: &str);
}

/// No progress shown (`ciux tag`, `ciux check`).
pub(crate) struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: &str) {}
    fn finish(&self, _: &str, _: &str) {}
}

/// Synchronise every job, `PARALLEL` at a time; results come back in job order.
pub(crate) fn sync_all(
    jobs: &[SyncJob],
    progress: &dyn Progress,
) -> Vec<Result<SyncOutcome, CloneError>> {
    crate::parallel::map(jobs, PARALLEL, |job| sync_one(job, progress))
}

fn git_error(job: &SyncJob, action: &'static str, message: String) -> CloneError {
    CloneError::Git {
        name: job.name.clone(),
        url: redact_url(&job.url),
        dir: job.dir.clone(),
        action,
        message: crate::safe_text::escape_value(&message.replace(&job.url, &redact_url(&job.url)))
            .into_owned(),
    }
}

/// Run git in `dir` (or the current directory), quietly, never prompting.
fn run_git(
    job: &SyncJob,
    dir: Option<&Path>,
    action: &'static str,
    args: &[&str],
) -> Result<(), CloneError> {
    let mut cmd = super::cli::git_command();
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    cmd.args(["-c", "advice.detachedHead=false"]).args(args);
    let output = super::cli::output(&mut cmd).map_err(|e| git_error(job, action, e.describe()))?;
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
    remove_leftovers(job);
    if !job.dir.exists() {
        progress.start(&job.name, &format!("cloning {url} ({})", job.branch));
        let result = clone_beside(job);
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

/// Prefix of the temporary directory a sibling is cloned into, beside it.
fn temp_prefix(job: &SyncJob) -> Option<String> {
    let name = job.dir.file_name()?.to_string_lossy().into_owned();
    Some(format!(".{name}.ciux-clone-"))
}

/// Clone into a temporary directory beside the target, then rename it into
/// place: an interrupted clone (Ctrl-C, a killed job) never leaves a
/// half-checked-out repository where a sibling is expected, only a temporary
/// directory that the next run removes.
fn clone_beside(job: &SyncJob) -> Result<(), CloneError> {
    let parent = job
        .dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io_error = |e: std::io::Error| git_error(job, "clone", e.to_string());
    std::fs::create_dir_all(parent).map_err(io_error)?;
    // The process id in the name tells a live clone from a leftover.
    let prefix = format!(
        "{}{}-",
        temp_prefix(job).unwrap_or_else(|| ".ciux-clone-".into()),
        std::process::id()
    );
    let temp = tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir_in(parent)
        .map_err(io_error)?;
    let target = temp.path().to_string_lossy().into_owned();
    let branch = format!("--branch={}", job.branch);
    run_git(
        job,
        None,
        "clone",
        &[
            "clone",
            "-q",
            &branch,
            "--",
            clone_source(&job.url),
            &target,
        ],
    )?;
    std::fs::rename(temp.path(), &job.dir).map_err(io_error)?;
    // Renamed: nothing left for the guard to remove.
    let _ = temp.keep();
    Ok(())
}

/// Remove temporary clone directories that an interrupted run left beside
/// the sibling (never the sibling itself, nor the clone of a process still
/// running: another project of the same parent directory may be cloning it).
fn remove_leftovers(job: &SyncJob) {
    let (Some(parent), Some(prefix)) = (job.dir.parent(), temp_prefix(job)) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_leftover = name.to_str().is_some_and(|n| {
            n.strip_prefix(prefix.as_str())
                .and_then(|rest| rest.split_once('-'))
                .and_then(|(pid, _)| pid.parse::<u32>().ok())
                .is_some_and(|pid| {
                    pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
                })
        });
        if is_leftover && entry.file_type().is_ok_and(|t| t.is_dir()) {
            tracing::info!(
                "removing {}, left by an interrupted clone",
                entry.path().display()
            );
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
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
        let dirty = super::status::tracked_changes(repo, None)?;
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
