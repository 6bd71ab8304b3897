//! `ciux ignite`: resolve the workspace, synchronise siblings, write env files,
//! install packages on request, and print a summary on stderr.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::progress::StderrProgress;
use super::request;
use super::{EnvFormat, IgniteAction, IgniteArgs, WorkspaceArgs};
use crate::emit::{self, Env, names};
use crate::error::UsageError;
use crate::fsutil::write_atomic;
use crate::git::Repo;
use crate::image::ImageBlock;
use crate::resolution::{self, Images};
use crate::selector::Selector;
use crate::workspace::{self, Checkout, NodeKind, Workspace};

/// What `--format json` writes.
#[derive(Serialize)]
struct Report<'a> {
    env_file: &'a Path,
    workspace: &'a Workspace,
    image: &'a ImageBlock,
    env: serde_json::Map<String, serde_json::Value>,
}

pub(crate) fn run(args: IgniteArgs, quiet: bool) -> Result<()> {
    if let Some(IgniteAction::Env(env)) = args.action.clone() {
        return run_offline(env, quiet);
    }
    run_with(args, quiet, false)
}

/// `ciux ignite env`: the env files from what is on disk, without the network.
fn run_offline(workspace: WorkspaceArgs, quiet: bool) -> Result<()> {
    let args = IgniteArgs {
        action: None,
        workspace,
        no_install_packages: true,
        install_packages: false,
        lock: false,
        locked: false,
    };
    run_with(args, quiet, true)
}

fn run_with(args: IgniteArgs, quiet: bool, offline: bool) -> Result<()> {
    // In GitHub Actions, clone logs and the summary fold into one group.
    let actions = crate::github::in_actions();
    let group = crate::github::StderrGroup::start(actions && !quiet, "ciux ignite");
    let selector = request::selector(args.workspace.selector.as_deref())?;
    let options = request::image_options(&args.workspace.image, true);
    let request = resolution::Request {
        workspace: workspace::Request {
            branch: args.workspace.branch.clone(),
            main_only: args.workspace.main_only,
            synchronise: !offline,
            offline,
            locked: args.locked,
            ..request::workspace(args.workspace.path.path.clone(), selector.clone())
        },
        images: if offline {
            Images::Offline {
                options,
                reason: "not checked: `ciux ignite env` works offline".into(),
            }
        } else {
            Images::Decide(options)
        },
    };
    let _lock = lock_workspace(&request.workspace, &selector, quiet)?;
    let resolved = resolution::resolve(&request, &StderrProgress::new(quiet))?;
    resolved.images.ensure_present()?;
    let ws = &resolved.workspace;
    let image = &resolved.images.project;
    let root = resolved.project_root();
    let env = emit::build_env(ws, image)?;
    let env_file = emit::env_file_path(
        &root,
        &selector,
        std::env::var_os(names::CIUXCONFIG).map(PathBuf::from),
    );
    let formats = if args.workspace.formats.is_empty() {
        vec![EnvFormat::Sh]
    } else {
        args.workspace.formats.clone()
    };
    let env_file_written = formats.contains(&EnvFormat::Sh);
    let mut written = Vec::new();
    for format in formats {
        written.extend(write_format(format, &env, &env_file, ws, image)?);
    }
    if args.lock {
        written.push(workspace::locked::write(ws)?);
    }
    let install = !args.no_install_packages;
    let installed = if install {
        super::packages::install(ws, quiet, actions)?
    } else {
        crate::packages::Report::default()
    };
    let failed = installed.failed.clone();
    if !quiet {
        summary(ws, image, &written, install)?;
    }
    if actions {
        drop(group);
        crate::github::publish(
            &resolved.plan()?,
            "ciux ignite",
            image,
            env_file_written.then_some(env_file.as_path()),
        )?;
    }
    if !failed.is_empty() {
        anyhow::bail!(
            "cannot install {} package(s): {}",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(())
}

/// Take the workspace lock beside the env files before anything changes on
/// disk; a second run waits, saying who holds it.
fn lock_workspace(
    request: &workspace::Request,
    selector: &Selector,
    quiet: bool,
) -> Result<workspace::exclusive::WorkspaceLock> {
    let root = Repo::discover(&request.path)?.root().to_path_buf();
    let env_file = emit::env_file_path(
        &root,
        selector,
        std::env::var_os(names::CIUXCONFIG).map(PathBuf::from),
    );
    let dir = env_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let timeout = workspace::exclusive::lock_timeout();
    Ok(workspace::exclusive::acquire(&dir, timeout, &|holder| {
        if !quiet {
            crate::safe_text::eprint_line(&format!(
                "waiting up to {} s for the workspace lock, {holder}",
                timeout.as_secs()
            ));
        }
    })?)
}

/// Write one format; returns the files written.
fn write_format(
    format: EnvFormat,
    env: &Env,
    env_file: &Path,
    ws: &Workspace,
    image: &ImageBlock,
) -> Result<Vec<PathBuf>> {
    let mut bytes = Vec::new();
    let path = match format {
        EnvFormat::Sh => {
            bytes = emit::render_sh(env)?;
            env_file.to_path_buf()
        }
        EnvFormat::Dotenv => {
            bytes = emit::render_dotenv(env)?;
            env_file.with_extension("env")
        }
        EnvFormat::Json => {
            let report = Report {
                env_file,
                workspace: ws,
                image,
                env: env.to_map(),
            };
            emit::write_json(&report, &mut bytes)?;
            env_file.with_extension("json")
        }
        EnvFormat::Github => {
            return crate::github::append_env(env).map_err(|err| match err {
                crate::github::AppendEnvError::Unset { .. } => UsageError(err.to_string()).into(),
                other => other.into(),
            });
        }
    };
    write_atomic(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(vec![path])
}

fn summary(ws: &Workspace, image: &ImageBlock, written: &[PathBuf], installed: bool) -> Result<()> {
    let actions = crate::github::in_actions();
    let mut err = std::io::stderr().lock();
    let mut put = |line: &str| {
        writeln!(
            err,
            "{}",
            crate::safe_text::stderr_text(&crate::safe_text::escape_value(line), actions)
        )
    };
    for node in &ws.nodes {
        let branch = match (&node.branch, &node.branch_reason) {
            (Some(b), Some(r)) => format!("  branch {b} ({r})"),
            (None, Some(r)) => format!("  ({r})"),
            _ => String::new(),
        };
        let version = node
            .version
            .as_deref()
            .map(|v| format!("  {v}"))
            .unwrap_or_default();
        let place = match node.checkout {
            Some(Checkout::Project) | None => String::new(),
            Some(Checkout::Cloned) => "  cloned".into(),
            Some(Checkout::InPlace) => "  in place".into(),
            Some(Checkout::InPlaceUpdated) => "  in place, updated".into(),
            Some(Checkout::InPlaceDirty) => "  in place, dirty: left alone".into(),
            Some(Checkout::InPlaceDiverged) => "  in place, diverged: left alone".into(),
            Some(Checkout::RemoteOnly) => "  remote only".into(),
        };
        let dir = node
            .dir
            .as_ref()
            .map(|d| format!("  {}", d.display()))
            .unwrap_or_default();
        let line = match node.kind {
            NodeKind::Project => format!("project {}{version}{branch}{dir}", node.name),
            NodeKind::Git => format!("  {}{version}{branch}{place}{dir}", node.name),
            NodeKind::Image => format!("  image {}", node.name),
            NodeKind::Package if installed => format!("  package {}", node.name),
            NodeKind::Package => format!(
                "  package {} (not installed: --no-install-packages)",
                node.name
            ),
        };
        put(&line)?;
    }
    let status = match (image.build, image.checked) {
        (true, false) => "to build (registry not checked)",
        (true, true) => "to build",
        (false, _) => "found in the registry",
    };
    put(&format!("image {}  {status}", image.url))?;
    for path in written {
        put(&format!("wrote {}", path.display()))?;
    }
    Ok(())
}
