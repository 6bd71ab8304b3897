//! `ciux plan`: resolve the graph as `ignite` does, print it in deploy order,
//! and in GitHub Actions publish the step summary and the outputs.

use std::collections::BTreeMap;
use std::io::{self, Write};

use anyhow::{Context, Result};

use super::progress::StderrProgress;
use super::{PlanArgs, PlanFormat, print_stdout};
use crate::config::Config;
use crate::emit::{ImageBlock, names};
use crate::github;
use crate::plan::{Graph, Plan, graph_of, render_dot, render_matrix, render_mermaid, render_text};
use crate::selector::Selector;
use crate::workspace::{self, Checkout, NodeKind, Workspace};

pub(crate) fn run(args: PlanArgs, quiet: bool) -> Result<()> {
    let actions = github::in_actions();
    let group = github::StderrGroup::start(actions && !quiet, "ciux plan");
    let (graph, promoted_image_url) = resolve(&args, quiet)?;
    drop(group);
    let plan = Plan::new(graph)?;
    let mut out = Vec::new();
    render(&plan, args.format, &mut out)?;
    print_stdout(&String::from_utf8_lossy(&out))?;
    if actions {
        publish(&plan, "ciux plan", Some(&promoted_image_url))?;
    }
    Ok(())
}

/// The graph of the project at `args.path`, resolved as `ignite` resolves it
/// (same request: siblings cloned or updated), and the promoted image URL.
/// No env file is written.
fn resolve(args: &PlanArgs, quiet: bool) -> Result<(Graph, String)> {
    let selector = Selector::parse(args.selector.as_deref().unwrap_or(""))?;
    let request = workspace::Request {
        path: args.path.path.clone(),
        selector,
        branch: args.branch.clone(),
        main_only: false,
        github_head_ref: std::env::var(names::GITHUB_HEAD_REF).ok(),
        github_ref_name: std::env::var(names::GITHUB_REF_NAME).ok(),
        synchronise: true,
    };
    let ws = workspace::resolve(&request, &StderrProgress::new(quiet))?;
    let project = ws
        .project_node()
        .context("the workspace has no project node")?;
    let configs = configs_of(&ws)?;
    let project_config = configs
        .get(&ws.project)
        .cloned()
        .unwrap_or_else(Config::empty);
    let root = project.dir.clone().unwrap_or_default();
    let client = crate::registry::Client::from_config(&project_config);
    let image = super::ignite::project_image(&root, &project_config, &ws, &args.image, &client)?;
    Ok((graph_of(&ws, &image, &configs), image.promoted_url.clone()))
}

/// The configuration of each checked-out repository of `ws`, by node name.
fn configs_of(ws: &Workspace) -> Result<BTreeMap<String, Config>> {
    let mut configs = BTreeMap::new();
    for node in &ws.nodes {
        let checked_out = !matches!(node.checkout, None | Some(Checkout::RemoteOnly));
        if let (NodeKind::Project | NodeKind::Git, Some(dir), true) =
            (node.kind, &node.dir, checked_out)
        {
            configs.insert(node.name.clone(), Config::load(dir)?);
        }
    }
    Ok(configs)
}

/// What `ignite` publishes in GitHub Actions: the plan of its workspace as
/// step summary and outputs.
pub(crate) fn publish_workspace(ws: &Workspace, image: &ImageBlock) -> Result<()> {
    let plan = Plan::new(graph_of(ws, image, &configs_of(ws)?))?;
    publish(&plan, "ciux ignite", Some(&image.promoted_url))
}

/// Print `plan` in `format`.
pub(crate) fn render(plan: &Plan, format: PlanFormat, out: &mut impl Write) -> io::Result<()> {
    match format {
        PlanFormat::Text => render_text(plan, out),
        PlanFormat::Json => plan.write_json(out),
        PlanFormat::GithubMatrix => render_matrix(plan, out),
        PlanFormat::Mermaid => render_mermaid(plan, out),
        PlanFormat::Dot => render_dot(plan, out),
    }
}

/// In GitHub Actions: append the step summary titled `title` and write the
/// outputs (`ciux_build`, `ciux_image_url`, `ciux_promoted_image_url`, `plan`,
/// `waves`, `wave_N`). A runner variable that is not set is skipped with a
/// warning (the command's own work is done); a file that cannot be written is
/// an error.
pub(crate) fn publish(plan: &Plan, title: &str, promoted_image_url: Option<&str>) -> Result<()> {
    let mut summary = Vec::new();
    github::write_summary(plan, title, &mut summary).context("cannot render the step summary")?;
    let mut outputs = Vec::new();
    github::write_file_commands(
        &mut outputs,
        &github::plan_outputs(plan, promoted_image_url),
    )?;
    for (var, bytes) in [
        (github::ENV_STEP_SUMMARY, summary),
        (github::ENV_OUTPUT, outputs),
    ] {
        match github::append_to(var, &bytes) {
            Err(github::GithubError::Unset { var }) => tracing::warn!("${var} is not set: skipped"),
            other => other?,
        }
    }
    Ok(())
}
