//! Which registry tags may be versions of a window commit (pure).
//!
//! A version is `TAG`, `TAG-N-gHASH` or a bare abbreviated `HASH`. Instead of
//! describing every window commit (100,000 describes for a long window), ciux
//! lists the repository's tags once and reads the commit each one names: the
//! `-gHASH` suffix, a bare hash, or a git tag. Only those candidates are then
//! confirmed by describing their commit, closest to HEAD first.

use std::collections::HashMap;

use git2::Oid;
use serde::Serialize;

/// A registry tag that names a commit of the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Candidate {
    pub(crate) tag: String,
    /// The window commit the tag names.
    #[serde(serialize_with = "as_hex")]
    pub(crate) commit: Oid,
    /// Its position in the window (0 = HEAD).
    pub(crate) position: usize,
}

fn as_hex<S: serde::Serializer>(oid: &Oid, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&oid.to_string())
}

/// Registry tags that may be the version of a window commit, closest to HEAD
/// first. `window` is HEAD first; `git_tags` maps version tags (in image-tag
/// form) to the commit they point at.
pub(crate) fn candidates(
    tags: &[String],
    window: &[Oid],
    git_tags: &HashMap<String, Oid>,
) -> Vec<Candidate> {
    let position: HashMap<Oid, usize> = window.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut sorted: Vec<Oid> = window.to_vec();
    sorted.sort_unstable();
    let mut out = Vec::new();
    for tag in tags {
        if let Some(commit) = git_tags.get(tag.as_str()) {
            if let Some(&p) = position.get(commit) {
                out.push(Candidate {
                    tag: tag.clone(),
                    commit: *commit,
                    position: p,
                });
            }
            continue;
        }
        let Some(prefix) = hash_of(tag) else { continue };
        for commit in with_prefix(&sorted, prefix) {
            out.push(Candidate {
                tag: tag.clone(),
                commit,
                position: position[&commit],
            });
        }
    }
    out.sort_by(|a, b| (a.position, &a.tag).cmp(&(b.position, &b.tag)));
    out
}

/// The abbreviated hash a version names: `...-N-gHASH` or a bare `HASH`.
fn hash_of(tag: &str) -> Option<&str> {
    let is_hash = |s: &str| {
        (7..=40).contains(&s.len()) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    if is_hash(tag) {
        return Some(tag);
    }
    let (rest, hash) = tag.rsplit_once("-g")?;
    let (_, distance) = rest.rsplit_once('-')?;
    (is_hash(hash) && !distance.is_empty() && distance.bytes().all(|b| b.is_ascii_digit()))
        .then_some(hash)
}

/// Window commits whose hex id starts with `prefix` (binary search in sorted ids).
fn with_prefix(sorted: &[Oid], prefix: &str) -> Vec<Oid> {
    let pad = |c: char| {
        let mut s = prefix.to_owned();
        s.extend(std::iter::repeat_n(c, 40 - prefix.len()));
        Oid::from_str(&s).ok()
    };
    let (Some(low), Some(high)) = (pad('0'), pad('f')) else {
        return Vec::new();
    };
    let start = sorted.partition_point(|id| *id < low);
    let end = sorted.partition_point(|id| *id <= high);
    sorted[start..end].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(hex: &str) -> Oid {
        Oid::from_str(&format!("{hex:0<40}")).unwrap()
    }

    #[test]
    fn finds_hash_and_tag_versions_in_window_order() {
        let window = [oid("aaaaaaa1"), oid("bbbbbbb2"), oid("ccccccc3")];
        let git_tags = HashMap::from([
            ("v1.0.0".to_owned(), oid("ccccccc3")),
            ("v0.9.0".to_owned(), oid("ddd")),
        ]);
        let tags: Vec<String> = [
            "v1.0.0",
            "v1.0.0-2-gaaaaaaa",
            "v1.0.0-1-gbbbbbbb2",
            "v0.9.0",
            "latest",
            "v1.0.0-1-gbbbbbbb-dirty",
            "eeeeeee",
            "ccccccc",
        ]
        .map(str::to_owned)
        .to_vec();
        let found: Vec<(String, usize)> = candidates(&tags, &window, &git_tags)
            .into_iter()
            .map(|c| (c.tag, c.position))
            .collect();
        assert_eq!(
            found,
            vec![
                ("v1.0.0-2-gaaaaaaa".to_owned(), 0),
                ("v1.0.0-1-gbbbbbbb2".to_owned(), 1),
                ("ccccccc".to_owned(), 2),
                ("v1.0.0".to_owned(), 2),
            ]
        );
    }

    #[test]
    fn parses_versions() {
        assert_eq!(hash_of("v1.2.3-rc1-40-g75a25ee"), Some("75a25ee"));
        assert_eq!(hash_of("75a25ee"), Some("75a25ee"));
        assert_eq!(hash_of("v1.2.3"), None);
        assert_eq!(hash_of("v1-g75a25ee"), None);
        assert_eq!(hash_of("x--g75a25ee"), None);
    }
}
