//! A workspace of bare "remotes" reached by `file://` URL and the project with
//! its siblings, for the tests of commands that resolve the dependency graph.

use std::path::{Path, PathBuf};

use super::git::{Repo, git};

/// A temporary tree: `remotes/` holds bare repositories, `ws/` the project and its siblings.
pub struct Stack {
    _tmp: tempfile::TempDir,
    pub remotes: PathBuf,
    pub ws: PathBuf,
}

impl Stack {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let (remotes, ws) = (root.join("remotes"), root.join("ws"));
        std::fs::create_dir_all(&remotes).unwrap();
        std::fs::create_dir_all(&ws).unwrap();
        Self {
            _tmp: tmp,
            remotes,
            ws,
        }
    }

    /// A bare remote `name.git` whose default branch is `first` (tagged v1.0.0),
    /// with one more commit on each of `others`; returns its `file://` URL.
    pub fn remote(&self, name: &str, first: &str, others: &[&str], config: Option<&str>) -> String {
        let mut files = vec![("README", name)];
        if let Some(config) = config {
            files.push((".ciux.toml", config));
        }
        bare_remote(&self.remotes, name, first, &files, others)
    }

    /// Push one more commit to `branch` of remote `name`; returns its id.
    pub fn advance(&self, name: &str, branch: &str) -> String {
        let src = self.remotes.join(format!("{name}-src"));
        let mut repo = Repo {
            dir: src,
            clock: 1_800_000_000,
        };
        repo.git(&["checkout", "-q", branch]);
        let head = repo.commit("more", &[("more", "more")]);
        let bare = self.remotes.join(format!("{name}.git"));
        repo.git(&["push", "-q", bare.to_str().unwrap(), branch]);
        head
    }

    /// The project `proj` in `ws/`, on `branch`, with `config` as `.ciux.toml`.
    pub fn project(&self, branch: &str, config: &str) -> Repo {
        let mut repo = Repo::init(&self.ws.join("proj"));
        repo.git(&["checkout", "-q", "-b", branch]);
        repo.commit(
            "initial",
            &[(".ciux.toml", config), (".gitignore", ".ciux.d/\n")],
        );
        repo
    }
}

/// A bare remote `remotes/name.git` whose default branch is `first`, holding
/// `files` and tagged v1.0.0, with one more commit on each of `others`;
/// returns its `file://` URL.
pub fn bare_remote(
    remotes: &Path,
    name: &str,
    first: &str,
    files: &[(&str, &str)],
    others: &[&str],
) -> String {
    let src = remotes.join(format!("{name}-src"));
    let mut repo = Repo::init(&src);
    repo.git(&["checkout", "-q", "-b", first]);
    repo.commit("initial", files);
    repo.tag("v1.0.0");
    for branch in others {
        repo.git(&["checkout", "-q", "-b", branch, first]);
        repo.commit(&format!("on {branch}"), &[("branch", branch)]);
    }
    repo.git(&["checkout", "-q", first]);
    let bare = remotes.join(format!("{name}.git"));
    git(
        remotes,
        &[
            "clone",
            "-q",
            "--bare",
            src.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    format!("file://{}", bare.display())
}
