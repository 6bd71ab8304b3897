//! The project image block of an env file and of the plan (`CIUX_IMAGE_*`,
//! `CIUX_BUILD`, ...): what a decision says, in the words CI reads, and the
//! block of a project the registry is not asked about.

use serde::Serialize;

use super::{ImageDecision, ImageOptions, Reason};
use crate::config::Config;

/// The project image variables (`CIUX_IMAGE_*`, `CIUX_BUILD`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ImageBlock {
    pub(crate) registry: String,
    pub(crate) name: String,
    pub(crate) tag: String,
    pub(crate) url: String,
    pub(crate) build: bool,
    pub(crate) promoted_url: String,
    pub(crate) temporary_url: Option<String>,
    /// Whether the registry was asked; the env file says so when it was not.
    pub(crate) checked: bool,
    /// Manifest digest of the image found in the registry.
    pub(crate) digest: Option<String>,
    /// Fingerprint of the build inputs (`io.ciux.inputs`), when computed.
    pub(crate) inputs: Option<String>,
    /// Why the image is or is not built, in a few words.
    pub(crate) reason: String,
}

impl From<ImageDecision> for ImageBlock {
    fn from(d: ImageDecision) -> Self {
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

/// The project image block without asking the registry: name
/// `registry/<project>[-suffix]` lower-cased, tag the version of HEAD, always
/// to be built (a configuration without `registry`).
pub(crate) fn unchecked_block(
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
