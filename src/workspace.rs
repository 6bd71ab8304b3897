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
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use crate::config::{Config, ConfigError, DependencyKind};
use crate::git::clone::{CloneError, Progress, SyncJob, SyncOutcome, sync_all};
use crate::git::remote::{BranchReason, RemoteError, choose_branch, list_heads, redact_url};
use crate::git::{GitError, Repo, describe_head};
use crate::selector::Selector;

/// Remotes listed at the same time (network-bound).
const LIST_PARALLEL: usize = 16;
/// Repositories described at the same time (CPU-bound, on small CI machines).
const DESCRIBE_PARALLEL: usize = 4;

/// The whole resolution, as `ciux plan` and `--format json` consume it.
#[derive(Debug, Clone, Serialize)]
pub struct Workspace {
    /// Name of the project node.
    pub project: String,
    /// The canonical selector (empty: every dependency).
    pub selector: String,
    /// The project node first, then dependencies in the order they were reached.
    pub nodes: Vec<Node>,
    /// `from` depends on `to`.
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Project,
    Git,
    Image,
    Package,
}

/// How a repository's directory came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Checkout {
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
pub struct Package {
    pub module: String,
    pub version: String,
}

/// One repository, image or package of the workspace.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// Identity: repository name, image reference, or `module@version`.
    pub name: String,
    pub kind: NodeKind,
    /// Local checkout (project and git dependencies present on disk).
    pub dir: Option<PathBuf>,
    /// Remote URL, credentials removed.
    pub url: Option<String>,
    pub image: Option<String>,
    pub package: Option<Package>,
    pub branch: Option<String>,
    pub branch_reason: Option<BranchReason>,
    /// The remote's commit for `branch`.
    pub remote_commit: Option<String>,
    /// `git describe` version of the checkout's HEAD.
    pub version: Option<String>,
    pub checkout: Option<Checkout>,
    pub clone: bool,
    pub pull: bool,
    pub labels: BTreeMap<String, String>,
    /// An image that is an input of the project's build (e.g. its base image).
    pub build_input: bool,
    /// Deploy command (informational, for plans): the dependency's `deploy`
    /// key, or the project's `deploy_command`.
    pub deploy: Option<String>,
    /// The URL as configured (may hold credentials): never serialised or printed.
    #[serde(skip)]
    pub(crate) raw_url: Option<String>,
}

/// `from` depends on `to` (node names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
}

/// What to resolve.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Any directory inside the project.
    pub path: PathBuf,
    pub selector: Selector,
    /// `--branch`.
    pub branch: Option<String>,
    /// `-m/--main`: no dependencies.
    pub main_only: bool,
    /// `GITHUB_HEAD_REF`, used on a detached HEAD.
    pub github_head_ref: Option<String>,
    /// `GITHUB_REF_NAME`, used on a detached HEAD.
    pub github_ref_name: Option<String>,
    /// Clone or update `clone = true` siblings; when false (`ciux get deps`)
    /// nothing on disk changes and absent siblings are remote-only.
    pub synchronise: bool,
}

#[derive(Debug, Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Remote(#[from] RemoteError),
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
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::Config(_) | Self::Cycle { .. })
    }
}

impl Workspace {
    /// The project node.
    pub fn project_node(&self) -> Option<&Node> {
        self.nodes.iter().find(|n| n.kind == NodeKind::Project)
    }

    /// Every node but the project.
    pub fn dependencies(&self) -> impl Iterator<Item = &Node> {
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
    pub fn find_cycle(&self) -> Option<Vec<String>> {
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

/// The project's branch: `--branch`, the checked-out branch, then on a detached
/// HEAD `GITHUB_HEAD_REF` and `GITHUB_REF_NAME` (empty values do not count).
pub fn project_branch(
    request: &Request,
    repo: &Repo,
) -> Result<(Option<String>, BranchReason), GitError> {
    let non_empty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    if let Some(branch) = non_empty(&request.branch) {
        return Ok((Some(branch), BranchReason::Option));
    }
    if let Some(branch) = repo.current_branch()? {
        return Ok((Some(branch), BranchReason::CheckedOut));
    }
    if let Some(branch) = non_empty(&request.github_head_ref) {
        return Ok((Some(branch), BranchReason::GithubHeadRef));
    }
    if let Some(branch) = non_empty(&request.github_ref_name) {
        return Ok((Some(branch), BranchReason::GithubRefName));
    }
    Ok((None, BranchReason::Detached))
}

/// The project's name: the `project` key, else its directory name.
pub fn project_name(config: &Config, root: &Path) -> String {
    config.project.clone().unwrap_or_else(|| {
        root.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "project".to_owned())
    })
}

fn empty_node(name: String, kind: NodeKind) -> Node {
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
        checkout: None,
        clone: false,
        pull: false,
        labels: BTreeMap::new(),
        build_input: false,
        deploy: None,
        raw_url: None,
    }
}

/// Resolve the workspace: list remotes, synchronise sibling checkouts, read
/// versions, follow siblings' configurations.
pub fn resolve(request: &Request, progress: &dyn Progress) -> Result<Workspace, WorkspaceError> {
    let repo = Repo::discover(&request.path)?;
    let root = repo.root().to_path_buf();
    let config = Config::load(&root)?;
    let name = project_name(&config, &root);
    let (branch, reason) = project_branch(request, &repo)?;
    let mut project = empty_node(name.clone(), NodeKind::Project);
    project.dir = Some(root.clone());
    project.branch = branch.clone();
    project.branch_reason = Some(reason);
    project.version = Some(describe_head(&repo)?.to_string());
    project.checkout = Some(Checkout::Project);
    project.deploy = config.deploy_command.clone();
    drop(repo);
    let mut ws = Workspace {
        project: name.clone(),
        selector: request.selector.to_string(),
        nodes: vec![project],
        edges: Vec::new(),
    };
    if request.main_only {
        return Ok(ws);
    }
    let siblings = root
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.clone());
    let mut frontier: Vec<(String, Config)> = vec![(name, config)];
    while !frontier.is_empty() {
        let new_git = add_level(&mut ws, &frontier, &request.selector, &siblings);
        resolve_branches(&mut ws, &new_git, branch.as_deref())?;
        synchronise(&mut ws, &new_git, request.synchronise, progress)?;
        frontier = read_versions_and_configs(&mut ws, &new_git)?;
    }
    if let Some(path) = ws.find_cycle() {
        return Err(WorkspaceError::Cycle { path });
    }
    Ok(ws)
}

/// Add the selected dependencies of each configuration; returns the indexes of
/// git nodes seen for the first time.
fn add_level(
    ws: &mut Workspace,
    frontier: &[(String, Config)],
    selector: &Selector,
    siblings: &Path,
) -> Vec<usize> {
    let mut new_git = Vec::new();
    for (parent, config) in frontier {
        for dep in config
            .dependencies
            .iter()
            .filter(|d| selector.matches(&d.labels))
        {
            let (key, mut node) = match &dep.kind {
                DependencyKind::Git { url } => {
                    let name = dep.repo_name().unwrap_or(url).to_owned();
                    let mut node = empty_node(name.clone(), NodeKind::Git);
                    node.url = Some(redact_url(url));
                    node.raw_url = Some(url.clone());
                    node.dir = Some(siblings.join(&name));
                    (name, node)
                }
                DependencyKind::Image { image } => {
                    let mut node = empty_node(image.clone(), NodeKind::Image);
                    node.image = Some(image.clone());
                    (image.clone(), node)
                }
                DependencyKind::Package { module, version } => {
                    let key = format!("{module}@{version}");
                    let mut node = empty_node(key.clone(), NodeKind::Package);
                    node.package = Some(Package {
                        module: module.clone(),
                        version: version.clone(),
                    });
                    (key, node)
                }
            };
            ws.add_edge(parent, &key);
            if let Some(existing) = ws.find(&key) {
                // Reached again: keep the first node, but a later `clone = true` still clones.
                let existing = &mut ws.nodes[existing];
                if dep.clone && !existing.clone && existing.checkout.is_none() {
                    existing.clone = true;
                }
                continue;
            }
            node.clone = dep.clone;
            node.pull = dep.pull;
            node.labels = dep.labels.clone();
            node.build_input = dep.build_input;
            node.deploy = dep.deploy.clone();
            if node.kind == NodeKind::Git {
                new_git.push(ws.nodes.len());
            }
            ws.nodes.push(node);
        }
    }
    new_git
}

/// List the remotes of new git nodes in parallel and choose each one's branch.
fn resolve_branches(
    ws: &mut Workspace,
    new_git: &[usize],
    wanted: Option<&str>,
) -> Result<(), WorkspaceError> {
    let urls: Vec<String> = new_git
        .iter()
        .map(|&i| ws.nodes[i].raw_url.clone().unwrap_or_default())
        .collect();
    let listings = crate::parallel::map(&urls, LIST_PARALLEL, |url| list_heads(url));
    for (&i, listing) in new_git.iter().zip(listings) {
        let node = &mut ws.nodes[i];
        let heads = listing?;
        let (branch, commit, reason) =
            choose_branch(&heads, wanted).ok_or_else(|| RemoteError::NoBranch {
                dependency: node.name.clone(),
                url: node.url.clone().unwrap_or_default(),
                tried: wanted
                    .into_iter()
                    .chain(["main", "master"])
                    .map(str::to_owned)
                    .collect(),
            })?;
        node.branch = Some(branch);
        node.remote_commit = Some(commit);
        node.branch_reason = Some(reason);
    }
    Ok(())
}

/// Clone or update `clone = true` siblings; note how every new git node's
/// directory stands.
fn synchronise(
    ws: &mut Workspace,
    new_git: &[usize],
    enabled: bool,
    progress: &dyn Progress,
) -> Result<(), WorkspaceError> {
    let mut jobs = Vec::new();
    let mut job_nodes = Vec::new();
    for &i in new_git {
        let node = &mut ws.nodes[i];
        let dir = node.dir.clone().unwrap_or_default();
        if node.clone && enabled {
            jobs.push(SyncJob {
                name: node.name.clone(),
                url: node.raw_url.clone().unwrap_or_default(),
                dir,
                branch: node.branch.clone().unwrap_or_default(),
                commit: node.remote_commit.clone().unwrap_or_default(),
            });
            job_nodes.push(i);
        } else if git2::Repository::open(&dir).is_ok() {
            node.checkout = Some(Checkout::InPlace);
        } else {
            node.checkout = Some(Checkout::RemoteOnly);
            node.dir = None;
        }
    }
    let mut failures = Vec::new();
    for (i, result) in job_nodes.into_iter().zip(sync_all(&jobs, progress)) {
        let node = &mut ws.nodes[i];
        match result {
            Ok(outcome) => {
                node.checkout = Some(match outcome {
                    SyncOutcome::Cloned => Checkout::Cloned,
                    SyncOutcome::UpToDate => Checkout::InPlace,
                    SyncOutcome::Updated => Checkout::InPlaceUpdated,
                    SyncOutcome::Dirty => {
                        tracing::warn!(
                            "{} has uncommitted changes: left as it is, not on {}",
                            node.name,
                            node.branch.as_deref().unwrap_or("?")
                        );
                        Checkout::InPlaceDirty
                    }
                    SyncOutcome::Diverged => {
                        tracing::warn!(
                            "{} has local commits not on its remote: left on its local branch",
                            node.name
                        );
                        Checkout::InPlaceDiverged
                    }
                });
            }
            Err(error) => failures.push(error),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(WorkspaceError::Clone(failures))
    }
}

/// Describe every new checkout (in parallel) and read its configuration: the
/// next level of the walk.
fn read_versions_and_configs(
    ws: &mut Workspace,
    new_git: &[usize],
) -> Result<Vec<(String, Config)>, WorkspaceError> {
    let local: Vec<(usize, PathBuf)> = new_git
        .iter()
        .filter_map(|&i| ws.nodes[i].dir.clone().map(|d| (i, d)))
        .collect();
    let dirs: Vec<&PathBuf> = local.iter().map(|(_, dir)| dir).collect();
    let results = crate::parallel::map(
        &dirs,
        DESCRIBE_PARALLEL,
        |dir| -> Result<(String, Config), WorkspaceError> {
            let repo = Repo::discover(dir)?;
            let version = describe_head(&repo)?.to_string();
            let config = Config::load(repo.root())?;
            Ok((version, config))
        },
    );
    let mut next = Vec::new();
    for ((i, _), result) in local.into_iter().zip(results) {
        let (version, config) = result?;
        ws.nodes[i].version = Some(version);
        next.push((ws.nodes[i].name.clone(), config));
    }
    Ok(next)
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
