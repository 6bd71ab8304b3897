//! Every image decision of a resolved workspace, made once: the project image
//! (build or use the one found) and each image a dependency must already have
//! (`pull = true` git dependencies at their version, image dependencies).
//!
//! `ignite`, `plan` and the GitHub step summary all render this one value, so
//! they cannot disagree about what is missing, what is found, or its digest.

use serde::Serialize;

use super::deps::{check_images, dependency_image};
use super::{ImageError, ImageOptions, OnRegistryError, resolve};
use crate::config::Config;
use crate::emit::ImageBlock;
use crate::git::Repo;
use crate::registry::{Client, Lookup};
use crate::workspace::{NodeKind, Workspace};

/// What the registry says of an image a dependency must already have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Required {
    Present {
        digest: String,
    },
    /// The registry answered: it does not have it.
    Missing,
    /// The registry could not answer, and `--on-registry-error=build` said to go on.
    Unknown {
        message: String,
    },
}

/// An image a selected dependency must already have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequiredImage {
    /// The workspace node that needs it.
    pub node: String,
    pub image: String,
    pub answer: Required,
}

/// The image decisions of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceImages {
    pub project: ImageBlock,
    /// In workspace node order.
    pub required: Vec<RequiredImage>,
}

impl WorkspaceImages {
    /// The required image of node `name`, if it has one.
    pub fn required_of(&self, name: &str) -> Option<&RequiredImage> {
        self.required.iter().find(|r| r.node == name)
    }

    /// The images the registry said it does not have.
    pub fn missing(&self) -> Vec<&str> {
        self.required
            .iter()
            .filter(|r| r.answer == Required::Missing)
            .map(|r| r.image.as_str())
            .collect()
    }

    /// An error listing the missing images; `Ok` when none is missing.
    pub fn ensure_present(&self) -> Result<(), ImageError> {
        let missing = self.missing();
        if missing.is_empty() {
            return Ok(());
        }
        Err(ImageError::Missing {
            images: missing.into_iter().map(str::to_owned).collect(),
        })
    }
}

/// Decide every image of `ws` once: the project image through [`resolve`]
/// (`config` is the project's configuration; with `options.check` the registry
/// is asked), then the required images, all looked up concurrently. A registry
/// failure is an error unless `options.on_registry_error` is
/// [`OnRegistryError::Build`]; then that image alone is [`Required::Unknown`].
pub fn decide_workspace(
    ws: &Workspace,
    config: &Config,
    options: &ImageOptions,
    client: &Client,
) -> Result<WorkspaceImages, ImageError> {
    let project = project_block(ws, config, options, client)?;
    let wanted: Vec<(String, String)> = ws
        .dependencies()
        .filter_map(|node| {
            let image = match node.kind {
                NodeKind::Git if node.pull => {
                    dependency_image(config, &node.name, node.version.as_deref()?)
                }
                NodeKind::Image => node.image.clone(),
                _ => None,
            }?;
            Some((node.name.clone(), image))
        })
        .collect();
    let images: Vec<String> = wanted.iter().map(|(_, i)| i.clone()).collect();
    let answers = if options.check {
        check_images(&images, client)
    } else {
        Vec::new()
    };
    let build = options.on_registry_error == OnRegistryError::Build;
    let mut answers = answers.into_iter();
    let mut required = Vec::with_capacity(wanted.len());
    for (node, image) in wanted {
        let answer = match answers.next() {
            None => Required::Unknown {
                message: "the registry was not asked".into(),
            },
            Some(Ok(Lookup::Present { digest })) => Required::Present { digest },
            Some(Ok(Lookup::Missing)) => Required::Missing,
            // Each image keeps its own answer: one unreachable registry does
            // not hide an image that a reachable one does not have.
            Some(Err(source)) if build => {
                let message = super::resolve::chain(&source);
                tracing::warn!("cannot check image {image}: {message}");
                Required::Unknown { message }
            }
            Some(Err(source)) => {
                return Err(ImageError::Registry {
                    image,
                    source: source.into(),
                });
            }
        };
        required.push(RequiredImage {
            node,
            image,
            answer,
        });
    }
    Ok(WorkspaceImages { project, required })
}

/// The project image block: the registry's answer when the configuration names
/// a registry (see [`resolve`]), else an unchecked block.
fn project_block(
    ws: &Workspace,
    config: &Config,
    options: &ImageOptions,
    client: &Client,
) -> Result<ImageBlock, ImageError> {
    let root = ws
        .project_node()
        .and_then(|n| n.dir.clone())
        .unwrap_or_default();
    if config.registry.is_none() {
        let version = ws
            .project_node()
            .and_then(|n| n.version.as_deref())
            .unwrap_or("");
        return Ok(unchecked_block(config, &ws.project, version, options));
    }
    let repo = Repo::discover(&root)?;
    Ok(ImageBlock::from(resolve(&repo, config, options, client)?))
}

/// The project image block without asking the registry: name
/// `registry/<project>[-suffix]` lower-cased, tag the version of HEAD, always
/// to be built (a configuration without `registry`).
pub fn unchecked_block(
    config: &Config,
    project: &str,
    head_version: &str,
    options: &ImageOptions,
) -> ImageBlock {
    let name = match &options.suffix {
        Some(suffix) if !suffix.is_empty() => format!("{project}-{suffix}"),
        _ => project.to_owned(),
    }
    .to_lowercase();
    let registry = config.registry.clone().unwrap_or_default().to_lowercase();
    let url_in = |registry: &str| {
        if registry.is_empty() {
            format!("{name}:{head_version}")
        } else {
            format!("{registry}/{name}:{head_version}")
        }
    };
    let promoted_url = url_in(&registry);
    let temporary_url = options.tmp_registry.as_deref().map(url_in);
    ImageBlock {
        registry,
        name: name.clone(),
        tag: head_version.to_owned(),
        url: temporary_url
            .clone()
            .unwrap_or_else(|| promoted_url.clone()),
        build: true,
        promoted_url,
        temporary_url,
        checked: false,
        digest: None,
        inputs: None,
        reason: "no registry in the configuration".into(),
    }
}
