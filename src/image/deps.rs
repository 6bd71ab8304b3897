//! The images dependencies must already have, checked concurrently.

use crate::config::Config;
use crate::registry::{Client, Lookup, Reference, RegistryError, tag_of_version};

/// Look up several images concurrently (a bounded number at once).
pub(crate) fn check_images(
    images: &[String],
    client: &Client,
) -> Vec<Result<Lookup, RegistryError>> {
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

/// The image a `pull = true` git dependency must have: `registry/<name>:<version>`
/// in the project's registry. `None` without a registry.
pub(crate) fn dependency_image(config: &Config, repo_name: &str, version: &str) -> Option<String> {
    let registry = config.registry.as_deref()?.trim_end_matches('/');
    Some(format!(
        "{registry}/{}:{}",
        repo_name.to_lowercase(),
        tag_of_version(version)
    ))
}
