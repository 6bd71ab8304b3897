//! Every image decision of a resolved workspace, made once: the project image
//! (build or use the one found) and each image a dependency must already have
//! (`pull = true` git dependencies at their version, image dependencies).
//!
//! `ignite`, `plan` and the GitHub step summary all render this one value, so
//! they cannot disagree about what is missing, what is found, or its digest.

use serde::Serialize;

use super::deps::{check_images, dependency_image};
use super::{Explained, ImageBlock, ImageError, ImageOptions, OnRegistryError, explain};
use crate::config::Config;
use crate::git::Repo;
use crate::registry::{Client, Lookup};
use crate::workspace::{NodeKind, Workspace};

/// What the registry says of an image a dependency must already have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub(crate) enum Required {
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
pub(crate) struct RequiredImage {
    /// The workspace node that needs it.
    pub(crate) node: String,
    pub(crate) image: String,
    pub(crate) answer: Required,
}

/// The image decisions of a workspace.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WorkspaceImages {
    pub(crate) project: ImageBlock,
    /// The project decision with its trace, when the registry was (or could
    /// have been) asked: the configuration names a registry and the decision
    /// was not made offline. `get image`, `explain` and `promote` render it.
    #[serde(skip)]
    pub(crate) decision: Option<Explained>,
    /// In workspace node order.
    pub(crate) required: Vec<RequiredImage>,
}

impl WorkspaceImages {
    /// The required image of node `name`, if it has one.
    pub(crate) fn required_of(&self, name: &str) -> Option<&RequiredImage> {
        self.required.iter().find(|r| r.node == name)
    }

    /// The images the registry said it does not have.
    pub(crate) fn missing(&self) -> Vec<&str> {
        self.required
            .iter()
            .filter(|r| r.answer == Required::Missing)
            .map(|r| r.image.as_str())
            .collect()
    }

    /// An error listing the missing images; `Ok` when none is missing.
    pub(crate) fn ensure_present(&self) -> Result<(), ImageError> {
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
pub(crate) fn decide_workspace(
    ws: &Workspace,
    config: &Config,
    options: &ImageOptions,
    client: &Client,
) -> Result<WorkspaceImages, ImageError> {
    let (project, decision) = project_block(ws, config, options, client)?;
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
    let mut failed = Vec::new();
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
            // Every image is looked at before failing: the error names each
            // one that could not be checked, with the ones found missing.
            Some(Err(source)) => {
                failed.push((image, source));
                continue;
            }
        };
        required.push(RequiredImage {
            node,
            image,
            answer,
        });
    }
    let images = WorkspaceImages {
        project,
        decision,
        required,
    };
    match failed.len() {
        0 => Ok(images),
        1 if images.missing().is_empty() => {
            let (image, source) = failed.remove(0);
            Err(ImageError::Registry {
                image,
                source: source.into(),
            })
        }
        _ => Err(ImageError::Unchecked {
            missing: images.missing().into_iter().map(str::to_owned).collect(),
            failed: failed
                .iter()
                .map(|(image, source)| (image.clone(), super::resolve::chain(source)))
                .collect(),
        }),
    }
}

/// The project image block: the registry's answer when the configuration names
/// a registry (see [`super::resolve`]), else an unchecked block. HEAD's
/// version is the project node's, described once by the workspace.
fn project_block(
    ws: &Workspace,
    config: &Config,
    options: &ImageOptions,
    client: &Client,
) -> Result<(ImageBlock, Option<Explained>), ImageError> {
    let project = ws.project_node();
    let root = project.and_then(|n| n.dir.clone()).unwrap_or_default();
    let version = project.and_then(|n| n.version.as_deref());
    if config.registry.is_none() {
        let block = super::unchecked_block(config, &ws.project, version.unwrap_or(""), options);
        return Ok((block, None));
    }
    let repo = Repo::discover(&root)?;
    let explained = explain(&repo, config, options, client, version)?;
    Ok((
        ImageBlock::from(explained.decision.clone()),
        Some(explained),
    ))
}
