//! Installing the tools a workspace declares, as the reference tool's `ignite`
//! does: `go install module@version` for each `package` dependency, and
//! `go install` inside each cloned sibling that is a Go module (`go.mod` and
//! `go.sum` at its root). CI scripts then call those tools by name, so the
//! report says where they went (`GOBIN`, else `GOPATH/bin`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;
use thiserror::Error;

use crate::workspace::{Checkout, NodeKind, Workspace};

/// One `go install` to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Install {
    /// What is installed: `module@version`, or the sibling's name.
    pub what: String,
    /// The arguments after `go`.
    pub args: Vec<String>,
    /// The directory it runs in (a sibling's checkout), if any.
    pub dir: Option<PathBuf>,
}

/// What the installs did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub installed: Vec<String>,
    /// `what (reason)` of each failure.
    pub failed: Vec<String>,
    /// Where `go install` puts binaries.
    pub bin_dir: Option<PathBuf>,
}

/// The installs of `ws`, in graph order: packages, then siblings that are Go
/// modules and were cloned or are checked out next to the project.
pub fn plan(ws: &Workspace) -> Vec<Install> {
    let mut installs = Vec::new();
    for node in &ws.nodes {
        match node.kind {
            NodeKind::Package => installs.push(Install {
                what: node.name.clone(),
                args: vec!["install".into(), node.name.clone()],
                dir: None,
            }),
            NodeKind::Git if node.clone && node.checkout != Some(Checkout::RemoteOnly) => {
                if let Some(dir) = &node.dir
                    && dir.join("go.mod").is_file()
                    && dir.join("go.sum").is_file()
                {
                    installs.push(Install {
                        what: node.name.clone(),
                        args: vec!["install".into()],
                        dir: Some(dir.clone()),
                    });
                }
            }
            _ => {}
        }
    }
    installs
}

/// Run each install with `go` (the program given); failures are collected, not fatal.
pub fn run(installs: &[Install], go: &Path) -> Report {
    let mut report = Report::default();
    if installs.is_empty() {
        return report;
    }
    for install in installs {
        let mut cmd = Command::new(go);
        cmd.args(&install.args).stdin(Stdio::null());
        if let Some(dir) = &install.dir {
            cmd.current_dir(dir);
        }
        match cmd.output() {
            Ok(out) if out.status.success() => report.installed.push(install.what.clone()),
            Ok(out) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
                report.failed.push(format!(
                    "{} (go {} exited with {}{})",
                    install.what,
                    install.args.join(" "),
                    out.status,
                    last.map(|l| format!(": {}", l.trim())).unwrap_or_default()
                ));
            }
            Err(e) => report
                .failed
                .push(format!("{} (cannot run go: {e})", install.what)),
        }
    }
    report.bin_dir = bin_dir(go);
    report
}

/// `go env GOBIN`, else the first entry of `go env GOPATH` joined with `bin`.
pub fn bin_dir(go: &Path) -> Option<PathBuf> {
    let env = |name: &str| -> Option<String> {
        let out = Command::new(go)
            .args(["env", name])
            .stdin(Stdio::null())
            .output()
            .ok()?;
        let value = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (out.status.success() && !value.is_empty()).then_some(value)
    };
    if let Some(gobin) = env("GOBIN") {
        return Some(PathBuf::from(gobin));
    }
    let gopath = env("GOPATH")?;
    let first = std::env::split_paths(&gopath).next()?;
    Some(first.join("bin"))
}

/// Why a directory could not be added to `$GITHUB_PATH`.
#[derive(Debug, Error)]
pub enum PackagesError {
    /// The name would add a second, attacker-chosen entry.
    #[error("the Go bin directory {dir:?} has a line break in its name: not added to {}", github_path.display())]
    LineBreak { dir: PathBuf, github_path: PathBuf },
    /// The file could not be appended to (the error names it).
    #[error(transparent)]
    Github(#[from] crate::github::GithubError),
}

/// Append `dir` to the `$GITHUB_PATH` file, so later steps find the tools.
/// A directory whose name holds a line break is refused: it would add a
/// second, attacker-chosen entry.
pub fn add_to_github_path(github_path: &Path, dir: &Path) -> Result<(), PackagesError> {
    let text = dir.to_string_lossy();
    if text.contains(['\n', '\r']) {
        return Err(PackagesError::LineBreak {
            dir: dir.to_path_buf(),
            github_path: github_path.to_path_buf(),
        });
    }
    crate::github::append_file(
        crate::github::ENV_PATH,
        github_path,
        format!("{text}\n").as_bytes(),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_path_gets_one_line_per_dir() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("path");
        add_to_github_path(&file, Path::new("/home/runner/go/bin")).unwrap();
        let err = add_to_github_path(&file, Path::new("/x\n/evil")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the Go bin directory \"/x\\n/evil\" has a line break in its name: not added to {}",
                file.display()
            )
        );
        // An unwritable file is named by the error.
        let err = add_to_github_path(dir.path(), Path::new("/go/bin")).unwrap_err();
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "/home/runner/go/bin\n"
        );
    }
}
