//! The local container engine (docker or podman) that CI jobs load images into
//! and clean images out of: `ciux image load` and `ciux image cleanup`.
//!
//! The engine is a program on `PATH` (docker first, then podman, as a runner
//! with both installed uses docker) or the one `CIUX_CONTAINER_ENGINE` names.
//! Its command lines are built here from plain data so they can be checked
//! without an engine; [`Engine::run`] is the only effect.

pub(crate) mod archive;
pub(crate) mod cleanup;
pub(crate) mod load;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

/// The variable that names the container engine (a name on `PATH` or a path).
pub(crate) const ENGINE_VAR: &str = "CIUX_CONTAINER_ENGINE";

/// Engines looked for on `PATH`, in order.
pub(crate) const KNOWN_ENGINES: [&str; 2] = ["docker", "podman"];

#[derive(Debug, Error)]
pub(crate) enum EngineError {
    #[error(
        "no container engine found on PATH (looked for docker, podman): install one or set {ENGINE_VAR}"
    )]
    NotFound,
    #[error("{ENGINE_VAR}={name}: no such executable on PATH")]
    BadOverride { name: String },
    #[error("could not run `{command}`")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}): {output}")]
    Failed {
        command: String,
        status: String,
        output: String,
    },
    #[error("artifact file {} not found (download the image artifact first, or pass --artifact-path)", path.display())]
    ArchiveMissing { path: PathBuf },
    #[error("cannot read the image archive {}", path.display())]
    ArchiveRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not an image archive (no manifest.json of `docker save` nor oci-layout of an OCI layout)", path.display())]
    NotAnArchive { path: PathBuf },
    #[error(
        "image {url} is not in the local {engine} engine (a self-hosted runner builds it there)"
    )]
    NotLocal { url: String, engine: String },
    #[error("loaded {} but no image named {url} came out of it, and the engine named none to tag", path.display())]
    NothingLoaded { path: PathBuf, url: String },
    #[error(
        "invalid --max-age {value:?}: {reason} (a number and a unit m, h, d or w: 30m, 12h, 5d, 2w)"
    )]
    BadAge { value: String, reason: &'static str },
    #[error("unexpected line in `{command}` output: {line:?}")]
    BadListing { command: String, line: String },
}

impl EngineError {
    /// Bad usage (exit 2), as opposed to a failure of the engine or a missing file.
    pub(crate) fn is_usage(&self) -> bool {
        matches!(self, Self::BadAge { .. } | Self::BadOverride { .. })
    }
}

/// A container engine found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Engine {
    /// The program run.
    pub(crate) program: PathBuf,
    /// `docker`, `podman`, or the file name of the program `CIUX_CONTAINER_ENGINE` named.
    pub(crate) name: String,
}

/// The output of one engine command.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Engine {
    /// Find the engine from the process environment.
    pub(crate) fn detect() -> Result<Self, EngineError> {
        Self::detect_in(
            std::env::var_os(ENGINE_VAR).as_deref(),
            std::env::var_os("PATH").as_deref(),
        )
    }

    /// Find the engine: `override_name` (a path, or a name looked up on `path`)
    /// when set and not empty, else the first of [`KNOWN_ENGINES`] on `path`.
    pub(crate) fn detect_in(
        override_name: Option<&OsStr>,
        path: Option<&OsStr>,
    ) -> Result<Self, EngineError> {
        if let Some(name) = override_name.filter(|n| !n.is_empty()) {
            let program = find_program(name, path).ok_or_else(|| EngineError::BadOverride {
                name: name.to_string_lossy().into_owned(),
            })?;
            let name = program
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Ok(Self { program, name });
        }
        KNOWN_ENGINES
            .iter()
            .find_map(|name| {
                find_program(OsStr::new(name), path).map(|program| Self {
                    program,
                    name: (*name).to_owned(),
                })
            })
            .ok_or(EngineError::NotFound)
    }

    /// Run the engine with `args`; a non-zero exit is an error carrying its output.
    pub(crate) fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Output, EngineError> {
        run_program(&self.program, &self.name, args, &[])
    }

    /// Run the engine and tell only whether it succeeded (`image inspect` of an absent image).
    pub(crate) fn succeeds<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<bool, EngineError> {
        match self.run(args) {
            Ok(_) => Ok(true),
            Err(EngineError::Failed { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }
}

/// `program` as shown in messages: `name arg arg`, each argument quoted if needed.
pub(crate) fn display_command<S: AsRef<OsStr>>(name: &str, args: &[S]) -> String {
    let mut text = name.to_owned();
    for arg in args {
        text.push(' ');
        text.push_str(&crate::emit::quote_word(&arg.as_ref().to_string_lossy()));
    }
    text
}

/// Run `program args` with extra `env`, capturing its output.
pub(crate) fn run_program<S: AsRef<OsStr>>(
    program: &Path,
    name: &str,
    args: &[S],
    env: &[(&str, &str)],
) -> Result<Output, EngineError> {
    let command = display_command(name, args);
    tracing::info!("running {command}");
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(std::process::Stdio::null());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd.output().map_err(|source| EngineError::Spawn {
        command: command.clone(),
        source,
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        let output = if stderr.trim().is_empty() {
            stdout.trim()
        } else {
            stderr.trim()
        };
        return Err(EngineError::Failed {
            command,
            status: out.status.to_string(),
            output: output.to_owned(),
        });
    }
    Ok(Output { stdout, stderr })
}

/// `name` as a path when it has a `/`, else the first executable file of that name on `path`.
pub(crate) fn find_program(name: &OsStr, path: Option<&OsStr>) -> Option<PathBuf> {
    let candidate = Path::new(name);
    if candidate.components().count() > 1 || name.to_string_lossy().contains('/') {
        return is_executable(candidate).then(|| candidate.to_path_buf());
    }
    let path: OsString = path?.to_owned();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|file| is_executable(file))
}

fn is_executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(file).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn exe(dir: &Path, name: &str) -> PathBuf {
        let file = dir.join(name);
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        file
    }

    #[test]
    fn docker_before_podman_and_override_wins() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let podman = exe(a.path(), "podman");
        let docker = exe(b.path(), "docker");
        let path = std::env::join_paths([a.path(), b.path()]).unwrap();
        let found = Engine::detect_in(None, Some(&path)).unwrap();
        assert_eq!(found.program, docker);
        assert_eq!(found.name, "docker");
        let found = Engine::detect_in(Some(OsStr::new("podman")), Some(&path)).unwrap();
        assert_eq!((found.program, found.name.as_str()), (podman, "podman"));
        let only_a = a.path().as_os_str();
        assert_eq!(
            Engine::detect_in(None, Some(only_a)).unwrap().name,
            "podman"
        );
    }

    #[test]
    fn missing_engine_and_bad_override_are_errors() {
        let empty = tempfile::tempdir().unwrap();
        let path = empty.path().as_os_str();
        assert!(matches!(
            Engine::detect_in(None, Some(path)),
            Err(EngineError::NotFound)
        ));
        // A non-executable file is not an engine.
        std::fs::write(empty.path().join("docker"), "").unwrap();
        assert!(matches!(
            Engine::detect_in(None, Some(path)),
            Err(EngineError::NotFound)
        ));
        let err = Engine::detect_in(Some(OsStr::new("nerdctl")), Some(path)).unwrap_err();
        assert!(err.is_usage(), "{err}");
        let nerdctl = exe(empty.path(), "nerdctl");
        let found = Engine::detect_in(Some(nerdctl.as_os_str()), None).unwrap();
        assert_eq!(found.name, "nerdctl");
    }
}
