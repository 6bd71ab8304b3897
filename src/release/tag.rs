//! Tagging one repository: a [`TagPlan`] is computed first (every refusal is
//! found before anything changes), then applied: the annotated tag, then the push.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use git2::Oid;
use serde::Serialize;

use super::ReleaseError;
use super::remote::{self, git};
use super::version::{Bump, next_version, release_order};
use crate::git::{Repo, SemverTag, parse_semver_tag};

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct TagRequest {
    pub(crate) bump: Bump,
    /// Tag message; `Release <tag>` when `None`.
    pub(crate) message: Option<String>,
    /// Allow a branch other than main/master (and a detached HEAD).
    pub(crate) allow_branch: bool,
    /// Push the tag to the branch's remote.
    pub(crate) push: bool,
}

/// Where the tag goes when pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PushTarget {
    pub(crate) remote: String,
    /// The remote's URL with any credentials redacted.
    pub(crate) url: String,
}

/// Everything `ciux tag` will do to one repository, decided before doing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TagPlan {
    pub(crate) repository: PathBuf,
    pub(crate) branch: Option<String>,
    /// The commit to tag (HEAD).
    pub(crate) commit: String,
    /// The latest release tag reachable from HEAD.
    pub(crate) previous: Option<String>,
    pub(crate) tag: String,
    pub(crate) message: String,
    /// `tag.gpgSign` is set: the tag is made by `git tag -s`.
    pub(crate) signed: bool,
    pub(crate) push: Option<PushTarget>,
}

/// Branches that releases are cut from unless `--allow-branch`.
const RELEASE_BRANCHES: [&str; 2] = ["main", "master"];

/// Decide what to tag, or refuse with the reason and a fix.
///
/// Refusals: a dirty tree, HEAD already carrying a version tag, a branch other
/// than main/master (unless allowed), the next tag existing locally or on the
/// remote. The remote is asked with one `git ls-remote`; when it cannot be
/// reached and nothing is pushed, a warning is logged and tagging goes on.
pub(crate) fn plan_tag(repo: &Repo, request: &TagRequest) -> Result<TagPlan, ReleaseError> {
    let path = repo.root().to_path_buf();
    // A shallow clone (GitHub's default checkout) has neither the history nor
    // the tags: the next version would be computed from nothing.
    if repo.is_shallow() {
        return Err(crate::git::GitError::Shallow { path }.into());
    }
    if repo.is_dirty()? {
        return Err(ReleaseError::Dirty { path });
    }
    let branch = repo.current_branch()?;
    if !request.allow_branch {
        match branch.as_deref() {
            Some(b) if RELEASE_BRANCHES.contains(&b) => {}
            other => {
                return Err(ReleaseError::WrongBranch {
                    path,
                    branch: other.map(str::to_owned),
                });
            }
        }
    }
    let head = repo.head_id()?;
    let tags = release_tags(repo)?;
    if let Some((tag, _)) = tags.iter().find(|(_, id)| *id == head) {
        return Err(ReleaseError::AlreadyTagged {
            path,
            tag: tag.to_string(),
        });
    }
    let previous = latest_reachable(repo, head, &tags)?;
    let next =
        next_version(previous.as_ref(), request.bump).map_err(|source| ReleaseError::Version {
            path: path.clone(),
            source,
        })?;
    let tag = next.to_string();
    if repo
        .git()
        .find_reference(&format!("refs/tags/{tag}"))
        .is_ok()
    {
        return Err(ReleaseError::TagExists {
            path,
            tag,
            place: "locally".into(),
        });
    }
    let remote_name = remote::branch_remote(repo.git(), branch.as_deref());
    if let Some(name) = &remote_name {
        match remote::remote_tags(&path, name) {
            Ok(remote_tags) => {
                if remote_tags.contains(&tag) {
                    return Err(ReleaseError::TagExists {
                        path,
                        tag,
                        place: format!("on the remote `{name}`"),
                    });
                }
                // Version tags the remote has and this clone lacks (a checkout
                // without tags): the next version would be wrong.
                let missing: Vec<String> = remote_tags
                    .into_iter()
                    .filter(|t| crate::git::parse_semver_tag(t).is_some())
                    .filter(|t| {
                        repo.git()
                            .find_reference(&format!("refs/tags/{t}"))
                            .is_err()
                    })
                    .collect();
                if !missing.is_empty() {
                    return Err(ReleaseError::IncompleteTags {
                        path,
                        remote: name.clone(),
                        missing,
                    });
                }
            }
            Err(err) if request.push => return Err(err),
            Err(err) => {
                tracing::warn!("cannot ask remote `{name}` whether {tag} exists there: {err}")
            }
        }
    }
    let push = match (request.push, remote_name) {
        (false, _) => None,
        (true, Some(remote)) => Some(PushTarget {
            url: remote::remote_url(repo.git(), &remote),
            remote,
        }),
        (true, None) => return Err(ReleaseError::NoRemote { path }),
    };
    let signed = repo
        .git()
        .config()
        .and_then(|c| c.get_bool("tag.gpgSign"))
        .unwrap_or(false);
    Ok(TagPlan {
        repository: path,
        branch,
        commit: head.to_string(),
        previous: previous.map(|t| t.to_string()),
        message: request
            .message
            .clone()
            .unwrap_or_else(|| format!("Release {tag}")),
        tag,
        signed,
        push,
    })
}

/// The commands that carry out `plan` by hand, as `ciux tag` prints them when
/// asked for nothing more (the reference tool's output, which release
/// procedures read and run): `git tag -m "Release X" X` then `git push --tag`,
/// each word shell-quoted. `in_dir` adds `-C DIR` for a repository other than
/// the current one.
pub(crate) fn tag_commands(plan: &TagPlan, in_dir: bool) -> Vec<String> {
    use crate::emit::quote_word;
    let git = if in_dir {
        format!("git -C {}", quote_word(&plan.repository.to_string_lossy()))
    } else {
        "git".to_owned()
    };
    let sign = if plan.signed { " -s" } else { "" };
    vec![
        format!(
            "{git} tag{sign} -m {} {}",
            quote_word(&plan.message),
            quote_word(&plan.tag)
        ),
        format!("{git} push --tag"),
    ]
}

/// Create the annotated tag of `plan` (signed through `git tag -s` when
/// `tag.gpgSign` is set, so the user's signing setup applies).
pub(crate) fn create_tag(repo: &Repo, plan: &TagPlan) -> Result<(), ReleaseError> {
    let path = repo.root();
    if plan.signed {
        return git(
            path,
            &[
                "tag",
                "-s",
                "-m",
                &plan.message,
                "--",
                &plan.tag,
                &plan.commit,
            ],
        )
        .map(drop);
    }
    let git = repo.git();
    let failed = |source: git2::Error| ReleaseError::Tag {
        path: path.to_path_buf(),
        tag: plan.tag.clone(),
        source: source.into(),
    };
    let id = Oid::from_str(&plan.commit).map_err(failed)?;
    let target = git.find_object(id, None).map_err(failed)?;
    let tagger = tagger(git).map_err(failed)?;
    // git ends a message with a newline; libgit2 does not clean messages up.
    let mut message = plan.message.clone();
    if !message.ends_with('\n') {
        message.push('\n');
    }
    git.tag(&plan.tag, &target, &tagger, &message, false)
        .map_err(failed)?;
    Ok(())
}

/// Push the tag of `plan` to its remote (nothing when the plan does not push).
pub(crate) fn push_tag(plan: &TagPlan) -> Result<(), ReleaseError> {
    match &plan.push {
        Some(target) => remote::push_tag(&plan.repository, &target.remote, &plan.tag),
        None => Ok(()),
    }
}

/// The tagger as `git tag` would record it: `GIT_COMMITTER_NAME`/`_EMAIL`
/// override `user.name`/`user.email`, and `GIT_COMMITTER_DATE` in git's
/// internal form (`<unix seconds> <+hhmm>`, or `@<seconds>`) pins the time.
fn tagger(git: &git2::Repository) -> Result<git2::Signature<'static>, git2::Error> {
    let config = git.config()?;
    let get = |env: &str, key: &str| {
        std::env::var(env)
            .ok()
            .or_else(|| config.get_string(key).ok())
            .ok_or_else(|| {
                git2::Error::from_str(&format!(
                    "no tagger identity: set `git config user.name` and `user.email` (or {env})"
                ))
            })
    };
    let name = get("GIT_COMMITTER_NAME", "user.name")?;
    let email = get("GIT_COMMITTER_EMAIL", "user.email")?;
    match std::env::var("GIT_COMMITTER_DATE")
        .ok()
        .and_then(|d| parse_git_date(&d))
    {
        Some(time) => git2::Signature::new(&name, &email, &time),
        None => git2::Signature::now(&name, &email),
    }
}

fn parse_git_date(text: &str) -> Option<git2::Time> {
    let mut parts = text.trim().trim_start_matches('@').split_whitespace();
    let seconds: i64 = parts.next()?.parse().ok()?;
    let offset = match parts.next() {
        Some(zone) => {
            let (sign, digits) = zone.split_at_checked(1)?;
            let hhmm: i32 = digits.parse().ok()?;
            let minutes = hhmm / 100 * 60 + hhmm % 100;
            if sign == "-" { -minutes } else { minutes }
        }
        None => 0,
    };
    Some(git2::Time::new(seconds, offset))
}

/// Annotated tags whose names are versions, with the commit each points at.
pub(crate) fn release_tags(repo: &Repo) -> Result<Vec<(SemverTag, Oid)>, ReleaseError> {
    let git = repo.git();
    let failed = |source| ReleaseError::from(repo.error("cannot list tags", source));
    let mut tags = Vec::new();
    for reference in git.references_glob("refs/tags/*").map_err(failed)? {
        let reference = reference.map_err(failed)?;
        let (Ok(name), Some(target)) = (reference.name(), reference.target()) else {
            continue;
        };
        let Some(tag) = name.strip_prefix("refs/tags/").and_then(parse_semver_tag) else {
            continue;
        };
        // Lightweight tags are not releases (as for versions).
        let Ok(object) = git.find_tag(target) else {
            continue;
        };
        if let Ok(commit) = object.as_object().peel_to_commit() {
            tags.push((tag, commit.id()));
        }
    }
    Ok(tags)
}

/// The latest (by [`release_order`]) release tag reachable from `head`.
fn latest_reachable(
    repo: &Repo,
    head: Oid,
    tags: &[(SemverTag, Oid)],
) -> Result<Option<SemverTag>, ReleaseError> {
    if tags.is_empty() {
        return Ok(None);
    }
    if repo.is_shallow() {
        return Err(crate::git::GitError::Shallow {
            path: repo.root().to_path_buf(),
        }
        .into());
    }
    let mut by_commit: HashMap<Oid, Vec<&SemverTag>> = HashMap::new();
    for (tag, id) in tags {
        by_commit.entry(*id).or_default().push(tag);
    }
    let failed = |source| ReleaseError::from(repo.error("cannot walk the history", source));
    let mut walk = repo.git().revwalk().map_err(failed)?;
    walk.set_sorting(git2::Sort::NONE).map_err(failed)?;
    walk.push(head).map_err(failed)?;
    let mut reachable: HashSet<Oid> = HashSet::new();
    for id in walk {
        let id = id.map_err(failed)?;
        if by_commit.contains_key(&id) {
            reachable.insert(id);
            if reachable.len() == by_commit.len() {
                break;
            }
        }
    }
    Ok(reachable
        .iter()
        .flat_map(|id| by_commit[id].iter().copied())
        .max_by(|a, b| release_order(&a.version, &b.version).then_with(|| a.prefix.cmp(&b.prefix)))
        .cloned())
}

#[cfg(test)]
mod tests {
    use super::{TagPlan, parse_git_date, tag_commands};

    #[test]
    fn printed_commands_quote_every_word() {
        let mut plan = TagPlan {
            repository: "/w/my repo".into(),
            branch: Some("main".into()),
            commit: "0".repeat(40),
            previous: None,
            tag: "v1.0.0".into(),
            message: "Release v1.0.0".into(),
            signed: false,
            push: None,
        };
        assert_eq!(
            tag_commands(&plan, false),
            ["git tag -m 'Release v1.0.0' v1.0.0", "git push --tag"]
        );
        plan.signed = true;
        plan.message = "it's $(done)".into();
        assert_eq!(
            tag_commands(&plan, true),
            [
                "git -C '/w/my repo' tag -s -m 'it'\\''s $(done)' v1.0.0",
                "git -C '/w/my repo' push --tag"
            ]
        );
    }

    #[test]
    fn git_dates() {
        assert_eq!(
            parse_git_date("1704067260 +0000").map(|t| (t.seconds(), t.offset_minutes())),
            Some((1704067260, 0))
        );
        assert_eq!(
            parse_git_date("@5 -0130").map(|t| (t.seconds(), t.offset_minutes())),
            Some((5, -90))
        );
        assert_eq!(
            parse_git_date("2024-01-01T00:00:00").map(|t| t.seconds()),
            None
        );
    }
}
