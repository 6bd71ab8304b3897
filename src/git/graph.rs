//! A reader of git's commit-graph file (`objects/info/commit-graph`, or the
//! split chain in `objects/info/commit-graphs/`), for the source-change window.
//!
//! The file stores each commit's root tree id and first parent by position,
//! so a first-parent walk reads no commit object at all: that is how
//! `git log --first-parent -- <paths>` is fast, and libgit2 does not expose it.
//! Commits missing from the graph (made after the last `git gc`) are read from
//! the object database as usual; a graph that does not parse is ignored.
//! Format: git's `Documentation/gitformat-commit-graph.txt`, version 1, SHA-1.

use std::path::Path;

use git2::Oid;

const NO_PARENT: u32 = 0x7000_0000;
const HASH: usize = 20;
const CDAT_WIDTH: usize = HASH + 16;

/// One graph file's lookup table and commit data.
struct Layer {
    fanout: Vec<u32>,
    oids: Vec<u8>,
    data: Vec<u8>,
    /// Parents beyond the second of octopus merges (`EDGE` chunk).
    edges: Vec<u8>,
    /// Commits in the layers below this one (global position of our first commit).
    base: u32,
}

/// The commits of the graph: root tree and first parent by commit id.
pub(crate) struct Graph {
    layers: Vec<Layer>,
}

impl Graph {
    /// The graph of `repo`, unless grafts (shallow clone) or replace refs change
    /// parents behind its back — git ignores its commit-graph then, and so do we.
    pub(crate) fn for_repo(repo: &super::Repo) -> Option<Self> {
        let git = repo.git();
        let replaced = git
            .references_glob("refs/replace/*")
            .is_ok_and(|mut refs| refs.next().is_some());
        if repo.is_shallow() || replaced {
            return None;
        }
        Self::load(&git.commondir().join("objects"))
    }

    /// Load the graph of the repository whose object directory is `objects`;
    /// `None` when there is none or it cannot be read.
    pub(crate) fn load(objects: &Path) -> Option<Self> {
        let info = objects.join("info");
        let files: Vec<Vec<u8>> = match std::fs::read(info.join("commit-graph")) {
            Ok(bytes) => vec![bytes],
            Err(_) => {
                let chain =
                    std::fs::read_to_string(info.join("commit-graphs/commit-graph-chain")).ok()?;
                chain
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|hash| {
                        std::fs::read(
                            info.join(format!("commit-graphs/graph-{}.graph", hash.trim())),
                        )
                        .ok()
                    })
                    .collect::<Option<_>>()?
            }
        };
        let mut layers = Vec::new();
        let mut base = 0u32;
        for bytes in files {
            let layer = parse(bytes, base)?;
            base = base.checked_add(layer.len())?;
            layers.push(layer);
        }
        Some(Self { layers })
    }

    /// `(root tree, first parent)` of `id`; `None` when the graph does not hold it.
    /// The parent is `None` for a root commit.
    pub(crate) fn commit(&self, id: Oid) -> Option<(Oid, Option<Oid>)> {
        let (layer, index) = self
            .layers
            .iter()
            .find_map(|l| l.find(id.as_bytes()).map(|i| (l, i)))?;
        let row = &layer.data[index * CDAT_WIDTH..(index + 1) * CDAT_WIDTH];
        let tree = Oid::from_bytes(&row[..HASH]).ok()?;
        let parent = u32::from_be_bytes(row[HASH..HASH + 4].try_into().ok()?);
        if parent == NO_PARENT {
            return Some((tree, None));
        }
        Some((tree, Some(self.oid_at(parent)?)))
    }

    /// Committer time and every parent of `id`, in order; `None` when the
    /// graph does not hold it.
    pub(crate) fn commit_with_parents(&self, id: Oid) -> Option<(i64, Vec<Oid>)> {
        let (layer, index) = self
            .layers
            .iter()
            .find_map(|l| l.find(id.as_bytes()).map(|i| (l, i)))?;
        let row = &layer.data[index * CDAT_WIDTH..(index + 1) * CDAT_WIDTH];
        let word = |at: usize| u32::from_be_bytes([row[at], row[at + 1], row[at + 2], row[at + 3]]);
        let (first, second) = (word(HASH), word(HASH + 4));
        // The low 34 bits of the last 8 bytes: the commit time in seconds.
        let time = (i64::from(word(HASH + 8)) & 0x3) << 32 | i64::from(word(HASH + 12));
        let mut parents = Vec::new();
        if first != NO_PARENT {
            parents.push(self.oid_at(first)?);
        }
        if second & 0x8000_0000 != 0 {
            // An octopus merge: positions listed in EDGE, the last one flagged.
            let mut at = (second & 0x7fff_ffff) as usize * 4;
            loop {
                let bytes = layer.edges.get(at..at + 4)?;
                let edge = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                parents.push(self.oid_at(edge & 0x7fff_ffff)?);
                if edge & 0x8000_0000 != 0 {
                    break;
                }
                at += 4;
            }
        } else if second != NO_PARENT {
            parents.push(self.oid_at(second)?);
        }
        Some((time, parents))
    }

    /// The commit id at a global position.
    fn oid_at(&self, position: u32) -> Option<Oid> {
        let layer = self
            .layers
            .iter()
            .find(|l| position >= l.base && position - l.base < l.len())?;
        let i = (position - layer.base) as usize;
        Oid::from_bytes(&layer.oids[i * HASH..(i + 1) * HASH]).ok()
    }
}

impl Layer {
    fn len(&self) -> u32 {
        self.fanout[255]
    }

    /// Index of `id` in this layer (binary search within its fanout bucket).
    fn find(&self, id: &[u8]) -> Option<usize> {
        let first = id[0] as usize;
        let start = if first == 0 {
            0
        } else {
            self.fanout[first - 1] as usize
        };
        let end = self.fanout[first] as usize;
        let (mut lo, mut hi) = (start, end);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.oids[mid * HASH..(mid + 1) * HASH].cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

/// Parse one graph file: header, chunk table, then the OIDF, OIDL and CDAT chunks.
fn parse(bytes: Vec<u8>, base: u32) -> Option<Layer> {
    if bytes.get(..4)? != b"CGPH" || bytes[4] != 1 || bytes[5] != 1 {
        return None;
    }
    let chunks = bytes[6] as usize;
    let mut table = Vec::with_capacity(chunks + 1);
    for i in 0..=chunks {
        let entry = bytes.get(8 + i * 12..8 + (i + 1) * 12)?;
        let offset = u64::from_be_bytes(entry[4..].try_into().ok()?) as usize;
        table.push((&entry[..4], offset));
    }
    let chunk = |id: &[u8]| -> Option<&[u8]> {
        let i = table.iter().position(|(cid, _)| *cid == id)?;
        let (start, end) = (table[i].1, table.get(i + 1)?.1);
        bytes.get(start..end)
    };
    let fanout: Vec<u32> = chunk(b"OIDF")?
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if fanout.len() != 256 {
        return None;
    }
    let count = fanout[255] as usize;
    let oids = chunk(b"OIDL")?.to_vec();
    let data = chunk(b"CDAT")?.to_vec();
    let edges = chunk(b"EDGE").map(<[u8]>::to_vec).unwrap_or_default();
    (oids.len() == count * HASH && data.len() == count * CDAT_WIDTH).then_some(Layer {
        fanout,
        oids,
        data,
        edges,
        base,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn reads_what_git_writes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .current_dir(dir)
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_AUTHOR_NAME", "a")
                .env("GIT_AUTHOR_EMAIL", "a@example.org")
                .env("GIT_COMMITTER_NAME", "a")
                .env("GIT_COMMITTER_EMAIL", "a@example.org")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        };
        git(&["init", "-q", "-b", "main"]);
        for i in 0..5 {
            std::fs::write(dir.join("f"), i.to_string()).unwrap();
            git(&["add", "f"]);
            git(&["commit", "-q", "-m", &i.to_string()]);
        }
        git(&["commit-graph", "write", "--reachable"]);
        // A later split layer with an octopus merge (EDGE chunk).
        for b in ["b1", "b2", "b3"] {
            git(&["checkout", "-q", "-b", b, "main"]);
            std::fs::write(dir.join(b), b).unwrap();
            git(&["add", b]);
            git(&["commit", "-q", "-m", b]);
        }
        git(&["checkout", "-q", "main"]);
        git(&["merge", "-q", "--no-ff", "-m", "octopus", "b1", "b2", "b3"]);
        git(&["commit-graph", "write", "--reachable", "--split"]);
        std::fs::remove_file(dir.join(".git/objects/info/commit-graph")).ok();
        let graph = Graph::load(&dir.join(".git/objects")).unwrap();
        let octopus = Oid::from_str(&git(&["rev-parse", "HEAD"])).unwrap();
        let (_, parents) = graph.commit_with_parents(octopus).unwrap();
        let expected: Vec<String> = (1..=4)
            .map(|i| git(&["rev-parse", &format!("HEAD^{i}")]))
            .collect();
        assert_eq!(
            parents.iter().map(Oid::to_string).collect::<Vec<_>>(),
            expected
        );
        git(&["reset", "-q", "--hard", "HEAD^1"]);
        let graph = Graph::load(&dir.join(".git/objects")).unwrap();
        let head = Oid::from_str(&git(&["rev-parse", "HEAD"])).unwrap();
        let (tree, parent) = graph.commit(head).unwrap();
        assert_eq!(tree.to_string(), git(&["rev-parse", "HEAD^{tree}"]));
        assert_eq!(parent.unwrap().to_string(), git(&["rev-parse", "HEAD~1"]));
        let root = Oid::from_str(&git(&["rev-list", "--max-parents=0", "HEAD"])).unwrap();
        assert_eq!(graph.commit(root).unwrap().1, None);
        assert_eq!(graph.commit(Oid::ZERO_SHA1), None);
        let (time, parents) = graph.commit_with_parents(head).unwrap();
        assert_eq!(time.to_string(), git(&["log", "-1", "--format=%ct"]));
        assert_eq!(parents, vec![parent.unwrap()]);
    }
}
