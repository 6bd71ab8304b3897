//! `git describe --always --abbrev=7 --dirty`, restricted to annotated semver tags.
//!
//! The walk follows git's `builtin/describe.c` step by step, because its answer
//! on merge-heavy histories depends on the details: commits are visited in
//! committer-date order (ties first-in, first-out), up to ten candidate tags are
//! collected, each candidate's depth counts the visited commits it cannot reach,
//! the search stops early only when the last path is covered by all the best
//! candidates (as git 2.47 and later do), and the best candidate's depth is
//! finished off once every commit left to visit is reachable from it. The walk is generic over [`CommitGraph`] so it can
//! be checked on literal graphs as well as against the `git` CLI.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use git2::Oid;
use serde::Serialize;

use super::history::{History, IdSet};
use super::{GitError, Repo, parse_semver_tag};

/// Candidate tags git keeps before giving up (`--candidates`, default 10).
const MAX_CANDIDATES: usize = 10;
/// Minimum abbreviation length (`--abbrev=7`).
const ABBREV: usize = 7;
const SEEN: u32 = 1;

/// A described commit: the parts of `TAG-N-gABBREV[-dirty]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Describe {
    /// The nearest tag, if any reachable annotated semver tag exists.
    pub(crate) tag: Option<String>,
    /// Commits reachable from the described commit and not from the tag.
    pub(crate) distance: u64,
    /// Full id of the described commit.
    pub(crate) commit: String,
    /// Shortest unique abbreviation, at least 7 digits.
    pub(crate) abbrev: String,
    pub(crate) dirty: bool,
}

impl std::fmt::Display for Describe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.tag {
            Some(tag) if self.distance == 0 => write!(f, "{tag}")?,
            Some(tag) => write!(f, "{tag}-{}-g{}", self.distance, self.abbrev)?,
            None => write!(f, "{}", self.abbrev)?,
        }
        if self.dirty {
            write!(f, "-dirty")?;
        }
        Ok(())
    }
}

/// Describe HEAD, with `-dirty` when tracked files changed.
pub(crate) fn describe_head(repo: &Repo) -> Result<Describe, GitError> {
    Describer::new(repo)?.describe_head()
}

/// Describe one commit (never dirty). Fails on a shallow clone unless the commit
/// is itself tagged, since cut history would give a wrong distance.
pub fn describe_commit(repo: &Repo, commit: Oid) -> Result<Describe, GitError> {
    Describer::new(repo)?.describe(commit)
}

/// A version tag of the repository: its name and the commit it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionTag {
    pub(crate) name: String,
    pub(crate) commit: Oid,
    /// Annotated (a tag object): only those are `git describe` candidates.
    pub(crate) annotated: bool,
}

/// Describes any number of commits of one repository: the tags are listed once
/// and the commit graph opened (memory-mapped) once, then reused for HEAD, the
/// source-change window and every registry candidate of a run.
pub struct Describer<'r> {
    repo: &'r Repo,
    history: History<'r>,
    /// Semver tags (annotated and lightweight), in ref-name order.
    tags: Vec<VersionTag>,
    /// The describe name of each commit an annotated semver tag names.
    names: HashMap<Oid, String>,
    /// The commits of [`Describer::names`] by dense history id.
    named_ids: IdSet,
}

impl std::fmt::Debug for Describer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Describer")
            .field("repo", &self.repo.root())
            .field("tags", &self.tags.len())
            .finish()
    }
}

impl<'r> Describer<'r> {
    /// List the tags and open the history of `repo`.
    pub fn new(repo: &'r Repo) -> Result<Self, GitError> {
        let tags = version_tags(repo)?;
        let names = describe_names(repo, &tags)?;
        Ok(Self {
            repo,
            history: History::new(repo)?,
            tags,
            names,
            named_ids: IdSet::default(),
        })
    }

    /// The semver tags of the repository (annotated and lightweight), listed once.
    pub(crate) fn tags(&self) -> &[VersionTag] {
        &self.tags
    }

    /// Describe HEAD, with `-dirty` when tracked files changed.
    ///
    /// The work-tree status (a `stat` of every tracked file) is read on a
    /// second thread while the walk runs: the two are independent, and on a
    /// large work tree each is a good part of the time.
    pub(crate) fn describe_head(&mut self) -> Result<Describe, GitError> {
        let head = self.repo.head_id()?;
        let other = self.repo.reopen()?;
        let (described, dirty) = std::thread::scope(|scope| {
            let dirty = scope.spawn(move || other.is_dirty());
            let described = self.describe(head);
            let dirty = dirty
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (described, dirty)
        });
        let mut described = described?;
        described.dirty = dirty?;
        Ok(described)
    }

    /// Describe one commit (never dirty). Fails on a shallow clone unless the
    /// commit is itself tagged, since cut history would give a wrong distance.
    pub fn describe(&mut self, commit: Oid) -> Result<Describe, GitError> {
        let (tag, distance) = if let Some(name) = self.names.get(&commit) {
            (Some(name.clone()), 0)
        } else {
            if self.repo.is_shallow() {
                return Err(GitError::Shallow {
                    path: self.repo.root().to_path_buf(),
                });
            }
            self.assign_named_ids();
            let start = self.history.id(commit);
            let named = &self.named_ids;
            match walk(&mut self.history, start, &|id| named.contains(&id))? {
                Some((tagged, depth)) => {
                    let name = self
                        .history
                        .oid(tagged)
                        .and_then(|oid| self.names.get(&oid))
                        .cloned();
                    (name, depth)
                }
                None => (None, 0),
            }
        };
        Ok(Describe {
            tag,
            distance,
            commit: commit.to_string(),
            abbrev: abbreviate(self.repo, self.history.odb(), commit, ABBREV)?,
            dirty: false,
        })
    }

    /// The source-change window of HEAD ([`super::source_window`]), read
    /// through the same commit graph.
    pub(crate) fn source_window(&mut self, paths: &[String]) -> Result<super::Window, GitError> {
        super::changes::window_in(self.repo, &mut self.history, paths)
    }

    /// Give every tagged commit its dense id, once (ids never change).
    fn assign_named_ids(&mut self) {
        if self.named_ids.len() == self.names.len() {
            return;
        }
        for oid in self.names.keys() {
            let id = self.history.id(*oid);
            self.named_ids.insert(id);
        }
    }
}

/// The shortest unique abbreviation of `id`, at least `min` hex digits, as
/// `git rev-parse --short=<min>` computes it (all objects count).
fn abbreviate(repo: &Repo, odb: &git2::Odb<'_>, id: Oid, min: usize) -> Result<String, GitError> {
    let hex = id.to_string();
    for len in min..hex.len() {
        match odb.exists_prefix(id, len) {
            Ok(_) => return Ok(hex[..len].to_owned()),
            Err(e) if e.code() == git2::ErrorCode::Ambiguous => continue,
            Err(source) => return Err(repo.error("cannot abbreviate a commit id", source)),
        }
    }
    Ok(hex)
}

/// The semver tags, in ref-name order, with the commit each names. The peeled
/// value packed-refs records (as `git pack-refs` writes it) is used when there
/// is one, so that listing 500 packed tags reads no tag object, as in git.
fn version_tags(repo: &Repo) -> Result<Vec<VersionTag>, GitError> {
    let git = repo.git();
    let refs = git
        .references_glob("refs/tags/*")
        .map_err(|source| repo.error("cannot list tags", source))?;
    let mut out = Vec::new();
    for reference in refs {
        let reference = reference.map_err(|source| repo.error("cannot read a tag", source))?;
        let (Ok(name), Some(target)) = (reference.name(), reference.target()) else {
            continue;
        };
        let Some(short) = name.strip_prefix("refs/tags/") else {
            continue;
        };
        if parse_semver_tag(short).is_none() {
            continue;
        }
        let (commit, annotated) = match reference.target_peel() {
            Some(peeled) if peeled != target => (peeled, true),
            _ => match git.find_object(target, None) {
                Ok(object) if object.kind() == Some(git2::ObjectType::Tag) => {
                    match object.peel_to_commit() {
                        Ok(commit) => (commit.id(), true),
                        Err(_) => continue,
                    }
                }
                Ok(object) if object.kind() == Some(git2::ObjectType::Commit) => (target, false),
                _ => continue,
            },
        };
        out.push(VersionTag {
            name: short.to_owned(),
            commit,
            annotated,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The describe name of each commit annotated semver tags name. When several
/// name one commit, git keeps the most recent tagger date; on a tie the first
/// in ref-name order. Tag objects are read only for such commits.
fn describe_names(repo: &Repo, tags: &[VersionTag]) -> Result<HashMap<Oid, String>, GitError> {
    let mut by_commit: HashMap<Oid, Vec<&str>> = HashMap::new();
    for tag in tags.iter().filter(|t| t.annotated) {
        by_commit.entry(tag.commit).or_default().push(&tag.name);
    }
    let git = repo.git();
    let mut names = HashMap::with_capacity(by_commit.len());
    for (commit, candidates) in by_commit {
        let name = if candidates.len() == 1 {
            candidates[0].to_owned()
        } else {
            let mut best: Option<(&str, i64)> = None;
            for name in candidates {
                let date = git
                    .find_reference(&format!("refs/tags/{name}"))
                    .and_then(|r| r.peel_to_tag())
                    .map(|t| t.tagger().map_or(0, |s| s.when().seconds()))
                    .map_err(|source| repo.error(format!("cannot read tag {name}"), source))?;
                if best.is_none_or(|(_, d)| date > d) {
                    best = Some((name, date));
                }
            }
            best.map(|(n, _)| n.to_owned()).unwrap_or_default()
        };
        names.insert(commit, name);
    }
    Ok(names)
}

/// What the walk needs to know of a commit, by dense id (see [`History`]).
pub(crate) trait CommitGraph {
    type Error;
    /// Committer timestamp and parent ids.
    fn commit(&mut self, id: u32) -> Result<(i64, &[u32]), Self::Error>;
}

/// Commits to visit, newest committer date first; equal dates first-in, first-out
/// (git's `commit_list_insert_by_date`).
#[derive(Default)]
struct DateQueue {
    heap: BinaryHeap<(i64, Reverse<u64>, u32)>,
    inserted: u64,
}

impl DateQueue {
    fn push(&mut self, id: u32, date: i64) {
        self.inserted += 1;
        self.heap.push((date, Reverse(self.inserted), id));
    }
    fn pop(&mut self) -> Option<u32> {
        self.heap.pop().map(|(_, _, id)| id)
    }
    fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
    fn ids(&self) -> impl Iterator<Item = &u32> {
        self.heap.iter().map(|(_, _, id)| id)
    }
}

struct Candidate {
    commit: u32,
    depth: u64,
    flag: u32,
    found_order: usize,
}

/// The best tagged commit for `start` and its distance, or `None` when no named
/// commit is reachable. `start` itself is assumed not to be named.
pub(crate) fn walk<G: CommitGraph>(
    graph: &mut G,
    start: u32,
    named: &dyn Fn(u32) -> bool,
) -> Result<Option<(u32, u64)>, G::Error> {
    let mut flags = Flags::default();
    let mut queue = DateQueue::default();
    let mut matches: Vec<Candidate> = Vec::new();
    let mut seen_commits: u64 = 0;
    let mut gave_up_on = None;

    *flags.at(start) = SEEN;
    let date = graph.commit(start)?.0;
    queue.push(start, date);
    while let Some(c) = queue.pop() {
        seen_commits += 1;
        if named(c) {
            // git 2.47 gives up at the eleventh tagged commit, not before it.
            if matches.len() == MAX_CANDIDATES {
                gave_up_on = Some(c);
                break;
            }
            let flag = 1u32 << (matches.len() + 1);
            matches.push(Candidate {
                commit: c,
                depth: seen_commits - 1,
                flag,
                found_order: matches.len() + 1,
            });
            *flags.at(c) |= flag;
        }
        let c_flags = flags.get(c);
        for m in &mut matches {
            if c_flags & m.flag == 0 {
                m.depth += 1;
            }
        }
        // Stop when the last remaining path is covered by every best candidate.
        if !matches.is_empty() && queue.is_empty() {
            let best_depth = matches.iter().map(|m| m.depth).min().unwrap_or(0);
            let best_within = matches
                .iter()
                .filter(|m| m.depth == best_depth)
                .fold(0, |acc, m| acc | m.flag);
            if c_flags & best_within == best_within {
                break;
            }
        }
        push_parents(graph, c, c_flags, &mut flags, &mut queue)?;
    }
    if matches.is_empty() {
        return Ok(None);
    }
    matches.sort_by_key(|m| (m.depth, m.found_order));
    if let Some(c) = gave_up_on {
        let date = graph.commit(c)?.0;
        queue.push(c, date);
    }
    let best = &mut matches[0];
    // finish_depth_computation: count what the best tag cannot reach.
    while let Some(c) = queue.pop() {
        let c_flags = flags.get(c);
        if c_flags & best.flag != 0 {
            if queue.ids().all(|id| flags.get(*id) & best.flag != 0) {
                break;
            }
        } else {
            best.depth += 1;
        }
        push_parents(graph, c, c_flags, &mut flags, &mut queue)?;
    }
    Ok(Some((best.commit, best.depth)))
}

fn push_parents<G: CommitGraph>(
    graph: &mut G,
    c: u32,
    c_flags: u32,
    flags: &mut Flags,
    queue: &mut DateQueue,
) -> Result<(), G::Error> {
    let mut parents = [0u32; 2];
    let many;
    let parents: &[u32] = match graph.commit(c)?.1 {
        [] => &[],
        [p] => {
            parents[0] = *p;
            &parents[..1]
        }
        [p, q] => {
            parents = [*p, *q];
            &parents[..]
        }
        more => {
            many = more.to_vec();
            &many
        }
    };
    for &p in parents {
        let p_flags = flags.at(p);
        let unseen = *p_flags & SEEN == 0;
        *p_flags |= c_flags;
        if unseen {
            let date = graph.commit(p)?.0;
            queue.push(p, date);
        }
    }
    Ok(())
}

/// The walk's flags by dense commit id.
#[derive(Default)]
struct Flags(Vec<u32>);

impl Flags {
    fn get(&self, id: u32) -> u32 {
        self.0.get(id as usize).copied().unwrap_or(0)
    }
    fn at(&mut self, id: u32) -> &mut u32 {
        let i = id as usize;
        if i >= self.0.len() {
            self.0.resize((i + 1).max(self.0.len() * 2), 0);
        }
        &mut self.0[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A literal history: id → (date, parents).
    struct Literal(HashMap<u32, (i64, Vec<u32>)>);

    impl CommitGraph for Literal {
        type Error = std::convert::Infallible;
        fn commit(&mut self, id: u32) -> Result<(i64, &[u32]), Self::Error> {
            let (date, parents) = &self.0[&id];
            Ok((*date, parents))
        }
    }

    fn graph(edges: &[(u32, i64, &[u32])]) -> Literal {
        Literal(
            edges
                .iter()
                .map(|(c, date, parents)| (*c, (*date, parents.to_vec())))
                .collect(),
        )
    }

    fn named(ids: &[u32]) -> impl Fn(u32) -> bool + '_ {
        move |id| ids.contains(&id)
    }

    #[test]
    fn linear_history_counts_commits_since_the_tag() {
        let mut g = graph(&[(1, 10, &[]), (2, 20, &[1]), (3, 30, &[2]), (4, 40, &[3])]);
        assert_eq!(walk(&mut g, 4, &named(&[2])).unwrap(), Some((2, 2)));
        assert_eq!(walk(&mut g, 1, &named(&[2])).unwrap(), None);
    }

    #[test]
    fn merge_counts_both_sides() {
        // 1 - 2(tag) - 4 - 5(merge)
        //   \ 3 ------/
        let mut g = graph(&[
            (1, 10, &[]),
            (2, 20, &[1]),
            (3, 30, &[1]),
            (4, 40, &[2]),
            (5, 50, &[4, 3]),
        ]);
        // 5, 4, 3 are not reachable from the tag.
        assert_eq!(walk(&mut g, 5, &named(&[2])).unwrap(), Some((2, 3)));
    }

    #[test]
    fn octopus_parents_are_all_followed() {
        // 5 merges 2, 3 and 4, each a child of the tagged root 1.
        let mut g = graph(&[
            (1, 10, &[]),
            (2, 20, &[1]),
            (3, 30, &[1]),
            (4, 40, &[1]),
            (5, 50, &[2, 3, 4]),
        ]);
        assert_eq!(walk(&mut g, 5, &named(&[1])).unwrap(), Some((1, 4)));
    }

    #[test]
    fn nearest_tag_wins_over_older() {
        let mut g = graph(&[(1, 10, &[]), (2, 20, &[1]), (3, 30, &[2]), (4, 40, &[3])]);
        assert_eq!(walk(&mut g, 4, &named(&[1, 3])).unwrap(), Some((3, 1)));
    }

    #[test]
    fn display_forms() {
        let mut d = Describe {
            tag: Some("v1.2.3".into()),
            distance: 4,
            commit: "0".repeat(40),
            abbrev: "75a25ee".into(),
            dirty: false,
        };
        assert_eq!(d.to_string(), "v1.2.3-4-g75a25ee");
        d.dirty = true;
        assert_eq!(d.to_string(), "v1.2.3-4-g75a25ee-dirty");
        d.distance = 0;
        assert_eq!(d.to_string(), "v1.2.3-dirty");
        d.tag = None;
        assert_eq!(d.to_string(), "75a25ee-dirty");
    }
}
