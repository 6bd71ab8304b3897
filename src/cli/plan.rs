//! `ciux plan`: resolve the graph as `ignite` does, print it in deploy order,
//! and in GitHub Actions publish the step summary and the outputs.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};

use super::progress::StderrProgress;
use super::{PlanArgs, PlanFormat, print_stdout};
use crate::config::Config;
use crate::emit::{ImageBlock, names};
use crate::github;
use crate::image::WorkspaceImages;
use crate::plan::{Graph, Plan, graph_of, render_dot, render_matrix, render_mermaid, render_text};
use crate::selector::Selector;
use crate::workspace::{self, Checkout, NodeKind, Workspace};

pub(crate) fn run(args: PlanArgs, quiet: bool) -> Result<()> {
    let actions = github::in_actions();
    let group = github::StderrGroup::start(actions && !quiet, "ciux plan");
    let (graph, images) = resolve(&args, quiet)?;
    drop(group);
    let plan = Plan::new(graph)?;
    let mut out = Vec::new();
    render(&plan, args.format, &mut out)?;
    print_stdout(&String::from_utf8_lossy(&out))?;
    if actions {
        publish(&plan, "ciux plan", &images.project, None)?;
    }
    // The plan shows the missing images; like `ignite`, it then fails.
    images.ensure_present()?;
    Ok(())
}

/// The graph of the project at `args.path`, resolved as `ignite` resolves it
/// (same request: siblings cloned or updated), and its image decisions.
/// No env file is written.
fn resolve(args: &PlanArgs, quiet: bool) -> Result<(Graph, WorkspaceImages)> {
    let selector = Selector::parse(args.selector.as_deref().unwrap_or(""))?;
    let request = workspace::Request {
        path: args.path.path.clone(),
        selector,
        branch: args.branch.clone(),
        main_only: false,
        github_head_ref: std::env::var(names::GITHUB_HEAD_REF).ok(),
        github_ref_name: std::env::var(names::GITHUB_REF_NAME).ok(),
        synchronise: true,
        ..Default::default()
    };
    let ws = workspace::resolve(&request, &StderrProgress::new(quiet))?;
    let configs = configs_of(&ws)?;
    let project_config = configs
        .get(&ws.project)
        .cloned()
        .unwrap_or_else(Config::empty);
    let client = crate::registry::Client::from_config(&project_config);
    let options = super::image::options(&args.image, true);
    let images = crate::image::decide_workspace(&ws, &project_config, &options, &client)?;
    Ok((graph_of(&ws, &images, &configs), images))
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
/// step summary and outputs, and the env file it wrote.
pub(crate) fn publish_workspace(
    ws: &Workspace,
    images: &WorkspaceImages,
    env_file: Option<&Path>,
) -> Result<()> {
    let plan = Plan::new(graph_of(ws, images, &configs_of(ws)?))?;
    publish(&plan, "ciux ignite", &images.project, env_file)
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
/// `waves`, `wave_N`, then `ciux_image_inputs`, `ciux_image_digest` and, for
/// `ignite`, `env_file`). A runner variable that is not set is skipped with a
/// warning (the command's own work is done); a file that cannot be written is
/// an error.
pub(crate) fn publish(
    plan: &Plan,
    title: &str,
    image: &ImageBlock,
    env_file: Option<&Path>,
) -> Result<()> {
    let mut summary = Vec::new();
    github::write_summary(plan, title, &mut summary).context("cannot render the step summary")?;
    let mut pairs = github::plan_outputs(plan, Some(&image.promoted_url));
    pairs.push((
        github::OUTPUT_IMAGE_INPUTS.into(),
        image.inputs.clone().unwrap_or_default(),
    ));
    pairs.push((
        github::OUTPUT_IMAGE_DIGEST.into(),
        image.digest.clone().unwrap_or_default(),
    ));
    if let Some(path) = env_file {
        pairs.push((
            github::OUTPUT_ENV_FILE.into(),
            path.to_string_lossy().into_owned(),
        ));
    }
    let mut outputs = Vec::new();
    github::write_file_commands(&mut outputs, &pairs)?;
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
