//! The commit history as the describe walk reads it: parents and committer
//! date of a commit, from the commit-graph file when git wrote one, else from
//! the object itself (parsing only the header lines we need).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use git2::Oid;

use super::commit_graph::CommitGraphFile;
use super::describe::CommitGraph;
use super::pack::Packs;
use super::{GitError, Repo};

/// Object ids are already uniformly distributed: fold them, do not SipHash them.
#[derive(Default)]
pub(crate) struct OidHasher(u64);

impl Hasher for OidHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by the bytes of an object id, with the cheap hasher. Not by
/// `git2::Oid`, whose equality is a call into libgit2 (`git_oid_equal`): on
/// a 100,000-commit walk without commit-graph those calls were a tenth of
/// the time.
pub(crate) type OidMap<V> = HashMap<[u8; 20], V, BuildHasherDefault<OidHasher>>;

/// The key of `oid` in an [`OidMap`] (SHA-1 ids only are read here).
fn key(oid: Oid) -> [u8; 20] {
    let mut key = [0; 20];
    let bytes = oid.as_bytes();
    key[..bytes.len().min(20)].copy_from_slice(&bytes[..bytes.len().min(20)]);
    key
}

/// A set of dense commit ids ([`History`]) with the cheap hasher.
pub(crate) type IdSet = HashSet<u32, BuildHasherDefault<OidHasher>>;

/// The commits of one repository as the walks read them, addressed by dense
/// ids: a commit of the commit-graph file is its position there, any other
/// commit gets the next id after the graph's when first met. Flags and
/// queues of a walk are then plain vectors and small integers, and parents
/// are followed without hashing or looking object ids up again.
///
/// Opened once per repository and reused by every describe of a run.
pub(crate) struct History<'r> {
    repo: &'r Repo,
    graph: Option<CommitGraphFile>,
    odb: git2::Odb<'r>,
    /// Opened when a commit outside the graph is first read.
    packs: Option<Packs>,
    /// The header of the commit being read from a pack.
    header: Vec<u8>,
    /// Commits the graph does not hold, by id minus [`History::base`].
    extra: Vec<Extra>,
    extra_ids: OidMap<u32>,
    scratch: Vec<u32>,
}

struct Extra {
    oid: Oid,
    /// Committer date and parent ids, once read from the object.
    parsed: Option<(i64, Vec<u32>)>,
}

impl<'r> History<'r> {
    pub(crate) fn new(repo: &'r Repo) -> Result<Self, GitError> {
        // libgit2 re-hashes every object it reads (SHA-1 with collision
        // detection) unless told not to; git's own commit walks do not
        // (`repo_parse_commit` reads the object and parses it). Without a
        // commit-graph that hashing was the largest single cost of a
        // describe walk (docs/perf.md). A process-wide libgit2 setting:
        // objects are still found by id, only their content is not re-checked.
        git2::opts::strict_hash_verification(false);
        // Nor is its object cache of use here: a walk reads each commit and
        // tree once, and storing, looking up and finally freeing every object
        // took a tenth of a walk without commit-graph (docs/perf.md).
        git2::opts::enable_caching(false);
        let odb = repo
            .git()
            .odb()
            .map_err(|source| repo.error("cannot open the object database", source))?;
        Ok(Self {
            repo,
            graph: CommitGraphFile::for_repo(repo),
            odb,
            packs: None,
            header: Vec::new(),
            extra: Vec::new(),
            extra_ids: OidMap::default(),
            scratch: Vec::new(),
        })
    }

    pub(crate) fn odb(&self) -> &git2::Odb<'r> {
        &self.odb
    }

    /// First id that is not a graph position.
    fn base(&self) -> u32 {
        self.graph.as_ref().map_or(0, CommitGraphFile::len)
    }

    /// The dense id of commit `oid` (nothing is read yet).
    pub(crate) fn id(&mut self, oid: Oid) -> u32 {
        if let Some(position) = self.graph.as_ref().and_then(|g| g.position(oid)) {
            return position;
        }
        if let Some(&id) = self.extra_ids.get(&key(oid)) {
            return id;
        }
        let id = self.base() + self.extra.len() as u32;
        self.extra.push(Extra { oid, parsed: None });
        self.extra_ids.insert(key(oid), id);
        id
    }

    /// The object id of dense id `id`.
    pub(crate) fn oid(&self, id: u32) -> Option<Oid> {
        let base = self.base();
        if id < base {
            self.graph.as_ref()?.oid_at(id)
        } else {
            self.extra.get((id - base) as usize).map(|e| e.oid)
        }
    }

    /// Root tree and first parent of commit `id`, for the first-parent walk.
    pub(crate) fn tree_and_first_parent(
        &mut self,
        id: u32,
    ) -> Result<(Oid, Option<u32>), GitError> {
        if id < self.base() {
            let graph = self.graph.as_ref();
            if let (Some(tree), Some(parent)) = (
                graph.and_then(|g| g.tree_at(id)),
                graph.and_then(|g| g.first_parent_at(id)),
            ) {
                return Ok((tree, parent));
            }
        }
        let oid = self.oid(id).unwrap_or(Oid::ZERO_SHA1);
        let header = self.read_header(oid)?;
        let parent = header.parents.first().copied();
        Ok((header.tree, parent.map(|p| self.id(p))))
    }

    /// Tree, committer date and parents of commit `oid`: from the packs when
    /// they hold it whole, else through libgit2.
    fn read_header(&mut self, oid: Oid) -> Result<Header, GitError> {
        let packs = self
            .packs
            .get_or_insert_with(|| Packs::open(&self.repo.git().commondir().join("objects")));
        let parsed = if packs.commit_header(oid, &mut self.header) {
            parse_commit_header(&self.header)
        } else {
            let object = self
                .odb
                .read(oid)
                .map_err(|source| self.repo.error(format!("cannot read commit {oid}"), source))?;
            parse_commit_header(object.data())
        };
        parsed.ok_or_else(|| {
            self.repo.error(
                format!("commit {oid} is malformed"),
                git2::Error::from_str("no tree or committer date"),
            )
        })
    }

    fn parse_extra(&mut self, index: usize) -> Result<(), GitError> {
        let header = self.read_header(self.extra[index].oid)?;
        let parents = header.parents.into_iter().map(|p| self.id(p)).collect();
        self.extra[index].parsed = Some((header.date, parents));
        Ok(())
    }
}

impl CommitGraph for History<'_> {
    type Error = GitError;

    fn commit(&mut self, id: u32) -> Result<(i64, &[u32]), GitError> {
        let base = self.base();
        if id < base {
            if let Some(date) = self
                .graph
                .as_ref()
                .and_then(|g| g.commit_at(id, &mut self.scratch))
            {
                return Ok((date, &self.scratch));
            }
            return Err(self.repo.error(
                format!("commit-graph entry {id} is malformed"),
                git2::Error::from_str("bad commit-graph record"),
            ));
        }
        let index = (id - base) as usize;
        if index >= self.extra.len() {
            return Err(self.repo.error(
                format!("unknown commit id {id}"),
                git2::Error::from_str("no such commit"),
            ));
        }
        if self.extra[index].parsed.is_none() {
            self.parse_extra(index)?;
        }
        match &self.extra[index].parsed {
            Some((date, parents)) => Ok((*date, parents)),
            None => Err(self.repo.error(
                format!("unknown commit id {id}"),
                git2::Error::from_str("no such commit"),
            )),
        }
    }
}

/// What the walks read of a commit.
struct Header {
    tree: Oid,
    date: i64,
    parents: Vec<Oid>,
}

/// Tree, parents and committer timestamp from the start of a raw commit
/// object (the header through the committer line is enough).
fn parse_commit_header(data: &[u8]) -> Option<Header> {
    let hex = |text: &[u8]| {
        // 40 hex digits (a parse through libgit2 was a fiftieth of a walk).
        let mut raw = [0u8; 20];
        if text.len() != 40 {
            return None;
        }
        for (byte, pair) in raw.iter_mut().zip(text.chunks_exact(2)) {
            let digit = |c: u8| (c as char).to_digit(16);
            *byte = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Oid::from_bytes(&raw).ok()
    };
    let mut tree = None;
    let mut parents = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            break;
        }
        if let Some(id) = line.strip_prefix(b"tree ") {
            tree = Some(hex(id)?);
        } else if let Some(id) = line.strip_prefix(b"parent ") {
            parents.push(hex(id)?);
        } else if let Some(rest) = line.strip_prefix(b"committer ") {
            // "Name <email> 1704067200 +0000": the timestamp is the second-last field.
            let mut fields = rest.rsplit(|&b| b == b' ');
            let _zone = fields.next()?;
            let date = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
            return Some(Header {
                tree: tree?,
                date,
                parents,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_headers() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 1111111111111111111111111111111111111111\nparent 2222222222222222222222222222222222222222\nauthor A <a@x> 1 +0000\ncommitter C D <c@x> 1704067200 -0130\n\nmessage\ncommitter fake 5 +0000\n";
        let header = parse_commit_header(raw).unwrap();
        assert_eq!(header.date, 1_704_067_200);
        assert_eq!(
            header.tree.to_string(),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
        assert_eq!(header.parents.len(), 2);
        assert_eq!(header.parents[1].to_string(), "2".repeat(40));
        assert!(parse_commit_header(b"tree x\n\ncommitter a <b> 5 +0000\n").is_none());
        // No tree line: malformed.
        assert!(parse_commit_header(b"committer a <b> 5 +0000\n").is_none());
    }
}
