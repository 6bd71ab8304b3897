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

use super::history::{History, OidMap};
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
    pub tag: Option<String>,
    /// Commits reachable from the described commit and not from the tag.
    pub distance: u64,
    /// Full id of the described commit.
    pub commit: String,
    /// Shortest unique abbreviation, at least 7 digits.
    pub abbrev: String,
    pub dirty: bool,
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
pub fn describe_head(repo: &Repo) -> Result<Describe, GitError> {
    let head = repo.head_id()?;
    let mut described = describe_commit(repo, head)?;
    described.dirty = repo.is_dirty()?;
    Ok(described)
}

/// Describe one commit (never dirty). Fails on a shallow clone unless the commit
/// is itself tagged, since cut history would give a wrong distance.
pub fn describe_commit(repo: &Repo, commit: Oid) -> Result<Describe, GitError> {
    let names = semver_tag_names(repo)?;
    let (tag, distance) = if let Some(name) = names.get(&commit) {
        (Some(name.clone()), 0)
    } else {
        if repo.is_shallow() {
            return Err(GitError::Shallow {
                path: repo.root().to_path_buf(),
            });
        }
        let mut history = History::new(repo)?;
        match walk(&mut history, commit, &names)? {
            Some((tagged, depth)) => (names.get(&tagged).cloned(), depth),
            None => (None, 0),
        }
    };
    Ok(Describe {
        tag,
        distance,
        commit: commit.to_string(),
        abbrev: repo.abbreviate(commit, ABBREV)?,
        dirty: false,
    })
}

/// Annotated tags with semver names, by the commit they point at. When several
/// name one commit, git keeps the most recent tagger date; on a tie the first
/// in ref-name order.
fn semver_tag_names(repo: &Repo) -> Result<HashMap<Oid, String>, GitError> {
    let git = repo.git();
    let mut best: HashMap<Oid, (String, i64)> = HashMap::new();
    let refs = git
        .references_glob("refs/tags/*")
        .map_err(|source| repo.error("cannot list tags", source))?;
    let mut named: Vec<(String, Oid)> = Vec::new();
    for reference in refs {
        let reference = reference.map_err(|source| repo.error("cannot read a tag", source))?;
        let (Ok(name), Some(target)) = (reference.name(), reference.target()) else {
            continue;
        };
        let Some(short) = name.strip_prefix("refs/tags/") else {
            continue;
        };
        if parse_semver_tag(short).is_some() {
            named.push((short.to_owned(), target));
        }
    }
    named.sort();
    for (name, target) in named {
        // Lightweight tags point straight at a commit: they are not candidates.
        let Ok(tag) = git.find_tag(target) else {
            continue;
        };
        let tagger_date = tag.tagger().map_or(0, |t| t.when().seconds());
        let Ok(commit) = tag.as_object().peel_to_commit() else {
            continue;
        };
        match best.get(&commit.id()) {
            Some((_, date)) if *date >= tagger_date => {}
            _ => {
                best.insert(commit.id(), (name, tagger_date));
            }
        }
    }
    Ok(best.into_iter().map(|(id, (name, _))| (id, name)).collect())
}

/// What the walk needs to know of a commit.
pub(crate) trait CommitGraph {
    type Error;
    /// Committer timestamp and parent ids.
    fn commit(&mut self, id: Oid) -> Result<(i64, &[Oid]), Self::Error>;
}

/// Commits to visit, newest committer date first; equal dates first-in, first-out
/// (git's `commit_list_insert_by_date`).
#[derive(Default)]
struct DateQueue {
    heap: BinaryHeap<(i64, Reverse<u64>, Oid)>,
    inserted: u64,
}

impl DateQueue {
    fn push(&mut self, id: Oid, date: i64) {
        self.inserted += 1;
        self.heap.push((date, Reverse(self.inserted), id));
    }
    fn pop(&mut self) -> Option<Oid> {
        self.heap.pop().map(|(_, _, id)| id)
    }
    fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
    fn ids(&self) -> impl Iterator<Item = &Oid> {
        self.heap.iter().map(|(_, _, id)| id)
    }
}

struct Candidate {
    commit: Oid,
    depth: u64,
    flag: u32,
    found_order: usize,
}

/// The best tagged commit for `start` and its distance, or `None` when no named
/// commit is reachable. `start` itself is assumed not to be named.
pub(crate) fn walk<G: CommitGraph, T>(
    graph: &mut G,
    start: Oid,
    names: &HashMap<Oid, T>,
) -> Result<Option<(Oid, u64)>, G::Error> {
    let mut flags: OidMap<u32> = OidMap::default();
    let mut queue = DateQueue::default();
    let mut matches: Vec<Candidate> = Vec::new();
    let mut seen_commits: u64 = 0;
    let mut gave_up_on = None;

    flags.insert(start, SEEN);
    let date = graph.commit(start)?.0;
    queue.push(start, date);
    while let Some(c) = queue.pop() {
        seen_commits += 1;
        if names.contains_key(&c) {
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
            *flags.entry(c).or_default() |= flag;
        }
        let c_flags = flags[&c];
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
        let c_flags = flags[&c];
        if c_flags & best.flag != 0 {
            if queue.ids().all(|id| flags[id] & best.flag != 0) {
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
    c: Oid,
    c_flags: u32,
    flags: &mut OidMap<u32>,
    queue: &mut DateQueue,
) -> Result<(), G::Error> {
    let parents = graph.commit(c)?.1.to_vec();
    for p in parents {
        let p_flags = flags.entry(p).or_default();
        let unseen = *p_flags & SEEN == 0;
        *p_flags |= c_flags;
        if unseen {
            let date = graph.commit(p)?.0;
            queue.push(p, date);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A literal history: id → (date, parents).
    struct Literal(HashMap<Oid, (i64, Vec<Oid>)>);

    impl CommitGraph for Literal {
        type Error = std::convert::Infallible;
        fn commit(&mut self, id: Oid) -> Result<(i64, &[Oid]), Self::Error> {
            let (date, parents) = &self.0[&id];
            Ok((*date, parents))
        }
    }

    fn id(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    fn graph(edges: &[(u8, i64, &[u8])]) -> Literal {
        Literal(
            edges
                .iter()
                .map(|(c, date, parents)| {
                    (id(*c), (*date, parents.iter().map(|p| id(*p)).collect()))
                })
                .collect(),
        )
    }

    #[test]
    fn linear_history_counts_commits_since_the_tag() {
        let mut g = graph(&[(1, 10, &[]), (2, 20, &[1]), (3, 30, &[2]), (4, 40, &[3])]);
        let names = HashMap::from([(id(2), "v1.0.0")]);
        assert_eq!(walk(&mut g, id(4), &names).unwrap(), Some((id(2), 2)));
        assert_eq!(walk(&mut g, id(1), &names).unwrap(), None);
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
        let names = HashMap::from([(id(2), "v1.0.0")]);
        // 5, 4, 3 are not reachable from the tag.
        assert_eq!(walk(&mut g, id(5), &names).unwrap(), Some((id(2), 3)));
    }

    #[test]
    fn nearest_tag_wins_over_older() {
        let mut g = graph(&[(1, 10, &[]), (2, 20, &[1]), (3, 30, &[2]), (4, 40, &[3])]);
        let names = HashMap::from([(id(1), "v1.0.0"), (id(3), "v2.0.0")]);
        assert_eq!(walk(&mut g, id(4), &names).unwrap(), Some((id(3), 1)));
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
