//! Git facts ciux needs, read with libgit2: versions (`git describe`),
//! the repository and its state. Clone, fetch and push go through the `git` CLI
//! elsewhere so that CI credential helpers and ssh agents apply.

mod changes;
mod describe;
mod error;
mod graph;
mod repo;
mod tags;

pub use changes::{Window, source_window};
pub use describe::{Describe, describe_commit, describe_head};
pub use error::GitError;
pub use repo::Repo;
pub use tags::{SemverTag, parse_semver_tag};
