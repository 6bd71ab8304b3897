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
pub(crate) fn render_text(plan: &Plan, out: &mut impl Write) -> io::Result<()> {
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

/// Control characters (terminal escapes, newlines) and bidirectional
/// overrides from git values are shown escaped, so a branch name can neither
/// rewrite the terminal, fake a line, nor reorder what is displayed.
pub(crate) fn printable(text: &str) -> String {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    text.chars()
        .map(|c| {
            if hidden(c) {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn printable_escapes_controls_and_bidi_overrides() {
        assert_eq!(
            super::printable("a\nb\u{1b}[2J\u{202e}c é"),
            r"a\nb\u{1b}[2J\u{202e}c é"
        );
    }
}
