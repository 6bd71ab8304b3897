//! The project image: its name, and whether CI must build it.
//!
//! [`decide`] is pure: git facts and the registry's answer in, an
//! [`ImageDecision`] out. [`resolve`] gathers those facts (the source-change
//! window, one tag listing, one manifest lookup) and calls it;
//! [`decide_workspace`] makes every image decision of a workspace once (the
//! project image and the images dependencies must already have), and
//! [`ImageBlock`] is how env files and plans show the project's.

mod block;
mod deps;
mod inputs;
mod matching;
mod resolve;
mod workspace;

use serde::Serialize;

pub(crate) use block::{ImageBlock, unchecked_block};
pub(crate) use deps::dependency_image;
pub(crate) use matching::candidates;
pub(crate) use resolve::{Explained, ImageError, ImageOptions, OnRegistryError, explain};
#[cfg(test)]
pub(crate) use workspace::RequiredImage;
pub(crate) use workspace::{Required, WorkspaceImages, decide_workspace};

/// Names of the variables the image block of an env file holds (defined once, in
/// [`crate::emit::names`]).
pub(crate) mod vars {
    pub(crate) use crate::emit::names::{
        CIUX_BUILD as BUILD, CIUX_IMAGE_DIGEST as DIGEST, CIUX_IMAGE_INPUTS as INPUTS,
        CIUX_IMAGE_URL as URL,
    };
}

/// The image label (and OCI annotation) a build script sets to `CIUX_IMAGE_INPUTS`.
pub(crate) const INPUTS_LABEL: &str = "io.ciux.inputs";

/// Where the project image lives: `registry/name`, plus the temporary registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Naming {
    /// The configured registry and path prefix, e.g. `registry.example.org/astro`.
    pub(crate) registry: String,
    /// `<project>[-<suffix>]`, lower case.
    pub(crate) name: String,
    /// Where CI pushes what it builds before tests pass (`--tmp-registry`).
    pub(crate) tmp_registry: Option<String>,
}

/// What git says about the project (plain data, gathered by [`resolve`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct GitFacts {
    /// HEAD's version as a tag (`git describe --always --abbrev=7 --dirty`, `+` → `_`).
    pub(crate) head_tag: String,
    /// Tracked files under a source path differ from HEAD.
    pub(crate) dirty_sources: bool,
    /// Commits from HEAD to the last source change, both included.
    pub(crate) window: usize,
    /// The latest commit that changed a source path.
    pub(crate) last_change: String,
}

/// What the registry said about the window's tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub(crate) enum Answer {
    /// The registry was not asked (no `--check`).
    NotChecked,
    /// An image of the window: its tag, the commit that tag names, its digest.
    Found {
        tag: String,
        commit: String,
        digest: String,
    },
    /// No tag of the window is in the registry.
    Missing,
    /// An image of the window exists, but was built from other inputs.
    InputsChanged { tag: String, label: Option<String> },
    /// The registry failed and the user chose to build anyway.
    Failed { message: String },
}

/// Why the image will or will not be built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Reason {
    /// Uncommitted changes under a source path.
    DirtySources,
    NotChecked,
    Found {
        tag: String,
        commit: String,
    },
    NotFound {
        window: usize,
    },
    InputsChanged {
        tag: String,
        label: Option<String>,
    },
    RegistryFailed {
        message: String,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DirtySources => write!(f, "uncommitted changes under a source path"),
            Self::NotChecked => write!(f, "the registry was not asked (use --check)"),
            Self::Found { tag, commit } => {
                write!(
                    f,
                    "the registry has {tag}, built from commit {} with the same source",
                    short(commit)
                )
            }
            Self::NotFound { window } => {
                write!(
                    f,
                    "no image of the {window} commit(s) since the last source change is in the registry"
                )
            }
            Self::InputsChanged { tag, label } => write!(
                f,
                "{tag} was built from other inputs ({INPUTS_LABEL}={})",
                label.as_deref().unwrap_or("<none>")
            ),
            Self::RegistryFailed { message } => {
                write!(f, "building because the registry failed: {message}")
            }
        }
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// The build/skip decision and every name CI needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ImageDecision {
    /// Registry (and path prefix) of [`ImageDecision::url`].
    pub(crate) registry: String,
    pub(crate) name: String,
    pub(crate) tag: String,
    /// `registry/name:tag`: the image to use, or to build and push.
    pub(crate) url: String,
    pub(crate) build: bool,
    /// The manifest digest of the image found.
    pub(crate) digest: Option<String>,
    /// The image named with HEAD's version, pushed (promoted) after CI passes.
    pub(crate) promoted_url: String,
    /// With `--tmp-registry` and a build: where CI pushes before tests pass.
    pub(crate) temporary_url: Option<String>,
    /// Fingerprint of the build inputs, for the `io.ciux.inputs` label.
    pub(crate) inputs: String,
    pub(crate) reason: Reason,
}

impl ImageDecision {}

/// The decision, from plain data. Uncommitted source changes always build; an
/// image found for a commit of the window is used as is; otherwise the image is
/// built under HEAD's version, in the temporary registry when there is one.
pub(crate) fn decide(
    naming: &Naming,
    facts: &GitFacts,
    answer: &Answer,
    inputs: &str,
) -> ImageDecision {
    let url_of = |registry: &str, tag: &str| format!("{registry}/{}:{tag}", naming.name);
    let promoted_url = url_of(&naming.registry, &facts.head_tag);
    let (reason, found) = match answer {
        _ if facts.dirty_sources => (Reason::DirtySources, None),
        Answer::NotChecked => (Reason::NotChecked, None),
        Answer::Found {
            tag,
            commit,
            digest,
        } => (
            Reason::Found {
                tag: tag.clone(),
                commit: commit.clone(),
            },
            Some((tag.clone(), digest.clone())),
        ),
        Answer::Missing => (
            Reason::NotFound {
                window: facts.window,
            },
            None,
        ),
        Answer::InputsChanged { tag, label } => (
            Reason::InputsChanged {
                tag: tag.clone(),
                label: label.clone(),
            },
            None,
        ),
        Answer::Failed { message } => (
            Reason::RegistryFailed {
                message: message.clone(),
            },
            None,
        ),
    };
    let (registry, tag, digest, build) = match found {
        Some((tag, digest)) => (naming.registry.clone(), tag, Some(digest), false),
        None => (
            naming
                .tmp_registry
                .clone()
                .unwrap_or_else(|| naming.registry.clone()),
            facts.head_tag.clone(),
            None,
            true,
        ),
    };
    let url = url_of(&registry, &tag);
    let temporary_url = (build && naming.tmp_registry.is_some()).then(|| url.clone());
    ImageDecision {
        registry,
        name: naming.name.clone(),
        tag,
        url,
        build,
        digest,
        promoted_url,
        temporary_url,
        inputs: inputs.to_owned(),
        reason,
    }
}

/// `export NAME=value` lines, values quoted for POSIX shells so that sourcing
/// them sets exactly the value and never runs anything.
pub fn export_lines(vars: &[(&str, String)]) -> String {
    vars.iter()
        .map(|(name, value)| format!("export {name}={}\n", quote(value)))
        .collect()
}

/// `value` as one shell word ([`crate::emit::quote_word`]). NUL cannot appear in
/// a shell variable and is dropped.
pub fn quote(value: &str) -> String {
    crate::emit::quote_word(&value.replace('\0', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naming(tmp: Option<&str>) -> Naming {
        Naming {
            registry: "reg.example.org/astro".into(),
            name: "fink".into(),
            tmp_registry: tmp.map(str::to_owned),
        }
    }

    fn facts(dirty: bool) -> GitFacts {
        GitFacts {
            head_tag: "v1.0.0-3-gabcdef1".into(),
            dirty_sources: dirty,
            window: 3,
            last_change: "c".repeat(40),
        }
    }

    #[test]
    fn found_in_window_skips_the_build() {
        let answer = Answer::Found {
            tag: "v1.0.0-1-g1234567".into(),
            commit: "1".repeat(40),
            digest: "sha256:aa".into(),
        };
        let d = decide(&naming(Some("tmp.local")), &facts(false), &answer, "fp");
        assert!(!d.build);
        assert_eq!(d.url, "reg.example.org/astro/fink:v1.0.0-1-g1234567");
        assert_eq!(
            d.promoted_url,
            "reg.example.org/astro/fink:v1.0.0-3-gabcdef1"
        );
        assert_eq!(d.temporary_url, None);
        assert_eq!(d.digest.as_deref(), Some("sha256:aa"));
    }

    #[test]
    fn missing_builds_in_the_temporary_registry() {
        let d = decide(
            &naming(Some("tmp.local")),
            &facts(false),
            &Answer::Missing,
            "fp",
        );
        assert!(d.build);
        assert_eq!(d.url, "tmp.local/fink:v1.0.0-3-gabcdef1");
        assert_eq!(d.temporary_url.as_deref(), Some(d.url.as_str()));
        assert_eq!(d.reason, Reason::NotFound { window: 3 });
    }

    #[test]
    fn dirty_sources_always_build() {
        let answer = Answer::Found {
            tag: "t".into(),
            commit: "c".into(),
            digest: "d".into(),
        };
        let d = decide(&naming(None), &facts(true), &answer, "fp");
        assert!(d.build);
        assert_eq!(d.reason, Reason::DirtySources);
        assert_eq!(d.url, d.promoted_url);
    }

    #[test]
    fn quoting_never_lets_the_shell_run_anything() {
        assert_eq!(quote("reg/a:v1.2.3-rc1-4-gabc"), "reg/a:v1.2.3-rc1-4-gabc");
        assert_eq!(quote("$(touch x)"), "'$(touch x)'");
        assert_eq!(quote("a'b"), r"'a'\''b'");
        assert_eq!(quote(""), "''");
        assert_eq!(
            export_lines(&[("CIUX_BUILD", "true".into())]),
            "export CIUX_BUILD=true\n"
        );
    }
}
