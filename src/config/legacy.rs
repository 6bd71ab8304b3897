//! The reference tool's legacy YAML `.ciux`, read into the same raw schema.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::error::{ConfigError, Position};
use super::raw::{RawConfig, RawDependency};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LegacyConfig {
    #[allow(dead_code)]
    api_version: Option<String>,
    project: Option<String>,
    registry: Option<String>,
    /// The reference tool spells it `sourcePathes`; accept the correct spelling too.
    #[serde(default, alias = "sourcePaths")]
    source_pathes: Vec<String>,
    #[serde(default)]
    dependencies: Vec<LegacyDependency>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyDependency {
    url: Option<String>,
    image: Option<String>,
    package: Option<String>,
    clone: Option<bool>,
    pull: Option<bool>,
    #[serde(default)]
    labels: BTreeMap<String, LabelValue>,
}

/// Legacy files write label values as YAML scalars (`itest: true`); they are strings.
#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "a label value: a string, a number or true/false"
)]
enum LabelValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl LabelValue {
    fn into_string(self) -> String {
        match self {
            Self::Bool(b) => b.to_string(),
            Self::Int(i) => i.to_string(),
            Self::Float(f) => f.to_string(),
            Self::Str(s) => s,
        }
    }
}

pub(crate) fn parse_yaml(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
    // An empty file is an empty configuration, as in the reference tool.
    if text.trim().is_empty() {
        return Ok(RawConfig::default());
    }
    let legacy: LegacyConfig = yaml_serde::from_str(text).map_err(|err| {
        let (position, key) = match err.location() {
            Some(loc) => {
                let line = loc.line();
                let key = key_at_line(text, line).unwrap_or_else(|| "(document)".into());
                (
                    Position {
                        line,
                        column: loc.column(),
                    },
                    key,
                )
            }
            None => (Position { line: 1, column: 1 }, "(document)".into()),
        };
        ConfigError::Invalid {
            path: path.to_path_buf(),
            position,
            key,
            message: strip_location(&err.to_string()),
        }
    })?;
    Ok(RawConfig {
        project: legacy.project,
        registry: legacy.registry,
        source_paths: legacy.source_pathes,
        dependencies: legacy
            .dependencies
            .into_iter()
            .map(|d| RawDependency {
                url: d.url,
                image: d.image,
                package: d.package,
                clone: d.clone,
                pull: d.pull,
                labels: d
                    .labels
                    .into_iter()
                    .map(|(k, v)| (k, v.into_string()))
                    .collect(),
                ..RawDependency::default()
            })
            .collect(),
        ..RawConfig::default()
    })
}

/// yaml errors end with " at line L column C" and may start with the key path;
/// we print both ourselves.
fn strip_location(message: &str) -> String {
    let message = match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    match message.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => rest.to_owned(),
        _ => message.to_owned(),
    }
}

/// Key paths in errors use the legacy file's own spelling.
pub(crate) fn legacy_key(key: &str) -> String {
    key.replacen("source_paths", "sourcePathes", 1)
}

/// Where a validation problem's key stands. Key paths use the TOML names;
/// the legacy spelling of `source_paths` is `sourcePathes`.
pub(crate) fn position_of_key(text: &str, key: &str) -> Position {
    let legacy_key = legacy_key(key);
    let lines = key_paths_by_line(text);
    let mut candidate = legacy_key.as_str();
    loop {
        if let Some((line, column, _)) = lines.iter().find(|(_, _, p)| p == candidate) {
            return Position {
                line: *line,
                column: *column,
            };
        }
        match candidate.rfind(['.', '[']) {
            Some(i) => candidate = &candidate[..i],
            None => return Position { line: 1, column: 1 },
        }
    }
}

fn key_at_line(text: &str, line: usize) -> Option<String> {
    key_paths_by_line(text)
        .into_iter()
        .rfind(|(l, _, _)| *l <= line)
        .map(|(_, _, path)| path)
}

/// For block-style YAML, the key path each line opens: `(line, column, path)`.
/// Enough for configuration files; flow style and multi-line scalars are
/// attributed to the key they follow.
fn key_paths_by_line(text: &str) -> Vec<(usize, usize, String)> {
    struct Open {
        indent: usize,
        path: String,
        is_item: bool,
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut seq_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (n, raw_line) in text.lines().enumerate() {
        let content = raw_line.split(" #").next().unwrap_or(raw_line);
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut indent = content.len() - trimmed.len();
        let mut rest = trimmed;
        if let Some(after) = rest
            .strip_prefix("- ")
            .or_else(|| (rest == "-").then_some(""))
        {
            // A sequence item may sit at its parent key's indent (`key:\n- a`).
            while stack
                .last()
                .is_some_and(|o| o.indent > indent || (o.indent == indent && o.is_item))
            {
                stack.pop();
            }
            let parent = stack.last().map(|o| o.path.clone()).unwrap_or_default();
            let counter = seq_index
                .entry(parent.clone())
                .and_modify(|c| *c += 1)
                .or_insert(0);
            let path = format!("{parent}[{counter}]");
            out.push((n + 1, indent + 1, path.clone()));
            stack.push(Open {
                indent,
                path,
                is_item: true,
            });
            let stripped = after.trim_start();
            indent += rest.len() - stripped.len();
            rest = stripped;
        }
        let Some((key, _)) = rest.split_once(':') else {
            continue;
        };
        let key = key.trim().trim_matches(['"', '\'']);
        if key.is_empty() || key.contains(' ') {
            continue;
        }
        while stack.last().is_some_and(|o| o.indent >= indent) {
            stack.pop();
        }
        let parent = stack.last().map(|o| o.path.clone()).unwrap_or_default();
        let path = if parent.is_empty() {
            key.to_owned()
        } else {
            format!("{parent}.{key}")
        };
        // A key opened again (a new item's mapping) restarts its sequence numbering.
        seq_index.remove(&path);
        out.push((n + 1, indent + 1, path.clone()));
        stack.push(Open {
            indent,
            path,
            is_item: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "apiVersion: v1alpha1
registry: r.example/astro
sourcePathes:
  - Dockerfile
  - bin
dependencies:
  - url: https://x/a
    # comment
    clone: true
    labels:
      itest: true
  - image: r/b:1
";

    #[test]
    fn key_paths() {
        let paths: Vec<String> = key_paths_by_line(DOC)
            .into_iter()
            .map(|(_, _, p)| p)
            .collect();
        assert_eq!(
            paths,
            [
                "apiVersion",
                "registry",
                "sourcePathes",
                "sourcePathes[0]",
                "sourcePathes[1]",
                "dependencies",
                "dependencies[0]",
                "dependencies[0].url",
                "dependencies[0].clone",
                "dependencies[0].labels",
                "dependencies[0].labels.itest",
                "dependencies[1]",
                "dependencies[1].image",
            ]
        );
        assert_eq!(
            position_of_key(DOC, "dependencies[1].image"),
            Position {
                line: 12,
                column: 5
            }
        );
        assert_eq!(
            position_of_key(DOC, "source_paths[1]"),
            Position { line: 5, column: 3 }
        );
        assert_eq!(
            position_of_key(DOC, "dependencies[0].pull"),
            Position { line: 7, column: 3 }
        );
    }
}
