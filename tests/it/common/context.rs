//! [`TestContext`]: the setup most command tests repeat, built once. A
//! temporary directory; in it a project repository (pinned clock) whose first
//! commit holds the files asked for, `.ciux.toml` among them, optionally
//! tagged; optionally a registry on 127.0.0.1; and `ciux` commands run in the
//! project, isolated from the caller's git, CI and registry settings.
//!
//! ```ignore
//! let ctx = TestContext::builder()
//!     .dir("demo")
//!     .registry()
//!     .config("registry = \"{registry}/astro\"\n")
//!     .tag("v1.0.0")
//!     .build();
//! let out = ctx.run(&["get", "image", "--check"]).success();
//! ```

use std::path::{Path, PathBuf};
use std::process::Output;

use super::git::Repo;
use super::registry::Registry;

/// A temporary directory holding a project repository, and what runs `ciux` in it.
pub struct TestContext {
    /// The temporary directory (the project is `root` itself or a directory in it).
    pub root: PathBuf,
    /// The project repository.
    pub repo: Repo,
    registry: Option<Registry>,
    offline: bool,
    // Dropped last: removes the directory.
    _tmp: tempfile::TempDir,
}

/// How to build a [`TestContext`]; [`TestContextBuilder::build`] makes it.
#[derive(Default)]
pub struct TestContextBuilder {
    dir: Option<String>,
    files: Vec<(String, String)>,
    message: Option<String>,
    tag: Option<String>,
    registry: Option<Registry>,
    offline: bool,
}

/// The placeholder of file contents replaced by the registry's `host:port`.
pub const REGISTRY: &str = "{registry}";
/// The placeholder of file contents replaced by the temporary directory's path.
pub const ROOT: &str = "{root}";

impl TestContextBuilder {
    /// Put the project in `root/name` (default: the temporary directory itself).
    pub fn dir(mut self, name: &str) -> Self {
        self.dir = Some(name.to_owned());
        self
    }

    /// The project's `.ciux.toml` (first commit); `{registry}` stands for the
    /// registry's address when [`Self::registry`] is asked for, `{root}` for
    /// the temporary directory.
    pub fn config(self, text: &str) -> Self {
        self.file(".ciux.toml", text)
    }

    /// One more file in the first commit (same placeholder as [`Self::config`]).
    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files.push((path.to_owned(), text.to_owned()));
        self
    }

    /// The first commit's message (default `initial`).
    pub fn message(mut self, message: &str) -> Self {
        self.message = Some(message.to_owned());
        self
    }

    /// An annotated tag on the first commit.
    pub fn tag(mut self, name: &str) -> Self {
        self.tag = Some(name.to_owned());
        self
    }

    /// Start a `docker-registry` on 127.0.0.1 for this context.
    pub fn registry(self) -> Self {
        self.with_registry(Registry::start())
    }

    /// Use `registry`, started by the test (e.g. with a password file).
    pub fn with_registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Registry failures mean "build" (`CIUX_ON_REGISTRY_ERROR=build`), for
    /// configurations naming registries that do not exist (`127.0.0.1:9`).
    pub fn offline(mut self) -> Self {
        self.offline = true;
        self
    }

    /// The directory, the registry, the repository and its first commit (when
    /// files were given; a repository without commit otherwise).
    pub fn build(self) -> TestContext {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let registry = self.registry;
        let dir = match &self.dir {
            Some(name) => root.join(name),
            None => root.clone(),
        };
        let mut repo = Repo::init(&dir);
        if !self.files.is_empty() {
            let fill = |text: &str| {
                let text = text.replace(ROOT, &root.display().to_string());
                match &registry {
                    Some(registry) => text.replace(REGISTRY, &registry.addr),
                    None => text,
                }
            };
            let files: Vec<(String, String)> = self
                .files
                .iter()
                .map(|(path, text)| (path.clone(), fill(text)))
                .collect();
            let files: Vec<(&str, &str)> = files
                .iter()
                .map(|(path, text)| (path.as_str(), text.as_str()))
                .collect();
            repo.commit(self.message.as_deref().unwrap_or("initial"), &files);
        }
        if let Some(tag) = &self.tag {
            repo.tag(tag);
        }
        TestContext {
            root,
            repo,
            registry,
            offline: self.offline,
            _tmp: tmp,
        }
    }
}

impl TestContext {
    pub fn builder() -> TestContextBuilder {
        TestContextBuilder::default()
    }

    /// The project's directory.
    pub fn dir(&self) -> &Path {
        &self.repo.dir
    }

    /// The registry started by [`TestContextBuilder::registry`].
    pub fn registry(&self) -> &Registry {
        self.registry
            .as_ref()
            .expect("the context was built with .registry()")
    }

    /// Mutable access, e.g. to stop the registry.
    pub fn registry_mut(&mut self) -> &mut Registry {
        self.registry
            .as_mut()
            .expect("the context was built with .registry()")
    }

    /// The project and the registry at once, to change both.
    pub fn split_mut(&mut self) -> (&mut Repo, &Registry) {
        let registry = self
            .registry
            .as_ref()
            .expect("the context was built with .registry()");
        (&mut self.repo, registry)
    }

    /// `ciux` in the project's directory.
    pub fn ciux(&self) -> assert_cmd::Command {
        self.ciux_in(self.dir())
    }

    /// `ciux` in `dir`, with this context's settings: no registry credentials
    /// from the caller's environment, and [`TestContextBuilder::offline`].
    pub fn ciux_in(&self, dir: &Path) -> assert_cmd::Command {
        let mut cmd = super::ciux(dir);
        cmd.env("DOCKER_CONFIG", self.root.join("no-docker-config"))
            .env_remove("CIUX_REGISTRY_USER")
            .env_remove("CIUX_REGISTRY_PASSWORD");
        if self.offline {
            cmd.env("CIUX_ON_REGISTRY_ERROR", "build");
        }
        cmd
    }

    /// Run `ciux ARGS` in the project.
    pub fn run(&self, args: &[&str]) -> Run {
        self.ciux().args(args).output().unwrap().into()
    }
}

/// What a command did: exit status, stdout and stderr as text.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Insist on exit status 0 (showing stderr otherwise).
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        self
    }

    /// Insist on exit status `code` (showing both streams otherwise).
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "stdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// The first line of stderr that starts with `error: `, without it.
    pub fn error_line(&self) -> &str {
        self.stderr
            .lines()
            .find_map(|l| l.strip_prefix("error: "))
            .unwrap_or_default()
    }
}
