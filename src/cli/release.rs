//! `ciux tag`: create the next release tag (one repository, or the stack with `--all`).

use anyhow::Result;

use super::{TagArgs, print_stdout};
use crate::error::{NotImplemented, UsageError};
use crate::git::Repo;
use crate::release::{Bump, TagPlan, TagRequest, create_tag, plan_tag, push_tag};

pub(crate) fn run(args: TagArgs) -> Result<()> {
    if args.wait_images && !args.all {
        return Err(UsageError("--wait-images only applies with --all".into()).into());
    }
    let request = TagRequest {
        bump: bump_of(&args),
        message: args.message.clone(),
        allow_branch: args.allow_branch,
        push: args.push,
    };
    if args.all {
        return Err(NotImplemented("tag --all").into());
    }
    let repo = Repo::discover(&args.path.path)?;
    let plan = plan_tag(&repo, &request)?;
    if args.dry_run {
        print_stdout(&describe_plan(&plan))?;
        return Ok(());
    }
    create_tag(&repo, &plan)?;
    eprintln!("tagged {} as {}", plan.repository.display(), plan.tag);
    push_tag(&plan)?;
    if let Some(target) = &plan.push {
        eprintln!("pushed {} to {} ({})", plan.tag, target.remote, target.url);
    }
    print_stdout(&format!("{}\n", plan.tag))?;
    Ok(())
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
