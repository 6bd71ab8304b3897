//! The variables of the env file, from the resolved workspace and the project
//! image (pure).

use std::collections::BTreeMap;

use super::names::*;
use super::{EmitError, Env};
use crate::image::ImageBlock;
use crate::workspace::{NodeKind, Workspace};

/// Build the env: a header, then for the project and each git dependency
/// `<NAME>_DIR`, `<NAME>_VERSION` (when checked out) and `<NAME>_WORKBRANCH`;
/// for each image dependency `<REPOSITORY_PATH>_IMAGE`; then the image block.
/// Two nodes that map to the same variable name are an error.
pub(crate) fn build_env(ws: &Workspace, image: &ImageBlock) -> Result<Env, EmitError> {
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
