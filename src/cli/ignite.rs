//! `ciux ignite`: resolve the workspace, synchronise siblings, write env files,
//! install packages on request, and print a summary on stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use serde::Serialize;

use super::progress::StderrProgress;
use super::{EnvFormat, IgniteArgs, ImageOpts, OnRegistryError};
use crate::config::Config;
use crate::emit::{self, Env, ImageBlock, names};
use crate::error::UsageError;
use crate::fsutil::write_atomic;
use crate::git::Repo;
use crate::image;
use crate::registry::Client;
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
    // In GitHub Actions, clone logs and the summary fold into one group.
    let actions = crate::github::in_actions();
    let group = crate::github::StderrGroup::start(actions && !quiet, "ciux ignite");
    let selector = Selector::parse(args.selector.as_deref().unwrap_or(""))?;
    let request = workspace::Request {
        path: args.path.path.clone(),
        selector: selector.clone(),
        branch: args.branch.clone(),
        main_only: args.main_only,
        github_head_ref: std::env::var(names::GITHUB_HEAD_REF).ok(),
        github_ref_name: std::env::var(names::GITHUB_REF_NAME).ok(),
        synchronise: true,
    };
    let _lock = lock_workspace(&request, &selector, quiet)?;
    let progress = StderrProgress::new(quiet);
    let ws = workspace::resolve(&request, &progress)?;
    let ws = if args.locked {
        super::lock::apply(&request, ws, &progress)?
    } else {
        ws
    };
    let project = ws
        .project_node()
        .context("the workspace has no project node")?;
    let root = project.dir.clone().unwrap_or_default();
    let config = Config::load(&root)?;
    let client = Client::from_config(&config);
    let image = project_image(&root, &config, &ws, &args.image, &client)?;
    check_required_images(&config, &ws, &args.image, &client)?;
    let env = emit::build_env(&ws, &image)?;
    let env_file = emit::env_file_path(
        &root,
        &selector,
        std::env::var_os(names::CIUXCONFIG).map(PathBuf::from),
    );
    let formats = if args.formats.is_empty() {
        vec![EnvFormat::Sh]
    } else {
        args.formats.clone()
    };
    let mut written = Vec::new();
    for format in formats {
        written.extend(write_format(format, &env, &env_file, &ws, &image)?);
    }
    if args.lock {
        written.push(super::lock::write(&ws)?);
    }
    let failed = if args.install_packages {
        install_packages(&ws, quiet)
    } else {
        Vec::new()
    };
    if !quiet {
        summary(&ws, &image, &written, args.install_packages)?;
    }
    if actions {
        drop(group);
        super::plan::publish_workspace(&ws, &image)?;
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

/// The project image block: the registry's answer when the configuration names
/// a registry (see [`crate::image::resolve`]), else an unchecked block.
pub(crate) fn project_image(
    root: &Path,
    config: &Config,
    ws: &Workspace,
    opts: &ImageOpts,
    client: &Client,
) -> Result<ImageBlock> {
    if config.registry.is_none() {
        let version = ws
            .project_node()
            .and_then(|n| n.version.as_deref())
            .unwrap_or("");
        return Ok(unchecked_image(config, &ws.project, version, opts));
    }
    let repo = Repo::discover(root)?;
    let decision = image::resolve(&repo, config, &super::image::options(opts, true), client)?;
    Ok(ImageBlock::from(decision))
}

/// The images the selected dependencies must already have (`pull = true` git
/// dependencies at their version, image dependencies): an error listing the
/// missing ones. With `--on-registry-error=build`, an unreachable registry is a
/// warning here, since nothing of ours gets built from it.
fn check_required_images(
    config: &Config,
    ws: &Workspace,
    opts: &ImageOpts,
    client: &Client,
) -> Result<()> {
    let required: Vec<String> = ws
        .dependencies()
        .filter_map(|node| match node.kind {
            NodeKind::Git if node.pull => {
                image::dependency_image(config, &node.name, node.version.as_deref()?)
            }
            NodeKind::Image => node.image.clone(),
            _ => None,
        })
        .collect();
    if required.is_empty() {
        return Ok(());
    }
    // Each image keeps its own answer: a registry that cannot be asked must
    // not hide an image another registry says is absent.
    let answers = image::check_images(&required, client);
    let mut missing = Vec::new();
    let mut failed = Vec::new();
    for (image, answer) in required.iter().zip(answers) {
        match answer {
            Ok(crate::registry::Lookup::Present { .. }) => {}
            Ok(crate::registry::Lookup::Missing) => missing.push(image.clone()),
            Err(source) => failed.push(image::ImageError::Registry {
                image: image.clone(),
                source,
            }),
        }
    }
    let build = opts.on_registry_error == OnRegistryError::Build;
    if build {
        for err in &failed {
            tracing::warn!(
                "{}; not reported as missing, as --on-registry-error=build asks",
                chain_text(err)
            );
        }
    }
    if !missing.is_empty() {
        let mut text = format!(
            "{} required image(s) missing from the registry:\n  {}",
            missing.len(),
            missing.join("\n  ")
        );
        if !build && !failed.is_empty() {
            text.push_str(&format!(
                "\nand {} could not be checked:\n  {}",
                failed.len(),
                failed
                    .iter()
                    .map(|e| chain_text(e))
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
        anyhow::bail!(text);
    }
    match failed.into_iter().next() {
        Some(err) if !build => Err(err.into()),
        _ => Ok(()),
    }
}

/// The project image block without asking the registry: name
/// `registry/<project>[-suffix]` lower-cased, tag the version of HEAD, always
/// to be built (a configuration without `registry`).
pub(crate) fn unchecked_image(
    config: &Config,
    project: &str,
    head_version: &str,
    opts: &ImageOpts,
) -> ImageBlock {
    let name = match &opts.suffix {
        Some(suffix) if !suffix.is_empty() => format!("{project}-{suffix}"),
        _ => project.to_owned(),
    }
    .to_lowercase();
    let registry = config.registry.clone().unwrap_or_default().to_lowercase();
    let url_in = |registry: &str| {
        if registry.is_empty() {
            format!("{name}:{head_version}")
        } else {
            format!("{registry}/{name}:{head_version}")
        }
    };
    let promoted_url = url_in(&registry);
    let temporary_url = opts.tmp_registry.as_deref().map(url_in);
    ImageBlock {
        registry,
        name: name.clone(),
        tag: head_version.to_owned(),
        url: temporary_url
            .clone()
            .unwrap_or_else(|| promoted_url.clone()),
        build: true,
        promoted_url,
        temporary_url,
        checked: false,
        digest: None,
        inputs: None,
        reason: "no registry in the configuration".into(),
    }
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
            emit::write_sh(env, &mut bytes)?;
            env_file.to_path_buf()
        }
        EnvFormat::Dotenv => {
            emit::write_dotenv(env, &mut bytes)?;
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
        EnvFormat::Github => return append_github(env),
    };
    write_atomic(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(vec![path])
}

/// Append to `$GITHUB_ENV` and `$GITHUB_OUTPUT` (the runner reads them after the step).
fn append_github(env: &Env) -> Result<Vec<PathBuf>> {
    let mut bytes = Vec::new();
    emit::write_github(env, &mut bytes)?;
    let mut written = Vec::new();
    for var in [names::GITHUB_ENV, names::GITHUB_OUTPUT] {
        let Some(path) = std::env::var_os(var)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
        else {
            return Err(UsageError(format!(
                "--format github needs ${var}: it is set in GitHub Actions steps"
            ))
            .into());
        };
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .with_context(|| format!("cannot open ${var} ({})", path.display()))?;
        file.write_all(&bytes)
            .with_context(|| format!("cannot append to ${var} ({})", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Run `go install module@version` for each package; returns the ones that failed.
fn install_packages(ws: &Workspace, quiet: bool) -> Vec<String> {
    let mut failed = Vec::new();
    for node in ws.nodes.iter().filter(|n| n.kind == NodeKind::Package) {
        let status = Command::new("go").args(["install", &node.name]).status();
        match status {
            Ok(s) if s.success() => {
                if !quiet {
                    crate::safe_text::eprint_line(&format!("installed {}", node.name));
                }
            }
            Ok(s) => failed.push(format!("{} (go install exited with {s})", node.name)),
            Err(e) => failed.push(format!("{} (cannot run go: {e})", node.name)),
        }
    }
    failed
}

fn summary(ws: &Workspace, image: &ImageBlock, written: &[PathBuf], installed: bool) -> Result<()> {
    let actions = crate::github::in_actions();
    let mut err = std::io::stderr().lock();
    let mut put = |line: &str| {
        writeln!(
            err,
            "{}",
            crate::safe_text::stderr_text(&one_line(line), actions)
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
                "  package {} (not installed; --install-packages)",
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

/// A summary line with control characters shown as `?`: a path or a `--branch`
/// value holding a newline cannot start a line of its own (which CI runners
/// would read as a workflow command such as `::add-path::`).
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// An error and its causes on one line.
fn chain_text(err: &image::ImageError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
