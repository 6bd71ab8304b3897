//! Declarative repository recipes (`fixtures/repos/*.toml`): a list of steps
//! that build a real repository with pinned dates, so its hashes are stable.
//!
//! ```toml
//! [[step]]
//! commit = "initial"
//! files = { "src/main.c" = "int main;" }
//! [[step]]
//! tag = "v1.0.0"          # annotated
//! [[step]]
//! lightweight = "latest"
//! [[step]]
//! branch = "feature"      # create and check out
//! [[step]]
//! checkout = "main"
//! [[step]]
//! merge = "feature"
//! [[step]]
//! clock = 1704067200      # set the clock (out-of-order dates)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::git::Repo;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recipe {
    #[serde(default)]
    step: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    commit: Option<String>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    tag: Option<String>,
    lightweight: Option<String>,
    branch: Option<String>,
    checkout: Option<String>,
    merge: Option<String>,
    clock: Option<i64>,
}

/// The path of a recipe in `fixtures/repos/`.
pub fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/repos")
        .join(format!("{name}.toml"))
}

/// Build the repository of recipe `name` at `dir`.
pub fn build(name: &str, dir: &Path) -> Repo {
    let text = std::fs::read_to_string(path(name)).expect("recipe exists");
    let recipe: Recipe = toml::from_str(&text).expect("recipe parses");
    let mut repo = Repo::init(dir);
    for step in recipe.step {
        if let Some(clock) = step.clock {
            repo.clock = clock;
        }
        if let Some(message) = &step.commit {
            let files: Vec<(&str, &str)> = step
                .files
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            repo.commit(message, &files);
        }
        if let Some(name) = &step.branch {
            repo.git(&["checkout", "-q", "-b", name]);
        }
        if let Some(name) = &step.checkout {
            repo.git(&["checkout", "-q", name]);
        }
        if let Some(name) = &step.merge {
            repo.git(&["merge", "-q", "--no-ff", "--no-edit", name]);
        }
        if let Some(name) = &step.tag {
            repo.tag(name);
        }
        if let Some(name) = &step.lightweight {
            repo.lightweight_tag(name);
        }
    }
    repo
}
