//! The plan for people: one aligned line per component, grouped by wave.

use std::io::{self, Write};

use super::Plan;

/// Text layout:
///
/// ```text
/// plan for app: 3 components in 2 waves
/// wave 0
///   lib  git  v1.0.0  main  skip (image found)
/// wave 1
///   app  git  v2.0.0-3-gabcdef0  main  build (source changed)
///     deploy: ./deploy.sh
/// ```
pub fn render_text(plan: &Plan, out: &mut impl Write) -> io::Result<()> {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    writeln!(
        out,
        "plan for {}: {} in {}",
        printable(&plan.project),
        plural(plan.components.len(), "component"),
        plural(plan.waves.len(), "wave")
    )?;
    let rows: Vec<[String; 5]> = plan
        .components
        .iter()
        .map(|s| {
            [
                printable(&s.name),
                s.kind.as_str().to_string(),
                printable(s.version.as_deref().unwrap_or("-")),
                printable(s.branch.as_deref().unwrap_or("-")),
                match &s.build_reason {
                    Some(why) => format!("{} ({})", s.action(), printable(why)),
                    None => s.action().to_string(),
                },
            ]
        })
        .collect();
    let mut widths = [0usize; 4];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut wave = usize::MAX;
    for (step, row) in plan.components.iter().zip(&rows) {
        if step.wave != wave {
            wave = step.wave;
            writeln!(out, "wave {wave}")?;
        }
        let mut line = String::from(" ");
        for (cell, width) in row.iter().zip(widths) {
            line.push_str(&format!(" {cell:<width$} "));
        }
        line.push(' ');
        line.push_str(&row[4]);
        writeln!(out, "{}", line.trim_end())?;
        if let Some(command) = &step.deploy_command {
            writeln!(out, "    deploy: {}", printable(command))?;
        }
    }
    Ok(())
}

/// Control characters (terminal escapes, newlines) from git values are shown
/// escaped so a branch name cannot rewrite the terminal or fake a line.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
