//! `ciux image load` and `ciux image cleanup`: the local container engine.

use anyhow::Result;

use super::{ImageCleanupArgs, ImageCommand, ImageLoadArgs, print_stdout};
use crate::emit::quote_word;
use crate::engine::cleanup::{self, format_age};
use crate::engine::load::{self, LoadOutcome, LoadRequest};
use crate::engine::{Engine, EngineError};

pub(crate) fn run(command: ImageCommand) -> Result<()> {
    match command {
        ImageCommand::Load(args) => load(args),
        ImageCommand::Cleanup(args) => cleanup(args),
    }
}

fn load(args: ImageLoadArgs) -> Result<()> {
    let request = LoadRequest {
        runner: args.runner,
        image_url: args.image_url,
        build_status: args.build_status,
        artifact: args.artifact_path,
        kind_cluster: args.kind_cluster,
    };
    let url = quote_word(&request.image_url);
    let mut engine_name = String::new();
    let outcome = load::load(
        &request,
        || {
            let engine = Engine::detect()?;
            engine_name = engine.name.clone();
            Ok::<_, EngineError>(engine)
        },
        None,
    )?;
    let mut text = String::new();
    let kind_line = |cluster: &Option<String>| {
        cluster
            .as_ref()
            .map(|c| format!("loaded {url} into kind cluster {}\n", quote_word(c)))
            .unwrap_or_default()
    };
    match &outcome {
        LoadOutcome::Remote => {
            text.push_str(&format!(
                "using the remote image {url}: it was not built here (build status {}), nothing to load\n",
                quote_word(&request.build_status)
            ));
        }
        LoadOutcome::Present { kind_loaded } => {
            text.push_str(&format!(
                "self-hosted runner: {url} is in the local {engine_name} engine\n"
            ));
            text.push_str(&kind_line(kind_loaded));
        }
        LoadOutcome::Loaded {
            format,
            loaded,
            tagged_from,
            kind_loaded,
        } => {
            let names: Vec<String> = loaded.iter().map(|n| quote_word(n)).collect();
            text.push_str(&format!(
                "loaded {} ({}) into {engine_name}: {}\n",
                quote_word(&request.artifact.to_string_lossy()),
                format.as_str(),
                if names.is_empty() {
                    "no name reported".to_owned()
                } else {
                    names.join(", ")
                }
            ));
            if let Some(from) = tagged_from {
                text.push_str(&format!("tagged {} as {url}\n", quote_word(from)));
            }
            text.push_str(&kind_line(kind_loaded));
        }
    }
    print_stdout(&text)?;
    Ok(())
}

fn cleanup(args: ImageCleanupArgs) -> Result<()> {
    let max_age = cleanup::parse_age(&args.max_age)?;
    let engine = Engine::detect()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let selection = cleanup::cleanup(&engine, &args.pattern, max_age, args.dry_run, now)?;
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let mut text = String::new();
    for image in &selection.remove {
        text.push_str(&format!(
            "{verb} {} ({} old)\n",
            quote_word(&image.name),
            format_age(image.age_seconds)
        ));
    }
    for image in &selection.dangling {
        text.push_str(&format!(
            "{verb} dangling {} ({} old)\n",
            quote_word(&image.id),
            format_age(image.age_seconds)
        ));
    }
    for image in &selection.keep {
        text.push_str(&format!(
            "kept {} ({} old, younger than {})\n",
            quote_word(&image.name),
            format_age(image.age_seconds),
            quote_word(&args.max_age)
        ));
    }
    text.push_str(&format!(
        "{} {} matching {} and {} dangling; {} kept\n",
        verb,
        selection.remove.len(),
        quote_word(&args.pattern),
        selection.dangling.len(),
        selection.keep.len()
    ));
    print_stdout(&text)?;
    Ok(())
}
