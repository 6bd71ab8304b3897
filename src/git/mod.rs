//! Git facts ciux needs, read with libgit2: versions (`git describe`),
//! the repository and its state, a remote's branches. Clone, fetch and checkout
//! go through the `git` CLI ([`clone`]) so that CI credential helpers and ssh
//! agents apply.

mod changes;
pub mod cli;
pub mod clone;
mod commit_graph;
mod describe;
mod error;
mod history;
pub mod remote;
mod repo;
mod tags;

pub use changes::{Window, source_window};
pub use describe::{Describe, describe_commit, describe_head};
pub use error::{GitError, Libgit2};
pub use repo::Repo;
pub use tags::{SemverTag, parse_semver_tag};
