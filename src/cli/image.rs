//! `ciux get image`, `ciux promote` and `ciux explain`: the project image.

use anyhow::{Context, Result, bail};

use super::{
    ExplainArgs, GetImageArgs, ImageOpts, OnRegistryError, PromoteArgs, ReportFormat, print_stdout,
};
use crate::config::Config;
use crate::git::Repo;
use crate::image::{self, ImageDecision, ImageOptions, export_lines, vars};
use crate::registry::{Client, Reference, layout};

/// The library options of `--suffix`, `--tmp-registry`, `--on-registry-error` (ignite uses them too).
pub(crate) fn options(opts: &ImageOpts, check: bool) -> ImageOptions {
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
    let client = Client::from_config(&config);
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
        // Only a project that declares build inputs labels its image with them.
        if config.dependencies.iter().any(|d| d.build_input) {
            block.push((vars::INPUTS, decision.inputs.clone()));
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
        return promote_in_layout(&decision, std::path::Path::new(dir), args.dry_run);
    }
    let (source, target) = promotion(&decision)?;
    if let (true, Some(digest)) = (source == target, &decision.digest) {
        // HEAD's own version is the image found: nothing to copy.
        print_stdout(&format!("{target}@{digest}\n"))?;
        return Ok(());
    }
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
