//! One resolution of a workspace, computed once, then rendered.
//!
//! The pipeline is configuration → graph → versions → decisions: the walk of
//! [`crate::workspace::resolve`] reads each repository's configuration once,
//! builds the graph and describes each checkout once; then
//! [`crate::image::decide_workspace`] makes each image decision once. Every
//! command that shows a workspace (`ignite`, `plan`, `get deps`, `get image`,
//! `explain`, `promote`, the lock) renders this one value, so no command reads
//! a file or asks a registry a second time, and two renderings of one run
//! cannot disagree. `--locked` is an input of the walk
//! ([`crate::workspace::Request::locked`]), not a second pass.

use std::path::PathBuf;

use thiserror::Error;

use crate::config::Config;
use crate::git::clone::Progress;
use crate::image::{
    Explained, ImageError, ImageOptions, WorkspaceImages, decide_workspace, unchecked_block,
};
use crate::plan::{Plan, PlanError, graph_of};
use crate::registry::Client;
use crate::workspace::{self, Configs, Workspace, WorkspaceError};

/// How the image decisions are made.
#[derive(Debug, Clone)]
pub(crate) enum Images {
    /// Named but not looked up: the project block says `reason` (`ignite
    /// env`, which works without the network; `get deps`, which shows none).
    Offline {
        options: ImageOptions,
        reason: String,
    },
    /// Decided as `options` say (with `options.check`, the registry is asked).
    Decide(ImageOptions),
}

/// What to resolve: the workspace walk and how to decide its images.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) workspace: workspace::Request,
    pub(crate) images: Images,
}

/// A resolved workspace: its graph, each repository's configuration, and
/// every image decision.
#[derive(Debug, Clone)]
pub(crate) struct Resolution {
    pub(crate) workspace: Workspace,
    /// The configuration of each repository on disk, by node name.
    pub(crate) configs: Configs,
    pub(crate) images: WorkspaceImages,
}

#[derive(Debug, Error)]
pub(crate) enum ResolutionError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Image(#[from] ImageError),
}

impl ResolutionError {
    /// Configuration problems (exit status 2) rather than failures.
    pub(crate) fn is_usage(&self) -> bool {
        match self {
            Self::Workspace(e) => e.is_usage(),
            Self::Image(e) => e.is_config(),
        }
    }
}

/// Resolve the workspace of `request`, then decide its images.
pub(crate) fn resolve(
    request: &Request,
    progress: &dyn Progress,
) -> Result<Resolution, ResolutionError> {
    let (workspace, configs) = workspace::resolve(&request.workspace, progress)?;
    let config = configs
        .get(&workspace.project)
        .cloned()
        .unwrap_or_else(Config::empty);
    let images = match &request.images {
        Images::Decide(options) => {
            let client = Client::from_config(&config);
            decide_workspace(&workspace, &config, options, &client)?
        }
        Images::Offline { options, reason } => {
            let version = workspace
                .project_node()
                .and_then(|n| n.version.as_deref())
                .unwrap_or("");
            let mut project = unchecked_block(&config, &workspace.project, version, options);
            project.reason.clone_from(reason);
            WorkspaceImages {
                project,
                decision: None,
                required: Vec::new(),
            }
        }
    };
    Ok(Resolution {
        workspace,
        configs,
        images,
    })
}

impl Resolution {
    /// The project's configuration (empty when it has none).
    pub(crate) fn project_config(&self) -> Config {
        self.configs
            .get(&self.workspace.project)
            .cloned()
            .unwrap_or_else(Config::empty)
    }

    /// The project's top-level directory.
    pub(crate) fn project_root(&self) -> PathBuf {
        self.workspace
            .project_node()
            .and_then(|n| n.dir.clone())
            .unwrap_or_default()
    }

    /// The project image decision and its trace; an error when the
    /// configuration names no registry (nothing to decide).
    pub(crate) fn project_decision(&self) -> Result<&Explained, ImageError> {
        self.images
            .decision
            .as_ref()
            .ok_or_else(|| ImageError::NoRegistry {
                root: self.project_root(),
            })
    }

    /// The deploy plan of the workspace.
    pub(crate) fn plan(&self) -> Result<Plan, PlanError> {
        Plan::new(graph_of(&self.workspace, &self.images, &self.configs))
    }
}
