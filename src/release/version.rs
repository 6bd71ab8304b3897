//! Next-version arithmetic (pure): from the last release tag and a bump kind to
//! the next tag name, keeping the last tag's prefix.
//!
//! Release candidates follow the reference tool's `rcN` scheme. Strict semver
//! compares `rc10` and `rc9` as strings (so `rc10` < `rc9`); [`release_order`]
//! compares their numbers instead, which is what people mean.

use std::cmp::Ordering;

use semver::{BuildMetadata, Prerelease, Version};
use serde::Serialize;
use thiserror::Error;

use crate::git::SemverTag;

/// Which part of the version to bump.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Bump {
    /// Next release candidate: `rc4` → `rc5`; a final `1.2.3` → `1.2.4-rc0`.
    #[default]
    Rc,
    Patch,
    Minor,
    Major,
    /// The final release of the current candidate: `1.2.3-rc5` → `1.2.3`.
    Release,
}

/// Why no next version can be computed.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub(crate) enum VersionError {
    #[error(
        "{last} is already a final release\n  fix: use --patch, --minor or --major, or --rc for the next candidate"
    )]
    AlreadyFinal { last: String },
    #[error(
        "no version tag is reachable from HEAD, so there is no candidate to release\n  fix: `ciux tag --rc --create` creates v0.1.0-rc0"
    )]
    NothingToRelease,
    #[error(
        "{last} has the pre-release `{pre}`, which is not a release candidate `rcN`\n  fix: use --release, --patch, --minor or --major, or tag the next candidate by hand"
    )]
    NotACandidate { last: String, pre: String },
    #[error("the version after {last} does not fit in 64 bits")]
    Overflow { last: String },
}

/// The prefix used when there is no tag yet.
pub(crate) const DEFAULT_PREFIX: &str = "v";

/// The tag after `last` (the latest release tag reachable from HEAD, if any).
/// Build metadata of `last` is dropped: it names a build, not a release.
pub(crate) fn next_version(
    last: Option<&SemverTag>,
    bump: Bump,
) -> Result<SemverTag, VersionError> {
    let Some(last) = last else {
        let version = match bump {
            Bump::Rc => candidate(0, 1, 0, 0),
            Bump::Patch => Version::new(0, 0, 1),
            Bump::Minor => Version::new(0, 1, 0),
            Bump::Major => Version::new(1, 0, 0),
            Bump::Release => return Err(VersionError::NothingToRelease),
        };
        return Ok(SemverTag {
            prefix: DEFAULT_PREFIX.into(),
            version,
        });
    };
    let v = &last.version;
    let overflow = || VersionError::Overflow {
        last: last.to_string(),
    };
    let inc = |n: u64| n.checked_add(1).ok_or_else(overflow);
    let version = match bump {
        Bump::Rc if v.pre.is_empty() => candidate(v.major, v.minor, inc(v.patch)?, 0),
        Bump::Rc => match rc_number(&v.pre) {
            Some((dotted, n)) => {
                let mut next = Version::new(v.major, v.minor, v.patch);
                let sep = if dotted { "." } else { "" };
                next.pre = prerelease(&format!("rc{sep}{}", inc(n)?));
                next
            }
            None => {
                return Err(VersionError::NotACandidate {
                    last: last.to_string(),
                    pre: v.pre.to_string(),
                });
            }
        },
        Bump::Patch => Version::new(v.major, v.minor, inc(v.patch)?),
        Bump::Minor => Version::new(v.major, inc(v.minor)?, 0),
        Bump::Major => Version::new(inc(v.major)?, 0, 0),
        Bump::Release if v.pre.is_empty() => {
            return Err(VersionError::AlreadyFinal {
                last: last.to_string(),
            });
        }
        Bump::Release => Version::new(v.major, v.minor, v.patch),
    };
    Ok(SemverTag {
        prefix: last.prefix.clone(),
        version,
    })
}

/// Order of releases: semver precedence, except that two release candidates
/// `rcN` compare by number. Build metadata is ignored, as semver says.
pub(crate) fn release_order(a: &Version, b: &Version) -> Ordering {
    (a.major, a.minor, a.patch)
        .cmp(&(b.major, b.minor, b.patch))
        .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => match (rc_number(&a.pre), rc_number(&b.pre)) {
                (Some((_, x)), Some((_, y))) => x.cmp(&y),
                _ => a.pre.cmp(&b.pre),
            },
        })
}

/// `rcN` → `(false, N)`, `rc.N` → `(true, N)`; anything else is not a candidate.
fn rc_number(pre: &Prerelease) -> Option<(bool, u64)> {
    let rest = pre.as_str().strip_prefix("rc")?;
    let (dotted, digits) = match rest.strip_prefix('.') {
        Some(digits) => (true, digits),
        None => (false, rest),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(|n| (dotted, n))
}

fn candidate(major: u64, minor: u64, patch: u64, rc: u64) -> Version {
    Version {
        major,
        minor,
        patch,
        pre: prerelease(&format!("rc{rc}")),
        build: BuildMetadata::EMPTY,
    }
}

fn prerelease(text: &str) -> Prerelease {
    // `rc<digits>` and `rc.<digits>` are always valid pre-release identifiers.
    Prerelease::new(text).unwrap_or(Prerelease::EMPTY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::parse_semver_tag;

    fn next(last: Option<&str>, bump: Bump) -> Result<String, VersionError> {
        let last = last.map(|s| parse_semver_tag(s).unwrap_or_else(|| panic!("{s} parses")));
        next_version(last.as_ref(), bump).map(|t| t.to_string())
    }

    #[test]
    fn next_versions() {
        use Bump::*;
        let table: &[(Option<&str>, Bump, &str)] = &[
            (None, Rc, "v0.1.0-rc0"),
            (None, Patch, "v0.0.1"),
            (None, Minor, "v0.1.0"),
            (None, Major, "v1.0.0"),
            (Some("v1.2.3-rc4"), Rc, "v1.2.3-rc5"),
            (Some("v1.2.3-rc9"), Rc, "v1.2.3-rc10"),
            (Some("v1.2.3-rc.1"), Rc, "v1.2.3-rc.2"),
            (Some("v1.2.3"), Rc, "v1.2.4-rc0"),
            (Some("v1.2.3-rc4"), Patch, "v1.2.4"),
            (Some("v1.2.3-rc4"), Minor, "v1.3.0"),
            (Some("v1.2.3-rc4"), Major, "v2.0.0"),
            (Some("v1.2.3"), Patch, "v1.2.4"),
            (Some("v1.2.3"), Minor, "v1.3.0"),
            (Some("v1.2.3"), Major, "v2.0.0"),
            (Some("v1.2.3-rc5"), Release, "v1.2.3"),
            (Some("v1.2.3-alpha.1"), Release, "v1.2.3"),
            // the prefix of the last tag is kept, whatever its letters
            (Some("1.0.0"), Rc, "1.0.1-rc0"),
            (Some("V2.0.0-rc1"), Rc, "V2.0.0-rc2"),
            (Some("release3.1.2"), Minor, "release3.2.0"),
            (Some("fink0.9.9-rc3"), Release, "fink0.9.9"),
            // build metadata names a build, not a release: dropped
            (Some("v1.2.3-rc4+build.7"), Rc, "v1.2.3-rc5"),
            (Some("v1.2.3+sha.abc"), Rc, "v1.2.4-rc0"),
            (Some("v1.2.3-rc4+b1"), Release, "v1.2.3"),
            (Some("v1.2.3+b1"), Patch, "v1.2.4"),
            // leading zeros are allowed in alphanumeric identifiers; numbers are what count
            (Some("v1.2.3-rc007"), Rc, "v1.2.3-rc8"),
        ];
        for (last, bump, want) in table {
            assert_eq!(
                next(*last, *bump).as_deref(),
                Ok(*want),
                "{last:?} {bump:?}"
            );
        }
    }

    #[test]
    fn impossible_bumps() {
        assert_eq!(
            next(None, Bump::Release),
            Err(VersionError::NothingToRelease)
        );
        assert!(matches!(
            next(Some("v1.2.3"), Bump::Release),
            Err(VersionError::AlreadyFinal { .. })
        ));
        for pre in [
            "v1.2.3-alpha.1",
            "v1.2.3-rc",
            "v1.2.3-rc.x",
            "v1.2.3-rc1.1",
            "v1.2.3-rcx",
        ] {
            assert!(
                matches!(
                    next(Some(pre), Bump::Rc),
                    Err(VersionError::NotACandidate { .. })
                ),
                "{pre}"
            );
        }
        let max = format!("v1.2.{}", u64::MAX);
        assert!(matches!(
            next(Some(&max), Bump::Rc),
            Err(VersionError::Overflow { .. })
        ));
        assert!(matches!(
            next(Some(&max), Bump::Patch),
            Err(VersionError::Overflow { .. })
        ));
    }

    #[test]
    fn order_of_releases() {
        let v = |s: &str| Version::parse(s).unwrap();
        let ascending = [
            "0.1.0-rc0",
            "0.1.0-rc1",
            "0.1.0-rc9",
            "0.1.0-rc10",
            "0.1.0",
            "0.1.1-alpha",
            "0.1.1-rc2",
            "0.1.1",
            "1.0.0",
        ];
        for pair in ascending.windows(2) {
            assert_eq!(
                release_order(&v(pair[0]), &v(pair[1])),
                Ordering::Less,
                "{pair:?}"
            );
            assert_eq!(
                release_order(&v(pair[1]), &v(pair[0])),
                Ordering::Greater,
                "{pair:?}"
            );
        }
        assert_eq!(release_order(&v("1.0.0+a"), &v("1.0.0+b")), Ordering::Equal);
        // and the next version is always later than the last one
        for last in ascending {
            for bump in [Bump::Rc, Bump::Patch, Bump::Minor, Bump::Major] {
                let tag = parse_semver_tag(&format!("v{last}")).unwrap();
                let Ok(next) = next_version(Some(&tag), bump) else {
                    assert!(
                        tag.version.pre.as_str().starts_with("alpha"),
                        "{last} {bump:?}"
                    );
                    continue;
                };
                assert_eq!(
                    release_order(&next.version, &tag.version),
                    Ordering::Greater,
                    "{last} {bump:?}"
                );
            }
        }
    }
}
