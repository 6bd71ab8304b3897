//! The ordered deploy plan: the resolved dependency graph in waves.
//!
//! Pure: a [`Graph`] of plain [`Component`]s and `dependent -> dependency` edges
//! goes in, a [`Plan`] comes out. Wave 0 holds the components with no
//! dependencies; wave N+1 those whose dependencies all sit in waves 0..=N, so a
//! wave may be deployed in parallel once the previous ones are done. Within a
//! wave, components are sorted by name so the output is stable.
//!
//! We write Kahn's algorithm over `BTreeMap`s instead of using a graph crate
//! because a cycle must be reported as the whole path (`a -> b -> c -> a`) and
//! the order must be deterministic.

mod graph;
mod matrix;
mod text;
mod workspace;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub(crate) use graph::{render_dot, render_mermaid};
pub(crate) use matrix::{matrix_of_wave, render_matrix};
pub(crate) use text::render_text;
pub(crate) use workspace::graph_of;

/// Version of the JSON document written by [`Plan::write_json`]; see `docs/plan-schema.md`.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// What a component is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    /// A git repository (the project itself or a git dependency).
    #[default]
    Git,
    /// A container image that is pulled, never built here.
    Image,
    /// A tool package to install (`go install module@version`).
    Package,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Git => "git",
            Kind::Image => "image",
            Kind::Package => "package",
        }
    }
}

/// One node of the resolved graph, as the plan needs it: its name and
/// [`Details`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Component {
    /// Unique name: the repository name, the image reference or the package module.
    pub(crate) name: String,
    #[serde(flatten)]
    pub(crate) details: Details,
}

/// What the plan says of a component besides its name and place: the same in
/// its input ([`Component`]) and its output ([`Step`]). Every field but
/// `kind` may be unknown; unknown values are `null` in JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Details {
    pub(crate) kind: Kind,
    /// `git describe` version, image tag or package version.
    pub(crate) version: Option<String>,
    /// The branch checked out (git components).
    pub(crate) branch: Option<String>,
    /// Why this version and branch were chosen (e.g. "branch absent on remote, used main").
    pub(crate) reason: Option<String>,
    /// Directory of the working tree (git components).
    pub(crate) dir: Option<String>,
    /// The same directory relative to the project's (`.`, `../lib`): siblings
    /// sit at the same place in every job that runs `ignite`, where `dir`,
    /// absolute, only holds in the job that made the plan.
    pub(crate) path: Option<String>,
    /// Image reference to deploy.
    pub(crate) image_url: Option<String>,
    /// Image digest when the registry was asked.
    pub(crate) digest: Option<String>,
    /// Whether CI must build this component's image.
    pub(crate) build: bool,
    /// Its image must already exist and is pulled (image dependencies,
    /// `pull = true` git dependencies).
    #[serde(default)]
    pub(crate) pull: bool,
    /// The registry said it does not have that image (`ignite` fails on it).
    #[serde(default)]
    pub(crate) missing: bool,
    /// Why it is built or skipped (e.g. "image found in registry").
    pub(crate) build_reason: Option<String>,
    /// `[build] command` of its `.ciux.toml`.
    pub(crate) build_command: Option<String>,
    /// `[deploy] command`, or `deploy = "..."` on the dependency entry.
    pub(crate) deploy_command: Option<String>,
}

impl std::ops::Deref for Component {
    type Target = Details;
    fn deref(&self) -> &Details {
        &self.details
    }
}

impl std::ops::DerefMut for Component {
    fn deref_mut(&mut self) -> &mut Details {
        &mut self.details
    }
}

/// The input of [`Plan::new`]: the components of the resolved graph and its edges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Graph {
    /// Name of the main project (one of `components`).
    pub(crate) project: String,
    pub(crate) components: Vec<Component>,
    /// `(dependent, dependency)` pairs: the first needs the second deployed first.
    pub(crate) edges: Vec<(String, String)>,
}

/// A component placed in the plan (its [`Details`] read through `Deref`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Step {
    pub(crate) name: String,
    /// Its wave: 0 for no dependencies, else one more than its latest dependency.
    pub(crate) wave: usize,
    #[serde(flatten)]
    pub(crate) details: Details,
    /// Direct dependencies, sorted by name.
    pub(crate) depends_on: Vec<String>,
}

impl std::ops::Deref for Step {
    type Target = Details;
    fn deref(&self) -> &Details {
        &self.details
    }
}

/// The ordered deploy plan, serialized as the versioned JSON schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Plan {
    /// [`SCHEMA_VERSION`].
    pub(crate) schema: u32,
    /// Name of the main project.
    pub(crate) project: String,
    /// Component names per wave, in deploy order.
    pub(crate) waves: Vec<Vec<String>>,
    /// Every component in deploy order (by wave, then by name).
    pub(crate) components: Vec<Step>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum PlanError {
    #[error("dependency cycle: {}", .path.join(" -> "))]
    Cycle {
        /// The cycle, its first node repeated at the end.
        path: Vec<String>,
    },
    #[error("component `{name}` appears twice in the graph")]
    Duplicate { name: String },
    #[error("the edge `{from} -> {to}` names a component that is not in the graph")]
    UnknownComponent { from: String, to: String },
    #[error("the project `{name}` is not in the graph")]
    NoProject { name: String },
}

impl Step {
    /// What CI does with the component: `build` its image; else `missing`
    /// when an image it must pull is not in the registry; `pull` (image
    /// dependencies, `pull = true` git dependencies), `install` (package) or
    /// `skip` (git).
    pub(crate) fn action(&self) -> &'static str {
        match (self.build, self.missing, self.pull, self.kind) {
            (true, ..) => "build",
            (false, true, ..) => "missing",
            (false, false, true, _) | (false, false, false, Kind::Image) => "pull",
            (false, false, false, Kind::Package) => "install",
            (false, false, false, Kind::Git) => "skip",
        }
    }
}

impl Plan {
    /// Order `graph` into waves, or report the first cycle found.
    pub(crate) fn new(graph: Graph) -> Result<Self, PlanError> {
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut by_name: BTreeMap<String, Component> = BTreeMap::new();
        for component in graph.components {
            if by_name.contains_key(&component.name) {
                return Err(PlanError::Duplicate {
                    name: component.name,
                });
            }
            deps.insert(component.name.clone(), BTreeSet::new());
            by_name.insert(component.name.clone(), component);
        }
        if !by_name.contains_key(&graph.project) {
            return Err(PlanError::NoProject {
                name: graph.project,
            });
        }
        for (from, to) in graph.edges {
            match deps.get_mut(&from) {
                Some(set) if by_name.contains_key(&to) => set.insert(to),
                _ => return Err(PlanError::UnknownComponent { from, to }),
            };
        }
        let waves = waves(&deps)?;
        let mut components = Vec::with_capacity(by_name.len());
        for (wave, names) in waves.iter().enumerate() {
            for name in names {
                let Some(c) = by_name.remove(name) else {
                    continue;
                };
                let depends_on = deps
                    .get(name)
                    .map(|d| d.iter().cloned().collect())
                    .unwrap_or_default();
                components.push(Step {
                    name: c.name,
                    wave,
                    details: c.details,
                    depends_on,
                });
            }
        }
        Ok(Plan {
            schema: SCHEMA_VERSION,
            project: graph.project,
            waves,
            components,
        })
    }

    /// The main project's step.
    pub(crate) fn project_step(&self) -> Option<&Step> {
        self.components.iter().find(|s| s.name == self.project)
    }

    /// Steps of wave `wave`, by name.
    pub(crate) fn wave(&self, wave: usize) -> impl Iterator<Item = &Step> {
        self.components.iter().filter(move |s| s.wave == wave)
    }

    /// The JSON document (pretty, with a final newline).
    pub(crate) fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }

    /// The JSON document on one line (for `$GITHUB_OUTPUT`).
    pub(crate) fn to_compact_json(&self) -> String {
        // Serializing plain strings, numbers and booleans into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Kahn's algorithm, level by level: each round takes every node whose remaining
/// dependencies are all placed. Nodes left over when a round is empty are on or
/// behind a cycle.
fn waves(deps: &BTreeMap<String, BTreeSet<String>>) -> Result<Vec<Vec<String>>, PlanError> {
    let mut remaining: BTreeMap<&str, usize> =
        deps.iter().map(|(n, d)| (n.as_str(), d.len())).collect();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, ds) in deps {
        for d in ds {
            dependents
                .entry(d.as_str())
                .or_default()
                .push(name.as_str());
        }
    }
    let mut waves = Vec::new();
    let mut ready: Vec<&str> = remaining
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(k, _)| *k)
        .collect();
    while !ready.is_empty() {
        for name in &ready {
            remaining.remove(name);
        }
        let mut next = BTreeSet::new();
        for name in &ready {
            for dependent in dependents.get(name).into_iter().flatten() {
                if let Some(count) = remaining.get_mut(dependent) {
                    *count -= 1;
                    if *count == 0 {
                        next.insert(*dependent);
                    }
                }
            }
        }
        waves.push(ready.iter().map(|s| s.to_string()).collect());
        ready = next.into_iter().collect();
    }
    if remaining.is_empty() {
        Ok(waves)
    } else {
        Err(PlanError::Cycle {
            path: find_cycle(deps, &remaining),
        })
    }
}

/// A cycle among the nodes Kahn could not place. Each of them still has an
/// unplaced dependency, so following the smallest one from the smallest node
/// must come back to a node already on the path.
fn find_cycle(
    deps: &BTreeMap<String, BTreeSet<String>>,
    left: &BTreeMap<&str, usize>,
) -> Vec<String> {
    let mut path: Vec<&str> = Vec::new();
    let mut current = left.keys().next().copied();
    while let Some(node) = current {
        if let Some(start) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return cycle;
        }
        path.push(node);
        current = deps
            .get(node)
            .and_then(|d| d.iter().find(|d| left.contains_key(d.as_str())))
            .map(String::as_str);
    }
    path.into_iter().map(str::to_string).collect()
}

#[cfg(test)]
pub(crate) mod tests;
