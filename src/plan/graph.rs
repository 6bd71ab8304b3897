//! The plan as a picture: Mermaid (renders in GitHub markdown and step
//! summaries) and Graphviz DOT. Waves are ranks; components that must be built
//! are highlighted. Arrows go from a dependency to its dependent, in deploy order.
//!
//! Labels carry names, versions and branches from git, which anyone who can push
//! a branch controls, so every label is escaped and node ids are ours (`n0`,
//! `n1`...), never derived from names.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{Kind, Plan, Step};

/// Fill colour of build-needed nodes.
const BUILD_FILL: &str = "#fde68a";
const BUILD_STROKE: &str = "#b45309";

/// Node ids in deploy order, so the output does not depend on names.
fn ids(plan: &Plan) -> BTreeMap<&str, String> {
    plan.components
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), format!("n{i}")))
        .collect()
}

/// What a node shows: name, version, and whether it is built.
fn label_lines(step: &Step) -> Vec<String> {
    let mut lines = vec![step.name.clone()];
    if let Some(version) = &step.version {
        lines.push(version.clone());
    }
    lines.push(step.action().to_string());
    lines
}

/// A Mermaid `flowchart`, one subgraph per wave.
pub(crate) fn render_mermaid(plan: &Plan, out: &mut impl Write) -> io::Result<()> {
    let ids = ids(plan);
    writeln!(out, "flowchart LR")?;
    for wave in 0..plan.waves.len() {
        writeln!(out, "  subgraph wave_{wave} [\"wave {wave}\"]")?;
        writeln!(out, "    direction TB")?;
        for step in plan.wave(wave) {
            let label = label_lines(step)
                .iter()
                .map(|l| mermaid_escape(l))
                .collect::<Vec<_>>()
                .join("<br/>");
            let (open, close) = match step.kind {
                Kind::Git => ("[\"", "\"]"),
                Kind::Image => ("[(\"", "\")]"),
                Kind::Package => ("{{\"", "\"}}"),
            };
            writeln!(out, "    {}{open}{label}{close}", ids[step.name.as_str()])?;
        }
        writeln!(out, "  end")?;
    }
    for step in &plan.components {
        for dep in &step.depends_on {
            writeln!(
                out,
                "  {} --> {}",
                ids[dep.as_str()],
                ids[step.name.as_str()]
            )?;
        }
    }
    let built: Vec<&str> = plan
        .components
        .iter()
        .filter(|s| s.build)
        .map(|s| ids[s.name.as_str()].as_str())
        .collect();
    if !built.is_empty() {
        writeln!(
            out,
            "  classDef build fill:{BUILD_FILL},stroke:{BUILD_STROKE},stroke-width:2px"
        )?;
        writeln!(out, "  class {} build", built.join(","))?;
    }
    Ok(())
}

/// A Graphviz digraph, one `rank=same` subgraph per wave.
pub(crate) fn render_dot(plan: &Plan, out: &mut impl Write) -> io::Result<()> {
    let ids = ids(plan);
    writeln!(out, "digraph plan {{")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  node [shape=box, fontname=\"sans-serif\"];")?;
    for wave in 0..plan.waves.len() {
        writeln!(out, "  subgraph wave_{wave} {{")?;
        writeln!(out, "    rank=same;")?;
        for step in plan.wave(wave) {
            let label = label_lines(step)
                .iter()
                .map(|l| dot_escape(l))
                .collect::<Vec<_>>()
                .join("\\n");
            let shape = match step.kind {
                Kind::Git => "",
                Kind::Image => ", shape=cylinder",
                Kind::Package => ", shape=hexagon",
            };
            let style = if step.build {
                format!(
                    ", style=\"filled,bold\", fillcolor=\"{BUILD_FILL}\", color=\"{BUILD_STROKE}\""
                )
            } else {
                String::new()
            };
            writeln!(
                out,
                "    {} [label=\"{label}\"{shape}{style}];",
                ids[step.name.as_str()]
            )?;
        }
        writeln!(out, "  }}")?;
    }
    for step in &plan.components {
        for dep in &step.depends_on {
            writeln!(
                out,
                "  {} -> {};",
                ids[dep.as_str()],
                ids[step.name.as_str()]
            )?;
        }
    }
    writeln!(out, "}}")
}

/// Escape text for a quoted Mermaid label: every character outside a small safe
/// set becomes an entity code `#NN;`, so quotes, brackets, `<`, backticks and
/// newlines cannot end the label, the code block or inject HTML.
pub(crate) fn mermaid_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || " .-_/:@+=,".contains(c) {
            escaped.push(c);
        } else {
            escaped.push_str(&format!("#{};", u32::from(c)));
        }
    }
    escaped
}

/// Escape text for a double-quoted DOT string: backslashes and quotes are
/// escaped, control characters (newlines included) become spaces.
pub(crate) fn dot_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            c if c.is_control() => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
}
