//! `ciux promote` and `ciux explain`: the project image.

use anyhow::{Context, Result, bail};

use super::progress::StderrProgress;
use super::request;
use super::{ExplainArgs, PromoteArgs, ReportFormat, print_stdout};
use crate::image::{self, ImageDecision};
use crate::registry::{Client, Reference, layout};
use crate::resolution::{self, Resolution};

/// The project alone, its image decided (the registry asked).
fn resolve(path: &std::path::Path, opts: &super::ImageOpts) -> Result<Resolution> {
    let request = request::project_only(path.to_path_buf(), request::image_options(opts, true));
    Ok(resolution::resolve(&request, &StderrProgress::new(true))?)
}

/// `ciux explain [--format json]`: why the image will or will not be built.
pub(crate) fn explain(args: ExplainArgs) -> Result<()> {
    let resolved = resolve(&args.path.path, &args.image)?;
    let explained = resolved.project_decision()?;
    let text = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&explained)? + "\n",
        ReportFormat::Text => {
            let (d, t) = (&explained.decision, &explained.trace);
            let mut out = format!(
                "image:   {}\nbuild:   {}\nreason:  {}\n",
                d.url, d.build, d.reason
            );
            out += &format!(
                "head:    {}\nchanged: {} ({} commit(s) in the window)\n",
                t.head, t.last_change, t.window
            );
            for (path, id) in &t.sources {
                out += &format!("source:  {path} {}\n", id.as_deref().unwrap_or("(absent)"));
            }
            if let Some(n) = t.tags_listed {
                out += &format!("tags:    {n} in the registry\n");
            }
            for c in &t.considered {
                let verdict = if c.matched { "matches" } else { "is not" };
                out += &format!(
                    "tag:     {} {verdict} the version of {} ({})\n",
                    c.tag, c.commit, c.version
                );
            }
            for (question, answer) in &t.lookups {
                out += &format!("asked:   {question}: {answer}\n");
            }
            for (image, digest) in &t.inputs {
                out += &format!("input:   {image} {digest}\n");
            }
            out += &format!("inputs:  {}\n", d.inputs);
            out
        }
    };
    print_stdout(&text)?;
    Ok(())
}

/// `ciux promote [--dry-run]`: tag the tested image with HEAD's version.
pub(crate) fn promote(args: PromoteArgs) -> Result<()> {
    let resolved = resolve(&args.path.path, &args.image)?;
    let decision = &resolved.project_decision()?.decision;
    // Promotion needs the registry's answer: `--on-registry-error=build`
    // turned a failure into "build", which says nothing about what to copy.
    if let image::Reason::RegistryFailed { message } = &decision.reason {
        let verb = if args.dry_run {
            "tell whether to promote"
        } else {
            "promote"
        };
        bail!(
            "cannot {verb} {}: the registry could not be asked ({message})",
            decision.promoted_url
        );
    }
    if let Some(dir) = decision.registry.strip_prefix("oci:") {
        return promote_in_layout(decision, std::path::Path::new(dir), args.dry_run);
    }
    let (source, target) = promotion(decision)?;
    if let (true, Some(digest)) = (source == target, &decision.digest) {
        // HEAD's own version is the image found: nothing to copy.
        print_stdout(&format!("{target}@{digest}\n"))?;
        return Ok(());
    }
    if args.dry_run {
        print_stdout(&format!("would promote {source} to {target}\n"))?;
        return Ok(());
    }
    let digest = Client::from_config(&resolved.project_config())
        .copy(&source, &target)
        .with_context(|| format!("cannot promote {source} to {target}"))?;
    let Some(digest) = digest else {
        bail!(
            "cannot promote {source}: the registry does not have it\n  fix: build and push it first (CIUX_BUILD was true)"
        );
    };
    print_stdout(&format!("{target}@{digest}\n"))?;
    Ok(())
}

/// Promotion in an OCI layout directory (`registry = "oci:<dir>"`): the tested
/// manifest gets HEAD's version as a second tag in `index.json`.
fn promote_in_layout(decision: &ImageDecision, dir: &std::path::Path, dry_run: bool) -> Result<()> {
    let target_tag = decision
        .promoted_url
        .rsplit_once(':')
        .map_or(decision.tag.as_str(), |(_, tag)| tag);
    if decision.temporary_url.is_some() {
        bail!(
            "cannot promote from a temporary registry into an OCI layout: copy the image with `skopeo copy`"
        );
    }
    let (source, target) = (&decision.url, &decision.promoted_url);
    if dry_run {
        print_stdout(&format!("would promote {source} to {target}\n"))?;
        return Ok(());
    }
    let layout = layout::layout_dir(dir, &decision.name);
    let Some(digest) = layout::retag(&layout, &decision.tag, target_tag)? else {
        bail!(
            "cannot promote {source}: the layout does not have it\n  fix: build it first (CIUX_BUILD was true)"
        );
    };
    print_stdout(&format!("{target}@{digest}\n"))?;
    Ok(())
}

/// What to copy where: the tested image (found, or built into the temporary
/// registry) to the promoted URL.
fn promotion(decision: &ImageDecision) -> Result<(Reference, Reference)> {
    let source = decision.temporary_url.as_deref().unwrap_or(&decision.url);
    let source = Reference::parse(source)?;
    let target = Reference::parse(&decision.promoted_url)?;
    Ok((source, target))
}
