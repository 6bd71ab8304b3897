//! Which tags count as versions: annotated tags whose names are semantic
//! versions, optionally prefixed by letters (`v1.2.3`, `v1.2.3-rc4`, `1.0.0`).

/// A tag name split into its letter prefix and semantic version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemverTag {
    /// Letters before the version, e.g. `v` (may be empty).
    pub(crate) prefix: String,
    pub(crate) version: semver::Version,
}

impl std::fmt::Display for SemverTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.prefix, self.version)
    }
}

/// Parse a tag name as an optional ASCII-letter prefix followed by a semantic
/// version; `None` when it is not one. The round trip is exact: only names
/// that print back identically are accepted (`v01.2.3` is not semver).
pub fn parse_semver_tag(name: &str) -> Option<SemverTag> {
    let split = name.find(|c: char| !c.is_ascii_alphabetic())?;
    let (prefix, rest) = name.split_at(split);
    let version = semver::Version::parse(rest).ok()?;
    (version.to_string() == rest).then(|| SemverTag {
        prefix: prefix.to_owned(),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_tag_filter() {
        for (name, prefix) in [
            ("v1.2.3", "v"),
            ("1.0.0", ""),
            ("v3.1.2-rc1", "v"),
            ("release1.2.3", "release"),
            ("v1.2.3+build.5", "v"),
            ("V0.0.1-alpha.1+x", "V"),
        ] {
            let tag = parse_semver_tag(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(tag.prefix, prefix);
            assert_eq!(tag.to_string(), name);
        }
        for name in [
            "",
            "v",
            "v1",
            "v1.2",
            "1.2",
            "v1.2.3.4",
            "latest",
            "v01.2.3",
            "v1.2.3-",
            "x-1.2.3",
            "1.2.3-rc1 ",
            "v1.2.3-rc..1",
            "_1.2.3",
        ] {
            assert_eq!(parse_semver_tag(name), None, "{name:?}");
        }
    }
}
