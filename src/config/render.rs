//! Rendering a [`Config`] as `.ciux.toml` text (used by `ciux migrate`).

use std::fmt::Write;

use super::{Config, DependencyKind};

fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The configuration as `.ciux.toml`, keys in the documented order.
pub(crate) fn render_toml(config: &Config) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = render_into(config, &mut out);
    out
}

fn render_into(config: &Config, out: &mut String) -> std::fmt::Result {
    writeln!(
        out,
        "# ciux configuration; see .ciux.example.toml for every key."
    )?;
    if let Some(project) = &config.project {
        writeln!(out, "project = {}", quote(project))?;
    }
    if let Some(registry) = &config.registry {
        writeln!(out, "registry = {}", quote(registry))?;
    }
    if !config.source_paths.is_empty() {
        writeln!(out, "source_paths = {}", list(&config.source_paths))?;
    }
    if !config.insecure_registries.is_empty() {
        writeln!(
            out,
            "insecure_registries = {}",
            list(&config.insecure_registries)
        )?;
    }
    for (table, command) in [
        ("build", &config.build_command),
        ("deploy", &config.deploy_command),
    ] {
        if let Some(command) = command {
            writeln!(out, "\n[{table}]\ncommand = {}", quote(command))?;
        }
    }
    for dep in &config.dependencies {
        writeln!(out, "\n[[dependencies]]")?;
        match &dep.kind {
            DependencyKind::Git { url } => writeln!(out, "url = {}", quote(url))?,
            DependencyKind::Image { image } => writeln!(out, "image = {}", quote(image))?,
            DependencyKind::Package { module, version } => {
                writeln!(out, "package = {}", quote(&format!("{module}@{version}")))?
            }
        }
        if dep.clone {
            writeln!(out, "clone = true")?;
        }
        if dep.pull {
            writeln!(out, "pull = true")?;
        }
        if dep.build_input {
            writeln!(out, "build_input = true")?;
        }
        if let Some(deploy) = &dep.deploy {
            writeln!(out, "deploy = {}", quote(deploy))?;
        }
        if !dep.labels.is_empty() {
            let pairs: Vec<String> = dep
                .labels
                .iter()
                .map(|(k, v)| format!("{} = {}", bare_or_quoted_key(k), quote(v)))
                .collect();
            writeln!(out, "labels = {{ {} }}", pairs.join(", "))?;
        }
    }
    Ok(())
}

fn bare_or_quoted_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        key.to_owned()
    } else {
        quote(key)
    }
}
