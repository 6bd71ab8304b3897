//! The markdown step summary: a table of components (version, branch, image,
//! build/skip and why) and the Mermaid graph, which GitHub renders.

use std::io::{self, Write};

use crate::plan::{Plan, render_mermaid};

/// Write the summary of `plan` under the heading `title` (e.g. `ciux ignite`).
pub(crate) fn write_summary(plan: &Plan, title: &str, out: &mut impl Write) -> io::Result<()> {
    let components = plan.components.len();
    let built = plan.components.iter().filter(|s| s.build).count();
    writeln!(
        out,
        "### {}: {}",
        markdown_escape(title),
        markdown_escape(&plan.project)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{components} component(s) in {} wave(s); {built} image(s) to build.",
        plan.waves.len()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| wave | component | kind | version | branch | image | action | why |"
    )?;
    writeln!(out, "| ---: | --- | --- | --- | --- | --- | --- | --- |")?;
    for step in &plan.components {
        let cell = |v: &Option<String>| v.as_deref().map(markdown_escape).unwrap_or_default();
        let branch = match (&step.branch, &step.reason) {
            (Some(b), Some(r)) => format!("{} ({})", markdown_escape(b), markdown_escape(r)),
            (b, _) => cell(b),
        };
        let image = match (&step.image_url, &step.digest) {
            (Some(url), Some(digest)) => {
                format!("{}<br>{}", markdown_escape(url), markdown_escape(digest))
            }
            (url, _) => cell(url),
        };
        let action = if step.build {
            format!("**{}**", step.action())
        } else {
            step.action().to_string()
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {branch} | {image} | {action} | {} |",
            step.wave,
            markdown_escape(&step.name),
            step.kind.as_str(),
            cell(&step.version),
            cell(&step.build_reason),
        )?;
    }
    writeln!(out)?;
    writeln!(out, "```mermaid")?;
    render_mermaid(plan, out)?;
    writeln!(out, "```")?;
    writeln!(out)
}

/// Escape text for markdown (table cells included): every character outside
/// letters, digits and ` .-/,+=` becomes a numeric HTML entity. That covers
/// `|` (cell breaks), `<` `&` (HTML), backticks, `*` `_` `[` `]` `!` (markup),
/// `@` (mentions), `:` (autolinks) and newlines (which would end the row).
pub(crate) fn markdown_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || " .-/,+=".contains(c) {
            escaped.push(c);
        } else {
            escaped.push_str(&format!("&#{};", u32::from(c)));
        }
    }
    escaped
}
