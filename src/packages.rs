//! Installing the tools a workspace declares, as the reference tool's `ignite`
//! does: `go install module@version` for each `package` dependency, and
//! `go install` inside each cloned sibling that is a Go module (`go.mod` and
//! `go.sum` at its root). CI scripts then call those tools by name, so the
//! report says where they went (`GOBIN`, else `GOPATH/bin`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use crate::workspace::{Checkout, NodeKind, Workspace};

/// One `go install` to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Install {
    /// What is installed: `module@version`, or the sibling's name.
    pub(crate) what: String,
    /// The arguments after `go`.
    pub(crate) args: Vec<String>,
    /// The directory it runs in (a sibling's checkout), if any.
    pub(crate) dir: Option<PathBuf>,
}

/// What the installs did.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Report {
    pub(crate) installed: Vec<String>,
    /// `what (reason)` of each failure.
    pub(crate) failed: Vec<String>,
    /// Where `go install` puts binaries.
    pub(crate) bin_dir: Option<PathBuf>,
}

/// The installs of `ws`, in graph order: packages, then siblings that are Go
/// modules and were cloned or are checked out next to the project.
pub(crate) fn plan(ws: &Workspace) -> Vec<Install> {
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
pub(crate) fn run(installs: &[Install], go: &Path) -> Report {
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
pub(crate) fn bin_dir(go: &Path) -> Option<PathBuf> {
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
