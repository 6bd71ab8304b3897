//! From parsed arguments to the library's resolution request: the one place
//! every command that shows a workspace builds it (no command module calls
//! another).

use std::path::PathBuf;

use super::{ImageOpts, OnRegistryError};
use crate::emit::names;
use crate::image::{self, ImageOptions};
use crate::resolution::{Images, Request};
use crate::selector::Selector;
use crate::workspace;

/// The library options of `--suffix`, `--tmp-registry`, `--on-registry-error`.
pub(crate) fn image_options(opts: &ImageOpts, check: bool) -> ImageOptions {
    ImageOptions {
        suffix: opts.suffix.clone(),
        tmp_registry: opts.tmp_registry.clone(),
        check,
        on_registry_error: match opts.on_registry_error {
            OnRegistryError::Fail => image::OnRegistryError::Fail,
            OnRegistryError::Build => image::OnRegistryError::Build,
        },
    }
}

/// The workspace walk of the project at `path`, GitHub's branch variables
/// read from the environment; the rest is the command's.
pub(crate) fn workspace(path: PathBuf, selector: Selector) -> workspace::Request {
    workspace::Request {
        path,
        selector,
        github_head_ref: std::env::var(names::GITHUB_HEAD_REF).ok(),
        github_ref_name: std::env::var(names::GITHUB_REF_NAME).ok(),
        ..Default::default()
    }
}

/// The project alone (no dependency walk), its image decided with `options`:
/// `get image`, `explain`, `promote`.
pub(crate) fn project_only(path: PathBuf, options: ImageOptions) -> Request {
    Request {
        workspace: workspace::Request {
            main_only: true,
            ..workspace(path, Selector::default())
        },
        images: Images::Decide(options),
    }
}

/// A label selector argument (none: every dependency).
pub(crate) fn selector(text: Option<&str>) -> Result<Selector, crate::config::ConfigError> {
    Selector::parse(text.unwrap_or(""))
}
