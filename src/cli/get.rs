//! `ciux get ...`: print one resolved value.

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::progress::StderrProgress;
use super::request;
use super::{GetCommand, GetImageArgs, SelectorPathArgs, print_stdout};
use crate::emit::{env_file_path, names};
use crate::git::{Repo, describe_head};
use crate::image::{export_lines, vars};
use crate::resolution::{self, Images};
use crate::safe_text::escape_value;
use crate::selector::Selector;
use crate::workspace::{self, NodeKind};

pub(crate) fn run(command: GetCommand) -> Result<()> {
    match command {
        GetCommand::Revision(args) => {
            let repo = Repo::discover(&args.path.path)?;
            let version = describe_head(&repo)?;
            if args.is_release {
                return print_stdout(&release_revision(&repo, &version, &args.path.path)?)
                    .map_err(Into::into);
            }
            print_stdout(&format!("{version}\n"))?;
            Ok(())
        }
        GetCommand::Image(args) => image(args),
        GetCommand::Configpath(args) => configpath(args),
        GetCommand::Deps(args) => deps(args),
        GetCommand::Clustername(args) => {
            let repo = Repo::discover(&args.path)?;
            let request = request::workspace(args.path.clone(), Selector::default());
            let (branch, _) = workspace::project_branch(&request, &repo)?;
            let head = repo.head_id()?.to_string();
            let user = std::env::var("USER")
                .ok()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "unknown".into());
            let dirty = if repo.is_dirty()? { "-dirty" } else { "" };
            let raw = format!(
                "{user}-{}-{}{dirty}",
                branch.as_deref().unwrap_or("detached"),
                &head[..6]
            );
            print_stdout(&format!("{}\n", cluster_name(&raw)))?;
            Ok(())
        }
    }
}

/// `get revision --isrelease`: the tag and a newline when HEAD is exactly a
/// release (tagged, clean, on main or master, or GitHub's branch variables
/// naming one on a detached HEAD); else nothing.
fn release_revision(
    repo: &Repo,
    version: &crate::git::Describe,
    path: &std::path::Path,
) -> Result<String> {
    let Some(tag) = version
        .tag
        .as_ref()
        .filter(|_| version.distance == 0 && !version.dirty)
    else {
        return Ok(String::new());
    };
    let (branch, _) = workspace::project_branch(
        &request::workspace(path.to_path_buf(), Selector::default()),
        repo,
    )?;
    Ok(match branch.as_deref() {
        Some("main" | "master") => format!("{tag}\n"),
        _ => String::new(),
    })
}

/// Every run of characters outside `[A-Za-z0-9]` → `-`, lower case, at most
/// 49 characters (kind's limit for a cluster name once it adds its suffixes).
fn cluster_name(raw: &str) -> String {
    let mut name = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    name.truncate(49);
    name
}

/// Print the env file path for the selector; fail if it was never written.
fn configpath(args: SelectorPathArgs) -> Result<()> {
    let selector = Selector::parse(args.selector.as_deref().unwrap_or(""))?;
    let repo = Repo::discover(&args.path.path)?;
    let path = env_file_path(
        repo.root(),
        &selector,
        std::env::var_os(names::CIUXCONFIG).map(PathBuf::from),
    );
    if !path.is_file() {
        let flag = if selector.is_empty() {
            String::new()
        } else {
            format!(" -l '{selector}'")
        };
        bail!(
            "no env file at {}\n  run `ciux ignite{flag}` first",
            path.display()
        );
    }
    print_stdout(&format!("{}\n", path.display()))?;
    Ok(())
}

/// The branch checked out in a dependency's sibling directory, if any.
fn checked_out_branch(node: &workspace::Node) -> Option<String> {
    if node.kind != NodeKind::Git {
        return None;
    }
    let repo = Repo::discover(node.dir.as_deref()?).ok()?;
    repo.current_branch().ok().flatten()
}

/// One tab-separated line per selected dependency: kind, name, branch, version
/// (`-` when not known). Lists remotes, but changes nothing on disk.
fn deps(args: SelectorPathArgs) -> Result<()> {
    let mut workspace =
        request::workspace(args.path.path, request::selector(args.selector.as_deref())?);
    workspace.synchronise = false;
    let request = resolution::Request {
        workspace,
        images: Images::Offline {
            options: Default::default(),
            reason: "not shown by `get deps`".into(),
        },
    };
    let resolved = resolution::resolve(&request, &StderrProgress::new(true))?;
    let mut out = String::new();
    for node in resolved.workspace.dependencies() {
        let kind = match node.kind {
            NodeKind::Project | NodeKind::Git => "git",
            NodeKind::Image => "image",
            NodeKind::Package => "package",
        };
        let branch = node.branch.as_deref().unwrap_or("-");
        let mut version = node.version.as_deref().unwrap_or("-").to_owned();
        // The version is that of the checkout: say so when the checkout is on
        // another branch than the one the dependency will use.
        if let Some(checked_out) = checked_out_branch(node)
            && node.branch.as_deref() != Some(checked_out.as_str())
        {
            version.push_str(&format!(" (checked out on {checked_out})"));
        }
        // Values from git and configuration, each on one line: no tab or
        // newline in one can shift the columns or start a line.
        let fields = [kind, &node.name, branch, &version].map(escape_value);
        out.push_str(&fields.join("\t"));
        out.push('\n');
    }
    print_stdout(&out)?;
    Ok(())
}

/// `ciux get image [--check] [--env]`: the URL, or `export` lines to source.
fn image(args: GetImageArgs) -> Result<()> {
    let options = request::image_options(&args.image, args.check);
    let request = request::project_only(args.path.path, options);
    let resolved = resolution::resolve(&request, &StderrProgress::new(true))?;
    let decision = &resolved.project_decision()?.decision;
    tracing::info!(
        "{}: build={} ({})",
        decision.url,
        decision.build,
        decision.reason
    );
    let text = if args.env {
        let mut block = vec![
            (vars::URL, decision.url.clone()),
            (vars::BUILD, decision.build.to_string()),
        ];
        if let Some(digest) = &decision.digest {
            block.push((vars::DIGEST, digest.clone()));
        }
        // Only a project that declares build inputs labels its image with them.
        if resolved
            .project_config()
            .dependencies
            .iter()
            .any(|d| d.build_input)
        {
            block.push((vars::INPUTS, decision.inputs.clone()));
        }
        export_lines(&block)
    } else {
        format!("{}\n", decision.url)
    };
    print_stdout(&text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::cluster_name;

    #[test]
    fn cluster_names_are_plain_and_short() {
        assert_eq!(
            cluster_name("Alice-feature/X_y-1a2b3c-dirty"),
            "alice-feature-x-y-1a2b3c-dirty"
        );
        assert_eq!(cluster_name("u-a$(b)..c-abcdef"), "u-a-b-c-abcdef");
        assert_eq!(cluster_name(&"x".repeat(80)).len(), 49);
    }
}
