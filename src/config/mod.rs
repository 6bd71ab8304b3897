//! Project configuration: `.ciux.toml` at the repository root, or the reference
//! tool's legacy YAML `.ciux` when no `.ciux.toml` exists.
//!
//! Both files are read into the same raw schema, then validated into a
//! [`Config`]. Every problem is a [`ConfigError`] naming file, line, column and key.

mod error;
mod legacy;
mod limits;
mod raw;
pub(crate) mod reads;
mod render;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

pub use error::ConfigError;
pub use error::Position;
pub(crate) use render::render_toml;

/// File name of the configuration.
pub(crate) const CONFIG_FILE: &str = ".ciux.toml";
/// File name of the reference tool's legacy YAML configuration.
pub(crate) const LEGACY_FILE: &str = ".ciux";

/// Which file a configuration came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "lowercase")]
pub enum Source {
    /// `.ciux.toml`.
    Toml(PathBuf),
    /// The legacy YAML `.ciux`.
    Legacy(PathBuf),
    /// No file: a project without dependencies.
    Default,
}

/// A validated project configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    pub source: Source,
    /// Project name; `None` means the repository directory name.
    pub(crate) project: Option<String>,
    /// Registry and path prefix of the project's image, e.g. `registry.example.org/astro`.
    pub registry: Option<String>,
    /// Paths (relative, clean) whose changes require a new image.
    pub source_paths: Vec<String>,
    /// Registries to reach over plain HTTP (`localhost` and `127.0.0.1` always are).
    pub(crate) insecure_registries: Vec<String>,
    /// CA certificate (PEM) to trust per registry `host[:port]`; relative
    /// paths are resolved against the repository root at load time.
    pub(crate) registry_ca: BTreeMap<String, PathBuf>,
    /// Connect and read timeouts of every registry request.
    pub(crate) registry_timeouts: RegistryTimeouts,
    /// Command that builds the project (informational, shown in plans).
    pub(crate) build_command: Option<String>,
    /// Command that deploys the project (informational, shown in plans).
    pub(crate) deploy_command: Option<String>,
    pub dependencies: Vec<Dependency>,
}

/// `[registry_timeouts]`: bounds on every registry request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct RegistryTimeouts {
    /// To open a connection (TCP and TLS), default 10 s.
    pub(crate) connect: Duration,
    /// Between two reads of an answer, default 30 s.
    pub(crate) read: Duration,
}

impl Default for RegistryTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            read: Duration::from_secs(30),
        }
    }
}

/// One `[[dependencies]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    #[serde(flatten)]
    pub kind: DependencyKind,
    /// Clone the repository next to the project.
    pub clone: bool,
    /// Its image `registry/<name>:<its version>` must exist.
    pub pull: bool,
    pub labels: BTreeMap<String, String>,
    /// An image that is an input of the project's build (e.g. its base image).
    pub(crate) build_input: bool,
    /// Deploy command for this component (informational, shown in plans).
    pub(crate) deploy: Option<String>,
}

/// What a dependency is: exactly one of a git repository, an image or a tool package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DependencyKind {
    Git { url: String },
    Image { image: String },
    Package { module: String, version: String },
}

impl Dependency {
    /// The repository name of a git dependency: the last segment of its URL, without `.git`.
    pub fn repo_name(&self) -> Option<&str> {
        match &self.kind {
            DependencyKind::Git { url } => Some(validate::repo_name_of_url(url)),
            _ => None,
        }
    }
}

impl Config {
    /// A configuration for a repository that has no configuration file.
    pub(crate) fn empty() -> Self {
        Self {
            source: Source::Default,
            project: None,
            registry: None,
            source_paths: Vec::new(),
            insecure_registries: Vec::new(),
            registry_ca: BTreeMap::new(),
            registry_timeouts: RegistryTimeouts::default(),
            build_command: None,
            deploy_command: None,
            dependencies: Vec::new(),
        }
    }

    /// Load the configuration of the repository whose top-level directory is `root`:
    /// `.ciux.toml`, else the legacy `.ciux`, else an empty configuration.
    pub(crate) fn load(root: &Path) -> Result<Self, ConfigError> {
        reads::note(root);
        let toml_path = root.join(CONFIG_FILE);
        if let Some(text) = limits::read_config_file(&toml_path, root)? {
            return Self::from_toml_str(&text, &toml_path);
        }
        let legacy_path = root.join(LEGACY_FILE);
        if let Some(text) = limits::read_config_file(&legacy_path, root)? {
            return Self::from_legacy_str(&text, &legacy_path);
        }
        Ok(Self::empty())
    }

    /// Parse and validate `.ciux.toml` content; `path` is used in error messages.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self, ConfigError> {
        limits::check_text(text, path, false)?;
        let raw = raw::parse_toml(text, path)?;
        let position = |key: &str| {
            let span = raw::span_of_key(text, key).unwrap_or(0..0);
            error::position_of(text, span.start)
        };
        validate::validate(raw, Source::Toml(path.to_path_buf())).map_err(|problem| {
            let message = problem.message_with_other(path, &position, &|k| k.to_owned());
            ConfigError::Invalid {
                path: path.to_path_buf(),
                position: position(&problem.key),
                key: problem.key,
                message,
            }
        })
    }

    /// Parse and validate legacy YAML `.ciux` content.
    pub fn from_legacy_str(text: &str, path: &Path) -> Result<Self, ConfigError> {
        limits::check_text(text, path, true)?;
        let raw = legacy::parse_yaml(text, path)?;
        let position = |key: &str| legacy::position_of_key(text, key);
        validate::validate(raw, Source::Legacy(path.to_path_buf())).map_err(|problem| {
            let message = problem.message_with_other(path, &position, &legacy::legacy_key);
            ConfigError::Invalid {
                path: path.to_path_buf(),
                position: position(&problem.key),
                key: legacy::legacy_key(&problem.key),
                message,
            }
        })
    }
}

/// Write `.ciux.toml` next to the legacy `.ciux` in `root`, refusing to overwrite.
/// Returns the path written.
pub(crate) fn migrate(root: &Path) -> Result<PathBuf, ConfigError> {
    let legacy_path = root.join(LEGACY_FILE);
    let toml_path = root.join(CONFIG_FILE);
    if toml_path.exists() {
        return Err(ConfigError::WouldOverwrite { path: toml_path });
    }
    let text =
        limits::read_config_file(&legacy_path, root)?.ok_or_else(|| ConfigError::NoLegacy {
            dir: root.to_path_buf(),
        })?;
    let config = Config::from_legacy_str(&text, &legacy_path)?;
    let rendered = render_toml(&config);
    // Never write a file that would not read back.
    Config::from_toml_str(&rendered, &toml_path)?;
    crate::fsutil::write_new(&toml_path, rendered.as_bytes()).map_err(|source| {
        ConfigError::Write {
            path: toml_path.clone(),
            source,
        }
    })?;
    Ok(toml_path)
}
