//! The variables of the env file, from the resolved workspace and the project
//! image (pure).

use std::collections::BTreeMap;

use serde::Serialize;

use super::names::*;
use super::{EmitError, Env};
use crate::workspace::{NodeKind, Workspace};

/// The project image variables (`CIUX_IMAGE_*`, `CIUX_BUILD`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageBlock {
    pub registry: String,
    pub name: String,
    pub tag: String,
    pub url: String,
    pub build: bool,
    pub promoted_url: String,
    pub temporary_url: Option<String>,
    /// Whether the registry was asked; the env file says so when it was not.
    pub checked: bool,
    /// Manifest digest of the image found in the registry.
    pub digest: Option<String>,
    /// Fingerprint of the build inputs (`io.ciux.inputs`), when computed.
    pub inputs: Option<String>,
    /// Why the image is or is not built, in a few words.
    pub reason: String,
}

impl From<crate::image::ImageDecision> for ImageBlock {
    fn from(d: crate::image::ImageDecision) -> Self {
        use crate::image::Reason;
        let checked = !matches!(d.reason, Reason::NotChecked | Reason::RegistryFailed { .. });
        Self {
            registry: d.registry,
            name: d.name,
            tag: d.tag,
            url: d.url,
            build: d.build,
            promoted_url: d.promoted_url,
            temporary_url: d.temporary_url,
            checked,
            digest: d.digest,
            inputs: Some(d.inputs).filter(|i| !i.is_empty()),
            reason: d.reason.to_string(),
        }
    }
}

/// Build the env: a header, then for the project and each git dependency
/// `<NAME>_DIR`, `<NAME>_VERSION` (when checked out) and `<NAME>_WORKBRANCH`;
/// for each image dependency `<REPOSITORY_PATH>_IMAGE`; then the image block.
/// Two nodes that map to the same variable name are an error.
pub fn build_env(ws: &Workspace, image: &ImageBlock) -> Result<Env, EmitError> {
    let mut env = Env::default();
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    let mut claim = |name: String, owner: &str| -> Result<String, EmitError> {
        if let Some(first) = owners.get(&name) {
            return Err(EmitError::NameClash {
                name,
                first: first.clone(),
                second: owner.to_owned(),
            });
        }
        owners.insert(name.clone(), owner.to_owned());
        Ok(name)
    };
    env.comment("Written by ciux ignite: source this file in bash or sh.");
    let selector = if ws.selector.is_empty() {
        "(none: every dependency)"
    } else {
        &ws.selector
    };
    env.comment(format!("Label selector: {selector}"));
    for node in ws
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Project | NodeKind::Git))
    {
        let prefix = repo_prefix(&node.name);
        if let (Some(dir), Some(version)) = (&node.dir, &node.version) {
            env.var(
                claim(format!("{prefix}{DIR_SUFFIX}"), &node.name)?,
                dir.to_string_lossy(),
            );
            env.var(
                claim(format!("{prefix}{VERSION_SUFFIX}"), &node.name)?,
                version.clone(),
            );
        }
        let branch = node.branch.clone().unwrap_or_default();
        env.var(
            claim(format!("{prefix}{WORKBRANCH_SUFFIX}"), &node.name)?,
            branch,
        );
    }
    for node in ws.nodes.iter().filter(|n| n.kind == NodeKind::Image) {
        let reference = node.image.clone().unwrap_or_default();
        env.var(
            claim(
                format!("{}{IMAGE_SUFFIX}", image_prefix(&reference)),
                &node.name,
            )?,
            reference,
        );
    }
    if !image.checked {
        env.comment(
            "The registry was not asked: CIUX_BUILD=true means the image was not looked up.",
        );
    }
    env.var(CIUX_IMAGE_REGISTRY, image.registry.clone());
    env.var(CIUX_IMAGE_NAME, image.name.clone());
    env.var(CIUX_IMAGE_TAG, image.tag.clone());
    env.var(CIUX_IMAGE_URL, image.url.clone());
    env.var(CIUX_BUILD, image.build.to_string());
    env.comment("Promoted image: pushed under this name once CI passes.");
    env.var(CIUX_PROMOTED_IMAGE_URL, image.promoted_url.clone());
    if let Some(url) = &image.temporary_url {
        env.var(CIUX_TEMPORARY_IMAGE_URL, url.clone());
    }
    if let Some(digest) = &image.digest {
        env.var(CIUX_IMAGE_DIGEST, digest.clone());
    }
    if let Some(inputs) = &image.inputs {
        env.var(CIUX_IMAGE_INPUTS, inputs.clone());
    }
    Ok(env)
}
