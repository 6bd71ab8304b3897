//! Commit headers read straight from a repository's pack files, for the
//! describe walk when there is no commit-graph file.
//!
//! Such a walk reads every commit it visits, and libgit2's object read was
//! most of its time: it inflates the whole object (message included), copies
//! it into a fresh allocation and goes through its generic object database.
//! The walk needs only the header lines up to `committer`, a few hundred of
//! the object's bytes, so this reader finds the object in the pack indexes
//! (memory-mapped, fan-out table and binary search, as git does) and inflates
//! no further than the committer line, into one reused buffer
//! (docs/perf.md has the measurement).
//!
//! It reads what it is sure of: version-2 indexes of SHA-1 packs, and
//! commits stored whole. Anything else (a deltified commit, a loose object,
//! an index it does not know, any inconsistency) is "not here", and the
//! caller reads the object through libgit2, which reports real errors.

use std::path::{Path, PathBuf};

use flate2::{Decompress, FlushDecompress, Status};
use git2::Oid;
use memmap2::Mmap;

use super::commit_graph::{HASH_LEN, be32};

const INDEX_MAGIC: &[u8; 4] = b"\xfftOc";
const INDEX_HEADER: usize = 8;
const FANOUT_LEN: usize = 256 * 4;
/// Pack object type of a commit stored whole (not as a delta).
const OBJ_COMMIT: u8 = 1;
/// Alternates of alternates are followed this deep, as git does.
const MAX_ALTERNATE_DEPTH: usize = 5;
/// Probes of the index search that interpolate before it bisects.
const INTERPOLATED_PROBES: u32 = 4;
/// Output is inflated this much at a time until the header is complete.
const INFLATE_STEP: usize = 512;

/// One pack: its index and its data, both mapped.
struct Pack {
    index: Mmap,
    data: Mmap,
    count: usize,
}

impl Pack {
    fn open(idx: &Path) -> Option<Self> {
        Self::new(map(idx)?, map(&idx.with_extension("pack"))?)
    }

    fn new(index: Mmap, data: Mmap) -> Option<Self> {
        if index.get(..4)? != INDEX_MAGIC || index.get(4..8)? != 2u32.to_be_bytes() {
            return None;
        }
        if data.get(..4)? != b"PACK" {
            return None;
        }
        let count = be32(&index, INDEX_HEADER + 255 * 4)? as usize;
        // Fan-out, ids, CRCs and 32-bit offsets must all be there, and the
        // pack trailer's id plus the index's own id after them.
        let tables = INDEX_HEADER + FANOUT_LEN + count * (HASH_LEN + 8);
        if index.len() < tables + 2 * HASH_LEN {
            return None;
        }
        Some(Self { index, data, count })
    }

    /// Offset in the pack of object `oid`, if this pack holds it.
    ///
    /// Object ids are uniformly distributed, so the search interpolates
    /// between the ids at both ends of the range: about three probes of the
    /// index instead of the dozen of a binary search (git's), each probe a
    /// cache miss in a large index. After a few probes it bisects, which
    /// bounds the search whatever the ids.
    fn offset_of(&self, oid: &[u8]) -> Option<usize> {
        let first = usize::from(oid[0]);
        let mut low = if first == 0 {
            0
        } else {
            be32(&self.index, INDEX_HEADER + (first - 1) * 4)? as usize
        };
        let mut high = (be32(&self.index, INDEX_HEADER + first * 4)? as usize).min(self.count);
        let key = prefix(oid)?;
        let mut probes = 0;
        while low < high {
            let middle = match (probes < INTERPOLATED_PROBES && high - low > 8)
                .then(|| Some((self.prefix_at(low)?, self.prefix_at(high - 1)?)))
                .flatten()
            {
                Some((first, last)) if key < first || key > last => return None,
                Some((first, last)) if last > first => {
                    let span = (high - 1 - low) as u128;
                    low + (u128::from(key - first) * span / u128::from(last - first)) as usize
                }
                _ => low + (high - low) / 2,
            };
            probes += 1;
            // The prefix decides all but the last probe without a memcmp call.
            let found = self.prefix_at(middle)?;
            let order = found
                .cmp(&key)
                .then_with(|| self.id_at(middle).unwrap_or_default().cmp(oid));
            match order {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return self.offset_at(middle),
            }
        }
        None
    }

    fn id_at(&self, position: usize) -> Option<&[u8]> {
        let at = INDEX_HEADER + FANOUT_LEN + position * HASH_LEN;
        self.index.get(at..at + HASH_LEN)
    }

    fn prefix_at(&self, position: usize) -> Option<u64> {
        prefix(self.id_at(position)?)
    }

    fn offset_at(&self, position: usize) -> Option<usize> {
        let small = INDEX_HEADER + FANOUT_LEN + self.count * (HASH_LEN + 4) + position * 4;
        let offset = be32(&self.index, small)?;
        if offset & 0x8000_0000 == 0 {
            return Some(offset as usize);
        }
        let large = INDEX_HEADER
            + FANOUT_LEN
            + self.count * (HASH_LEN + 8)
            + (offset & 0x7fff_ffff) as usize * 8;
        let bytes = self.index.get(large..large + 8)?;
        usize::try_from(u64::from_be_bytes(bytes.try_into().ok()?)).ok()
    }

    /// The zlib stream of the whole (undeltified) commit at `offset`.
    fn commit_stream(&self, offset: usize) -> Option<&[u8]> {
        // Trailing id of the pack: no object runs into it.
        let end = self.data.len().checked_sub(HASH_LEN)?;
        let mut at = offset;
        let mut byte = *self.data.get(at)?;
        let kind = (byte >> 4) & 0x7;
        while byte & 0x80 != 0 {
            at += 1;
            byte = *self.data.get(at)?;
        }
        (kind == OBJ_COMMIT && at < end).then(|| &self.data[at + 1..end])
    }
}

/// The pack files of a repository and of its alternates.
pub(crate) struct Packs {
    packs: Vec<Pack>,
    /// The pack of the last hit: a walk's commits are mostly in one pack.
    last: usize,
    inflate: Decompress,
}

impl Packs {
    /// The packs under `objects` (a repository's object directory) and its
    /// alternates; empty when there are none or none can be read.
    pub(crate) fn open(objects: &Path) -> Self {
        let mut packs = Vec::new();
        let mut seen = Vec::new();
        collect(objects, 0, &mut seen, &mut packs);
        Self {
            packs,
            last: 0,
            inflate: Decompress::new(true),
        }
    }

    /// Inflate into `out` the start of commit `oid`, at least through its
    /// committer line, and return true; false when the packs do not hold it
    /// as a whole commit or it cannot be read here (then read it otherwise).
    pub(crate) fn commit_header(&mut self, oid: Oid, out: &mut Vec<u8>) -> bool {
        let id = oid.as_bytes();
        if id.len() != HASH_LEN || self.packs.is_empty() {
            return false;
        }
        let order =
            std::iter::once(self.last).chain((0..self.packs.len()).filter(|&i| i != self.last));
        for index in order {
            let pack = &self.packs[index];
            if let Some(offset) = pack.offset_of(id) {
                self.last = index;
                return match pack.commit_stream(offset) {
                    Some(stream) => inflate_header(&mut self.inflate, stream, out),
                    None => false,
                };
            }
        }
        false
    }
}

/// Inflate `stream` into `out` until the committer line is complete or the
/// stream ends.
fn inflate_header(inflate: &mut Decompress, stream: &[u8], out: &mut Vec<u8>) -> bool {
    inflate.reset(true);
    out.clear();
    let mut scanned = 0;
    loop {
        out.reserve(INFLATE_STEP);
        let consumed = inflate.total_in() as usize;
        let Some(input) = stream.get(consumed..) else {
            return false;
        };
        let status = match inflate.decompress_vec(input, out, FlushDecompress::None) {
            Ok(status) => status,
            Err(_) => return false,
        };
        if header_complete(out, &mut scanned) {
            return true;
        }
        match status {
            // The whole object: let the parser judge it.
            Status::StreamEnd => return true,
            Status::Ok => {}
            // No progress possible: the stream is cut short.
            Status::BufError => return false,
        }
    }
}

/// Whether `data` holds a full `committer` line of the header (or the end of
/// the header); `scanned` keeps the position up to which lines were checked.
fn header_complete(data: &[u8], scanned: &mut usize) -> bool {
    while let Some(length) = data[*scanned..].iter().position(|&b| b == b'\n') {
        let line = &data[*scanned..*scanned + length];
        *scanned += length + 1;
        if line.is_empty() || line.starts_with(b"committer ") {
            return true;
        }
    }
    false
}

/// Packs of `objects`, then of its alternates, each directory once.
fn collect(objects: &Path, depth: usize, seen: &mut Vec<PathBuf>, packs: &mut Vec<Pack>) {
    let canonical = objects
        .canonicalize()
        .unwrap_or_else(|_| objects.to_path_buf());
    if depth > MAX_ALTERNATE_DEPTH || seen.contains(&canonical) {
        return;
    }
    seen.push(canonical);
    if let Ok(entries) = std::fs::read_dir(objects.join("pack")) {
        let mut indexes: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .collect();
        // Newest first: git tries recent packs first, and a fresh fetch is
        // where the commits near HEAD are.
        indexes.sort_by_key(|p| std::cmp::Reverse(p.metadata().and_then(|m| m.modified()).ok()));
        packs.extend(indexes.iter().filter_map(|idx| Pack::open(idx)));
    }
    let Ok(alternates) = std::fs::read_to_string(objects.join("info/alternates")) else {
        return;
    };
    for line in alternates.lines() {
        let line = line.trim_end();
        // Comments, and quoted paths (C-style escapes) that we do not decode:
        // their objects are still read, through libgit2.
        if line.is_empty() || line.starts_with('#') || line.starts_with('"') {
            continue;
        }
        collect(&objects.join(line), depth + 1, seen, packs);
    }
}

fn map(path: &Path) -> Option<Mmap> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: git never rewrites a pack or its index in place: it writes new
    // files and renames them. A file deleted while mapped stays readable.
    unsafe { Mmap::map(&file) }.ok()
}

/// The first eight bytes of an object id, as a number ordered like the id.
fn prefix(id: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(id.get(..8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::git;
    use std::collections::HashMap;

    /// What `git verify-pack -v` says of each commit of the packs of `objects`:
    /// stored whole (true) or as a delta (false).
    fn packed_commits(objects: &Path) -> HashMap<Oid, bool> {
        let mut commits = HashMap::new();
        for entry in std::fs::read_dir(objects.join("pack")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "idx") {
                let listing = git(objects, &["verify-pack", "-v", path.to_str().unwrap()]);
                for line in listing.lines() {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    if fields.get(1) == Some(&"commit") {
                        commits.insert(Oid::from_str(fields[0]).unwrap(), fields.len() == 5);
                    }
                }
            }
        }
        commits
    }

    /// Every commit of a repository whose objects are spread over two packs of
    /// its own, the pack of the repository it borrows from (alternates) and
    /// loose objects, some commits stored as deltas: each read from the packs
    /// is the start of `git cat-file commit`, through the committer line, and
    /// exactly the commits git stored whole in a pack are read.
    #[test]
    fn reads_the_commits_git_packed_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let origin = tmp.path().join("origin");
        std::fs::create_dir(&origin).unwrap();
        git(&origin, &["init", "-q", "-b", "main"]);
        // Long messages that differ in one line: git stores many as deltas,
        // unless told not to (`--window=0`).
        let body = "A long explanation of the change that repeats. ".repeat(40);
        let commit = |dir: &Path, n: usize| {
            let message = format!("change {n}\n\n{body}\n\nSigned-off-by: A <a@example.org>");
            git(dir, &["commit", "-q", "--allow-empty", "-m", &message]);
        };
        for n in 0..30 {
            commit(&origin, n);
        }
        git(
            &origin,
            &[
                "repack",
                "-q",
                "-a",
                "-d",
                "-f",
                "--window=50",
                "--depth=50",
            ],
        );
        let clone = tmp.path().join("clone");
        git(tmp.path(), &["clone", "-q", "--shared", "origin", "clone"]);
        for n in 30..40 {
            commit(&clone, n);
        }
        git(&clone, &["repack", "-q", "-d", "--window=0"]);
        for n in 40..45 {
            commit(&clone, n);
        }
        git(&clone, &["repack", "-q", "-d", "--window=0"]);
        for n in 45..48 {
            commit(&clone, n);
        }
        let mut whole = packed_commits(&origin.join(".git/objects"));
        whole.extend(packed_commits(&clone.join(".git/objects")));
        // A pack index git would not write, beside the real ones.
        let pack = clone.join(".git/objects/pack");
        std::fs::write(pack.join("pack-junk.idx"), b"\xfftOc\0\0\0\x02 cut short").unwrap();
        std::fs::write(pack.join("pack-junk.pack"), b"PACK").unwrap();

        let mut packs = Packs::open(&clone.join(".git/objects"));
        assert_eq!(
            packs.packs.len(),
            3,
            "two packs of its own and the borrowed one"
        );
        let (mut read, mut deltas, mut loose) = (0, 0, 0);
        let mut out = Vec::new();
        for line in git(&clone, &["rev-list", "--all"]).lines() {
            let oid = Oid::from_str(line).unwrap();
            let found = packs.commit_header(oid, &mut out);
            match whole.get(&oid) {
                Some(true) => {
                    assert!(found, "{oid} is stored whole in a pack");
                    let raw = std::process::Command::new("git")
                        .args(["-C", clone.to_str().unwrap(), "cat-file", "commit", line])
                        .output()
                        .unwrap()
                        .stdout;
                    assert!(raw.starts_with(&out), "{oid}: not the start of the object");
                    let header = String::from_utf8_lossy(&out);
                    assert!(
                        header.contains("\ncommitter C <c@example.org> "),
                        "{oid}: {header}"
                    );
                    read += 1;
                }
                Some(false) => {
                    assert!(!found, "{oid} is a delta: read it otherwise");
                    deltas += 1;
                }
                None => {
                    assert!(!found, "{oid} is loose");
                    loose += 1;
                }
            }
        }
        assert!(
            read >= 10 && deltas >= 1 && loose == 3,
            "{read} whole, {deltas} deltas, {loose} loose"
        );
        assert!(!packs.commit_header(Oid::from_bytes(&[7; 20]).unwrap(), &mut out));
    }

    /// A version-2 index of `ids` at `offsets` (sorted by id, as git writes
    /// it), and a pack whose objects are empty commits at those offsets.
    fn synthetic_pack(entries: &mut [([u8; 20], u64)]) -> Pack {
        entries.sort();
        let mut index = b"\xfftOc\0\0\0\x02".to_vec();
        for byte in 0..=255u8 {
            let count = entries.iter().filter(|(id, _)| id[0] <= byte).count() as u32;
            index.extend(count.to_be_bytes());
        }
        entries.iter().for_each(|(id, _)| index.extend(id));
        entries.iter().for_each(|_| index.extend([0; 4]));
        let mut large = Vec::new();
        for (_, offset) in entries.iter() {
            if *offset < 0x8000_0000 {
                index.extend((*offset as u32).to_be_bytes());
            } else {
                index.extend((0x8000_0000 | (large.len() as u32 / 8)).to_be_bytes());
                large.extend(offset.to_be_bytes());
            }
        }
        index.extend(large);
        index.extend([0; 40]);
        let anonymous = |bytes: &[u8]| {
            let mut map = memmap2::MmapMut::map_anon(bytes.len()).unwrap();
            map.copy_from_slice(bytes);
            map.make_read_only().unwrap()
        };
        Pack::new(anonymous(&index), anonymous(b"PACK\0\0\0\x02\0\0\0\0")).unwrap()
    }

    /// The search finds every id and no other, whether ids are spread evenly
    /// (interpolation lands near) or bunched (it must fall back to bisection),
    /// and offsets past 2 GiB come from the 64-bit table.
    #[test]
    fn index_search_finds_exactly_the_ids_held() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut spread: Vec<([u8; 20], u64)> = (0..5000u64)
            .map(|n| {
                let mut id = [0u8; 20];
                id[..8].copy_from_slice(&random().to_be_bytes());
                id[8..16].copy_from_slice(&random().to_be_bytes());
                (id, if n % 7 == 0 { (1 << 33) + n } else { 12 + n })
            })
            .collect();
        // Bunched: a few far outliers, the rest sharing long prefixes.
        let mut bunched: Vec<([u8; 20], u64)> = (0..3000u64)
            .map(|n| {
                let mut id = [0x42u8; 20];
                id[19] = n as u8;
                id[18] = (n >> 8) as u8;
                if n % 1000 == 0 {
                    id[1] = n as u8 ^ 0xff;
                }
                (id, 12 + n)
            })
            .collect();
        for entries in [&mut spread, &mut bunched] {
            let pack = synthetic_pack(entries);
            for (id, offset) in entries.iter() {
                assert_eq!(pack.offset_of(id), Some(*offset as usize), "{id:x?}");
                let mut absent = *id;
                absent[19] ^= 0x80;
                absent[17] ^= 0x01;
                if entries
                    .binary_search_by(|(other, _)| other.cmp(&absent))
                    .is_err()
                {
                    assert_eq!(pack.offset_of(&absent), None, "{absent:x?}");
                }
            }
            // An offset into nothing is no commit.
            assert!(pack.commit_stream(1 << 40).is_none());
        }
    }

    #[test]
    fn header_is_complete_at_the_committer_line_or_the_blank_line() {
        let mut scanned = 0;
        assert!(!header_complete(
            b"tree 1\nparent 2\ncommitter A <a> 1 +0000",
            &mut scanned
        ));
        assert_eq!(scanned, 16);
        assert!(header_complete(
            b"tree 1\nparent 2\ncommitter A <a> 1 +0000\n",
            &mut scanned
        ));
        assert!(header_complete(b"tree 1\n\nmessage", &mut 0));
        assert!(!header_complete(b"tree 1\nauthor committer x\n", &mut 0));
    }

    #[test]
    fn a_cut_stream_is_not_here() {
        let mut inflate = Decompress::new(true);
        let mut out = Vec::new();
        assert!(!inflate_header(&mut inflate, b"\x78\x9c\x2b", &mut out));
        assert!(!inflate_header(&mut inflate, b"not zlib at all", &mut out));
    }
}
