//! The images dependencies must already have, checked concurrently.

use super::ImageError;
use crate::config::{Config, DependencyKind};
use crate::registry::{Client, Lookup, Reference, RegistryError, tag_of_version};

/// Look up several images concurrently (a bounded number at once).
pub fn check_images(images: &[String], client: &Client) -> Vec<Result<Lookup, RegistryError>> {
    let parsed: Vec<Result<Reference, RegistryError>> =
        images.iter().map(|i| Reference::parse(i)).collect();
    let valid: Vec<Reference> = parsed
        .iter()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    let mut answers = client.lookup_all(&valid).into_iter();
    parsed
        .into_iter()
        .map(|r| match r {
            Ok(_) => answers.next().unwrap_or(Ok(Lookup::Missing)),
            Err(e) => Err(e),
        })
        .collect()
}

/// The images that must already exist and do not: `images` are full references
/// (from [`dependency_image`] for `pull = true` git dependencies, and image
/// dependencies as written). A registry failure is an error naming the image.
pub fn missing_images(images: &[String], client: &Client) -> Result<Vec<String>, ImageError> {
    let mut missing = Vec::new();
    for (image, answer) in images.iter().zip(check_images(images, client)) {
        match answer {
            Ok(Lookup::Present { .. }) => {}
            Ok(Lookup::Missing) => missing.push(image.clone()),
            Err(source) => {
                return Err(ImageError::Registry {
                    image: image.clone(),
                    source: source.into(),
                });
            }
        }
    }
    Ok(missing)
}

/// The image a `pull = true` git dependency must have: `registry/<name>:<version>`
/// in the project's registry. `None` without a registry.
pub fn dependency_image(config: &Config, repo_name: &str, version: &str) -> Option<String> {
    let registry = config.registry.as_deref()?.trim_end_matches('/');
    Some(format!(
        "{registry}/{}:{}",
        repo_name.to_lowercase(),
        tag_of_version(version)
    ))
}

/// The image `dependency` must already have, if any: for a `pull = true` git
/// dependency at `version`, [`dependency_image`]; for an image dependency, the
/// image itself. Feed the results of the selected dependencies to [`missing_images`].
pub fn required_image(
    config: &Config,
    dependency: &crate::config::Dependency,
    version: Option<&str>,
) -> Option<String> {
    match &dependency.kind {
        DependencyKind::Git { .. } if dependency.pull => {
            dependency_image(config, dependency.repo_name()?, version?)
        }
        DependencyKind::Image { image } => Some(image.clone()),
        _ => None,
    }
}
