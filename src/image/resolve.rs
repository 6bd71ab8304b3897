//! Gathering the facts of the image decision: git (the window, versions) and the
//! registry (one tag listing, one manifest `HEAD`), then [`super::decide`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::Oid;
use serde::Serialize;
use thiserror::Error;

use super::inputs::{build_input_digests, fingerprint, inputs_label};
use super::{Answer, GitFacts, ImageDecision, Naming, candidates, decide};
use crate::config::Config;
use crate::git::{Describer, GitError, Repo, Window};
use crate::registry::{Client, Lookup, Reference, RegistryError, layout, tag_of_version};

/// Describes at most this many candidate commits before giving up on the listing.
const MAX_CONFIRM: usize = 64;
/// Without a tag listing, ask for the versions of this many window commits at each end.
const FALLBACK_EACH_END: usize = 4;

/// What to do when the registry cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OnRegistryError {
    /// Fail (exit 1): a build decided on a guess costs an hour of CI.
    #[default]
    Fail,
    /// Treat the image as absent and build it.
    Build,
}

/// How to name and check the project image.
#[derive(Debug, Clone, Default)]
pub(crate) struct ImageOptions {
    /// Appended to the image name: `<project>-<suffix>`.
    pub(crate) suffix: Option<String>,
    /// `--tmp-registry`: where images built by CI go before tests pass.
    pub(crate) tmp_registry: Option<String>,
    /// Ask the registry (`--check`); without it the decision is "build".
    pub(crate) check: bool,
    pub(crate) on_registry_error: OnRegistryError,
}

#[derive(Debug, Error)]
pub(crate) enum ImageError {
    #[error("no registry is configured for the project image\n  fix: set `registry = \"host/path\"` in .ciux.toml at {}", root.display())]
    NoRegistry { root: PathBuf },
    #[error("`{name}` is not a valid image name{hint}")]
    BadName {
        name: String,
        /// How to fix it, with its leading newline (or empty).
        hint: String,
        #[source]
        source: Box<RegistryError>,
    },
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("cannot check image {image}")]
    Registry {
        image: String,
        #[source]
        source: Box<RegistryError>,
    },
    #[error("{} required image(s) missing from the registry:\n  {}", images.len(), images.join("\n  "))]
    Missing { images: Vec<String> },
    /// Required images the registry could not be asked about, reported with
    /// the ones it said it does not have: all of them, not the first only.
    #[error("{}", unchecked_text(missing, failed))]
    Unchecked {
        missing: Vec<String>,
        /// Each image and the registry's error, on one line.
        failed: Vec<(String, String)>,
    },
}

fn unchecked_text(missing: &[String], failed: &[(String, String)]) -> String {
    let mut text = format!("{} required image(s) could not be checked", failed.len());
    if !missing.is_empty() {
        text.push_str(&format!(
            ", {} required image(s) missing from the registry",
            missing.len()
        ));
    }
    text.push(':');
    for image in missing {
        text.push_str(&format!("\n  missing: {image}"));
    }
    for (image, message) in failed {
        text.push_str(&format!("\n  cannot check image {image}: {message}"));
    }
    text
}

impl ImageError {
    /// Whether the error is bad configuration (exit 2) rather than a failure.
    pub(crate) fn is_config(&self) -> bool {
        matches!(self, Self::NoRegistry { .. } | Self::BadName { .. })
    }
}

/// A registry tag considered for the window, and whether it is a window version.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Considered {
    pub(crate) tag: String,
    pub(crate) commit: String,
    /// The version ciux computes for that commit.
    pub(crate) version: String,
    pub(crate) matched: bool,
}

/// Everything the decision was made from (for `ciux explain`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Trace {
    pub(crate) head: String,
    pub(crate) last_change: String,
    pub(crate) window: usize,
    /// Each source path's tree entry id at HEAD (`None`: absent).
    pub(crate) sources: Vec<(String, Option<String>)>,
    /// Tags in the registry repository (`None`: not listed).
    pub(crate) tags_listed: Option<usize>,
    pub(crate) considered: Vec<Considered>,
    /// Each registry question and its answer, in order.
    pub(crate) lookups: Vec<(String, String)>,
    /// Build-input images and their digests.
    pub(crate) inputs: Vec<(String, String)>,
}

/// The decision with its trace.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Explained {
    pub(crate) decision: ImageDecision,
    pub(crate) trace: Trace,
}

/// [`resolve`], keeping the trace of how the decision was made. `head_version`
/// is HEAD's version when the caller has described it already (the
/// workspace's project node): HEAD is then not described again.
pub(crate) fn explain(
    repo: &Repo,
    config: &Config,
    options: &ImageOptions,
    client: &Client,
    head_version: Option<&str>,
) -> Result<Explained, ImageError> {
    // The image tag comes from the last change of the sources: a shallow
    // clone cuts that history, even when HEAD itself is tagged.
    if repo.is_shallow() {
        return Err(GitError::Shallow {
            path: repo.root().to_path_buf(),
        }
        .into());
    }
    let naming = naming(repo, config, options)?;
    let dirty_sources = repo.is_dirty_under(&config.source_paths)?;
    let check_registry = options.check && !dirty_sources;
    // The registry does not depend on git: list its tags and check the build
    // inputs while the window is walked and HEAD described.
    let (window, head, mut describer, listing, inputs) = std::thread::scope(|scope| {
        let listing = check_registry.then(|| scope.spawn(|| list(&naming, client)));
        let inputs = check_registry.then(|| scope.spawn(|| build_input_digests(config, client)));
        let started = std::time::Instant::now();
        let git = Describer::new(repo).and_then(|mut describer| {
            let window = describer.source_window(&config.source_paths)?;
            tracing::debug!("window walked in {:?}", started.elapsed());
            let head = match head_version {
                Some(version) => version.to_owned(),
                None => describer.describe_head()?.to_string(),
            };
            tracing::debug!("HEAD described at {:?}", started.elapsed());
            Ok((window, head, describer))
        });
        let join = |what: &str| RegistryError::Client {
            why: format!("the {what} thread panicked"),
        };
        let listing = listing.map(|h| h.join().unwrap_or_else(|_| Err(join("tag listing"))));
        let inputs = inputs.map(|h| {
            h.join().unwrap_or_else(|_| {
                Err(ImageError::Registry {
                    image: "build inputs".into(),
                    source: join("build input").into(),
                })
            })
        });
        git.map(|(w, h, d)| (w, h, d, listing, inputs))
    })?;
    let build = options.on_registry_error == OnRegistryError::Build;
    let (inputs, inputs_failed) = match inputs.transpose() {
        Ok(inputs) => (inputs.unwrap_or_default(), None),
        Err(ImageError::Registry { image, source }) if build => (Vec::new(), Some((image, source))),
        Err(e) => return Err(e),
    };
    let facts = GitFacts {
        head_tag: tag_of_version(&head),
        dirty_sources,
        window: window.commits.len(),
        last_change: window.last_change().to_string(),
    };
    let mut trace = Trace {
        head: window.head().to_string(),
        last_change: facts.last_change.clone(),
        window: facts.window,
        sources: window
            .entries
            .iter()
            .map(|(p, id)| (p.clone(), id.map(|i| i.to_string())))
            .collect(),
        tags_listed: None,
        considered: Vec::new(),
        lookups: Vec::new(),
        inputs: inputs.clone(),
    };
    let image = format!("{}/{}", naming.registry, naming.name);
    let fingerprint = fingerprint(&window, &inputs);
    // The label is read only when build inputs are declared: otherwise the
    // source alone decides, and no extra request is made.
    let expected = (!inputs.is_empty()).then_some(fingerprint.as_str());
    let failed = |image: &str, source: &RegistryError| {
        let message = chain(source);
        tracing::warn!(
            "cannot check image {image}: {message}; building as --on-registry-error=build asks"
        );
        Answer::Failed { message }
    };
    let answer = match (listing, inputs_failed) {
        (None, _) => Answer::NotChecked,
        (Some(_), Some((input, source))) => failed(&input, &source),
        (Some(listing), None) => match check(
            &mut describer,
            &naming,
            &window,
            client,
            expected,
            listing,
            &mut trace,
        ) {
            Ok(answer) => answer,
            Err(Failure::Git(e)) => return Err(ImageError::Git(e)),
            Err(Failure::Registry(source)) if build => failed(&image, &source),
            Err(Failure::Registry(source)) => {
                return Err(ImageError::Registry {
                    image,
                    source: source.into(),
                });
            }
        },
    };
    let decision = decide(&naming, &facts, &answer, &fingerprint);
    Ok(Explained { decision, trace })
}

/// `registry/<project>[-<suffix>]`, lower case.
fn naming(repo: &Repo, config: &Config, options: &ImageOptions) -> Result<Naming, ImageError> {
    let registry = config
        .registry
        .clone()
        .ok_or_else(|| ImageError::NoRegistry {
            root: repo.root().to_path_buf(),
        })?;
    let project = config
        .project
        .clone()
        .unwrap_or_else(|| dir_name(repo.root()));
    let name = match &options.suffix {
        Some(suffix) if !suffix.is_empty() => format!("{project}-{suffix}"),
        _ => project,
    }
    .to_lowercase();
    if !registry.starts_with("oci:") {
        Reference::parse(&format!("{registry}/{name}")).map_err(|source| ImageError::BadName {
            name: format!("{registry}/{name}"),
            hint: if config.project.is_none() {
                format!(
                    "\n  fix: the image is named after the directory {}; set `project = \"<name>\"` in .ciux.toml (lower-case letters, digits, `.`, `_`, `-`)",
                    repo.root().display()
                )
            } else {
                String::new()
            },
            source: source.into(),
        })?;
    }
    Ok(Naming {
        registry: registry.trim_end_matches('/').to_owned(),
        name,
        tmp_registry: options
            .tmp_registry
            .as_ref()
            .map(|r| r.trim_end_matches('/').to_owned()),
    })
}

fn dir_name(root: &Path) -> String {
    root.file_name().map_or_else(
        || "project".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Why a check could not answer: git facts are never subject to `--on-registry-error`.
enum Failure {
    Registry(RegistryError),
    Git(GitError),
}

impl From<RegistryError> for Failure {
    fn from(e: RegistryError) -> Self {
        Self::Registry(e)
    }
}

impl From<GitError> for Failure {
    fn from(e: GitError) -> Self {
        Self::Git(e)
    }
}

/// What one tag listing said.
enum Listing {
    Tags(Vec<String>),
    /// The repository does not exist: every tag is absent.
    NoRepository,
    /// Listing is not allowed (401/403): ask tag by tag.
    Refused,
}

/// List the tags of the project image's repository (or OCI layout).
fn list(naming: &Naming, client: &Client) -> Result<Listing, RegistryError> {
    if let Some(dir) = naming.registry.strip_prefix("oci:") {
        let layout = layout::layout_dir(Path::new(dir), &naming.name);
        return Ok(match layout::tags(&layout)? {
            Some(tags) => Listing::Tags(tags.into_iter().map(|(t, _)| t).collect()),
            None => Listing::NoRepository,
        });
    }
    let reference = Reference::parse(&format!("{}/{}", naming.registry, naming.name))?;
    match client.tags(&reference) {
        Ok(Some(tags)) => Ok(Listing::Tags(tags)),
        Ok(None) => Ok(Listing::NoRepository),
        Err(RegistryError::Denied { .. }) => Ok(Listing::Refused),
        Err(e) => Err(e),
    }
}

/// Which window version the registry holds, from its tag listing.
fn check(
    describer: &mut Describer<'_>,
    naming: &Naming,
    window: &Window,
    client: &Client,
    expected: Option<&str>,
    listing: Result<Listing, RegistryError>,
    trace: &mut Trace,
) -> Result<Answer, Failure> {
    let question = format!("tags of {}/{}", naming.registry, naming.name);
    let tags = match listing? {
        Listing::Tags(tags) => tags,
        Listing::NoRepository => {
            trace.lookups.push((question, "no such repository".into()));
            return Ok(Answer::Missing);
        }
        Listing::Refused => {
            trace
                .lookups
                .push((question, "listing refused: asking tag by tag".into()));
            let reference = Reference::parse(&format!("{}/{}", naming.registry, naming.name))?;
            return fallback(describer, &reference, window, client, expected, trace);
        }
    };
    trace.tags_listed = Some(tags.len());
    trace
        .lookups
        .push((question, format!("{} tags", tags.len())));
    if let Some(dir) = naming.registry.strip_prefix("oci:") {
        let layout = layout::layout_dir(Path::new(dir), &naming.name);
        return confirm(
            describer,
            window,
            &tags,
            trace,
            |tag| layout::lookup(&layout, tag),
            |_| Ok(None),
        );
    }
    let reference = Reference::parse(&format!("{}/{}", naming.registry, naming.name))?;
    confirm(
        describer,
        window,
        &tags,
        trace,
        |tag| client.lookup(&reference.with_tag(tag)),
        |tag| inputs_label(client, &reference.with_tag(tag), expected),
    )
}

/// Confirm candidates closest to HEAD first, then get the digest of the first one.
fn confirm(
    describer: &mut Describer<'_>,
    window: &Window,
    tags: &[String],
    trace: &mut Trace,
    lookup: impl Fn(&str) -> Result<Lookup, RegistryError>,
    label: impl Fn(&str) -> Result<Option<Option<String>>, RegistryError>,
) -> Result<Answer, Failure> {
    let git_tags = version_tags(describer);
    for candidate in candidates(tags, &window.commits, &git_tags)
        .into_iter()
        .take(MAX_CONFIRM)
    {
        let version = tag_of_version(&describer.describe(candidate.commit)?.to_string());
        let matched = version == candidate.tag;
        trace.considered.push(Considered {
            tag: candidate.tag.clone(),
            commit: candidate.commit.to_string(),
            version,
            matched,
        });
        if !matched {
            continue;
        }
        let answer = lookup(&candidate.tag)?;
        trace
            .lookups
            .push((format!("manifest {}", candidate.tag), answer_text(&answer)));
        if let Lookup::Present { digest } = answer {
            if let Some(found) = label(&candidate.tag)? {
                return Ok(Answer::InputsChanged {
                    tag: candidate.tag,
                    label: found,
                });
            }
            return Ok(Answer::Found {
                tag: candidate.tag,
                commit: candidate.commit.to_string(),
                digest,
            });
        }
    }
    Ok(Answer::Missing)
}

/// Without a tag listing: `HEAD` the versions of a few commits at each end of the window.
fn fallback(
    describer: &mut Describer<'_>,
    reference: &Reference,
    window: &Window,
    client: &Client,
    expected: Option<&str>,
    trace: &mut Trace,
) -> Result<Answer, Failure> {
    let n = window.commits.len();
    let mut picks: Vec<usize> = (0..n.min(FALLBACK_EACH_END)).collect();
    picks.extend(n.saturating_sub(FALLBACK_EACH_END)..n);
    picks.dedup();
    let mut versions = Vec::new();
    for i in picks {
        let commit = window.commits[i];
        let version = describer.describe(commit)?;
        versions.push((tag_of_version(&version.to_string()), commit));
    }
    let images: Vec<Reference> = versions
        .iter()
        .map(|(tag, _)| reference.with_tag(tag))
        .collect();
    let answers = client.lookup_all(&images);
    for ((tag, commit), answer) in versions.into_iter().zip(answers) {
        let answer = answer?;
        trace
            .lookups
            .push((format!("manifest {tag}"), answer_text(&answer)));
        if let Lookup::Present { digest } = answer {
            if let Some(found) = inputs_label(client, &reference.with_tag(&tag), expected)? {
                return Ok(Answer::InputsChanged { tag, label: found });
            }
            return Ok(Answer::Found {
                tag,
                commit: commit.to_string(),
                digest,
            });
        }
    }
    Ok(Answer::Missing)
}

/// Version tags of the repository in image-tag form, by the commit they name
/// (from the describer's one listing).
fn version_tags(describer: &Describer<'_>) -> HashMap<String, Oid> {
    describer
        .tags()
        .iter()
        .map(|t| (tag_of_version(&t.name), t.commit))
        .collect()
}

fn answer_text(answer: &Lookup) -> String {
    match answer {
        Lookup::Present { digest } => format!("present {digest}"),
        Lookup::Missing => "absent".into(),
    }
}

/// An error and its causes on one line.
pub(super) fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
