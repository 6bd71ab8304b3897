//! `ciux tag --all`: every cloned git dependency, then the project, each tagged
//! with its own next version, dependencies before their dependents.
//!
//! All plans are computed first, so every refusal in the stack is reported
//! before any tag exists. Applying stops at the first failure and reports what
//! was tagged and pushed, what was not, and the commands that finish or undo it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ReleaseError;
use super::tag::{TagPlan, TagRequest, create_tag, plan_tag, push_tag};
use crate::check::shell_quote;
use crate::git::Repo;
use crate::workspace::{NodeKind, Workspace};

/// A repository of the stack: its name in the graph and its checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Member {
    pub(crate) name: String,
    /// The checkout; empty until [`clone_missing`] clones a dependency that has none.
    pub(crate) dir: PathBuf,
    /// A git dependency with no sibling checkout: where to clone it from, and its branch.
    #[serde(skip)]
    pub(crate) missing: Option<MissingClone>,
    /// `pull = true`: the project requires its image (`--wait-images` waits for it).
    pub(crate) pull: bool,
}

/// A dependency to clone before it can be tagged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MissingClone {
    /// The URL as configured (may hold credentials: never printed).
    pub(crate) url: String,
    /// The URL without credentials, for messages.
    pub(crate) shown_url: String,
    pub(crate) branch: Option<String>,
    /// Where `ciux ignite` would have put it.
    pub(crate) sibling: PathBuf,
}

/// `from` depends on `to`.
pub(crate) type Edge = (String, String);

/// Dependencies before dependents: a depth-first walk that visits members and
/// each member's dependencies in the order of `members`, so the result is
/// stable. A cycle is returned as its path.
pub(crate) fn tag_order(members: &[String], edges: &[Edge]) -> Result<Vec<String>, Vec<String>> {
    fn visit<'a>(
        node: &'a str,
        deps: &BTreeMap<&'a str, Vec<&'a str>>,
        done: &mut Vec<&'a str>,
        stack: &mut Vec<&'a str>,
    ) -> Result<(), Vec<String>> {
        if done.contains(&node) {
            return Ok(());
        }
        if let Some(start) = stack.iter().position(|n| *n == node) {
            let mut path: Vec<String> = stack[start..].iter().map(|s| s.to_string()).collect();
            path.push(node.to_owned());
            return Err(path);
        }
        stack.push(node);
        for dep in deps.get(node).into_iter().flatten() {
            visit(dep, deps, done, stack)?;
        }
        stack.pop();
        done.push(node);
        Ok(())
    }
    let mut deps: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges {
        if members.contains(to) {
            deps.entry(from.as_str()).or_default().push(to.as_str());
        }
    }
    let position = |name: &str| members.iter().position(|m| m == name);
    for list in deps.values_mut() {
        list.sort_by_key(|name| position(name));
        list.dedup();
    }
    let mut done = Vec::new();
    for member in members {
        visit(member, &deps, &mut done, &mut Vec::new())?;
    }
    Ok(done.into_iter().map(str::to_owned).collect())
}

/// The members of the stack in tagging order: the project and every
/// `clone = true` git dependency of the resolved workspace, dependencies first.
/// The order is computed over the whole graph, so a dependency reached through
/// a repository that is not tagged (`clone = false`) still comes first.
pub(crate) fn stack_members(ws: &Workspace) -> Result<Vec<Member>, ReleaseError> {
    let names: Vec<String> = ws.nodes.iter().map(|n| n.name.clone()).collect();
    let edges: Vec<Edge> = ws
        .edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone()))
        .collect();
    let order = tag_order(&names, &edges).map_err(|path| ReleaseError::Cycle { path })?;
    let parent = ws
        .project_node()
        .and_then(|p| p.dir.as_deref())
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut members = Vec::new();
    for name in order {
        let Some(node) = ws.nodes.iter().find(|n| n.name == name) else {
            continue;
        };
        let taggable = node.kind == NodeKind::Project || (node.kind == NodeKind::Git && node.clone);
        if !taggable {
            continue;
        }
        match (&node.dir, &node.raw_url) {
            (Some(dir), _) => members.push(Member {
                name,
                dir: dir.clone(),
                missing: None,
                pull: node.pull,
            }),
            (None, Some(url)) if node.kind == NodeKind::Git => members.push(Member {
                missing: Some(MissingClone {
                    url: url.clone(),
                    shown_url: node.url.clone().unwrap_or_default(),
                    branch: node.branch.clone(),
                    sibling: parent.join(&name),
                }),
                name,
                dir: PathBuf::new(),
                pull: node.pull,
            }),
            (None, _) => {
                return Err(ReleaseError::MissingSibling {
                    dir: parent.join(&name),
                    name,
                });
            }
        }
    }
    Ok(members)
}

/// Keep only the members named in `only` (all when empty); an unknown name is
/// an error listing the known ones.
pub(crate) fn select_members(
    members: Vec<Member>,
    only: &[String],
) -> Result<Vec<Member>, ReleaseError> {
    if only.is_empty() {
        return Ok(members);
    }
    let unknown: Vec<String> = only
        .iter()
        .filter(|name| !members.iter().any(|m| &m.name == *name))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(ReleaseError::UnknownMembers {
            unknown,
            known: members.iter().map(|m| m.name.clone()).collect(),
        });
    }
    Ok(members
        .into_iter()
        .filter(|m| only.contains(&m.name))
        .collect())
}

/// Clone each member that has no checkout into `into` (bare, the one branch
/// and the tags reachable from it: all a tag needs), and point the member at it.
pub(crate) fn clone_missing(members: &mut [Member], into: &Path) -> Result<(), ReleaseError> {
    for member in members.iter_mut() {
        let Some(missing) = &member.missing else {
            continue;
        };
        let dir = into.join(format!("{}.git", member.name));
        let dir_text = dir.to_string_lossy().into_owned();
        let mut args = vec![
            "-c",
            "http.lowSpeedLimit=1000",
            "-c",
            "http.lowSpeedTime=60",
            "clone",
            "--quiet",
            "--bare",
            "--single-branch",
        ];
        if let Some(branch) = &missing.branch {
            args.push("--branch");
            args.push(branch);
        }
        args.extend(["--", missing.url.as_str(), dir_text.as_str()]);
        super::remote::git(into, &args).map_err(|err| ReleaseError::CloneForTag {
            name: member.name.clone(),
            url: missing.shown_url.clone(),
            reason: err.to_string(),
        })?;
        member.dir = dir;
    }
    Ok(())
}

/// One member's plan, in tagging order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StackStep {
    pub(crate) name: String,
    /// `pull = true` in the graph (see [`Member::pull`]).
    pub(crate) pull: bool,
    pub(crate) plan: TagPlan,
}

/// The stack's plan: what will be tagged, and what is already released.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StackPlan {
    pub(crate) steps: Vec<StackStep>,
    /// Members whose HEAD already carries a release tag: `(name, tag)`, skipped.
    pub(crate) released: Vec<(String, String)>,
}

/// Plan every member (given in tagging order); all refusals are collected.
/// A member whose HEAD is already tagged is reported and skipped, not refused:
/// a dependency released earlier is part of the stack as it is.
pub(crate) fn plan_stack(
    members: &[Member],
    request: &TagRequest,
) -> Result<StackPlan, ReleaseError> {
    let mut steps = Vec::new();
    let mut released = Vec::new();
    let mut refusals = Vec::new();
    for member in members {
        let name = member.name.clone();
        match Repo::discover(&member.dir)
            .map_err(ReleaseError::from)
            .and_then(|repo| plan_tag(&repo, request))
        {
            Ok(plan) => steps.push(StackStep {
                name,
                pull: member.pull,
                plan,
            }),
            Err(ReleaseError::AlreadyTagged { tag, .. }) => released.push((name, tag)),
            Err(err) => refusals.push(format!("{name}: {}", first_line(&err.to_string()))),
        }
    }
    if refusals.is_empty() {
        Ok(StackPlan { steps, released })
    } else {
        Err(ReleaseError::StackRefused { refusals })
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// How far one member got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StepState {
    NotTagged,
    Tagged,
    Pushed,
}

/// The outcome of applying a stack plan: each step and how far it got.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StackReport {
    pub(crate) steps: Vec<(StackStep, StepState)>,
    /// The step that failed and why (one line), if any.
    pub(crate) failure: Option<(String, String)>,
}

/// Tag (and push) each member in order; stop at the first failure.
/// `after_each` runs once a member is done (e.g. waiting for its image).
pub(crate) fn apply_stack(
    steps: Vec<StackStep>,
    mut after_each: impl FnMut(&StackStep) -> Result<(), anyhow::Error>,
) -> StackReport {
    let mut done = Vec::new();
    let mut failure = None;
    let mut rest = steps.into_iter();
    for step in rest.by_ref() {
        let mut progress = StepState::NotTagged;
        let result = (|| -> Result<(), anyhow::Error> {
            let repo = Repo::discover(&step.plan.repository)?;
            create_tag(&repo, &step.plan)?;
            progress = StepState::Tagged;
            if step.plan.push.is_some() {
                push_tag(&step.plan)?;
                progress = StepState::Pushed;
            }
            after_each(&step)
        })();
        let failed = result
            .err()
            .map(|e| (step.name.clone(), first_line(&format!("{e:#}")).to_owned()));
        done.push((step, progress));
        if failed.is_some() {
            failure = failed;
            break;
        }
    }
    done.extend(rest.map(|step| (step, StepState::NotTagged)));
    StackReport {
        steps: done,
        failure,
    }
}

impl StackReport {
    /// Commands that finish the release from where it stopped, in order.
    pub(crate) fn finish_commands(&self, flags: &str) -> Vec<String> {
        let mut commands = Vec::new();
        for (step, progress) in &self.steps {
            let dir = shell_quote(&step.plan.repository.display().to_string());
            match (progress, &step.plan.push) {
                (StepState::NotTagged, _) => commands.push(format!("ciux tag {flags}{dir}")),
                (StepState::Tagged, Some(target)) => commands.push(format!(
                    "git -C {dir} push {} refs/tags/{}",
                    shell_quote(&target.remote),
                    step.plan.tag
                )),
                _ => {}
            }
        }
        commands
    }

    /// Commands that remove what was created, dependents first.
    pub(crate) fn undo_commands(&self) -> Vec<String> {
        let mut commands = Vec::new();
        for (step, progress) in self.steps.iter().rev() {
            let dir = shell_quote(&step.plan.repository.display().to_string());
            let tag = &step.plan.tag;
            if let (StepState::Pushed, Some(target)) = (progress, &step.plan.push) {
                commands.push(format!(
                    "git -C {dir} push {} :refs/tags/{tag}",
                    shell_quote(&target.remote)
                ));
            }
            if *progress != StepState::NotTagged {
                commands.push(format!("git -C {dir} tag -d {tag}"));
            }
        }
        commands
    }

    /// The text of a failure: what was tagged, what was not, how to go on or back.
    pub(crate) fn failure_text(&self, flags: &str) -> String {
        let mut text = String::new();
        for (step, progress) in &self.steps {
            let state = match progress {
                StepState::Pushed => "tagged and pushed",
                StepState::Tagged => "tagged, not pushed",
                StepState::NotTagged => "not tagged",
            };
            text.push_str(&format!("\n  {} {}: {state}", step.name, step.plan.tag));
        }
        text.push_str("\n  to finish, fix the cause, then run:");
        for command in self.finish_commands(flags) {
            text.push_str(&format!("\n    {command}"));
        }
        text.push_str("\n  to undo instead:");
        for command in self.undo_commands() {
            text.push_str(&format!("\n    {command}"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn edges(list: &[(&str, &str)]) -> Vec<Edge> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn dependencies_first() {
        let diamond = edges(&[
            ("proj", "left"),
            ("proj", "right"),
            ("left", "base"),
            ("right", "base"),
        ]);
        assert_eq!(
            tag_order(&names(&["proj", "left", "right", "base"]), &diamond),
            Ok(names(&["base", "left", "right", "proj"]))
        );
        assert_eq!(
            tag_order(&names(&["proj", "right", "left", "base"]), &diamond),
            Ok(names(&["base", "right", "left", "proj"]))
        );
        let chain = edges(&[("a", "b"), ("b", "c"), ("a", "outside")]);
        assert_eq!(
            tag_order(&names(&["a", "b", "c"]), &chain),
            Ok(names(&["c", "b", "a"]))
        );
        assert_eq!(tag_order(&names(&["x", "y"]), &[]), Ok(names(&["x", "y"])));
    }

    #[test]
    fn cycles_come_back_as_paths() {
        let cycle = edges(&[("proj", "a"), ("a", "b"), ("b", "a")]);
        assert_eq!(
            tag_order(&names(&["proj", "a", "b"]), &cycle),
            Err(names(&["a", "b", "a"]))
        );
    }
}
