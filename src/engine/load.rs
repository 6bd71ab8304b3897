//! `ciux image load`: make the image a CI job built available where the tests
//! run, the way the reference tool's command does (remote image: nothing to
//! do; self-hosted runner: the image must already be in the local engine;
//! hosted runner: load the archive the build job uploaded), and optionally
//! into a kind cluster.

use std::path::{Path, PathBuf};

use super::archive::{self, ArchiveInfo, Format};
use super::{Engine, EngineError, find_program, run_program};

/// One `image load` request, as the flags give it.
#[derive(Debug, Clone)]
pub(crate) struct LoadRequest {
    /// The runner label(s) (`ubuntu-latest`, `['self-hosted']`).
    pub(crate) runner: String,
    pub(crate) image_url: String,
    /// `true` when this workflow built the image (`CIUX_BUILD`).
    pub(crate) build_status: String,
    pub(crate) artifact: PathBuf,
    pub(crate) kind_cluster: Option<String>,
}

impl LoadRequest {
    /// Only the exact word `true` (any case) means "built here", as in the reference tool.
    pub(crate) fn built_locally(&self) -> bool {
        self.build_status.trim().eq_ignore_ascii_case("true")
    }

    /// A runner whose labels contain `self-hosted` keeps the images it builds.
    pub(crate) fn self_hosted(&self) -> bool {
        self.runner.contains("self-hosted")
    }
}

/// What `image load` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LoadOutcome {
    /// The image was not built by this workflow: the registry's copy is used.
    Remote,
    /// Self-hosted runner: the image is in the local engine.
    Present { kind_loaded: Option<String> },
    /// The archive was loaded into the engine.
    Loaded {
        format: Format,
        /// Names the engine reported loading.
        loaded: Vec<String>,
        /// The loaded image was tagged with the URL (the archive did not carry it).
        tagged_from: Option<String>,
        kind_loaded: Option<String>,
    },
}

/// The names an engine's `load` output reports: docker and podman print
/// `Loaded image: NAME`, podman 3 `Loaded image(s): A,B`, and an archive
/// without names gives `Loaded image ID: sha256:...`.
pub(crate) fn loaded_names(output: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in output.lines() {
        let line = line.trim();
        let rest = line
            .strip_prefix("Loaded image ID:")
            .or_else(|| line.strip_prefix("Loaded image(s):"))
            .or_else(|| line.strip_prefix("Loaded image:"));
        if let Some(rest) = rest {
            names.extend(
                rest.split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    names
}

/// Run the request against `engine`; `kind` is the kind program (looked up on PATH when needed).
pub(crate) fn load(
    request: &LoadRequest,
    engine: impl FnOnce() -> Result<Engine, EngineError>,
    kind: Option<&Path>,
) -> Result<LoadOutcome, EngineError> {
    if !request.built_locally() {
        return Ok(LoadOutcome::Remote);
    }
    let url = request.image_url.as_str();
    if request.self_hosted() {
        let engine = engine()?;
        if !engine.succeeds(&["image", "inspect", "--format", "{{.Id}}", url])? {
            return Err(EngineError::NotLocal {
                url: url.to_owned(),
                engine: engine.name.clone(),
            });
        }
        let kind_loaded = match &request.kind_cluster {
            Some(cluster) => {
                kind_load(&engine, kind, &["docker-image", url, "--name", cluster])?;
                Some(cluster.clone())
            }
            None => None,
        };
        return Ok(LoadOutcome::Present { kind_loaded });
    }
    // Check the archive before asking for an engine: a missing artifact is the
    // usual mistake, and its message should not be about the engine.
    let info: ArchiveInfo = archive::inspect(&request.artifact)?;
    let engine = engine()?;
    let input = request.artifact.as_os_str();
    let out = engine.run(&[
        std::ffi::OsStr::new("load"),
        std::ffi::OsStr::new("--input"),
        input,
    ])?;
    let loaded = loaded_names(&format!("{}\n{}", out.stdout, out.stderr));
    let mut tagged_from = None;
    if !archive::names_include(&loaded, url)
        && !engine.succeeds(&["image", "inspect", "--format", "{{.Id}}", url])?
    {
        // The archive named the image otherwise (or not at all): give it the
        // URL the workflow deploys, when there is one image to name.
        let [only] = loaded.as_slice() else {
            return Err(EngineError::NothingLoaded {
                path: request.artifact.clone(),
                url: url.to_owned(),
            });
        };
        engine.run(&["tag", only.as_str(), url])?;
        tagged_from = Some(only.clone());
    }
    let kind_loaded = match &request.kind_cluster {
        Some(cluster) => {
            if archive::names_include(&info.names, url) {
                let archive = request.artifact.to_string_lossy();
                kind_load(
                    &engine,
                    kind,
                    &["image-archive", archive.as_ref(), "--name", cluster],
                )?;
            } else {
                // The archive does not carry the URL: the node would not find
                // the image by name, so hand kind the tagged image instead.
                kind_load(&engine, kind, &["docker-image", url, "--name", cluster])?;
            }
            Some(cluster.clone())
        }
        None => None,
    };
    Ok(LoadOutcome::Loaded {
        format: info.format,
        loaded,
        tagged_from,
        kind_loaded,
    })
}

/// `kind load ARGS`; with podman as the engine, kind is told to use it.
fn kind_load(engine: &Engine, kind: Option<&Path>, args: &[&str]) -> Result<(), EngineError> {
    let program = match kind {
        Some(program) => program.to_path_buf(),
        None => find_program(
            std::ffi::OsStr::new("kind"),
            std::env::var_os("PATH").as_deref(),
        )
        .ok_or_else(|| EngineError::Spawn {
            command: "kind".to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "kind is not on PATH"),
        })?,
    };
    let mut full = vec!["load"];
    full.extend_from_slice(args);
    let podman =
        engine.name == "podman" && std::env::var_os("KIND_EXPERIMENTAL_PROVIDER").is_none();
    let env: &[(&str, &str)] = if podman {
        &[("KIND_EXPERIMENTAL_PROVIDER", "podman")]
    } else {
        &[]
    };
    run_program(&program, "kind", &full, env)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_output_of_docker_and_podman() {
        assert_eq!(loaded_names("Loaded image: reg.io/a:1\n"), ["reg.io/a:1"]);
        assert_eq!(
            loaded_names(
                "Getting image source signatures\nLoaded image(s): localhost/a:1,localhost/b:2\n"
            ),
            ["localhost/a:1", "localhost/b:2"]
        );
        assert_eq!(
            loaded_names("Loaded image ID: sha256:abc\n"),
            ["sha256:abc"]
        );
        assert!(loaded_names("nothing here\n").is_empty());
    }

    #[test]
    fn build_status_and_runner_words() {
        let mut r = LoadRequest {
            runner: "['self-hosted', 'linux']".into(),
            image_url: "x".into(),
            build_status: "True".into(),
            artifact: "a".into(),
            kind_cluster: None,
        };
        assert!(r.built_locally() && r.self_hosted());
        r.build_status = "false".into();
        assert!(!r.built_locally());
        r.build_status = String::new();
        assert!(!r.built_locally());
        r.runner = "ubuntu-latest".into();
        assert!(!r.self_hosted());
    }

    #[test]
    fn remote_image_needs_no_engine() {
        let r = LoadRequest {
            runner: "ubuntu-latest".into(),
            image_url: "x".into(),
            build_status: "false".into(),
            artifact: "/nonexistent/a.tar".into(),
            kind_cluster: None,
        };
        let outcome = load(&r, || Err(EngineError::NotFound), None).unwrap();
        assert_eq!(outcome, LoadOutcome::Remote);
    }
}
