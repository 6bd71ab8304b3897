//! The lock of a resolution, `.ciux.d/ciux.lock`: each repository's URL,
//! branch and commit, each image (with its digest when the registry gave one)
//! and each package. `ciux ignite --lock` writes it; `--locked` checks the
//! siblings out at those commits and fails, naming the component, wherever the
//! resolution differs.
//!
//! Pure: built from a workspace and the commits its checkouts are at, compared
//! with another one. Reading checkouts and moving them is `workspace/locked.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::workspace::{Checkout, NodeKind, Workspace};

/// Version of the lock format.
pub(crate) const LOCK_VERSION: u32 = 1;
/// The lock's file name, in the project's `.ciux.d/`.
pub(crate) const LOCK_FILE: &str = "ciux.lock";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub(crate) version: u32,
    #[serde(default, rename = "repository")]
    pub repositories: Vec<LockedRepo>,
    #[serde(default, rename = "image")]
    pub(crate) images: Vec<LockedImage>,
    #[serde(default, rename = "package")]
    pub(crate) packages: Vec<LockedPackage>,
}

/// The project or a git dependency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedRepo {
    pub name: String,
    /// Without credentials; absent for the project.
    pub url: Option<String>,
    pub branch: Option<String>,
    pub(crate) commit: String,
    /// Not checked out (`clone = false` and absent): only recorded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) remote_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LockedImage {
    pub(crate) name: String,
    pub(crate) digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LockedPackage {
    pub(crate) name: String,
}

#[derive(Debug, Error)]
pub enum LockError {
    #[error("no lock file at {path}: run `ciux ignite --lock` first")]
    Missing { path: PathBuf },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid lock: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path} has lock version {found}; this ciux reads version {LOCK_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error(
        "`{name}` is in the resolution but not in the lock: run `ciux ignite --lock` to update it"
    )]
    NotLocked { name: String },
    #[error(
        "`{name}` is in the lock but no longer in the resolution: run `ciux ignite --lock` to update it"
    )]
    Stale { name: String },
    #[error("`{name}` is at {actual}, the lock says {locked}{hint}")]
    Commit {
        name: String,
        locked: String,
        actual: String,
        hint: &'static str,
    },
    #[error("`{name}` resolves to branch {actual:?}, the lock says {locked:?}")]
    Branch {
        name: String,
        locked: Option<String>,
        actual: Option<String>,
    },
    #[error(
        "the lock pins the digest {digest} of `{name}`, which this build cannot check against the registry yet"
    )]
    Digest { name: String, digest: String },
    #[error("`{name}` has uncommitted changes in {dir}: cannot check out the locked commit")]
    Dirty { name: String, dir: PathBuf },
    #[error("cannot check out `{name}` at {commit} in {dir}: {message}")]
    Checkout {
        name: String,
        commit: String,
        dir: PathBuf,
        message: String,
    },
}

/// Where the lock of the project at `root` lives.
pub(crate) fn lock_path(root: &Path) -> PathBuf {
    root.join(".ciux.d").join(LOCK_FILE)
}

fn on_disk(checkout: Option<Checkout>) -> bool {
    !matches!(checkout, None | Some(Checkout::RemoteOnly))
}

impl Lock {
    /// The lock of `ws`; `heads` holds the commit each checkout is at, by node name.
    pub(crate) fn of(ws: &Workspace, heads: &BTreeMap<String, String>) -> Self {
        let mut lock = Lock {
            version: LOCK_VERSION,
            repositories: Vec::new(),
            images: Vec::new(),
            packages: Vec::new(),
        };
        for node in &ws.nodes {
            match node.kind {
                NodeKind::Project | NodeKind::Git => {
                    let commit = heads.get(&node.name).or(node.remote_commit.as_ref());
                    if let Some(commit) = commit {
                        lock.repositories.push(LockedRepo {
                            name: node.name.clone(),
                            url: node.url.clone(),
                            branch: node.branch.clone(),
                            commit: commit.clone(),
                            remote_only: !on_disk(node.checkout),
                        });
                    }
                }
                NodeKind::Image => lock.images.push(LockedImage {
                    name: node.name.clone(),
                    digest: None,
                }),
                NodeKind::Package => lock.packages.push(LockedPackage {
                    name: node.name.clone(),
                }),
            }
        }
        lock
    }

    /// The lock file's text: a comment, then TOML.
    pub(crate) fn render(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# Written by `ciux ignite --lock`; `ciux ignite --locked` reproduces it.\n\n{body}"
        )
    }

    /// Parse the lock file at `path` from its `text`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, LockError> {
        let lock: Lock = toml::from_str(text).map_err(|e| LockError::Parse {
            path: path.to_path_buf(),
            message: e.message().to_owned(),
        })?;
        if lock.version != LOCK_VERSION {
            return Err(LockError::Version {
                path: path.to_path_buf(),
                found: lock.version,
            });
        }
        Ok(lock)
    }

    /// The locked commit of repository `name`, when it is checked out.
    pub fn commit_of(&self, name: &str) -> Option<&str> {
        self.repositories
            .iter()
            .find(|r| r.name == name && !r.remote_only)
            .map(|r| r.commit.as_str())
    }

    /// Whether `actual` (the lock of a new resolution) reproduces this lock:
    /// same components, same branches, checkouts at the same commits. The
    /// commits of remote-only repositories are not compared: nothing on disk
    /// depends on them. The first difference is the error.
    pub(crate) fn check(&self, actual: &Lock) -> Result<(), LockError> {
        let names = |lock: &Lock| -> BTreeSet<String> {
            let repos = lock.repositories.iter().map(|r| r.name.clone());
            let images = lock.images.iter().map(|i| i.name.clone());
            repos
                .chain(images)
                .chain(lock.packages.iter().map(|p| p.name.clone()))
                .collect()
        };
        let (want, have) = (names(self), names(actual));
        if let Some(name) = have.difference(&want).next() {
            return Err(LockError::NotLocked { name: name.clone() });
        }
        if let Some(name) = want.difference(&have).next() {
            return Err(LockError::Stale { name: name.clone() });
        }
        for image in &self.images {
            if let Some(digest) = &image.digest {
                return Err(LockError::Digest {
                    name: image.name.clone(),
                    digest: digest.clone(),
                });
            }
        }
        for locked in &self.repositories {
            let Some(found) = actual.repositories.iter().find(|r| r.name == locked.name) else {
                return Err(LockError::Stale {
                    name: locked.name.clone(),
                });
            };
            if found.branch != locked.branch {
                return Err(LockError::Branch {
                    name: locked.name.clone(),
                    locked: locked.branch.clone(),
                    actual: found.branch.clone(),
                });
            }
            if !locked.remote_only && !found.remote_only && found.commit != locked.commit {
                return Err(LockError::Commit {
                    name: locked.name.clone(),
                    locked: locked.commit.clone(),
                    actual: found.commit.clone(),
                    hint: "",
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(name: &str, commit: &str) -> LockedRepo {
        LockedRepo {
            name: name.into(),
            url: Some(format!("file:///remotes/{name}.git")),
            branch: Some("main".into()),
            commit: commit.into(),
            remote_only: false,
        }
    }

    fn lock(repos: Vec<LockedRepo>) -> Lock {
        Lock {
            version: LOCK_VERSION,
            repositories: repos,
            images: vec![LockedImage {
                name: "127.0.0.1:9/spark:1".into(),
                digest: None,
            }],
            packages: vec![LockedPackage {
                name: "127.0.0.1:9/x/ktbx@v1".into(),
            }],
        }
    }

    #[test]
    fn renders_and_parses_back() {
        let mut l = lock(vec![repo("app", "aaaa"), repo("lib", "bbbb")]);
        l.repositories[0].url = None;
        l.repositories[1].remote_only = true;
        let text = l.render();
        assert!(text.starts_with("# Written by `ciux ignite --lock`"));
        assert!(text.contains("[[repository]]"), "{text}");
        assert_eq!(Lock::parse(&text, Path::new("ciux.lock")).unwrap(), l);
    }

    #[test]
    fn bad_files_are_named_errors() {
        let path = Path::new("/p/.ciux.d/ciux.lock");
        let err = Lock::parse("version = 2\n", path).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/p/.ciux.d/ciux.lock has lock version 2; this ciux reads version 1"
        );
        let err = Lock::parse("version = 1\nextra = 3\n", path).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/p/.ciux.d/ciux.lock is not a valid lock:"),
            "{err}"
        );
    }

    #[test]
    fn check_names_the_first_difference() {
        let locked = lock(vec![repo("app", "aaaa"), repo("lib", "bbbb")]);
        assert!(locked.check(&locked.clone()).is_ok());

        let moved = lock(vec![repo("app", "aaaa"), repo("lib", "cccc")]);
        let err = locked.check(&moved).unwrap_err();
        assert_eq!(err.to_string(), "`lib` is at cccc, the lock says bbbb");

        let extra = lock(vec![
            repo("app", "aaaa"),
            repo("lib", "bbbb"),
            repo("new", "dddd"),
        ]);
        assert!(
            matches!(locked.check(&extra), Err(LockError::NotLocked { name }) if name == "new")
        );
        let fewer = lock(vec![repo("app", "aaaa")]);
        assert!(matches!(locked.check(&fewer), Err(LockError::Stale { name }) if name == "lib"));

        let mut branch = moved.clone();
        branch.repositories[1].branch = Some("feature".into());
        assert!(matches!(
            locked.check(&branch),
            Err(LockError::Branch { .. })
        ));

        // Remote-only repositories keep their branch but not their commit.
        let mut remote = locked.clone();
        remote.repositories[1].remote_only = true;
        let mut remote_moved = moved.clone();
        remote_moved.repositories[1].remote_only = true;
        assert!(remote.check(&remote_moved).is_ok());

        let mut digest = locked.clone();
        digest.images[0].digest = Some("sha256:00".into());
        assert!(matches!(
            digest.check(&locked),
            Err(LockError::Digest { .. })
        ));
    }
}
