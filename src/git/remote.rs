//! A remote's branches, listed without cloning, and the choice of a
//! dependency's branch among them.
//!
//! Local remotes (`file://` URLs and paths) are listed in-process with libgit2;
//! https and ssh remotes go through `git ls-remote` so that CI credential
//! helpers and the ssh agent apply (our libgit2 is built without https/ssh).

use std::collections::BTreeMap;

use serde::Serialize;
use thiserror::Error;

/// Branch name → commit id (hex) of a remote's `refs/heads/*`.
pub(crate) type Heads = BTreeMap<String, String>;

#[derive(Debug, Error)]
pub(crate) enum RemoteError {
    /// The remote could not be listed (unreachable, refused, not a repository).
    #[error("cannot list the branches of {url}: {message}")]
    List { url: String, message: String },
    /// None of the wanted branch, `main` or `master` exists.
    #[error("dependency {dependency} ({url}) has none of the branches {}", tried.join(", "))]
    NoBranch {
        dependency: String,
        url: String,
        tried: Vec<String>,
    },
}

/// Why a repository is on the branch it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BranchReason {
    /// The project's branch, given with `--branch`.
    Option,
    /// The project's checked-out branch.
    CheckedOut,
    /// The project is on a detached HEAD; branch from `GITHUB_HEAD_REF`.
    GithubHeadRef,
    /// The project is on a detached HEAD; branch from `GITHUB_REF_NAME`.
    GithubRefName,
    /// The project is on a detached HEAD and no branch is known.
    Detached,
    /// The dependency has the project's branch.
    SameBranch,
    FallbackMain,
    FallbackMaster,
}

impl std::fmt::Display for BranchReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Option => "from --branch",
            Self::CheckedOut => "checked out",
            Self::GithubHeadRef => "from GITHUB_HEAD_REF",
            Self::GithubRefName => "from GITHUB_REF_NAME",
            Self::Detached => "detached HEAD",
            Self::SameBranch => "same branch",
            Self::FallbackMain => "fallback to main",
            Self::FallbackMaster => "fallback to master",
        })
    }
}

/// The rule for the branch a dependency uses: the project's branch if the
/// remote has it (`has`), else `main`, else `master`; with the reason.
pub(crate) fn branch_rule(
    wanted: Option<&str>,
    has: impl Fn(&str) -> bool,
) -> Option<(&str, BranchReason)> {
    [
        wanted.map(|w| (w, BranchReason::SameBranch)),
        Some(("main", BranchReason::FallbackMain)),
        Some(("master", BranchReason::FallbackMaster)),
    ]
    .into_iter()
    .flatten()
    .find(|(name, _)| has(name))
}

/// [`branch_rule`] over a remote's heads: the branch, its commit and the reason.
pub(crate) fn choose_branch(
    heads: &Heads,
    wanted: Option<&str>,
) -> Option<(String, String, BranchReason)> {
    let (name, reason) = branch_rule(wanted, |name| heads.contains_key(name))?;
    Some((name.to_owned(), heads[name].clone(), reason))
}

/// Whether `url` names a repository on this machine (`file://` or a path).
pub(crate) fn is_local(url: &str) -> bool {
    if url.starts_with("file://") {
        return true;
    }
    if url.contains("://") {
        return false;
    }
    // scp-like `host:path` has a colon before any slash.
    match (url.find(':'), url.find('/')) {
        (Some(colon), Some(slash)) => slash < colon,
        (Some(_), None) => false,
        _ => true,
    }
}

/// `url` without credentials (`https://user:token@host/x` → `https://host/x`),
/// for every message and log line.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// List the branches of the remote at `url`.
pub(crate) fn list_heads(url: &str) -> Result<Heads, RemoteError> {
    if is_local(url) {
        list_local(url)
    } else {
        list_with_cli(url)
    }
}

fn list_local(url: &str) -> Result<Heads, RemoteError> {
    let error = |source: git2::Error| RemoteError::List {
        url: redact_url(url),
        message: crate::safe_text::escape_value(source.message()).into_owned(),
    };
    let mut remote = git2::Remote::create_detached(url).map_err(error)?;
    remote.connect(git2::Direction::Fetch).map_err(error)?;
    let heads = remote
        .list()
        .map_err(error)?
        .iter()
        .filter_map(|head| {
            head.name()
                .strip_prefix("refs/heads/")
                .map(|branch| (branch.to_owned(), head.oid().to_string()))
        })
        .collect();
    Ok(heads)
}

fn list_with_cli(url: &str) -> Result<Heads, RemoteError> {
    let output =
        super::cli::output(super::cli::git_command().args(["ls-remote", "--heads", "--", url]))
            .map_err(|e| RemoteError::List {
                url: redact_url(url),
                message: e.describe(),
            })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(RemoteError::List {
            url: redact_url(url),
            message: crate::safe_text::escape_value(stderr.replace(url, &redact_url(url)).trim())
                .into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (commit, name) = line.split_once('\t')?;
            // Only well-formed ids: they are later passed to git as arguments.
            git2::Oid::from_str(commit).ok()?;
            Some((
                name.strip_prefix("refs/heads/")?.to_owned(),
                commit.to_owned(),
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heads(names: &[&str]) -> Heads {
        names
            .iter()
            .map(|n| (n.to_string(), format!("id-{n}")))
            .collect()
    }

    #[test]
    fn same_branch_then_main_then_master() {
        let pick =
            |h: &[&str], w: Option<&str>| choose_branch(&heads(h), w).map(|(b, _, r)| (b, r));
        assert_eq!(
            pick(&["feat", "main"], Some("feat")),
            Some(("feat".into(), BranchReason::SameBranch))
        );
        assert_eq!(
            pick(&["main", "master"], Some("feat")),
            Some(("main".into(), BranchReason::FallbackMain))
        );
        assert_eq!(
            pick(&["master"], Some("feat")),
            Some(("master".into(), BranchReason::FallbackMaster))
        );
        assert_eq!(
            pick(&["master"], None),
            Some(("master".into(), BranchReason::FallbackMaster))
        );
        assert_eq!(pick(&["dev"], Some("feat")), None);
    }

    #[test]
    fn local_urls_and_redaction() {
        assert!(is_local("file:///srv/git/a.git"));
        assert!(is_local("/srv/git/a.git"));
        assert!(is_local("../a"));
        assert!(is_local("./x:y"));
        assert!(!is_local("git@example.org:team/a.git"));
        assert!(!is_local("https://example.org/a"));
        assert_eq!(
            redact_url("https://user:t0ken@example.org/a.git"),
            "https://example.org/a.git"
        );
        assert_eq!(
            redact_url("https://example.org/a@b"),
            "https://example.org/a@b"
        );
        assert_eq!(redact_url("git@example.org:a"), "git@example.org:a");
    }
}
