//! Resolution of the workspace, level by level: list remotes, synchronise
//! sibling checkouts, describe them, read their configurations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{Config, DependencyKind};
use crate::git::clone::{Progress, SyncJob, SyncOutcome, sync_all};
use crate::git::remote::{BranchReason, RemoteError, choose_branch, list_heads, redact_url};
use crate::git::{Describe, GitError, Repo, describe_head};
use crate::selector::Selector;

use super::{Checkout, NodeKind, Package, Workspace, WorkspaceError, empty_node};

/// Remotes listed at the same time (network-bound).
const LIST_PARALLEL: usize = 16;
/// Repositories described at the same time (CPU-bound, on small CI machines).
const DESCRIBE_PARALLEL: usize = 4;

/// What to resolve.
#[derive(Debug, Clone, Default)]
pub(crate) struct Request {
    /// Any directory inside the project.
    pub(crate) path: PathBuf,
    pub(crate) selector: Selector,
    /// `--branch`.
    pub(crate) branch: Option<String>,
    /// `-m/--main`: no dependencies.
    pub(crate) main_only: bool,
    /// `GITHUB_HEAD_REF`, used on a detached HEAD.
    pub(crate) github_head_ref: Option<String>,
    /// `GITHUB_REF_NAME`, used on a detached HEAD.
    pub(crate) github_ref_name: Option<String>,
    /// Clone or update `clone = true` siblings; when false (`ciux get deps`)
    /// nothing on disk changes and absent siblings are remote-only.
    pub(crate) synchronise: bool,
    /// No network at all (`ciux ignite env`): remotes are not listed, each
    /// sibling on disk keeps the branch it has checked out.
    pub(crate) offline: bool,
    /// `--locked`: read `.ciux.d/ciux.lock`, check each sibling out at its
    /// locked commit before reading it, and fail where the resolution differs.
    pub(crate) locked: bool,
}

/// The configuration of each repository of a workspace read from its checkout
/// (the project and every git dependency on disk), by node name: read once,
/// during the walk, and handed to whatever renders the workspace.
pub(crate) type Configs = BTreeMap<String, Config>;

/// The project's branch: `--branch`, the checked-out branch, then on a detached
/// HEAD `GITHUB_HEAD_REF` and `GITHUB_REF_NAME` (empty values do not count).
pub(crate) fn project_branch(
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
pub(crate) fn project_name(config: &Config, root: &Path) -> String {
    config.project.clone().unwrap_or_else(|| {
        root.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "project".to_owned())
    })
}

/// Resolve the workspace: list remotes, synchronise sibling checkouts, read
/// versions, follow siblings' configurations. Each configuration is read once
/// and returned with the workspace.
pub(crate) fn resolve(
    request: &Request,
    progress: &dyn Progress,
) -> Result<(Workspace, Configs), WorkspaceError> {
    let repo = Repo::discover(&request.path)?;
    let root = repo.root().to_path_buf();
    let config = Config::load(&root)?;
    let lock = if request.locked {
        Some(super::locked::read(&root)?)
    } else {
        None
    };
    let name = project_name(&config, &root);
    let (branch, reason) = project_branch(request, &repo)?;
    let mut project = empty_node(name.clone(), NodeKind::Project);
    project.dir = Some(root.clone());
    project.branch = branch.clone();
    project.branch_reason = Some(reason);
    let described = describe_head(&repo)?;
    project.version = Some(described.to_string());
    project.version_tag = described.tag;
    project.checkout = Some(Checkout::Project);
    project.deploy = config.deploy_command.clone();
    drop(repo);
    if let Some(lock) = &lock {
        super::locked::check_project(lock, &name, &root)?;
    }
    let mut ws = Workspace {
        project: name.clone(),
        selector: request.selector.to_string(),
        nodes: vec![project],
        edges: Vec::new(),
    };
    let mut configs = Configs::new();
    if request.main_only {
        configs.insert(name, config);
        if let Some(lock) = &lock {
            super::locked::verify(lock, &ws)?;
        }
        return Ok((ws, configs));
    }
    let siblings = root
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.clone());
    let mut frontier: Vec<(String, Config)> = vec![(name, config)];
    while !frontier.is_empty() {
        let new_git = add_level(&mut ws, &frontier, &request.selector, &siblings);
        if request.offline {
            branches_on_disk(&mut ws, &new_git);
        } else {
            resolve_branches(&mut ws, &new_git, branch.as_deref())?;
        }
        synchronise(&mut ws, &new_git, request.synchronise, progress)?;
        if let Some(lock) = &lock {
            super::locked::check_out_level(lock, &ws, &new_git)?;
        }
        let next = read_versions_and_configs(&mut ws, &new_git)?;
        configs.extend(std::mem::replace(&mut frontier, next));
    }
    if let Some(path) = ws.find_cycle() {
        return Err(WorkspaceError::Cycle { path });
    }
    if let Some(lock) = &lock {
        super::locked::verify(lock, &ws)?;
    }
    Ok((ws, configs))
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
                // The project's own directory is the project node, whatever its `project` key.
                DependencyKind::Git { .. }
                    if dep.repo_name().map(|n| siblings.join(n)) == ws.nodes[0].dir =>
                {
                    ws.add_edge(parent, &ws.project.clone());
                    continue;
                }
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

/// Offline: the branch of each sibling is the one checked out there.
fn branches_on_disk(ws: &mut Workspace, new_git: &[usize]) {
    for &i in new_git {
        let node = &mut ws.nodes[i];
        let branch = node
            .dir
            .as_deref()
            .and_then(|dir| Repo::discover(dir).ok())
            .and_then(|repo| repo.current_branch().ok().flatten());
        if branch.is_some() {
            node.branch_reason = Some(BranchReason::CheckedOut);
        }
        node.branch = branch;
    }
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
        |dir| -> Result<(Describe, Config), WorkspaceError> {
            let repo = Repo::discover(dir)?;
            let described = describe_head(&repo)?;
            let config = Config::load(repo.root())?;
            Ok((described, config))
        },
    );
    let mut next = Vec::new();
    for ((i, _), result) in local.into_iter().zip(results) {
        let (described, config) = result?;
        ws.nodes[i].version = Some(described.to_string());
        ws.nodes[i].version_tag = described.tag;
        next.push((ws.nodes[i].name.clone(), config));
    }
    Ok(next)
}
