//! The source-change window: the first-parent commits from HEAD back to the
//! latest commit that changed any source path.
//!
//! Every commit of the window holds the same source, so an image built from any
//! of them is an image of HEAD's source. Changes are found by comparing the tree
//! entry ids of the source paths between a commit and its first parent: one
//! lookup per path and commit, no diff and no patch, and no sort of the history
//! (a first-parent walk is a linked-list walk). Parents and root trees come from
//! git's commit-graph file when there is one, as for `git log`.

use git2::Oid;

use super::history::History;
use super::{GitError, Repo};

/// The commits whose source equals HEAD's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    /// HEAD first, then its first parents, down to [`Window::last_change`] included.
    pub(crate) commits: Vec<Oid>,
    /// The id of each source path's tree entry at HEAD (`None`: the path does not exist).
    pub(crate) entries: Vec<(String, Option<Oid>)>,
}

impl Window {
    /// HEAD.
    pub(crate) fn head(&self) -> Oid {
        self.commits[0]
    }

    /// The latest commit that changed a source path (the oldest of the window).
    pub(crate) fn last_change(&self) -> Oid {
        self.commits[self.commits.len() - 1]
    }
}

/// Walk first parents from HEAD while the source paths' tree entries stay the same.
///
/// An empty `paths` means the whole repository (`.`), as does a path `.`. A root
/// commit ends the window (it introduced the paths); in a shallow clone, reaching
/// the cut is an error, since the true last change may lie beyond it.
#[cfg(test)]
pub(crate) fn source_window(repo: &Repo, paths: &[String]) -> Result<Window, GitError> {
    window_in(repo, &mut History::new(repo)?, paths)
}

/// [`source_window`] through an open [`History`] (its commit graph, its ids).
pub(crate) fn window_in(
    repo: &Repo,
    history: &mut History<'_>,
    paths: &[String],
) -> Result<Window, GitError> {
    let paths: Vec<String> = if paths.is_empty() {
        vec![".".to_owned()]
    } else {
        paths.to_vec()
    };
    let head = repo.head_id()?;
    let head_id = history.id(head);
    let (head_tree, mut parent) = history.tree_and_first_parent(head_id)?;
    let head_entries = entries_of(repo, history.odb(), head_tree, &paths)?;
    let mut commits = vec![head];
    while let Some(id) = parent {
        let (tree, next) = match history.tree_and_first_parent(id) {
            // Beyond a shallow clone's cut, parents are missing.
            Err(_) if repo.is_shallow() => (Oid::ZERO_SHA1, None),
            other => other?,
        };
        if tree.is_zero() {
            parent = None;
            break;
        }
        // Equal root trees hold equal entries: no tree to read.
        if tree != head_tree && entries_of(repo, history.odb(), tree, &paths)? != head_entries {
            break;
        }
        commits.push(history.oid(id).unwrap_or(Oid::ZERO_SHA1));
        parent = next;
    }
    if parent.is_none() && repo.is_shallow() {
        return Err(GitError::Shallow {
            path: repo.root().to_path_buf(),
        });
    }
    Ok(Window {
        commits,
        entries: paths.into_iter().zip(head_entries).collect(),
    })
}

/// The tree entry id of each path in root tree `tree` (`None` when absent).
///
/// Trees are read raw from the object database and scanned for the one name
/// needed at each level: no tree object is parsed or cached, which halves the
/// cost of a long walk.
fn entries_of(
    repo: &Repo,
    odb: &git2::Odb<'_>,
    tree: Oid,
    paths: &[String],
) -> Result<Vec<Option<Oid>>, GitError> {
    paths
        .iter()
        .map(|path| {
            let mut id = tree;
            for name in path.split('/').filter(|c| *c != ".") {
                let object = odb.read(id).map_err(|source| {
                    repo.error(format!("cannot read tree {id} for `{path}`"), source)
                })?;
                if object.kind() != git2::ObjectType::Tree {
                    return Ok(None);
                }
                match find_entry(object.data(), name.as_bytes()) {
                    Some(found) => id = found,
                    None => return Ok(None),
                }
            }
            Ok(Some(id))
        })
        .collect()
}

/// The id of entry `name` in a raw tree (`<mode> <name>\0<20-byte id>` repeated).
fn find_entry(mut data: &[u8], name: &[u8]) -> Option<Oid> {
    while !data.is_empty() {
        let space = data.iter().position(|&b| b == b' ')?;
        let nul = space + data[space..].iter().position(|&b| b == 0)?;
        let id = data.get(nul + 1..nul + 21)?;
        if &data[space + 1..nul] == name {
            return Oid::from_bytes(id).ok();
        }
        data = &data[nul + 21..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::git_at as git;

    fn commit(dir: &std::path::Path, file: &str, content: &str, date: i64) {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        git(dir, &["add", "-A"], date);
        git(dir, &["commit", "-q", "-m", file], date);
    }

    #[test]
    fn window_stops_at_the_last_source_change() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"], 0);
        commit(dir, "src/a", "1", 1);
        commit(dir, "src/a", "2", 2);
        commit(dir, "docs/x", "1", 3);
        commit(dir, "docs/x", "2", 4);
        let repo = Repo::discover(dir).unwrap();
        let window = source_window(&repo, &["src".into()]).unwrap();
        assert_eq!(window.commits.len(), 3);
        let whole = source_window(&repo, &[]).unwrap();
        assert_eq!(whole.commits.len(), 1);
        let absent = source_window(&repo, &["nope".into()]).unwrap();
        assert_eq!(
            absent.commits.len(),
            4,
            "a path that never existed never changed"
        );
        assert_eq!(absent.entries, vec![("nope".to_owned(), None)]);
        let nested = source_window(&repo, &["src/a".into(), "src/a/under-a-file".into()]).unwrap();
        assert_eq!(nested.commits.len(), 3);
        let blob = repo.git().revparse_single("HEAD:src/a").unwrap().id();
        assert_eq!(nested.entries[0].1, Some(blob));
        assert_eq!(nested.entries[1].1, None);
    }
}
