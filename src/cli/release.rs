//! `ciux tag`: the next release tag, printed with its git commands, or created
//! (`--create`) and pushed (`--push`); one repository, or the stack with `--all`.

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
    Bump, ReleaseError, StackPlan, StackReport, StepState, TagPlan, TagRequest, apply_stack,
    clone_missing, create_tag, dependency_image, plan_stack, plan_tag, push_tag, select_members,
    stack_members, tag_commands, wait_for_image,
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
    if !creates(&args) {
        let in_dir = !is_current_repo(repo.root());
        print_stdout(&print_only(&plan, in_dir))?;
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

/// Whether the tag is made: `--create` or `--push`; else only the commands are printed.
fn creates(args: &TagArgs) -> bool {
    args.create || args.push
}

/// Whether `root` is the repository of the current directory (commands then need no `-C`).
fn is_current_repo(root: &std::path::Path) -> bool {
    let here = std::env::current_dir()
        .ok()
        .and_then(|dir| Repo::discover(&dir).ok());
    match here {
        Some(here) => {
            let canon =
                |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            canon(here.root()) == canon(root)
        }
        None => false,
    }
}

/// What plain `ciux tag` prints: the next version in a comment, then the
/// commands to paste (the output is itself a valid shell script).
fn print_only(plan: &TagPlan, in_dir: bool) -> String {
    let after = plan.previous.as_deref().map_or_else(
        || "no previous release".to_owned(),
        |p| format!("after {p}"),
    );
    let mut text = format!(
        "# next release of {}: {} ({after}); to create it, run:\n",
        comment_safe(&plan.repository.to_string_lossy()),
        plan.tag
    );
    for line in tag_commands(plan, in_dir) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// A value inside a `#` comment stays on that line ([`crate::safe_text::escape_value`]: the
/// one way a value from git is put on a line).
fn comment_safe(text: &str) -> String {
    crate::safe_text::escape_value(text).into_owned()
}

/// `--all`: plan the whole stack (every refusal first), then tag in order.
fn run_all(args: &TagArgs, request: &TagRequest) -> Result<()> {
    let resolve = crate::workspace::Request {
        path: args.path.path.clone(),
        synchronise: false,
        ..Default::default()
    };
    let (workspace, configs) = crate::workspace::resolve(&resolve, &crate::git::clone::Silent)?;
    let members = select_members(stack_members(&workspace)?, &args.only)?;
    // Dependencies without a sibling are cloned bare to be tagged; the
    // directory lives until the end of the command.
    let scratch = tempfile::Builder::new()
        .prefix("ciux-tag-")
        .tempdir()
        .context("cannot create a temporary directory for the bare clones")?;
    let mut members = members;
    clone_missing(&mut members, scratch.path())?;
    let StackPlan { steps, released } = plan_stack(&members, request)?;
    let plan_text = stack_plan_text(&members, &steps, &released);
    // The image the project requires of each `pull = true` dependency, when waited for.
    let config = configs
        .get(&workspace.project)
        .cloned()
        .unwrap_or_else(crate::config::Config::empty);
    let mut images = Vec::new();
    for step in &steps {
        images.push(if args.wait_images && step.pull {
            dependency_image(&config, &step.name, &step.plan.tag)?
        } else {
            None
        });
    }
    if args.dry_run {
        let mut text = plan_text;
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
    if !creates(args) {
        let mut text = plan_text;
        let bare = members.iter().any(|m| m.missing.is_some());
        if !steps.is_empty() {
            text.push_str("# to create and push them, run `ciux tag --all --push`");
            if bare {
                text.push_str(" (dependencies without a sibling are cloned for it)");
            }
            text.push_str(", or:\n");
        }
        for step in &steps {
            if members
                .iter()
                .any(|m| m.name == step.name && m.missing.is_some())
            {
                text.push_str(&format!(
                    "# {} has no sibling checkout: clone it first\n",
                    comment_safe(&step.name)
                ));
                continue;
            }
            for line in tag_commands(&step.plan, true) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        print_stdout(&text)?;
        return Ok(());
    }
    eprint!("{plan_text}");
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

/// The plan shown first: every repository of the stack with its next tag and
/// why, or why it is left out. Lines are `#` comments, so plain `tag --all`
/// output stays a shell script.
fn stack_plan_text(
    members: &[crate::release::Member],
    steps: &[crate::release::StackStep],
    released: &[(String, String)],
) -> String {
    let mut text = String::new();
    for member in members {
        let name = comment_safe(&member.name);
        if let Some(step) = steps.iter().find(|s| s.name == member.name) {
            let after = step.plan.previous.as_deref().map_or_else(
                || "no previous release".to_owned(),
                |p| format!("after {p}"),
            );
            let branch = step.plan.branch.as_deref().unwrap_or("detached HEAD");
            let place = match &member.missing {
                Some(missing) => format!(
                    "not cloned: bare clone of {}",
                    comment_safe(&missing.shown_url)
                ),
                None => comment_safe(&member.dir.to_string_lossy()),
            };
            text.push_str(&format!(
                "# {name} {} ({after}, branch {}, {place})\n",
                step.plan.tag,
                comment_safe(branch)
            ));
        } else if let Some((_, tag)) = released.iter().find(|(n, _)| *n == member.name) {
            text.push_str(&format!("# {name} already released at {tag}: skipped\n"));
        }
    }
    text
}

/// A spinner on stderr when it is a terminal outside CI; otherwise one line
/// says what is awaited.
fn spinner(message: &str) -> ProgressBar {
    if !super::progress::bars_allowed(false) {
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
    } else {
        flags.push_str("--create ");
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
