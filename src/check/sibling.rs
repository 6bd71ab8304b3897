//! Sibling dependencies: is each `clone = true` repository next to the project
//! in the state CI will use? Facts are read from local refs only (fast, no
//! network); the rules that turn facts into findings are pure.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Finding, Severity, shell_quote};

/// What `ciux check` knows of one sibling, read from its local repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SiblingFacts {
    /// Repository name (last URL segment).
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    pub(crate) state: SiblingState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SiblingState {
    /// No directory at `<project parent>/<name>`.
    Missing,
    /// A directory, but not a git repository.
    NotARepository,
    Present(Box<Local>),
}

/// A cloned sibling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Local {
    /// The remote CI clones from (`origin`, else the only remote).
    pub(crate) remote: Option<String>,
    /// Branches under `refs/remotes/<remote>/`, as of the last fetch.
    pub(crate) remote_branches: BTreeSet<String>,
    /// The checked-out branch; `None` on a detached HEAD.
    pub(crate) branch: Option<String>,
    /// Commits of the checked-out branch missing from its remote-tracking ref.
    pub(crate) ahead: usize,
    /// Tracked files differ from HEAD.
    pub(crate) dirty: bool,
}

/// The branch CI resolves for a dependency: the project's branch if the
/// dependency's remote has it, else `main`, else `master`.
pub(crate) fn resolve_branch<'a>(
    project_branch: Option<&'a str>,
    remote: &'a BTreeSet<String>,
) -> Option<&'a str> {
    crate::git::remote::branch_rule(project_branch, |b| remote.contains(b)).map(|(b, _)| b)
}

/// The findings for one sibling, given the project's branch.
pub(crate) fn sibling_findings(project_branch: Option<&str>, facts: &SiblingFacts) -> Vec<Finding> {
    let name = &facts.name;
    let dir = shell_quote(&facts.dir.display().to_string());
    let finding =
        |severity, code, message: String, fix: Option<String>, hint: Option<String>| Finding {
            severity,
            code,
            repository: name.clone(),
            message,
            fix,
            hint,
        };
    let local = match &facts.state {
        SiblingState::Missing => {
            return vec![finding(
                Severity::Warning,
                "sibling-missing",
                format!(
                    "not cloned at {}: nothing to check locally",
                    facts.dir.display()
                ),
                Some("ciux ignite".into()),
                Some("run it in the project to clone the sibling".into()),
            )];
        }
        SiblingState::NotARepository => {
            return vec![finding(
                Severity::Error,
                "sibling-not-a-repository",
                format!("{} exists but is not a git repository", facts.dir.display()),
                None,
                Some(format!(
                    "move it away, then run `ciux ignite` to clone {name}"
                )),
            )];
        }
        SiblingState::Present(local) => local,
    };
    let mut findings = Vec::new();
    if local.dirty {
        findings.push(finding(
            Severity::Warning,
            "sibling-dirty",
            "uncommitted changes that CI will not see".into(),
            Some(format!("git -C {dir} status")),
            Some("commit and push them".into()),
        ));
    }
    let Some(remote) = &local.remote else {
        findings.push(finding(
            Severity::Warning,
            "sibling-no-remote",
            "no remote: cannot tell which branch CI would use".into(),
            None,
            Some(format!("add its remote and fetch it: `git -C {dir} remote add origin URL`, then `git -C {dir} fetch origin`")),
        ));
        return findings;
    };
    let Some(expected) = resolve_branch(project_branch, &local.remote_branches) else {
        findings.push(finding(
            Severity::Warning,
            "sibling-remote-unknown",
            format!("`{remote}` has none of the branches CI would use (project branch, main, master) as of the last fetch"),
            Some(format!("git -C {dir} fetch {}", shell_quote(remote))),
            None,
        ));
        return findings;
    };
    let fallback = project_branch.filter(|b| *b != expected);
    let Some(branch) = local.branch.as_deref() else {
        findings.push(finding(
            Severity::Warning,
            "sibling-detached",
            format!("detached HEAD, while CI uses branch `{expected}`"),
            Some(format!("git -C {dir} checkout {}", shell_quote(expected))),
            None,
        ));
        return findings;
    };
    if branch != expected {
        if Some(branch) == fallback {
            findings.push(finding(
                Severity::Error,
                "sibling-branch-not-pushed",
                format!("on branch `{branch}`, which `{remote}` does not have: CI falls back to `{expected}`"),
                Some(format!("git -C {dir} push -u {} {}", shell_quote(remote), shell_quote(branch))),
                None,
            ));
        } else {
            let why = match fallback {
                Some(p) => format!(" (`{remote}` has no branch `{p}`, so CI falls back to it)"),
                None => String::new(),
            };
            findings.push(finding(
                Severity::Error,
                "sibling-branch",
                format!("on branch `{branch}`, but CI uses `{expected}`{why}"),
                Some(format!("git -C {dir} checkout {}", shell_quote(expected))),
                None,
            ));
        }
        return findings;
    }
    if local.ahead > 0 {
        let s = if local.ahead == 1 { "" } else { "s" };
        findings.push(finding(
            Severity::Error,
            "sibling-unpushed",
            format!(
                "{} commit{s} on `{branch}` not pushed to `{remote}`: CI will not test them",
                local.ahead
            ),
            Some(format!(
                "git -C {dir} push {} {}",
                shell_quote(remote),
                shell_quote(branch)
            )),
            None,
        ));
    }
    findings
}

/// Read the facts of the sibling `name` at `dir` from its local refs;
/// `dirty`, when known, spares reading its work-tree status again.
pub(crate) fn read_sibling(name: &str, dir: &Path, dirty: Option<bool>) -> SiblingFacts {
    let state = if !dir.exists() {
        SiblingState::Missing
    } else {
        match git2::Repository::open(dir) {
            Ok(git) => SiblingState::Present(Box::new(read_local(&git, dirty))),
            Err(_) => SiblingState::NotARepository,
        }
    };
    SiblingFacts {
        name: name.to_owned(),
        dir: dir.to_path_buf(),
        state,
    }
}

fn read_local(git: &git2::Repository, dirty: Option<bool>) -> Local {
    let remote = crate::release::branch_remote(git, None);
    let mut remote_branches = BTreeSet::new();
    if let Some(remote) = &remote {
        let prefix = format!("refs/remotes/{remote}/");
        if let Ok(refs) = git.references_glob(&format!("{prefix}*")) {
            for reference in refs.flatten() {
                if let Some(branch) = reference.name().ok().and_then(|n| n.strip_prefix(&prefix))
                    && branch != "HEAD"
                {
                    remote_branches.insert(branch.to_owned());
                }
            }
        }
    }
    let branch = match git.head_detached() {
        Ok(false) => git
            .find_reference("HEAD")
            .ok()
            .and_then(|h| h.symbolic_target().ok().flatten().map(str::to_owned))
            .and_then(|t| t.strip_prefix("refs/heads/").map(str::to_owned)),
        _ => None,
    };
    let ahead = match (&remote, &branch) {
        (Some(remote), Some(branch)) => ahead_of(git, branch, remote),
        _ => 0,
    };
    let dirty = dirty.unwrap_or_else(|| crate::git::tracked_changes(git, None).unwrap_or(false));
    Local {
        remote,
        remote_branches,
        branch,
        ahead,
        dirty,
    }
}

/// Commits on `branch` that `refs/remotes/<remote>/<branch>` lacks (0 when
/// either is missing: a branch absent from the remote is reported apart).
fn ahead_of(git: &git2::Repository, branch: &str, remote: &str) -> usize {
    let id = |name: String| git.refname_to_id(&name).ok();
    match (
        id(format!("refs/heads/{branch}")),
        id(format!("refs/remotes/{remote}/{branch}")),
    ) {
        (Some(local), Some(upstream)) => git
            .graph_ahead_behind(local, upstream)
            .map_or(0, |(a, _)| a),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn branch_resolution() {
        for (project, remote, want) in [
            (Some("feat"), &["feat", "main"][..], Some("feat")),
            (Some("feat"), &["main", "master"][..], Some("main")),
            (Some("feat"), &["master"][..], Some("master")),
            (None, &["main"][..], Some("main")),
            (Some("feat"), &["dev"][..], None),
        ] {
            assert_eq!(
                resolve_branch(project, &set(remote)),
                want,
                "{project:?} {remote:?}"
            );
        }
    }

    fn present(branch: Option<&str>, remote: &[&str], ahead: usize, dirty: bool) -> SiblingFacts {
        SiblingFacts {
            name: "dep".into(),
            dir: "/w/dep".into(),
            state: SiblingState::Present(Box::new(Local {
                remote: Some("origin".into()),
                remote_branches: set(remote),
                branch: branch.map(str::to_owned),
                ahead,
                dirty,
            })),
        }
    }

    fn codes(project: Option<&str>, facts: &SiblingFacts) -> Vec<(Severity, &'static str)> {
        sibling_findings(project, facts)
            .into_iter()
            .map(|f| (f.severity, f.code))
            .collect()
    }

    #[test]
    fn findings_table() {
        use Severity::{Error, Warning};
        let missing = SiblingFacts {
            name: "dep".into(),
            dir: "/w/dep".into(),
            state: SiblingState::Missing,
        };
        type Row<'a> = (Option<&'a str>, SiblingFacts, Vec<(Severity, &'a str)>);
        let table: Vec<Row> = vec![
            (
                Some("feat"),
                present(Some("feat"), &["feat", "main"], 0, false),
                vec![],
            ),
            (
                Some("feat"),
                present(Some("main"), &["main"], 0, false),
                vec![],
            ),
            (
                Some("feat"),
                present(Some("feat"), &["main"], 0, false),
                vec![(Error, "sibling-branch-not-pushed")],
            ),
            (
                Some("feat"),
                present(Some("dev"), &["main", "dev"], 0, false),
                vec![(Error, "sibling-branch")],
            ),
            (
                Some("main"),
                present(Some("master"), &["master", "main"], 0, false),
                vec![(Error, "sibling-branch")],
            ),
            (
                Some("main"),
                present(Some("main"), &["main"], 2, false),
                vec![(Error, "sibling-unpushed")],
            ),
            (
                Some("main"),
                present(Some("main"), &["main"], 0, true),
                vec![(Warning, "sibling-dirty")],
            ),
            (
                Some("main"),
                present(None, &["main"], 0, false),
                vec![(Warning, "sibling-detached")],
            ),
            (
                Some("main"),
                present(Some("main"), &[], 0, false),
                vec![(Warning, "sibling-remote-unknown")],
            ),
            (Some("main"), missing, vec![(Warning, "sibling-missing")]),
        ];
        for (project, facts, want) in table {
            assert_eq!(codes(project, &facts), want, "{project:?} {facts:?}");
        }
    }

    #[test]
    fn messages_say_what_ci_does_and_fixes_are_quoted() {
        let facts = SiblingFacts {
            dir: "/w/it's here".into(),
            ..present(Some("feat;rm -rf ~"), &["main"], 0, false)
        };
        let findings = sibling_findings(Some("feat;rm -rf ~"), &facts);
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].message.contains("CI falls back to `main`"),
            "{}",
            findings[0].message
        );
        assert_eq!(
            findings[0].fix.as_deref(),
            Some(r"git -C '/w/it'\''s here' push -u origin 'feat;rm -rf ~'")
        );
    }
}
