//! `ciux tag`: create the next release tag (one repository, or the stack with `--all`).

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use serde::Serialize;

use super::{TagArgs, print_stdout};
use crate::check::shell_quote;
use crate::error::UsageError;
use crate::git::Repo;
use crate::registry::Client;
use crate::release::{
    Bump, ReleaseError, Silent, StackReport, StepState, TagPlan, TagRequest, apply_stack,
    create_tag, dependency_image, plan_stack, plan_tag, push_tag, stack_members, wait_for_image,
};

pub(crate) fn run(args: TagArgs) -> Result<()> {
    if args.wait_images && !args.all {
        return Err(UsageError("--wait-images only applies with --all".into()).into());
    }
    if args.wait_images && !args.push {
        return Err(UsageError(
            "--wait-images needs --push: CI builds the images of pushed tags".into(),
        )
        .into());
    }
    let request = TagRequest {
        bump: bump_of(&args),
        message: args.message.clone(),
        allow_branch: args.allow_branch,
        push: args.push,
    };
    if args.all {
        return run_all(&args, &request);
    }
    let repo = Repo::discover(&args.path.path)?;
    let plan = plan_tag(&repo, &request)?;
    if args.dry_run {
        print_stdout(&describe_plan(&plan))?;
        return Ok(());
    }
    create_tag(&repo, &plan)?;
    crate::safe_text::eprint_line(&format!(
        "tagged {} as {}",
        plan.repository.display(),
        plan.tag
    ));
    push_tag(&plan)?;
    if let Some(target) = &plan.push {
        crate::safe_text::eprint_line(&format!(
            "pushed {} to {} ({})",
            plan.tag, target.remote, target.url
        ));
    }
    print_stdout(&format!("{}\n", plan.tag))?;
    Ok(())
}

/// `--all`: plan the whole stack (every refusal first), then tag in order.
fn run_all(args: &TagArgs, request: &TagRequest) -> Result<()> {
    let resolve = crate::workspace::Request {
        path: args.path.path.clone(),
        synchronise: false,
        ..Default::default()
    };
    let workspace = crate::workspace::resolve(&resolve, &Silent)?;
    let members = stack_members(&workspace)?;
    let steps = plan_stack(&members, request)?;
    // The image the project requires of each `pull = true` dependency, when waited for.
    let config = crate::config::Config::load(&workspace_root(&workspace))?;
    let mut images = Vec::new();
    for step in &steps {
        images.push(if args.wait_images && step.pull {
            dependency_image(&config, &step.name, &step.plan.tag)?
        } else {
            None
        });
    }
    if args.dry_run {
        let mut text = String::new();
        for (i, (step, image)) in steps.iter().zip(&images).enumerate() {
            text.push_str(&format!(
                "{}. {}: {}",
                i + 1,
                step.name,
                describe_plan(&step.plan)
            ));
            if let Some(reference) = image {
                text.push_str(&format!("would wait for {reference}\n"));
            }
        }
        print_stdout(&text)?;
        return Ok(());
    }
    let timeout = Duration::from_secs(args.wait_timeout);
    let mut images = images.into_iter();
    let report = apply_stack(steps, |step| {
        crate::safe_text::eprint_line(&format!("tagged {} as {}", step.name, step.plan.tag));
        if let Some(reference) = images.next().flatten() {
            let client = Client::from_config(&config);
            let bar = spinner(&format!("waiting for {reference}"));
            let digest = wait_for_image(&client, &reference, timeout, |waited| {
                bar.set_message(format!("waiting for {reference} ({} s)", waited.as_secs()));
            });
            bar.finish_and_clear();
            crate::safe_text::eprint_line(&format!("found {reference} ({})", digest?));
        }
        Ok(())
    });
    if let Some(path) = &args.report {
        let text = if path.extension().is_some_and(|e| e == "json") {
            serde_json::to_string_pretty(&report_json(&report))? + "\n"
        } else {
            env_report(&report)
        };
        crate::fsutil::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write the report {}", path.display()))?;
    }
    if let Some((failed, reason)) = &report.failure {
        return Err(ReleaseError::StackFailed {
            failed: failed.clone(),
            reason: reason.clone(),
            details: report.failure_text(&finish_flags(args)),
        }
        .into());
    }
    let text: String = report
        .steps
        .iter()
        .map(|(step, _)| format!("{} {}\n", step.name, step.plan.tag))
        .collect();
    print_stdout(&text)?;
    Ok(())
}

/// The project's directory in the resolved workspace.
fn workspace_root(workspace: &crate::workspace::Workspace) -> std::path::PathBuf {
    workspace
        .project_node()
        .and_then(|node| node.dir.clone())
        .unwrap_or_default()
}

/// A spinner on stderr when it is a terminal; otherwise one line says what
/// is awaited.
fn spinner(message: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        crate::safe_text::eprint_line(message);
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner().with_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The flags that tag one repository the way `--all` tags each.
fn finish_flags(args: &TagArgs) -> String {
    let mut flags = format!("--{} ", bump_name(bump_of(args)));
    if args.push {
        flags.push_str("--push ");
    }
    if args.allow_branch {
        flags.push_str("--allow-branch ");
    }
    if let Some(message) = &args.message {
        flags.push_str(&format!("-m {} ", shell_quote(message)));
    }
    flags
}

#[derive(Serialize)]
struct ReportEntry<'a> {
    name: &'a str,
    directory: &'a std::path::Path,
    previous: Option<&'a str>,
    tag: &'a str,
    state: StepState,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    repositories: Vec<ReportEntry<'a>>,
    failed: Option<&'a str>,
}

fn report_json(report: &StackReport) -> JsonReport<'_> {
    JsonReport {
        repositories: report
            .steps
            .iter()
            .map(|(step, state)| ReportEntry {
                name: &step.name,
                directory: &step.plan.repository,
                previous: step.plan.previous.as_deref(),
                tag: &step.plan.tag,
                state: *state,
            })
            .collect(),
        failed: report.failure.as_ref().map(|(name, _)| name.as_str()),
    }
}

/// `export <NAME>_VERSION=<tag>` for each repository that was tagged.
fn env_report(report: &StackReport) -> String {
    report
        .steps
        .iter()
        .filter(|(_, state)| *state != StepState::NotTagged)
        .map(|(step, _)| {
            format!(
                "export {}_VERSION={}\n",
                env_name(&step.name),
                shell_quote(&step.plan.tag)
            )
        })
        .collect()
}

/// A repository name as an env variable prefix: upper case, other characters `_`.
fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn bump_of(args: &TagArgs) -> Bump {
    if args.patch {
        Bump::Patch
    } else if args.minor {
        Bump::Minor
    } else if args.major {
        Bump::Major
    } else if args.release {
        Bump::Release
    } else {
        Bump::Rc
    }
}

fn bump_name(bump: Bump) -> &'static str {
    match bump {
        Bump::Rc => "rc",
        Bump::Patch => "patch",
        Bump::Minor => "minor",
        Bump::Major => "major",
        Bump::Release => "release",
    }
}

/// What a dry run prints: one line per action, in the order they would happen.
pub(crate) fn describe_plan(plan: &TagPlan) -> String {
    let short = plan.commit.get(..7).unwrap_or(&plan.commit);
    let branch = plan
        .branch
        .as_deref()
        .map_or_else(|| "detached HEAD".to_owned(), |b| format!("branch {b}"));
    let after = plan.previous.as_deref().map_or_else(
        || "no previous release".to_owned(),
        |p| format!("after {p}"),
    );
    let kind = if plan.signed { "signed" } else { "annotated" };
    let mut text = format!(
        "would tag {} ({branch}, commit {short}) with {kind} tag {} ({after})\n",
        plan.repository.display(),
        plan.tag
    );
    if let Some(target) = &plan.push {
        text.push_str(&format!(
            "would push {} to {} ({})\n",
            plan.tag, target.remote, target.url
        ));
    }
    text
}
