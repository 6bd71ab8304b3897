//! The commit history as the describe walk reads it: parents and committer
//! date of a commit, from the commit-graph file when git wrote one, else from
//! the object itself (parsing only the header lines we need).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use git2::Oid;

use super::commit_graph::CommitGraphFile;
use super::describe::CommitGraph;
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

/// A map keyed by object id with the cheap hasher.
pub(crate) type OidMap<V> = HashMap<Oid, V, BuildHasherDefault<OidHasher>>;

pub(crate) struct History<'r> {
    repo: &'r Repo,
    graph: Option<CommitGraphFile>,
    odb: git2::Odb<'r>,
    /// Commits read from objects (not in the graph), kept: the walk asks twice.
    read: OidMap<(i64, Vec<Oid>)>,
    scratch: Vec<Oid>,
}

impl<'r> History<'r> {
    pub(crate) fn new(repo: &'r Repo) -> Result<Self, GitError> {
        let odb = repo
            .git()
            .odb()
            .map_err(|source| repo.error("cannot open the object database", source))?;
        Ok(Self {
            repo,
            graph: CommitGraphFile::for_repo(repo),
            odb,
            read: OidMap::default(),
            scratch: Vec::new(),
        })
    }
}

impl CommitGraph for History<'_> {
    type Error = GitError;

    fn commit(&mut self, id: Oid) -> Result<(i64, &[Oid]), GitError> {
        if let Some(commit) = self.graph.as_ref().and_then(|g| g.commit(id)) {
            self.scratch = commit.parents;
            return Ok((commit.date, &self.scratch));
        }
        if !self.read.contains_key(&id) {
            let object = self
                .odb
                .read(id)
                .map_err(|source| self.repo.error(format!("cannot read commit {id}"), source))?;
            let parsed = parse_commit_header(object.data()).ok_or_else(|| {
                self.repo.error(
                    format!("commit {id} is malformed"),
                    git2::Error::from_str("no committer date"),
                )
            })?;
            self.read.insert(id, parsed);
        }
        let (date, parents) = &self.read[&id];
        Ok((*date, parents))
    }
}

/// Parents and committer timestamp from a raw commit object.
fn parse_commit_header(data: &[u8]) -> Option<(i64, Vec<Oid>)> {
    let mut parents = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            break;
        }
        if let Some(hex) = line.strip_prefix(b"parent ") {
            parents.push(Oid::from_str(std::str::from_utf8(hex).ok()?).ok()?);
        } else if let Some(rest) = line.strip_prefix(b"committer ") {
            // "Name <email> 1704067200 +0000": the timestamp is the second-last field.
            let mut fields = rest.rsplit(|&b| b == b' ');
            let _zone = fields.next()?;
            let stamp = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
            return Some((stamp, parents));
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
        let (date, parents) = parse_commit_header(raw).unwrap();
        assert_eq!(date, 1_704_067_200);
        assert_eq!(parents.len(), 2);
        assert_eq!(parents[1].to_string(), "2".repeat(40));
        assert!(parse_commit_header(b"tree x\n\ncommitter a <b> 5 +0000\n").is_none());
    }
}
