//! Release tagging: the next version (pure arithmetic in [`version`]), a plan
//! computed before anything changes ([`tag::plan_tag`]), then applied
//! (annotated tag with libgit2, or `git tag -s` when `tag.gpgSign` is set; the
//! push through the `git` CLI so credential helpers and ssh agents apply).

mod remote;
mod stack;
mod tag;
mod version;
mod wait;

use std::path::PathBuf;

use thiserror::Error;

pub(crate) use remote::branch_remote;
pub(crate) use stack::{
    Member, StackPlan, StackReport, StackStep, StepState, apply_stack, clone_missing, plan_stack,
    select_members, stack_members,
};
pub(crate) use tag::{TagPlan, TagRequest, create_tag, plan_tag, push_tag, tag_commands};
pub(crate) use version::{Bump, VersionError};
pub(crate) use wait::{dependency_image, wait_for_image};

/// Why a repository was not tagged. Every refusal says what to do.
#[derive(Debug, Error)]
pub(crate) enum ReleaseError {
    #[error("{} has uncommitted changes: a release must be a committed state\n  fix: commit or stash them (`git status`)", path.display())]
    Dirty { path: PathBuf },
    #[error("{} is {}: releases are cut from main or master\n  fix: check out main or master, or pass --allow-branch",
        path.display(),
        branch.as_deref().map_or_else(|| "on a detached HEAD".to_owned(), |b| format!("on branch `{b}`")))]
    WrongBranch {
        path: PathBuf,
        branch: Option<String>,
    },
    #[error("HEAD of {} is already tagged {tag}\n  fix: commit something new to release, or push the existing tag", path.display())]
    AlreadyTagged { path: PathBuf, tag: String },
    #[error("tag {tag} already exists {place} in {}\n  fix: fetch the tags (`git fetch --tags`) and run again, or choose another bump", path.display())]
    TagExists {
        path: PathBuf,
        tag: String,
        place: String,
    },
    #[error("{} lacks {} version tag{} that the remote `{remote}` has ({}): the next version would be wrong\n  fix: `git fetch --tags`, or in GitHub Actions set `fetch-depth: 0` on actions/checkout",
        path.display(), missing.len(), if missing.len() == 1 { "" } else { "s" },
        missing.iter().take(5).cloned().collect::<Vec<_>>().join(", "))]
    IncompleteTags {
        path: PathBuf,
        remote: String,
        missing: Vec<String>,
    },
    #[error("{} has no remote to push the tag to\n  fix: add one (`git remote add origin URL`) or tag without --push", path.display())]
    NoRemote { path: PathBuf },
    #[error("cannot compute the next version of {}", path.display())]
    Version {
        path: PathBuf,
        #[source]
        source: VersionError,
    },
    #[error("cannot create tag {tag} in {}", path.display())]
    Tag {
        path: PathBuf,
        tag: String,
        #[source]
        source: crate::git::Libgit2,
    },
    #[error("`{command}` failed in {}: {stderr}", path.display())]
    GitCommand {
        path: PathBuf,
        command: String,
        stderr: String,
    },
    #[error("cannot run git in {} (is it installed and on PATH?)", path.display())]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error("dependency {name} is not cloned at {}\n  fix: run `ciux ignite` to clone the stack, then tag again", dir.display())]
    MissingSibling { name: String, dir: PathBuf },
    #[error("cannot clone {name} from {url} to tag it: {reason}")]
    CloneForTag {
        name: String,
        url: String,
        reason: String,
    },
    #[error("--only names {} not in the stack (its repositories: {})", unknown.join(", "), known.join(", "))]
    UnknownMembers {
        unknown: Vec<String>,
        known: Vec<String>,
    },
    #[error("the image of {name}, `{reference}`, is not a valid reference")]
    BadImage {
        name: String,
        reference: String,
        #[source]
        source: Box<crate::registry::RegistryError>,
    },
    #[error(
        "{reference} did not appear within {waited} s{last_error}\n  fix: check the dependency's CI, then finish with the commands below"
    )]
    ImageTimeout {
        reference: String,
        waited: u64,
        last_error: String,
    },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("dependency cycle: {}", path.join(" -> "))]
    Cycle { path: Vec<String> },
    #[error("nothing was tagged: {} repositor{} cannot be tagged\n  {}", refusals.len(), if refusals.len() == 1 { "y" } else { "ies" }, refusals.join("\n  "))]
    StackRefused { refusals: Vec<String> },
    #[error("tagging stopped at {failed}: {reason}{details}")]
    StackFailed {
        failed: String,
        reason: String,
        details: String,
    },
}

impl ReleaseError {
    /// Configuration problems (exit status 2) rather than failures.
    pub(crate) fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::Cycle { .. } | Self::Config(_) | Self::UnknownMembers { .. }
        )
    }
}
