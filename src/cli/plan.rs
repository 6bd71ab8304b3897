//! `ciux plan`: resolve the workspace as `ignite` does, print its plan in deploy
//! order, and in GitHub Actions publish the step summary and the outputs.

use std::io::{self, Write};

use anyhow::Result;

use super::progress::StderrProgress;
use super::request;
use super::{PlanArgs, PlanFormat, print_stdout};
use crate::github;
use crate::plan::{Plan, render_dot, render_matrix, render_mermaid, render_text};
use crate::resolution::{self, Images};
use crate::workspace;

pub(crate) fn run(args: PlanArgs, quiet: bool) -> Result<()> {
    let actions = github::in_actions();
    let group = github::StderrGroup::start(actions && !quiet, "ciux plan");
    // The same request as `ignite` (siblings cloned or updated, images
    // checked); no env file is written.
    let request = resolution::Request {
        workspace: workspace::Request {
            branch: args.branch.clone(),
            synchronise: true,
            ..request::workspace(
                args.path.path.clone(),
                request::selector(args.selector.as_deref())?,
            )
        },
        images: Images::Decide(request::image_options(&args.image, true)),
    };
    let resolved = resolution::resolve(&request, &StderrProgress::new(quiet))?;
    drop(group);
    let plan = resolved.plan()?;
    let mut out = Vec::new();
    render(&plan, args.format, &mut out)?;
    print_stdout(&String::from_utf8_lossy(&out))?;
    if actions {
        github::publish(&plan, "ciux plan", &resolved.images.project, None)?;
    }
    // The plan shows the missing images; like `ignite`, it then fails.
    resolved.images.ensure_present()?;
    Ok(())
}

/// Print `plan` in `format`.
fn render(plan: &Plan, format: PlanFormat, out: &mut impl Write) -> io::Result<()> {
    match format {
        PlanFormat::Text => render_text(plan, out),
        PlanFormat::Json => plan.write_json(out),
        PlanFormat::GithubMatrix => render_matrix(plan, out),
        PlanFormat::Mermaid => render_mermaid(plan, out),
        PlanFormat::Dot => render_dot(plan, out),
    }
}
