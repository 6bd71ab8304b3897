//! `ciux get image`, `ciux promote` and `ciux explain`: the project image.

use anyhow::{Context, Result, bail};

use super::{
    ExplainArgs, GetImageArgs, ImageOpts, OnRegistryError, PromoteArgs, ReportFormat, print_stdout,
};
use crate::config::Config;
use crate::git::Repo;
use crate::image::{self, ImageDecision, ImageOptions, export_lines, vars};
use crate::registry::{Client, Reference};

fn options(opts: &ImageOpts, check: bool) -> ImageOptions {
    ImageOptions {
        suffix: opts.suffix.clone(),
        tmp_registry: opts.tmp_registry.clone(),
        check,
        on_registry_error: match opts.on_registry_error {
            OnRegistryError::Fail => image::OnRegistryError::Fail,
            OnRegistryError::Build => image::OnRegistryError::Build,
        },
    }
}

fn open(path: &std::path::Path) -> Result<(Repo, Config, Client)> {
    let repo = Repo::discover(path)?;
    let config = Config::load(repo.root())?;
    let client = Client::from_env(&config.insecure_registries);
    Ok((repo, config, client))
}

/// `ciux get image [--check] [--env]`: the URL, or `export` lines to source.
pub(crate) fn get(args: GetImageArgs) -> Result<()> {
    let (repo, config, client) = open(&args.path.path)?;
    let decision = image::resolve(&repo, &config, &options(&args.image, args.check), &client)?;
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
        export_lines(&block)
    } else {
        format!("{}\n", decision.url)
    };
    print_stdout(&text)?;
    Ok(())
}

/// `ciux explain [--format json]`: why the image will or will not be built.
pub(crate) fn explain(args: ExplainArgs) -> Result<()> {
    let (repo, config, client) = open(&args.path.path)?;
    let explained = image::explain(&repo, &config, &options(&args.image, true), &client)?;
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
    let (repo, config, client) = open(&args.path.path)?;
    let decision = image::resolve(&repo, &config, &options(&args.image, true), &client)?;
    let (source, target) = promotion(&decision)?;
    if args.dry_run {
        print_stdout(&format!("would promote {source} to {target}\n"))?;
        return Ok(());
    }
    let digest = client
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

/// What to copy where: the tested image (found, or built into the temporary
/// registry) to the promoted URL.
fn promotion(decision: &ImageDecision) -> Result<(Reference, Reference)> {
    let source = decision.temporary_url.as_deref().unwrap_or(&decision.url);
    let source = Reference::parse(source)?;
    let target = Reference::parse(&decision.promoted_url)?;
    Ok((source, target))
}
