//! Emitters: the env file for shells (`sh`), dotenv and JSON (the GitHub
//! Actions files are [`crate::github`]'s). Each writes to `&mut impl Write`; the CLI picks the destination and
//! writes files atomically.
//!
//! An [`Env`] is an ordered list of variables and comment lines. Values are any
//! text: each emitter quotes them so that the consumer gets back the exact bytes
//! and nothing in a value is ever executed or interpreted.

mod env;
pub mod names;
mod shell;

use std::io;

use serde::Serialize;
use thiserror::Error;

pub(crate) use env::build_env;
pub(crate) use shell::{quote_word, render_dotenv, render_sh};

/// One line of an env file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub(crate) enum Entry {
    /// A `# ...` line (shell and dotenv only).
    Comment(String),
    Var {
        name: String,
        value: String,
    },
}

/// Variables in the order they are written, with comment lines between them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Env {
    pub(crate) entries: Vec<Entry>,
}

impl Env {
    pub(crate) fn comment(&mut self, text: impl Into<String>) {
        self.entries.push(Entry::Comment(text.into()));
    }

    pub(crate) fn var(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.push(Entry::Var {
            name: name.into(),
            value: value.into(),
        });
    }

    /// The variables, without comments, in order.
    pub(crate) fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Var { name, value } => Some((name.as_str(), value.as_str())),
            Entry::Comment(_) => None,
        })
    }

    /// The variables as a JSON object (name → value).
    pub(crate) fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        self.vars()
            .map(|(n, v)| (n.to_owned(), serde_json::Value::String(v.to_owned())))
            .collect()
    }
}

/// Why an env file cannot be written.
#[derive(Debug, Error)]
pub(crate) enum EmitError {
    /// A shell variable cannot hold a NUL byte.
    #[error("the value of {name} holds a NUL byte, which no shell variable can hold")]
    Nul { name: String },
    /// Two repositories or images map to the same variable name.
    #[error("{name} would be set for both {first} and {second}; rename one of them")]
    NameClash {
        name: String,
        first: String,
        second: String,
    },
}

/// Write `value` as pretty JSON followed by a newline.
pub(crate) fn write_json(value: &impl Serialize, out: &mut impl io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")
}

/// Directory of the env files inside the project.
pub(crate) const ENV_DIR: &str = ".ciux.d";

/// The env file for `selector`: `$CIUXCONFIG` when set (passed as `override_path`),
/// else `<root>/.ciux.d/ciux[_<selector as file name>].sh`.
pub(crate) fn env_file_path(
    root: &std::path::Path,
    selector: &crate::selector::Selector,
    override_path: Option<std::path::PathBuf>,
) -> std::path::PathBuf {
    match override_path.filter(|p| !p.as_os_str().is_empty()) {
        Some(path) => path,
        None => root
            .join(ENV_DIR)
            .join(format!("ciux{}.sh", selector.file_suffix())),
    }
}
