//! `ciux plan`: resolve the graph as `ignite` does, print it in deploy order,
//! and in GitHub Actions publish the step summary and the outputs.

use std::io::{self, Write};

use anyhow::{Context, Result};

use super::{PlanArgs, PlanFormat, print_stdout};
use crate::error::NotImplemented;
use crate::github;
use crate::plan::{Graph, Plan, render_dot, render_matrix, render_mermaid, render_text};

pub(crate) fn run(args: PlanArgs) -> Result<()> {
    let graph = resolve(&args)?;
    let plan = Plan::new(graph)?;
    let mut out = Vec::new();
    render(&plan, args.format, &mut out)?;
    print_stdout(&String::from_utf8_lossy(&out))?;
    if github::in_actions() {
        publish(&plan, "ciux plan", None)?;
    }
    Ok(())
}

/// The resolved graph of the project at `args.path`, as `ignite` resolves it.
fn resolve(_args: &PlanArgs) -> Result<Graph> {
    Err(NotImplemented("plan").into())
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
/// `waves`, `wave_N`). Shared with `ignite`, which knows the promoted image.
pub(crate) fn publish(plan: &Plan, title: &str, promoted_image_url: Option<&str>) -> Result<()> {
    let mut summary = Vec::new();
    github::write_summary(plan, title, &mut summary).context("cannot render the step summary")?;
    github::append_to(github::ENV_STEP_SUMMARY, &summary)?;
    let mut outputs = Vec::new();
    github::write_file_commands(
        &mut outputs,
        &github::plan_outputs(plan, promoted_image_url),
    )?;
    github::append_to(github::ENV_OUTPUT, &outputs)?;
    Ok(())
}
