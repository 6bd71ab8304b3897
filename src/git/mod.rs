//! Git facts ciux needs, read with libgit2: versions (`git describe`),
//! the repository and its state, a remote's branches. Clone, fetch and checkout
//! go through the `git` CLI ([`clone`]) so that CI credential helpers and ssh
//! agents apply.

mod changes;
pub(crate) mod cli;
pub(crate) mod clone;
mod commit_graph;
mod describe;
mod error;
mod history;
mod pack;
pub(crate) mod remote;
mod repo;
mod status;
mod tags;
#[cfg(test)]
mod testing;

pub(crate) use changes::Window;
pub use describe::Describe;
pub use describe::Describer;
pub use describe::describe_commit;
pub(crate) use describe::describe_head;
pub use error::GitError;
pub use error::Libgit2;
pub use repo::Repo;
pub(crate) use status::tracked_changes;
pub use tags::SemverTag;
pub use tags::parse_semver_tag;
