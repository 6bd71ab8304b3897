//! The on-disk schema shared by `.ciux.toml` and the legacy YAML, before validation,
//! and the mapping between TOML key paths and their place in the file.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, position_of};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) project: Option<String>,
    pub(crate) registry: Option<String>,
    #[serde(default)]
    pub(crate) source_paths: Vec<String>,
    #[serde(default)]
    pub(crate) insecure_registries: Vec<String>,
    /// CA certificate files (PEM) by registry `host[:port]`.
    #[serde(default)]
    pub(crate) registry_ca: BTreeMap<String, String>,
    pub(crate) registry_timeouts: Option<RawTimeouts>,
    pub(crate) build: Option<RawCommand>,
    pub(crate) deploy: Option<RawCommand>,
    #[serde(default)]
    pub(crate) dependencies: Vec<RawDependency>,
}

/// `[registry_timeouts]`: seconds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTimeouts {
    pub(crate) connect: Option<f64>,
    pub(crate) read: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommand {
    pub(crate) command: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDependency {
    pub(crate) url: Option<String>,
    pub(crate) image: Option<String>,
    pub(crate) package: Option<String>,
    pub(crate) clone: Option<bool>,
    pub(crate) pull: Option<bool>,
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) build_input: Option<bool>,
    pub(crate) deploy: Option<String>,
}

/// Deserialize `.ciux.toml`; syntax and schema errors name the key they concern.
pub(crate) fn parse_toml(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|err| {
        let span = err.span().unwrap_or(0..0);
        ConfigError::Invalid {
            path: path.to_path_buf(),
            position: position_of(text, span.start),
            key: key_at(text, span.start).unwrap_or_else(|| "(document)".to_owned()),
            message: err.message().trim_end().to_owned(),
        }
    })
}

/// The span of the key (for a table entry) or value (for an array item) at
/// `key_path`, written as `a.b[2].c`. The nearest existing ancestor's span is
/// returned when the path itself is absent (a missing key is reported where
/// its table is).
pub(crate) fn span_of_key(text: &str, key_path: &str) -> Option<Range<usize>> {
    let (doc, _) = DeTable::parse_recoverable(text);
    let mut best = None;
    let mut table: &DeTable = doc.get_ref();
    let mut value: Option<&DeValue> = None;
    for segment in split_path(key_path) {
        match segment {
            Segment::Key(key) => {
                let t = match value {
                    None => table,
                    Some(DeValue::Table(t)) => t,
                    Some(_) => return best,
                };
                let (k, v) = t.get_key_value(key)?;
                best = Some(k.span());
                table = t;
                value = Some(v.get_ref());
            }
            Segment::Index(i) => match value {
                Some(DeValue::Array(items)) => {
                    let item = items.get(i)?;
                    best = Some(item.span());
                    value = Some(item.get_ref());
                }
                _ => return best,
            },
        }
    }
    best
}

/// The deepest key path whose key or value span contains `offset`.
pub(crate) fn key_at(text: &str, offset: usize) -> Option<String> {
    // Recoverable parsing still gives the keys of a document with a syntax error.
    let (doc, _) = DeTable::parse_recoverable(text);
    let mut path = String::new();
    walk_table(doc.get_ref(), offset, &mut path);
    (!path.is_empty()).then_some(path)
}

fn walk_table(table: &DeTable, offset: usize, path: &mut String) {
    for (key, value) in table {
        let in_key = key.span().contains(&offset);
        let in_value = value.span().contains(&offset) || value.span().end == offset;
        if in_key || in_value {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key.get_ref());
            if in_value {
                walk_value(value.get_ref(), offset, path);
            }
            return;
        }
    }
    // Array-of-tables headers give their values spans that start at the header;
    // fall back to the last entry that starts before the offset.
    if let Some((key, value)) = table
        .iter()
        .filter(|(_, v)| v.span().start <= offset)
        .max_by_key(|(_, v)| v.span().start)
    {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key.get_ref());
        walk_value(value.get_ref(), offset, path);
    }
}

fn walk_value(value: &DeValue, offset: usize, path: &mut String) {
    match value {
        DeValue::Table(table) => walk_table(table, offset, path),
        DeValue::Array(items) => {
            let found = items
                .iter()
                .enumerate()
                .rfind(|(_, item)| item.span().start <= offset);
            if let Some((i, item)) = found {
                path.push_str(&format!("[{i}]"));
                walk_value(item.get_ref(), offset, path);
            }
        }
        _ => {}
    }
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (name, rest) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            out.push(Segment::Key(name));
        }
        for index in rest.split('[') {
            if let Some(Ok(i)) = index.strip_suffix(']').map(str::parse) {
                out.push(Segment::Index(i));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"project = "p"
source_paths = ["a", "b"]

[[dependencies]]
url = "https://x/y"

[[dependencies]]
image = "r/i:t"
labels = { build = "true" }
"#;

    #[test]
    fn span_of_nested_keys() {
        let span = span_of_key(DOC, "dependencies[1].image").unwrap();
        assert_eq!(&DOC[span], "image");
        let span = span_of_key(DOC, "source_paths[1]").unwrap();
        assert_eq!(&DOC[span], "\"b\"");
        let span = span_of_key(DOC, "dependencies[1].labels.build").unwrap();
        assert_eq!(&DOC[span], "build");
    }

    #[test]
    fn key_at_offsets() {
        let at = |needle: &str| key_at(DOC, DOC.find(needle).unwrap()).unwrap();
        assert_eq!(at("\"b\""), "source_paths[1]");
        assert_eq!(at("url"), "dependencies[0].url");
        assert_eq!(at("\"r/i:t\""), "dependencies[1].image");
    }
}
