//! `ciux check`: the local pre-push check. It catches in well under a second
//! what CI would reject much later: invalid configuration, a dirty source tree
//! (a `-dirty` version never exists in a registry), missing tags or a shallow
//! clone, siblings on the wrong branch or with unpushed commits, a project
//! branch that is not upstream.
//!
//! Nothing here contacts a remote: remote state is read from local
//! remote-tracking refs (`refs/remotes/*`), as of the last fetch, and the report
//! says so. Findings are plain data, rendered as text or JSON.

mod sibling;

/// Quote a word for the fix lines we print (one definition, in `emit`).
pub(crate) use crate::emit::quote_word as shell_quote;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

pub(crate) use sibling::{SiblingState, read_sibling, sibling_findings};

use crate::config::{Config, DependencyKind};
use crate::git::clone::Silent;
use crate::git::{GitError, Repo, describe_commit};
use crate::image::ImageOptions;
use crate::resolution::{self, Images, Resolution, ResolutionError};
use crate::selector::Selector;
use crate::workspace::{self, NodeKind, WorkspaceError};

/// How bad a finding is: any error makes `ciux check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Warning,
    Error,
}

/// One problem: a stable code, the repository, one line of message, and what
/// to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Finding {
    pub(crate) severity: Severity,
    pub(crate) code: &'static str,
    pub(crate) repository: String,
    pub(crate) message: String,
    /// A command line to paste into a shell, its words quoted: never prose,
    /// never a placeholder.
    pub(crate) fix: Option<String>,
    /// Prose for what no command can do, or what to do besides the command.
    pub(crate) hint: Option<String>,
}

/// The outcome of a check.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CheckReport {
    pub(crate) project: PathBuf,
    pub(crate) branch: Option<String>,
    /// Repositories looked at: the project and its cloned siblings.
    pub(crate) repositories: usize,
    /// Always false: remote state comes from local refs.
    pub(crate) remotes_contacted: bool,
    pub(crate) note: &'static str,
    pub(crate) findings: Vec<Finding>,
}

/// What the report says about remote state.
pub(crate) const LOCAL_REFS_NOTE: &str = "remote state read from local refs (refs/remotes/*) as of the last fetch; no remote was contacted";

impl CheckReport {
    pub(crate) fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub(crate) fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Text form: one line per finding, then its fix, then a summary.
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let severity = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            out.push_str(&format!(
                "{severity}[{}] {}: {}\n",
                f.code, f.repository, f.message
            ));
            if let Some(fix) = &f.fix {
                out.push_str(&format!("  fix: {fix}\n"));
            }
            if let Some(hint) = &f.hint {
                out.push_str(&format!("  hint: {hint}\n"));
            }
        }
        out.push_str(&format!(
            "checked {}: {}, {} ({})\n",
            plural(self.repositories, "repository", "repositories"),
            plural(self.errors(), "error", "errors"),
            plural(self.warnings(), "warning", "warnings"),
            self.note
        ));
        out
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `ciux check` found errors; the report has already been printed. Exit 2 when
/// the configuration is invalid (as for every command), else 1.
#[derive(Debug, Error)]
#[error("the pre-push check found {errors} error(s){}", if *.config_invalid { ", the configuration among them" } else { "" })]
pub(crate) struct CheckFailed {
    pub(crate) errors: usize,
    pub(crate) config_invalid: bool,
}

impl CheckReport {
    /// The error to exit with, if any finding is an error.
    pub(crate) fn failure(&self) -> Option<CheckFailed> {
        let errors = self.errors();
        (errors > 0).then(|| CheckFailed {
            errors,
            config_invalid: self.findings.iter().any(|f| f.code == "config"),
        })
    }
}

/// A ref being pushed, as git gives it to a pre-push hook on standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PushedRef {
    pub(crate) local_ref: String,
    pub(crate) remote_ref: String,
    /// The ref is being deleted on the remote.
    pub(crate) delete: bool,
}

/// Parse pre-push hook input: `<local ref> <local oid> <remote ref> <remote oid>` lines.
pub(crate) fn parse_pre_push(input: impl BufRead) -> Vec<PushedRef> {
    input
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            let mut parts = line.split(' ');
            let (local_ref, local_oid, remote_ref) = (parts.next()?, parts.next()?, parts.next()?);
            Some(PushedRef {
                local_ref: local_ref.to_owned(),
                remote_ref: remote_ref.to_owned(),
                delete: local_oid.bytes().all(|b| b == b'0'),
            })
        })
        .collect()
}

/// Run every check on the repository containing `path`. `pushing` lists the refs
/// of a push in progress (pre-push hook), which count as being upstream.
///
/// The workspace is resolved as every command resolves it, offline (no
/// remote listed, nothing cloned): each configuration read once, the project
/// and every sibling on disk described once. The checks render that
/// resolution. When it cannot be made (an invalid configuration, a sibling
/// that cannot be described), that is a finding, and the project and its
/// direct siblings are still checked from the project's own configuration.
pub(crate) fn check(
    path: &Path,
    pushing: &[PushedRef],
) -> Result<CheckReport, crate::git::GitError> {
    let repo = Repo::discover(path)?;
    let name = dir_name(repo.root());
    let branch = repo.current_branch()?;
    let mut findings = Vec::new();
    let finding =
        |severity, code, message: String, fix: Option<String>, hint: Option<&str>| Finding {
            severity,
            code,
            repository: name.clone(),
            message,
            fix,
            hint: hint.map(str::to_owned),
        };
    let parent = repo.root().parent().unwrap_or(repo.root()).to_path_buf();
    let (config, tagged, siblings): (_, _, Vec<Sibling>) = match resolve_offline(repo.root()) {
        Ok(resolution) => {
            let tagged = resolution
                .workspace
                .project_node()
                .map(|n| n.version_tag.is_some());
            let siblings = resolution
                .workspace
                .dependencies()
                .filter(|n| n.kind == NodeKind::Git && n.clone)
                .map(|n| Sibling {
                    name: n.name.clone(),
                    dir: n.dir.clone().unwrap_or_else(|| parent.join(&n.name)),
                    // The resolution's describe of it already read its status.
                    dirty: n.version.as_deref().map(|v| v.ends_with("-dirty")),
                })
                .collect();
            (Some(resolution.project_config()), tagged, siblings)
        }
        Err(err) => {
            if err.is_usage() {
                findings.push(finding(
                    Severity::Error,
                    "config",
                    err.to_string(),
                    None,
                    Some("correct the configuration file (see docs/configuration.md and .ciux.example.toml)"),
                ));
            } else if !concerns_project(&err, repo.root()) {
                findings.push(finding(
                    Severity::Error,
                    "workspace",
                    err.to_string(),
                    None,
                    Some("`ciux ignite` would fail the same way"),
                ));
            }
            // The project's own configuration may still be valid (the
            // error may be a sibling's): read it for the project's checks.
            let config = Config::load(repo.root()).ok();
            let siblings = config
                .iter()
                .flat_map(|c| &c.dependencies)
                .filter(|d| d.clone && matches!(d.kind, DependencyKind::Git { .. }))
                .filter_map(|d| d.repo_name())
                .map(|name| Sibling {
                    name: name.to_owned(),
                    dir: parent.join(name),
                    dirty: None,
                })
                .collect();
            (config, None, siblings)
        }
    };
    if repo.is_shallow() {
        findings.push(finding(
            Severity::Error,
            "shallow",
            "shallow clone: versions cannot be computed exactly".into(),
            Some("git fetch --unshallow --tags".into()),
            Some("in GitHub Actions, set `fetch-depth: 0` on actions/checkout"),
        ));
    } else if let Some(false) = match tagged {
        Some(tagged) => Some(tagged),
        None => repo
            .head_id()
            .ok()
            .map(|head| describe_commit(&repo, head).map(|d| d.tag.is_some()))
            .transpose()?,
    } {
        findings.push(finding(
            Severity::Warning,
            "no-tags",
            "no annotated version tag is reachable from HEAD: the version is a bare commit hash"
                .into(),
            Some("git fetch --tags".into()),
            Some(
                "if the project has no release yet, `ciux tag --rc --create` creates the first one",
            ),
        ));
    }
    if let Some(config) = &config {
        let paths = if config.source_paths.is_empty() {
            vec![".".to_owned()]
        } else {
            config.source_paths.clone()
        };
        if repo.is_dirty_under(&paths)? {
            findings.push(finding(
                Severity::Error,
                "dirty-source",
                format!(
                    "uncommitted changes under the source paths ({}): CI builds the pushed commit, and a `-dirty` image never exists in a registry",
                    paths.join(", ")
                ),
                Some("git status".into()),
                Some("commit or stash them"),
            ));
        }
    }
    match &branch {
        None => findings.push(finding(
            Severity::Warning,
            "detached",
            "detached HEAD: dependencies resolve to main/master unless CI is given a branch".into(),
            None,
            Some(
                "check out a branch: `git switch BRANCH`, or `git switch -c BRANCH` for a new one",
            ),
        )),
        Some(b) => {
            let pushed = pushing
                .iter()
                .any(|r| !r.delete && r.remote_ref == format!("refs/heads/{b}"));
            let remote = crate::release::branch_remote(repo.git(), Some(b));
            let upstream = remote.as_ref().is_some_and(|r| {
                repo.git()
                    .find_reference(&format!("refs/remotes/{r}/{b}"))
                    .is_ok()
            });
            if !pushed && !upstream {
                let remote = remote.unwrap_or_else(|| "origin".into());
                findings.push(finding(
                    Severity::Warning,
                    "branch-not-upstream",
                    format!("branch `{b}` is not on `{remote}`: CI cannot check it out"),
                    Some(format!(
                        "git push -u {} {}",
                        shell_quote(&remote),
                        shell_quote(b)
                    )),
                    None,
                ));
            }
        }
    }
    let mut repositories = 1;
    for facts in crate::parallel::map(&siblings, SIBLING_PARALLEL, |s| {
        read_sibling(&s.name, &s.dir, s.dirty)
    }) {
        if matches!(facts.state, SiblingState::Present(_)) {
            repositories += 1;
        }
        findings.extend(sibling_findings(branch.as_deref(), &facts));
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Ok(CheckReport {
        project: repo.root().to_path_buf(),
        branch,
        repositories,
        remotes_contacted: false,
        note: LOCAL_REFS_NOTE,
        findings,
    })
}

/// A sibling to check: where it is, and whether it is dirty when the
/// resolution already knows.
struct Sibling {
    name: String,
    dir: PathBuf,
    dirty: Option<bool>,
}

/// The workspace of the project at `root`, resolved without the network:
/// siblings stay as they are on disk, images are named but not looked up.
fn resolve_offline(root: &Path) -> Result<Resolution, ResolutionError> {
    let request = resolution::Request {
        workspace: workspace::Request {
            path: root.to_path_buf(),
            selector: Selector::default(),
            synchronise: false,
            offline: true,
            ..Default::default()
        },
        images: Images::Offline {
            options: ImageOptions::default(),
            reason: "not looked up by `ciux check`".into(),
        },
    };
    resolution::resolve(&request, &Silent)
}

/// Whether `err` is the project's own git state (a shallow clone, no commit),
/// which the project's checks report themselves.
fn concerns_project(err: &ResolutionError, root: &Path) -> bool {
    match err {
        ResolutionError::Workspace(WorkspaceError::Git(
            GitError::Shallow { path } | GitError::NoCommit { path },
        )) => path == root,
        _ => false,
    }
}

/// Siblings read at once: the work is mostly `stat` calls of the work-tree
/// statuses, which overlap well across a few threads.
const SIBLING_PARALLEL: usize = 4;

fn dir_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        for (text, want) in [
            ("main", "main"),
            ("feature/x-1", "feature/x-1"),
            ("", "''"),
            ("a b", "'a b'"),
            ("$(reboot)", "'$(reboot)'"),
            ("it's", r"'it'\''s'"),
        ] {
            assert_eq!(shell_quote(text), want);
        }
    }

    #[test]
    fn pre_push_input() {
        let input = "refs/heads/feat 1111111111111111111111111111111111111111 refs/heads/feat 0000000000000000000000000000000000000000\n\
                     (delete) 0000000000000000000000000000000000000000 refs/heads/old 2222222222222222222222222222222222222222\n\
                     garbage\n";
        let refs = parse_pre_push(input.as_bytes());
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].remote_ref, "refs/heads/feat");
        assert!(!refs[0].delete);
        assert!(refs[1].delete);
    }
}
