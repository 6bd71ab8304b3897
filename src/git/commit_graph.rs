//! Reader for git's commit-graph file (`objects/info/commit-graph`, or a chain
//! under `objects/info/commit-graphs/`), which `git gc` writes.
//!
//! It stores each commit's parents and committer date in fixed-size records,
//! so walking a large history needs no object inflation at all: this is what
//! makes `git describe` fast on 100,000-commit histories, and what lets ours
//! keep up. Only SHA-1 graphs are read; anything unexpected makes the reader
//! decline (`None`) and the caller falls back to reading objects.
//!
//! The files are memory-mapped, as git maps them: a describe that visits 127
//! commits of a 100,000-commit graph touches a few pages of a 6 MB file
//! instead of reading all of it (that `read()` was most of the time of such a
//! describe). Commits are addressed by their position in the graph, so a walk
//! follows parents without looking ids up again.

use std::path::Path;

use git2::Oid;
use memmap2::Mmap;

/// Length of a SHA-1 object id, the only ids git's files hold here.
pub(super) const HASH_LEN: usize = 20;
const NO_PARENT: u32 = 0x7000_0000;
const EXTRA_EDGES: u32 = 0x8000_0000;

/// One graph file's tables.
struct Layer {
    data: Mmap,
    fanout: usize,
    oids: usize,
    commits: usize,
    edges: Option<usize>,
    count: u32,
    /// Commits in the layers below this one (positions are global).
    base: u32,
}

/// All layers of a repository's commit-graph, base first.
pub(crate) struct CommitGraphFile {
    layers: Vec<Layer>,
}

/// A commit as the graph records it.
#[cfg(test)]
pub(crate) struct GraphCommit {
    pub(crate) tree: Oid,
    pub(crate) date: i64,
    pub(crate) parents: Vec<Oid>,
}

impl CommitGraphFile {
    /// The commit-graph of `repo`, unless git itself would ignore it because
    /// parents may differ from the objects: shallow clones and grafts, replace
    /// refs, `core.commitGraph = false`.
    pub(crate) fn for_repo(repo: &super::Repo) -> Option<Self> {
        let git = repo.git();
        let disabled = git
            .config()
            .and_then(|c| c.get_bool("core.commitGraph"))
            .is_ok_and(|enabled| !enabled);
        let grafts = git.path().join("info/grafts").exists();
        let replaced = git
            .references_glob("refs/replace/*")
            .map(|mut refs| refs.next().is_some())
            .unwrap_or(true);
        if disabled || grafts || replaced || repo.is_shallow() {
            return None;
        }
        Self::open(&git.commondir().join("objects"))
    }

    /// Open the commit-graph of the repository whose object directory is
    /// `objects`; `None` when there is none or it cannot be read.
    pub(crate) fn open(objects: &Path) -> Option<Self> {
        let info = objects.join("info");
        let single = info.join("commit-graph");
        let files: Vec<std::path::PathBuf> = if single.is_file() {
            vec![single]
        } else {
            let chain =
                std::fs::read_to_string(info.join("commit-graphs/commit-graph-chain")).ok()?;
            chain
                .lines()
                .filter(|l| !l.is_empty())
                .map(|hash| info.join(format!("commit-graphs/graph-{hash}.graph")))
                .collect()
        };
        let mut layers = Vec::with_capacity(files.len());
        let mut base = 0u32;
        for file in files {
            let layer = Layer::parse(map(&file)?, base)?;
            base = base.checked_add(layer.count)?;
            layers.push(layer);
        }
        (!layers.is_empty()).then_some(Self { layers })
    }

    /// Commits in the graph; positions are `0..len()`.
    pub(crate) fn len(&self) -> u32 {
        self.layers.last().map_or(0, |l| l.base + l.count)
    }

    /// The position of `id` in the graph, if the graph holds it.
    pub(crate) fn position(&self, id: Oid) -> Option<u32> {
        self.layers
            .iter()
            .find_map(|layer| layer.find(id.as_bytes()))
    }

    /// The id of the commit at `position`.
    pub(crate) fn oid_at(&self, position: u32) -> Option<Oid> {
        let layer = self.layer_of(position)?;
        let i = (position - layer.base) as usize;
        let at = layer.oids + i * HASH_LEN;
        Oid::from_bytes(layer.data.get(at..at + HASH_LEN)?).ok()
    }

    fn layer_of(&self, position: u32) -> Option<&Layer> {
        // Almost every graph has one layer: check the last (largest) first.
        self.layers
            .iter()
            .rev()
            .find(|l| position >= l.base && position < l.base + l.count)
    }

    /// The record of the commit at `position`: its layer and the record's offset.
    fn record(&self, position: u32) -> Option<(&Layer, usize)> {
        let layer = self.layer_of(position)?;
        let record = layer.commits + (position - layer.base) as usize * (HASH_LEN + 16);
        Some((layer, record))
    }

    /// The root tree of the commit at `position`.
    pub(crate) fn tree_at(&self, position: u32) -> Option<Oid> {
        let (layer, record) = self.record(position)?;
        Oid::from_bytes(layer.data.get(record..record + HASH_LEN)?).ok()
    }

    /// The committer date of the commit at `position`; its parents' positions
    /// are appended to `parents` (cleared first).
    pub(crate) fn commit_at(&self, position: u32, parents: &mut Vec<u32>) -> Option<i64> {
        parents.clear();
        let (layer, record) = self.record(position)?;
        let field = |offset: usize| -> Option<u32> {
            let at = record + HASH_LEN + offset;
            be32(&layer.data, at)
        };
        let (p1, p2, gen_hi, date_lo) = (field(0)?, field(4)?, field(8)?, field(12)?);
        let date = (((gen_hi & 0x3) as i64) << 32) | date_lo as i64;
        let total = self.len();
        let mut push = |p: u32| (p < total).then(|| parents.push(p));
        if p1 != NO_PARENT {
            push(p1)?;
        }
        if p2 != NO_PARENT {
            if p2 & EXTRA_EDGES == 0 {
                push(p2)?;
            } else {
                // Octopus merge: parents 2.. are listed in the EDGE chunk.
                let mut at = layer.edges? + (p2 & !EXTRA_EDGES) as usize * 4;
                loop {
                    let edge = be32(&layer.data, at)?;
                    push(edge & !EXTRA_EDGES)?;
                    if edge & EXTRA_EDGES != 0 {
                        break;
                    }
                    at += 4;
                }
            }
        }
        Some(date)
    }

    /// The first parent's position of the commit at `position`, if any.
    pub(crate) fn first_parent_at(&self, position: u32) -> Option<Option<u32>> {
        let (layer, record) = self.record(position)?;
        let at = record + HASH_LEN;
        let p1 = be32(&layer.data, at)?;
        if p1 == NO_PARENT {
            Some(None)
        } else {
            (p1 < self.len()).then_some(Some(p1))
        }
    }

    /// The commit's parents and committer date, if the graph holds it.
    #[cfg(test)]
    pub(crate) fn commit(&self, id: Oid) -> Option<GraphCommit> {
        let position = self.position(id)?;
        let mut parents = Vec::new();
        let date = self.commit_at(position, &mut parents)?;
        Some(GraphCommit {
            tree: self.tree_at(position)?,
            date,
            parents: parents
                .into_iter()
                .map(|p| self.oid_at(p))
                .collect::<Option<_>>()?,
        })
    }
}

/// Map a graph file read-only.
fn map(path: &Path) -> Option<Mmap> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: git never rewrites a commit-graph file in place: it writes a new
    // file under a lock name and renames it over the old one, so the mapped
    // pages stay those of the file opened here for as long as the map lives.
    // Every read from the map is bounds-checked.
    unsafe { Mmap::map(&file) }.ok()
}

impl Layer {
    fn parse(data: Mmap, base: u32) -> Option<Self> {
        // Header: "CGPH", version 1, hash version 1 (SHA-1), chunk count, base count.
        if data.get(0..4)? != b"CGPH" || *data.get(4)? != 1 || *data.get(5)? != 1 {
            return None;
        }
        let chunks = *data.get(6)? as usize;
        let (mut fanout, mut oids, mut commits, mut edges) = (None, None, None, None);
        for i in 0..chunks {
            let entry = data.get(8 + i * 12..8 + i * 12 + 12)?;
            let offset = usize::try_from(u64::from_be_bytes(entry[4..12].try_into().ok()?)).ok()?;
            match &entry[0..4] {
                b"OIDF" => fanout = Some(offset),
                b"OIDL" => oids = Some(offset),
                b"CDAT" => commits = Some(offset),
                b"EDGE" => edges = Some(offset),
                _ => {}
            }
        }
        let fanout = fanout?;
        let count = be32(&data, fanout + 255 * 4)?;
        let (oids, commits) = (oids?, commits?);
        // The fanout counts must never decrease: `find` relies on it.
        let mut previous = 0u32;
        for b in 0..256 {
            let at = fanout + b * 4;
            let value = be32(&data, at)?;
            if value < previous {
                return None;
            }
            previous = value;
        }
        // Every table must lie inside the file.
        data.get(oids..oids + count as usize * HASH_LEN)?;
        data.get(commits..commits + count as usize * (HASH_LEN + 16))?;
        Some(Self {
            data,
            fanout,
            oids,
            commits,
            edges,
            count,
            base,
        })
    }

    /// Global position of `id` in this layer (fanout, then binary search).
    fn find(&self, id: &[u8]) -> Option<u32> {
        let bucket = |b: usize| -> u32 {
            let at = self.fanout + b * 4;
            u32::from_be_bytes(self.data[at..at + 4].try_into().unwrap_or_default())
        };
        let first = id[0] as usize;
        let (mut lo, mut hi) = (
            if first == 0 { 0 } else { bucket(first - 1) },
            bucket(first),
        );
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let at = self.oids + mid as usize * HASH_LEN;
            match self.data[at..at + HASH_LEN].cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.base + mid),
            }
        }
        None
    }
}

/// The big-endian `u32` at `at` of a git file (commit-graph, pack index).
pub(super) fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::git;

    /// Every commit's parents (octopus included) and date, as `git log` prints
    /// them, from a split commit-graph chain and from a single file.
    #[test]
    fn reads_what_git_log_reports() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        git(dir, &["commit", "-q", "--allow-empty", "-m", "root"]);
        for branch in ["a", "b", "c"] {
            git(dir, &["checkout", "-q", "-b", branch, "main"]);
            git(dir, &["commit", "-q", "--allow-empty", "-m", branch]);
        }
        git(dir, &["checkout", "-q", "main"]);
        git(dir, &["merge", "-q", "--no-edit", "a", "b", "c"]);
        git(dir, &["commit-graph", "write", "--reachable", "--split"]);
        git(dir, &["commit", "-q", "--allow-empty", "-m", "later"]);
        git(
            dir,
            &["commit-graph", "write", "--reachable", "--split=no-merge"],
        );
        let objects = dir.join(".git/objects");
        assert!(
            objects
                .join("info/commit-graphs/commit-graph-chain")
                .exists()
        );

        let check = |graph: &CommitGraphFile| {
            let log = git(dir, &["log", "--all", "--format=%H %ct %P"]);
            for line in log.lines() {
                let mut fields = line.split(' ');
                let id = Oid::from_str(fields.next().unwrap()).unwrap();
                let date: i64 = fields.next().unwrap().parse().unwrap();
                let parents: Vec<Oid> = fields
                    .filter(|p| !p.is_empty())
                    .map(|p| Oid::from_str(p).unwrap())
                    .collect();
                let commit = graph.commit(id).expect("in the graph");
                assert_eq!(commit.date, date);
                let tree = git(dir, &["rev-parse", &format!("{id}^{{tree}}")]);
                assert_eq!(commit.tree.to_string(), tree.trim());
                assert_eq!(commit.parents, parents);
            }
            assert!(graph.commit(Oid::from_bytes(&[7; 20]).unwrap()).is_none());
        };
        check(&CommitGraphFile::open(&objects).expect("chain opens"));
        git(
            dir,
            &["commit-graph", "write", "--reachable", "--split=replace"],
        );
        git(dir, &["-c", "core.commitGraph=true", "gc", "-q"]);
        git(dir, &["commit-graph", "write", "--reachable"]);
        check(&CommitGraphFile::open(&objects).expect("file opens"));
    }
}
