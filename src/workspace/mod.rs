//! The resolved workspace: the project and its dependencies as a graph of plain
//! data (nodes and edges), transitive through siblings' own configuration.
//!
//! Resolution goes level by level: the dependencies selected at one level have
//! their remotes listed (branch choice) and their sibling checkouts synchronised
//! all at once, then their own `.ciux.toml` (or legacy `.ciux`) adds the next
//! level. A repository is one node however many times it is reached (its
//! identity is its repository name, which is also its sibling directory). Once
//! the graph is complete, a cycle is an error that shows its path.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use thiserror::Error;

use crate::config::ConfigError;
use crate::git::GitError;
use crate::git::clone::CloneError;
use crate::git::remote::{BranchReason, RemoteError};

pub(crate) mod exclusive;
pub(crate) mod locked;
mod resolve;

pub(crate) use resolve::{Configs, Request, project_branch, resolve};

/// The whole resolution, as `ciux plan` and `--format json` consume it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Workspace {
    /// Name of the project node.
    pub(crate) project: String,
    /// The canonical selector (empty: every dependency).
    pub(crate) selector: String,
    /// The project node first, then dependencies in the order they were reached.
    pub(crate) nodes: Vec<Node>,
    /// `from` depends on `to`.
    pub(crate) edges: Vec<Edge>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum NodeKind {
    Project,
    Git,
    Image,
    Package,
}

/// How a repository's directory came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Checkout {
    /// The project itself.
    Project,
    /// Cloned by this run.
    Cloned,
    /// Already there, and already on the branch's remote commit, or not to be
    /// cloned (`clone = false`) and used as it is.
    InPlace,
    /// Already there and clean: fetched and checked out on the branch.
    InPlaceUpdated,
    /// Already there with uncommitted changes: left alone.
    InPlaceDirty,
    /// Already there with local commits the remote lacks: left alone.
    InPlaceDiverged,
    /// Not cloned and absent: only its branch is known.
    RemoteOnly,
}

/// A `package` dependency: a tool installed with `go install module@version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Package {
    pub(crate) module: String,
    pub(crate) version: String,
}

/// One repository, image or package of the workspace.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Node {
    /// Identity: repository name, image reference, or `module@version`.
    pub(crate) name: String,
    pub(crate) kind: NodeKind,
    /// Local checkout (project and git dependencies present on disk).
    pub(crate) dir: Option<PathBuf>,
    /// Remote URL, credentials removed.
    pub(crate) url: Option<String>,
    pub(crate) image: Option<String>,
    pub(crate) package: Option<Package>,
    pub(crate) branch: Option<String>,
    pub(crate) branch_reason: Option<BranchReason>,
    /// The remote's commit for `branch`.
    pub(crate) remote_commit: Option<String>,
    /// `git describe` version of the checkout's HEAD.
    pub(crate) version: Option<String>,
    /// The annotated version tag `version` counts from; `None` when it is a
    /// bare commit hash (no tag reachable) or the repository is not on disk.
    #[serde(skip)]
    pub(crate) version_tag: Option<String>,
    pub(crate) checkout: Option<Checkout>,
    pub(crate) clone: bool,
    pub(crate) pull: bool,
    pub(crate) labels: BTreeMap<String, String>,
    /// An image that is an input of the project's build (e.g. its base image).
    pub(crate) build_input: bool,
    /// Deploy command (informational, for plans): the dependency's `deploy`
    /// key, or the project's `deploy_command`.
    pub(crate) deploy: Option<String>,
    /// The URL as configured (may hold credentials): never serialised or printed.
    #[serde(skip)]
    pub(crate) raw_url: Option<String>,
}

/// `from` depends on `to` (node names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Edge {
    pub(crate) from: String,
    pub(crate) to: String,
}

#[derive(Debug, Error)]
pub(crate) enum WorkspaceError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    #[error("{}", clone_failures(.0))]
    Clone(Vec<CloneError>),
    /// Dependencies that depend on each other; the path starts and ends at the same node.
    #[error("dependency cycle: {}", path.join(" -> "))]
    Cycle { path: Vec<String> },
}

fn clone_failures(errors: &[CloneError]) -> String {
    let mut text = format!(
        "cannot synchronise {} sibling repositor{}",
        errors.len(),
        if errors.len() == 1 { "y" } else { "ies" }
    );
    for error in errors {
        text.push_str(&format!("\n  {error}"));
    }
    text
}

impl WorkspaceError {
    /// Configuration problems (exit status 2) rather than failures.
    pub(crate) fn is_usage(&self) -> bool {
        matches!(self, Self::Config(_) | Self::Cycle { .. })
    }
}

impl Workspace {
    /// The project node.
    pub(crate) fn project_node(&self) -> Option<&Node> {
        self.nodes.iter().find(|n| n.kind == NodeKind::Project)
    }

    /// Every node but the project.
    pub(crate) fn dependencies(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.kind != NodeKind::Project)
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    fn add_edge(&mut self, from: &str, to: &str) {
        let edge = Edge {
            from: from.to_owned(),
            to: to.to_owned(),
        };
        if !self.edges.contains(&edge) {
            self.edges.push(edge);
        }
    }

    /// The first cycle found by a depth-first walk in node order, as a path.
    pub(crate) fn find_cycle(&self) -> Option<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnStack,
            Done,
        }
        fn visit(
            ws: &Workspace,
            node: usize,
            marks: &mut [Mark],
            stack: &mut Vec<usize>,
        ) -> Option<Vec<String>> {
            marks[node] = Mark::OnStack;
            stack.push(node);
            for edge in ws.edges.iter().filter(|e| e.from == ws.nodes[node].name) {
                let Some(next) = ws.find(&edge.to) else {
                    continue;
                };
                match marks[next] {
                    Mark::OnStack => {
                        let start = stack.iter().position(|&n| n == next).unwrap_or(0);
                        let mut path: Vec<String> = stack[start..]
                            .iter()
                            .map(|&n| ws.nodes[n].name.clone())
                            .collect();
                        path.push(ws.nodes[next].name.clone());
                        return Some(path);
                    }
                    Mark::New => {
                        if let Some(path) = visit(ws, next, marks, stack) {
                            return Some(path);
                        }
                    }
                    Mark::Done => {}
                }
            }
            stack.pop();
            marks[node] = Mark::Done;
            None
        }
        let mut marks = vec![Mark::New; self.nodes.len()];
        (0..self.nodes.len()).find_map(|start| {
            if marks[start] == Mark::New {
                visit(self, start, &mut marks, &mut Vec::new())
            } else {
                None
            }
        })
    }
}

pub(crate) fn empty_node(name: String, kind: NodeKind) -> Node {
    Node {
        name,
        kind,
        dir: None,
        url: None,
        image: None,
        package: None,
        branch: None,
        branch_reason: None,
        remote_commit: None,
        version: None,
        version_tag: None,
        checkout: None,
        clone: false,
        pull: false,
        labels: BTreeMap::new(),
        build_input: false,
        deploy: None,
        raw_url: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(names: &[&str], edges: &[(&str, &str)]) -> Workspace {
        Workspace {
            project: names[0].into(),
            selector: String::new(),
            nodes: names
                .iter()
                .map(|n| empty_node(n.to_string(), NodeKind::Git))
                .collect(),
            edges: edges
                .iter()
                .map(|(f, t)| Edge {
                    from: f.to_string(),
                    to: t.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn cycles_are_found_with_their_path() {
        assert_eq!(
            ws(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("a", "c")]).find_cycle(),
            None
        );
        let cycle = ws(
            &["p", "a", "b", "c"],
            &[("p", "a"), ("a", "b"), ("b", "c"), ("c", "a")],
        )
        .find_cycle();
        assert_eq!(
            cycle,
            Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
        let self_loop = ws(&["p", "a"], &[("p", "a"), ("a", "a")]).find_cycle();
        assert_eq!(self_loop, Some(vec!["a".into(), "a".into()]));
        let error = WorkspaceError::Cycle {
            path: vec!["a".into(), "b".into(), "a".into()],
        };
        assert_eq!(error.to_string(), "dependency cycle: a -> b -> a");
    }
}
